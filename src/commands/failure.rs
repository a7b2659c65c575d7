//! How a client command fails: one sentence on stderr and an exit code that
//! scripts can tell apart (documented in the README).

use parsec_mfa_reference::client::ConnectionError;
use parsec_mfa_reference::client::config_dir::ConfigDirError;
use parsec_mfa_reference::client::login::LoginError;
use parsec_mfa_reference::client::mfa::MfaError;
use parsec_mfa_reference::protocol::DateTime;

pub mod exit {
    pub use parsec_mfa_reference::client::exit_codes::{
        BAD_RESET_LINK, GENERAL, INVALID_CODE, POLICY, THROTTLED, UNREACHABLE, UNTRUSTED_SERVER, WRONG_PASSWORD,
    };
    /// `conformance`, `attack`: a target could not be started, reached, is
    /// not a Parsec server, or its TLS certificate is not accepted (the
    /// same code as a client's untrusted server).
    pub const TARGET_UNUSABLE: u8 = UNTRUSTED_SERVER;
    /// `conformance`: stopped by Ctrl-C (128 + SIGINT, as shells report it).
    pub const INTERRUPTED: u8 = 130;
}

#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub code: u8,
}

impl Failure {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code,
        }
    }

    /// Any error's text (a `String`, or a typed error from the library).
    pub fn general(message: impl std::fmt::Display) -> Self {
        Self::new(exit::GENERAL, message.to_string())
    }
}

impl From<ConfigDirError> for Failure {
    fn from(e: ConfigDirError) -> Self {
        Failure::general(e.to_string())
    }
}

/// `wait_until` in the user's local time zone.
pub fn local_time(at: DateTime) -> String {
    let utc = chrono::DateTime::from_timestamp_micros(at.as_micros()).unwrap_or_default();
    utc.with_timezone(&chrono::Local)
        .format("%Y-%m-%d %H:%M:%S (UTC%:z)")
        .to_string()
}

fn throttled(wait_until: DateTime) -> Failure {
    let wait_until = match super::client_faults::on(super::client_faults::ClientFault::WrongWaitShown) {
        true => DateTime::from_micros(wait_until.as_micros() + 30_000_000),
        false => wait_until,
    };
    Failure::new(
        exit::THROTTLED,
        format!(
            "Too many wrong codes: wait until {} before trying again.",
            local_time(wait_until)
        ),
    )
}

fn connection(e: ConnectionError) -> Failure {
    match e {
        ConnectionError::Unreachable(reason) => Failure::new(
            exit::UNREACHABLE,
            format!("The server could not be reached ({reason}). Check your connection and try again."),
        ),
        ConnectionError::Tls(reason) => Failure::new(
            exit::UNTRUSTED_SERVER,
            format!("The server cannot be trusted: {reason}. Check the address, or give its authority with --ca-cert."),
        ),
        other => Failure::general(format!("The server refused: {other}.")),
    }
}

impl From<ConnectionError> for Failure {
    fn from(e: ConnectionError) -> Self {
        connection(e)
    }
}

impl From<MfaError> for Failure {
    fn from(e: MfaError) -> Self {
        match e {
            MfaError::InvalidOneTimePassword => {
                Failure::new(exit::INVALID_CODE, "The code you entered is invalid. Please try again.")
            }
            MfaError::Throttled { wait_until } => throttled(wait_until),
            MfaError::BadToken => Failure::new(
                exit::BAD_RESET_LINK,
                "This MFA reset link is no longer valid: it was already used or a newer one replaced it. Ask your administrator for a new one.",
            ),
            MfaError::AlreadySetup => Failure::general("Multi-factor authentication is already set up for this user."),
            MfaError::Connection(e) => connection(e),
            MfaError::UnknownStatus(status) => {
                Failure::general(format!("Unexpected answer from the server: `{status}`."))
            }
        }
    }
}

impl From<LoginError> for Failure {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::CodeNeeded => Failure::new(
                exit::INVALID_CODE,
                "This device is protected by MFA: give the 6-digit code from your authenticator app.",
            ),
            LoginError::InvalidCode => MfaError::InvalidOneTimePassword.into(),
            LoginError::Throttled { wait_until } => throttled(wait_until),
            LoginError::WrongPassword => Failure::new(exit::WRONG_PASSWORD, "The password is not correct."),
            LoginError::Offline(reason) => Failure::new(
                exit::UNREACHABLE,
                format!(
                    "The server could not be reached ({reason}); logging in with MFA needs it. Your files stay on this computer: log in again once you are online."
                ),
            ),
            LoginError::Refused(e @ ConnectionError::Tls(_)) => connection(e),
            LoginError::Refused(e) => Failure::general(format!("The server refused the login: {e}.")),
            LoginError::MfaRequired => Failure::new(
                exit::POLICY,
                "Your organization requires multi-factor authentication: enable it with `parsec-mfa mfa enable --device <device>`, then log in again.",
            ),
            LoginError::MethodNotAllowed => Failure::new(
                exit::POLICY,
                "Your organization does not allow password-protected devices; ask your administrator.",
            ),
            LoginError::DeviceFile(reason) => Failure::general(reason),
        }
    }
}
