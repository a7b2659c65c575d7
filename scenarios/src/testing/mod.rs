//! Test support shared by the tests in `tests/` and by the harness itself:
//! the reference server in this process ([`server`]), the `parsec-mfa`
//! command line driven as a person would ([`cli`]), headless Chromium for
//! the pages ([`chromium`]), a finished command's output ([`run`]), and
//! the administration token and wrong codes every one of them needs.
//!
//! Compiled into the library, not behind a feature: a feature enabled only
//! by the tests would make `cargo test` and `cargo run` build this crate
//! (and the command) twice, for a few hundred lines.

pub mod chromium;
pub mod cli;
pub mod run;
pub mod server;

use parsec_mfa_reference::totp;

/// The administration token of every server the tests and the harness start.
pub const ADMIN_TOKEN: &str = "s3cr3t";

/// Whether an external thing a test needs (Python 3.12, libfaketime, a
/// database) is here: `Ok(true)` when `found` is `Ok`; otherwise the test
/// says SKIPPED with the reason and gets `Ok(false)`, unless the variable
/// `require_env` is `1` (as `.ci/run` sets), where it is an error.
// String: the error is a test's failure message, and the tests' checks
// return `Result<_, String>` (47 of them) to print it.
pub fn available<E: std::fmt::Display>(what: &str, found: Result<(), E>, require_env: &str) -> Result<bool, String> {
    match found {
        Ok(()) => Ok(true),
        Err(e) if std::env::var(require_env).as_deref() == Ok("1") => Err(format!("{what} is required here: {e}")),
        Err(e) => {
            println!("SKIPPED: {what}: {e}");
            Ok(false)
        }
    }
}

/// Six-digit codes that none of `secrets` shows within `avoided_steps` 30 s
/// steps of `unix_seconds`, starting from the `from`-th candidate: certainly
/// wrong, whatever clock skew the server accepts within that window. The
/// candidates are spread over the code space (7919 is prime to 10⁶), so
/// successive ones look like a person's or an attacker's guesses.
pub fn wrong_codes<'a>(
    secrets: &'a [&'a [u8]],
    unix_seconds: i64,
    avoided_steps: i64,
    from: u64,
) -> impl Iterator<Item = String> + 'a {
    let shown: std::collections::HashSet<String> = secrets
        .iter()
        .flat_map(|secret| {
            (-avoided_steps..=avoided_steps).map(move |step| {
                let t = unix_seconds + step * totp::STEP_SECONDS as i64;
                totp::code_at(secret, t.max(0) as u64)
            })
        })
        .collect();
    (from..)
        .map(|n| format!("{:06}", n.wrapping_mul(7_919).wrapping_add(13) % 1_000_000))
        .filter(move |code| !shown.contains(code))
}

/// One code that `secret` does not show within three steps of `unix_seconds`.
pub fn wrong_code(secret: &[u8], unix_seconds: i64) -> String {
    wrong_codes(&[secret], unix_seconds, 3, 0)
        .next()
        .expect("fewer than a million codes are shown")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_codes_avoid_every_step_near_now() {
        let secret = b"12345678901234567890";
        let now = 1_767_225_600;
        let codes: Vec<String> = wrong_codes(&[secret], now, 3, 0).take(50).collect();
        for step in -3..=3 {
            let shown = totp::code_at(secret, (now + step * 30) as u64);
            assert!(!codes.contains(&shown), "{shown} is shown at step {step}");
        }
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), 50);
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()))
        );
    }
}
