//! Logging in with a device: for an MFA-protected device the code first
//! (it fetches the opaque key from the server), then the password (which
//! opens the inner layer locally). Once logged in, the device works with no
//! server: see [`super::workspace`].

use super::connection::{Connection, ConnectionError};
use super::device_file::{UnlockError, unlock};
use super::mfa::{MfaError, fetch_opaque_key};
use super::policy::{Verdict, evaluate};
use crate::protocol::DateTime;
use crate::protocol::anonymous_server::server_config;
use crate::protocol::local_device::{DeviceFilePassword, LocalDevice};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    #[error("this device is protected by MFA: a 6-digit code is needed")]
    CodeNeeded,
    #[error("the code is not valid")]
    InvalidCode,
    #[error("too many wrong codes: no new attempt before {wait_until}")]
    Throttled { wait_until: DateTime },
    #[error("the password is not correct")]
    WrongPassword,
    #[error("the server is needed to log in with MFA and could not be reached ({0})")]
    Offline(String),
    #[error("the server refused the login: {0}")]
    Refused(ConnectionError),
    #[error("your organization requires multi-factor authentication for this device")]
    MfaRequired,
    #[error("your organization does not allow password-protected devices")]
    MethodNotAllowed,
    #[error("{0}")]
    DeviceFile(String),
}

impl From<ConnectionError> for LoginError {
    fn from(e: ConnectionError) -> Self {
        match e {
            ConnectionError::Unreachable(reason) => LoginError::Offline(reason),
            other => LoginError::Refused(other),
        }
    }
}

impl From<UnlockError> for LoginError {
    fn from(e: UnlockError) -> Self {
        match e {
            UnlockError::WrongPassword => LoginError::WrongPassword,
            UnlockError::OpaqueKeyNeeded => LoginError::CodeNeeded,
            other => LoginError::DeviceFile(other.to_string()),
        }
    }
}

/// What the server said about this device's protection, if it could be asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyCheck {
    Checked(Verdict),
    /// A password-only device logs in offline; the advice is checked next time.
    ServerUnreachable,
}

/// A logged-in device.
#[derive(Debug, Clone)]
pub struct Session {
    pub device: LocalDevice,
    pub policy: PolicyCheck,
}

/// Step one of an MFA login: the code releases the opaque key.
pub async fn fetch_key_with_code(
    conn: &Connection,
    file: &DeviceFilePassword,
    code: &str,
) -> Result<Option<crate::crypto::SecretKey>, LoginError> {
    let Some(opaque_key_id) = file.totp_opaque_key_id else {
        return Ok(None);
    };
    match fetch_opaque_key(conn, file.user_id, opaque_key_id, code).await {
        Ok(key) => Ok(Some(key)),
        Err(MfaError::InvalidOneTimePassword) => Err(LoginError::InvalidCode),
        Err(MfaError::Throttled { wait_until }) => Err(LoginError::Throttled { wait_until }),
        Err(MfaError::Connection(e)) => Err(e.into()),
        Err(other) => Err(LoginError::Refused(ConnectionError::InvalidResponse(other.to_string()))),
    }
}

/// The server's advice on device protection, applied to this device.
pub async fn check_policy(conn: &Connection, file: &DeviceFilePassword) -> Result<PolicyCheck, LoginError> {
    match conn.server_config().await {
        Ok(server_config::Rep::Ok(config)) => match evaluate(&config.advisories(), file.totp_opaque_key_id.is_some()) {
            Verdict::MfaRequired => Err(LoginError::MfaRequired),
            Verdict::MethodNotAllowed => Err(LoginError::MethodNotAllowed),
            verdict => Ok(PolicyCheck::Checked(verdict)),
        },
        Ok(other) => Err(LoginError::Refused(ConnectionError::InvalidResponse(format!(
            "server_config answered `{}`",
            other.status()
        )))),
        Err(ConnectionError::Unreachable(_)) if file.totp_opaque_key_id.is_none() => Ok(PolicyCheck::ServerUnreachable),
        Err(e) => Err(e.into()),
    }
}

/// The whole login: `code` (needed when the device is MFA-protected), then
/// `password`, then the server's advice.
pub async fn login(
    conn: &Connection,
    file: &DeviceFilePassword,
    code: Option<&str>,
    password: &str,
) -> Result<Session, LoginError> {
    let opaque_key = match (file.totp_opaque_key_id, code) {
        (Some(_), None) => return Err(LoginError::CodeNeeded),
        (Some(_), Some(code)) => fetch_key_with_code(conn, file, code).await?,
        (None, _) => None,
    };
    let device = unlock(file, password, opaque_key.as_ref())?;
    let policy = check_policy(conn, file).await?;
    Ok(Session { device, policy })
}
