//! A launched server's clock, where the harness moves it: the reference's
//! `--test-clock`, or libfaketime's file, stopped at instants or offset
//! while it flows; and the checks, at the server's start, that the server's
//! answers follow it (else the target falls back to real time).

use crate::faketime::Faketime;
use crate::targets::TargetError;
use crate::targets::clock_check::{ClockCheckError, server_time};
use parsec_mfa_reference::clock::{Clock, ManualClock, OffsetClock};
use parsec_mfa_reference::protocol::DateTime;
use std::net::SocketAddr;
use std::time::Duration;

/// How a running server's time is moved, and how the harness mirrors it.
pub(super) enum ServerClock {
    Real,
    /// Stands still; moved by `setter`.
    Exact {
        mirror: ManualClock,
        setter: ExactSetter,
    },
    /// libfaketime's relative offset: flows.
    Offset {
        mirror: OffsetClock,
        faketime: Faketime,
    },
}

pub(super) enum ExactSetter {
    /// The reference's `--test-clock`: `POST /testing/clock`.
    TestClock(String),
    /// libfaketime's absolute instant.
    Faketime(Faketime),
}

impl ExactSetter {
    pub(super) async fn set(&self, at: DateTime) -> Result<(), TargetError> {
        match self {
            ExactSetter::TestClock(control) => set_test_clock(control, at).await,
            ExactSetter::Faketime(faketime) => Ok(faketime.freeze_at(at)?),
        }
    }
}

/// The server's time stands still where libfaketime was told, a second
/// behind the mirror, then moves to the mirror's instant: the file is read,
/// and read again when it changes.
pub(super) async fn check_exact(
    addr: SocketAddr,
    token: &str,
    mirror: &ManualClock,
    setter: &ExactSetter,
) -> Result<(), TargetError> {
    let start = mirror.now();
    for at in [DateTime::from_micros(start.as_micros() - 1_000_000), start] {
        setter.set(at).await?;
        let seen = server_time(addr, token).await?;
        if seen.server != at {
            return Err(not_followed(format!("stopped at {at}"), seen.server, seen.answered).into());
        }
    }
    Ok(())
}

/// The server's time is a day ahead of the real time, then back to it.
pub(super) async fn check_offset(addr: SocketAddr, token: &str, faketime: &Faketime) -> Result<(), TargetError> {
    const DAY_MICROS: i64 = 86_400_000_000;
    // libfaketime's offset goes through a `double`: a millisecond of slack.
    const SLACK_MICROS: i64 = 1_000;
    for offset in [DAY_MICROS, 0] {
        faketime.offset_by(offset)?;
        let seen = server_time(addr, token).await?;
        if !seen.is_offset_by(offset, SLACK_MICROS) {
            let expected = DateTime::from_micros(seen.answered.as_micros() + offset);
            return Err(not_followed(
                format!("offset by {} s (about {expected})", offset / 1_000_000),
                seen.server,
                seen.answered,
            )
            .into());
        }
    }
    Ok(())
}

fn not_followed(set: String, server: DateTime, real: DateTime) -> ClockCheckError {
    ClockCheckError::NotFollowed { set, server, real }
}

async fn set_test_clock(control: &str, at: DateTime) -> Result<(), TargetError> {
    parsec_mfa_reference::client::tls::install_crypto_provider();
    let reply = reqwest::Client::new()
        .post(control)
        .json(&serde_json::json!({ "set_us": at.as_micros() }))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .map_err(|source| TargetError::TestClock {
            control: control.to_owned(),
            source,
        })?;
    if !reply.status().is_success() {
        return Err(TargetError::TestClockRefused {
            control: control.to_owned(),
            status: reply.status(),
        });
    }
    Ok(())
}

/// A TOTP step, in microseconds.
pub(super) const STEP_MICROS: i64 = parsec_mfa_reference::totp::STEP_SECONDS as i64 * 1_000_000;

/// The start of the TOTP step `at` is in.
pub(super) fn step_start(at: DateTime) -> DateTime {
    DateTime::from_micros(at.as_micros().div_euclid(STEP_MICROS) * STEP_MICROS)
}
