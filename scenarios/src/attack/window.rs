//! Which codes the server accepts at one instant (its clock-skew window),
//! and whether it accepts a code twice. Each candidate code goes to an
//! opaque key of its own, all at once: a wrong one locks only its key, so
//! every candidate is checked at the same instant.

use super::AttackError;
use super::model::{StepProbe, Window};
use super::victim::{Victim, code_at};
use crate::targets::Target;
use parsec_mfa_reference::client::mfa::MfaError;
use parsec_mfa_reference::protocol::{DateTime, TOTPOpaqueKeyID};
use parsec_mfa_reference::totp::STEP_SECONDS;
use std::collections::HashSet;
use std::time::Duration;

/// The codes of the steps this far either side of the current one are
/// tried: the rule accepts one step either side; a server that accepted
/// five would be far out of line already.
pub const PROBED_STEPS: i32 = 5;

/// Keys the measurement needs.
pub const KEYS: usize = 2 * PROBED_STEPS as usize + 1;

const STEP_US: i64 = STEP_SECONDS as i64 * 1_000_000;

/// Moves to the middle of a 30 s step (where the clock stands still), or
/// waits for a step with at least 5 s left (where it flows: the requests
/// take milliseconds, a loaded machine's a second), so that every candidate
/// is checked within the same step.
async fn mid_step(target: &dyn Target) -> Result<(), AttackError> {
    let into_step = target.clock().now().as_micros().rem_euclid(STEP_US);
    if !target.clock_flows() {
        let to_middle = (STEP_US / 2 - into_step).rem_euclid(STEP_US);
        return target.advance(to_middle).await.map_err(AttackError::Target);
    }
    if into_step > STEP_US - 5_000_000 {
        let wait = STEP_US - into_step + 500_000;
        tokio::time::sleep(Duration::from_micros(wait as u64)).await;
    }
    Ok(())
}

pub async fn measure(target: &dyn Target, victim: &Victim, keys: &[TOTPOpaqueKeyID]) -> Result<Window, AttackError> {
    assert_eq!(keys.len(), KEYS, "one key per probed step");
    mid_step(target).await?;
    let at: DateTime = target.clock().now();
    let offsets: Vec<i32> = (-PROBED_STEPS..=PROBED_STEPS).collect();
    let codes: Vec<String> = offsets
        .iter()
        .map(|&offset| code_at(&victim.secret, at, i64::from(offset)))
        .collect();
    let replies = futures::future::join_all(keys.iter().zip(&codes).map(|(&key, code)| victim.fetch(key, code))).await;
    let mut probes = Vec::new();
    let mut accepted = HashSet::new();
    for ((offset, code), reply) in offsets.iter().zip(&codes).zip(replies) {
        let ok = match reply {
            Ok(()) => true,
            Err(MfaError::InvalidOneTimePassword) => false,
            Err(other) => {
                return Err(AttackError::Misbehaved(format!(
                    "the code of step {offset:+} at {at}: expected the key or invalid_one_time_password, got: {other}"
                )));
            }
        };
        if ok {
            accepted.insert(code.clone());
        }
        probes.push(StepProbe {
            step_offset: *offset,
            accepted: ok,
        });
    }
    let current = PROBED_STEPS as usize;
    let replay_accepted = match probes[current].accepted {
        false => None,
        true => Some(match victim.fetch(keys[current], &codes[current]).await {
            Ok(()) => true,
            Err(MfaError::InvalidOneTimePassword | MfaError::Throttled { .. }) => false,
            Err(other) => {
                return Err(AttackError::Misbehaved(format!("the current code sent again: {other}")));
            }
        }),
    };
    Ok(Window {
        at_micros: at.as_micros(),
        probes,
        accepted_codes: accepted.len() as u32,
        replay_accepted,
    })
}
