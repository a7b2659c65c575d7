//! The client contract as the harness reads it (`docs/porting-a-client.md`):
//! the exit codes, and the output lines a client prints. Each reader takes
//! a client's whole stdout or stderr and finds the line it needs; anything
//! else the client prints is its own.

use parsec_mfa_reference::protocol::{DateTime, DeviceID, TOTPOpaqueKeyID, UserID};

/// The contract's exit codes, as the harness reads a process's status
/// (`parsec_mfa_reference::client::exit_codes`, the one list).
pub mod exit {
    use parsec_mfa_reference::client::exit_codes as codes;
    pub const OK: i32 = codes::OK as i32;
    pub const GENERAL: i32 = codes::GENERAL as i32;
    pub const INVALID_CODE: i32 = codes::INVALID_CODE as i32;
    pub const THROTTLED: i32 = codes::THROTTLED as i32;
    pub const WRONG_PASSWORD: i32 = codes::WRONG_PASSWORD as i32;
    pub const UNREACHABLE: i32 = codes::UNREACHABLE as i32;
    pub const POLICY: i32 = codes::POLICY as i32;
    pub const BAD_RESET_LINK: i32 = codes::BAD_RESET_LINK as i32;
    pub const UNTRUSTED_SERVER: i32 = codes::UNTRUSTED_SERVER as i32;
    /// The scenarios that need the command are skipped, never failed.
    pub const UNIMPLEMENTED: i32 = codes::UNIMPLEMENTED as i32;
}

/// `Device <ID> (<label>) saved in <path>`: the new device's id.
pub fn saved_device(stdout: &str) -> Option<String> {
    stdout.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("Device ")?;
        rest.contains(" saved in ")
            .then(|| rest.split_whitespace().next())
            .flatten()
            .map(str::to_owned)
    })
}

/// `Key: <base32>`: the secret to copy into an authenticator app.
pub fn shown_key(stdout: &str) -> Option<String> {
    line_value(stdout, "Key:")
}

/// `URI: otpauth://…`: what the QR code beside it holds.
pub fn shown_uri(stdout: &str) -> Option<String> {
    line_value(stdout, "URI:")
}

/// `Logged in as …`: the login succeeded and the workspace shell is open.
pub fn logged_in(stdout: &str) -> bool {
    stdout.lines().any(|l| l.trim_start().starts_with("Logged in as "))
}

/// `MFA is already set up for …`: no key is shown (the user's other
/// device set it up; the same authenticator entry serves).
pub fn already_set_up(stdout: &str) -> bool {
    stdout
        .lines()
        .any(|l| l.trim_start().starts_with("MFA is already set up for "))
}

/// `mfa status`: `MFA: set up for …` or `MFA: not set up for …`.
pub fn status_set_up(stdout: &str) -> Option<bool> {
    stdout.lines().find_map(|l| {
        let l = l.trim();
        if l.starts_with("MFA: not set up") {
            Some(false)
        } else if l.starts_with("MFA: set up") {
            Some(true)
        } else {
            None
        }
    })
}

/// A `device list` line: `ID  ORGANIZATION  EMAIL  LABEL  PROTECTION`,
/// the protection `password+MFA` (true) or `password` (false), last.
pub fn listed_protection(line: &str) -> Option<bool> {
    match line.split_whitespace().last()? {
        "password+MFA" => Some(true),
        "password" => Some(false),
        _ => None,
    }
}

/// The ids a command client's `device show` prints: what is written in
/// clear in a device file, which a thief with a copy of it can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownIds {
    pub device_id: DeviceID,
    pub user_id: UserID,
    pub opaque_key: Option<TOTPOpaqueKeyID>,
}

/// `device show`: `Device ID: HEX`, `User ID: HEX`, and `Opaque key: HEX`
/// when MFA protects the device.
pub fn shown_ids(stdout: &str) -> Option<ShownIds> {
    Some(ShownIds {
        device_id: DeviceID::from_hex(&line_value(stdout, "Device ID:")?).ok()?,
        user_id: UserID::from_hex(&line_value(stdout, "User ID:")?).ok()?,
        opaque_key: match line_value(stdout, "Opaque key:") {
            Some(hex) => Some(TOTPOpaqueKeyID::from_hex(&hex).ok()?),
            None => None,
        },
    })
}

fn line_value(text: &str, prefix: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(prefix).map(|v| v.trim().to_owned()))
        .filter(|v| !v.is_empty())
}

/// A throttled client's "try again at" instant: the first
/// `YYYY-MM-DD HH:MM:SS` in its message, in UTC (the harness runs clients
/// with `TZ=UTC`; a `(UTC+00:00)` after it is allowed). To the second, as
/// a person reads it.
pub fn throttled_until(stderr: &str) -> Option<DateTime> {
    const SHAPE: &[u8; 19] = b"dddd-dd-dd dd:dd:dd";
    let bytes = stderr.as_bytes();
    (0..bytes.len().saturating_sub(18)).find_map(|start| {
        let window = bytes.get(start..start + 19)?;
        let shaped = window
            .iter()
            .zip(SHAPE)
            .all(|(b, s)| if *s == b'd' { b.is_ascii_digit() } else { b == s });
        // Not inside a longer number (chrono would also take a shorter field).
        let alone = start == 0 || !bytes[start - 1].is_ascii_digit();
        if !(shaped && alone) {
            return None;
        }
        let candidate = stderr.get(start..start + 19)?;
        let parsed = chrono::NaiveDateTime::parse_from_str(candidate, "%Y-%m-%d %H:%M:%S").ok()?;
        Some(DateTime::from_micros(parsed.and_utc().timestamp() * 1_000_000))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lines_the_harness_reads() {
        let out =
            "Organization X bootstrapped\nDevice 0123abcd (Alice's laptop) saved in /tmp/x/devices/0123abcd.keys\n";
        assert_eq!(saved_device(out).as_deref(), Some("0123abcd"));
        assert_eq!(saved_device("Device list\n"), None);
        let shown = "2. Scan the QR code or copy the key.\nKey: ABCDEF\nURI: otpauth://totp/x?secret=ABCDEF\n";
        assert_eq!(shown_key(shown).as_deref(), Some("ABCDEF"));
        assert_eq!(shown_uri(shown).as_deref(), Some("otpauth://totp/x?secret=ABCDEF"));
        assert!(logged_in("Logged in as a@b.c on Org (laptop)\n"));
        assert_eq!(status_set_up("MFA: not set up for a@b\n"), Some(false));
        assert_eq!(status_set_up("MFA: set up for a@b\n"), Some(true));
        assert_eq!(
            listed_protection("0123abcd  Org  a@b.c  laptop  password+MFA"),
            Some(true)
        );
        assert_eq!(listed_protection("0123abcd  Org  a@b.c  laptop  password"), Some(false));
    }

    #[test]
    fn the_throttles_end_is_read_to_the_second() {
        let said = "Error: Too many wrong codes: wait until 2026-01-01 00:00:04 (UTC+00:00) before trying again.";
        assert_eq!(
            throttled_until(said),
            Some(DateTime::from_micros(1_767_225_604_000_000))
        );
        assert_eq!(throttled_until("no time here"), None);
        // Not read one character early, where a parser would take `0` for the seconds.
        assert_eq!(
            throttled_until("until  2026-01-01 00:00:01"),
            Some(DateTime::from_micros(1_767_225_601_000_000))
        );
    }
}
