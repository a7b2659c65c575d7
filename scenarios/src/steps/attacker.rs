//! Someone who has a device file (not the phone) and guesses codes.

use crate::world::{MfaWorld, Observed};
use cucumber::{then, when};
use parsec_mfa_reference::client::mfa::{MfaError, fetch_opaque_key};
use parsec_mfa_reference::protocol::TOTPOpaqueKeyID;

pub static ANCHOR: &str = "attacker steps";

/// The `n`-th code no phone shows now: certainly wrong.
fn guess(world: &MfaWorld, name: &str, n: u32) -> String {
    let env = world.started();
    world
        .person_ref(name)
        .phone
        .wrong_code(env.organization.as_str(), env.now(), n)
}

fn key_of(world: &MfaWorld, name: &str) -> (parsec_mfa_reference::protocol::UserID, TOTPOpaqueKeyID) {
    let file = &world.person_ref(name).device().file;
    (
        file.user_id,
        file.totp_opaque_key_id.expect("the device is protected by MFA"),
    )
}

/// One attempt; counts the reply. An attempt not refused `throttled`
/// although it left within a second of the last failure's request (the
/// shortest lockout) is one a real-time target may have received late:
/// noted in `too_late`.
async fn attempt(world: &mut MfaWorld, name: &str, code: String) -> Result<(), MfaError> {
    let (user_id, key_id) = key_of(world, name);
    let conn = world.started().connection();
    let sent = world.started().now();
    let outcome = fetch_opaque_key(&conn, user_id, key_id, &code).await.map(|_| ());
    if !matches!(outcome, Err(MfaError::Throttled { .. }))
        && let Some(last) = world.last_failure
        && let Some(late) = last.maybe_ended_before(sent, 1, world.started().target.clock_flows())
    {
        world.too_late = Some(late);
    }
    match &outcome {
        Err(MfaError::InvalidOneTimePassword) => {
            world.attack.0 += 1;
            let answered = world.started().now();
            world.last_failure = Some(Observed { sent, answered });
        }
        Err(MfaError::Throttled { .. }) => world.attack.1 += 1,
        _ => {}
    }
    outcome
}

#[when(expr = "an attacker tries a wrong code on {word}'s device")]
async fn one_wrong(world: &mut MfaWorld, name: String) {
    let code = guess(world, &name, 0);
    let _ = attempt(world, &name, code).await;
}

#[when(expr = "an attacker tries {int} wrong codes on {word}'s device, each as soon as allowed")]
async fn wrong_as_soon_as_allowed(world: &mut MfaWorld, count: usize, name: String) {
    let mut failures = 0;
    let mut n = 0;
    while failures < count {
        let code = guess(world, &name, n);
        n += 1;
        match attempt(world, &name, code).await {
            Err(MfaError::InvalidOneTimePassword) => failures += 1,
            Err(MfaError::Throttled { wait_until }) => {
                let now = world.started().now().as_micros();
                let wait = wait_until.as_micros() + 1 - now;
                world.started().target.advance(wait).await.expect("the clock moves");
            }
            other => panic!("unexpected reply to a wrong code: {other:?}"),
        }
    }
}

#[when(expr = "an attacker tries {int} wrong codes on {word}'s device at once")]
async fn wrong_at_once(world: &mut MfaWorld, count: usize, name: String) {
    let (user_id, key_id) = key_of(world, &name);
    let conn = world.started().connection();
    let codes: Vec<String> = (0..count).map(|i| guess(world, &name, i as u32 * 101)).collect();
    let sent = world.started().now();
    let replies =
        futures::future::join_all(codes.iter().map(|code| fetch_opaque_key(&conn, user_id, key_id, code))).await;
    let answered = world.started().now();
    for reply in replies {
        match reply {
            Err(MfaError::InvalidOneTimePassword) => {
                world.attack.0 += 1;
                world.last_failure = Some(Observed { sent, answered });
            }
            Err(MfaError::Throttled { .. }) => world.attack.1 += 1,
            other => panic!("unexpected reply to a wrong code: {other:?}"),
        }
    }
}

#[then(expr = "{int} attempt(s) was/were answered {string}")]
fn answered(world: &mut MfaWorld, count: usize, status: String) {
    let got = match status.as_str() {
        "invalid_one_time_password" => world.attack.0,
        "throttled" => world.attack.1,
        other => panic!("unknown status {other}"),
    };
    if got != count
        && let Some(late) = &world.too_late
    {
        panic!("{got} attempts answered {status}, {count} expected: {late}");
    }
    assert_eq!(got, count, "{status}");
}

#[then(expr = "the next attempt on {word}'s device must wait until {int} second(s) after the last wrong code")]
async fn next_must_wait(world: &mut MfaWorld, name: String, seconds: i64) {
    let code = guess(world, &name, 77);
    let before = world.attack.1;
    let last = world.last_failure.expect("a wrong code was answered");
    let sent = world.started().now();
    let outcome = attempt(world, &name, code).await;
    let Err(MfaError::Throttled { wait_until }) = outcome else {
        match last.maybe_ended_before(sent, seconds, world.started().target.clock_flows()) {
            Some(late) => panic!("not throttled: {late}"),
            None => panic!("not throttled: {outcome:?}"),
        }
    };
    world.attack.1 = before;
    last.assert_waits_until(wait_until, seconds);
}

#[then(expr = "the lockout of {word}'s device lasts about {int} days")]
async fn lockout_days(world: &mut MfaWorld, name: String, days: i64) {
    let code = guess(world, &name, 55);
    let outcome = attempt(world, &name, code).await;
    let Err(MfaError::Throttled { wait_until }) = outcome else {
        panic!("not throttled: {outcome:?}")
    };
    let last = world.last_failure.expect("a wrong code was answered");
    let seconds = (wait_until.as_micros() - last.answered.as_micros()) / 1_000_000;
    assert!((seconds - days * 86_400).abs() < 86_400, "{seconds} s");
}
