//! The MFA commands as the client uses them: each server outcome is an
//! [`MfaError`] variant the CLI and the conformance steps can match on.

use super::connection::{Connection, ConnectionError, Signer};
use crate::crypto::SecretKey;
use crate::protocol::addr::TotpResetAddr;
use crate::protocol::anonymous::{
    totp_fetch_opaque_key as fetch_key, totp_setup_confirm as anon_confirm, totp_setup_get_secret as anon_get_secret,
};
use crate::protocol::authenticated::{
    totp_create_opaque_key as create_key, totp_setup_confirm as confirm, totp_setup_get_secret as get_secret,
};
use crate::protocol::{DateTime, TOTPOpaqueKeyID, UserID};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MfaError {
    #[error("the code is not valid")]
    InvalidOneTimePassword,
    #[error("too many wrong codes: no new attempt before {wait_until}")]
    Throttled { wait_until: DateTime },
    #[error("MFA is already set up for this user")]
    AlreadySetup,
    #[error("the reset link is not valid (already used, or replaced by a newer one)")]
    BadToken,
    #[error(transparent)]
    Connection(#[from] ConnectionError),
    #[error("the server answered with an unknown status `{0}`")]
    UnknownStatus(String),
}

/// What the profile page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetupStatus {
    /// Not confirmed yet: the secret to put in the authenticator app.
    Unconfirmed {
        secret: Vec<u8>,
    },
    Confirmed,
}

/// `totp_setup_get_secret` (authenticated). The server creates the secret on
/// the first call and returns the same one until it is confirmed.
pub async fn setup_status(conn: &Connection, signer: Signer<'_>) -> Result<SetupStatus, MfaError> {
    match conn.authenticated(signer, &get_secret::Req {}).await? {
        get_secret::Rep::Ok { totp_secret } => Ok(SetupStatus::Unconfirmed { secret: totp_secret.0 }),
        get_secret::Rep::AlreadySetup {} => Ok(SetupStatus::Confirmed),
        get_secret::Rep::UnknownStatus(u) => Err(MfaError::UnknownStatus(u.status)),
    }
}

/// `totp_setup_confirm` (authenticated).
pub async fn setup_confirm(conn: &Connection, signer: Signer<'_>, code: &str) -> Result<(), MfaError> {
    let req = confirm::Req {
        one_time_password: code.to_owned(),
    };
    match conn.authenticated(signer, &req).await? {
        confirm::Rep::Ok {} => Ok(()),
        confirm::Rep::InvalidOneTimePassword {} => Err(MfaError::InvalidOneTimePassword),
        confirm::Rep::AlreadySetup {} => Err(MfaError::AlreadySetup),
        confirm::Rep::UnknownStatus(u) => Err(MfaError::UnknownStatus(u.status)),
    }
}

/// `totp_create_opaque_key`: a new server-held key for one device file.
pub async fn create_opaque_key(
    conn: &Connection,
    signer: Signer<'_>,
) -> Result<(TOTPOpaqueKeyID, SecretKey), MfaError> {
    match conn.authenticated(signer, &create_key::Req {}).await? {
        create_key::Rep::Ok {
            opaque_key_id,
            opaque_key,
        } => Ok((opaque_key_id, opaque_key)),
        create_key::Rep::UnknownStatus(u) => Err(MfaError::UnknownStatus(u.status)),
    }
}

/// `totp_fetch_opaque_key`: the login step, anonymous.
pub async fn fetch_opaque_key(
    conn: &Connection,
    user_id: UserID,
    opaque_key_id: TOTPOpaqueKeyID,
    code: &str,
) -> Result<SecretKey, MfaError> {
    let req = fetch_key::Req {
        user_id,
        opaque_key_id,
        one_time_password: code.to_owned(),
    };
    match conn.anonymous(&req).await? {
        fetch_key::Rep::Ok { opaque_key } => Ok(opaque_key),
        fetch_key::Rep::InvalidOneTimePassword {} => Err(MfaError::InvalidOneTimePassword),
        fetch_key::Rep::Throttled { wait_until } => Err(MfaError::Throttled { wait_until }),
        fetch_key::Rep::UnknownStatus(u) => Err(MfaError::UnknownStatus(u.status)),
    }
}

/// Anonymous `totp_setup_get_secret` with a reset link: the new secret.
pub async fn reset_secret(conn: &Connection, link: &TotpResetAddr) -> Result<Vec<u8>, MfaError> {
    let req = anon_get_secret::Req {
        user_id: link.user_id,
        token: link.token,
    };
    match conn.anonymous(&req).await? {
        anon_get_secret::Rep::Ok { totp_secret } => Ok(totp_secret.0),
        anon_get_secret::Rep::BadToken {} => Err(MfaError::BadToken),
        anon_get_secret::Rep::UnknownStatus(u) => Err(MfaError::UnknownStatus(u.status)),
    }
}

/// Anonymous `totp_setup_confirm` with a reset link.
pub async fn reset_confirm(conn: &Connection, link: &TotpResetAddr, code: &str) -> Result<(), MfaError> {
    let req = anon_confirm::Req {
        user_id: link.user_id,
        token: link.token,
        one_time_password: code.to_owned(),
    };
    match conn.anonymous(&req).await? {
        anon_confirm::Rep::Ok {} => Ok(()),
        anon_confirm::Rep::InvalidOneTimePassword {} => Err(MfaError::InvalidOneTimePassword),
        anon_confirm::Rep::BadToken {} => Err(MfaError::BadToken),
        anon_confirm::Rep::UnknownStatus(u) => Err(MfaError::UnknownStatus(u.status)),
    }
}

/// Enables MFA on one device (the profile's "Enable MFA"), after the user
/// has read [`setup_status`] and typed the code of their authenticator:
///
/// - not confirmed yet: the code confirms the setup, then a new opaque key
///   is created for this device;
/// - already confirmed (another device of the user enabled it): the same
///   authenticator entry serves; a new opaque key is created and the code
///   is checked by fetching that key with it. The official GUI skips this
///   check; we keep it so a device is never protected by a code the user
///   cannot produce.
///
/// The caller re-protects the device file with the returned layer.
pub async fn enable_on_device(
    conn: &Connection,
    signer: Signer<'_>,
    user_id: UserID,
    status: &SetupStatus,
    code: &str,
) -> Result<super::device_file::TotpLayer, MfaError> {
    if let SetupStatus::Unconfirmed { .. } = status {
        setup_confirm(conn, signer, code).await?;
    }
    let (opaque_key_id, opaque_key) = create_opaque_key(conn, signer).await?;
    if let SetupStatus::Confirmed = status {
        let fetched = fetch_opaque_key(conn, user_id, opaque_key_id, code).await?;
        if fetched != opaque_key {
            return Err(MfaError::UnknownStatus("the server released another key".into()));
        }
    }
    Ok(super::device_file::TotpLayer {
        opaque_key_id,
        opaque_key,
    })
}
