//! Protecting a device's keys on disk, as libparsec does for a `password`
//! device file: `LocalDevice` encrypted with the Argon2id key of the
//! password, then, when MFA protects the device, encrypted again with the
//! server-held TOTP opaque key (the outer layer).

use crate::crypto::SecretKey;
use crate::protocol::local_device::{DeviceFilePassword, LocalDevice, PasswordAlgorithm};
use crate::protocol::{DateTime, TOTPOpaqueKeyID};

/// Argon2id cost of a new device file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KdfCost {
    /// For people: 64 MiB, 3 passes.
    #[default]
    Interactive,
    /// The smallest Argon2id allows (8 KiB, 1 pass): for test suites that
    /// unlock devices thousands of times. Not for real secrets.
    Minimal,
}

impl KdfCost {
    pub fn algorithm(self) -> PasswordAlgorithm {
        match self {
            KdfCost::Interactive => PasswordAlgorithm::argon2id(3, 64 * 1024),
            KdfCost::Minimal => PasswordAlgorithm::argon2id(1, 8),
        }
    }
}

/// The TOTP layer of a device file: the opaque key's id (kept in the file)
/// and the key itself (held by the server, released by a valid code).
#[derive(Debug, Clone)]
pub struct TotpLayer {
    pub opaque_key_id: TOTPOpaqueKeyID,
    pub opaque_key: SecretKey,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnlockError {
    #[error("the password is not correct")]
    WrongPassword,
    #[error("this device is protected by MFA: a code is needed to open it")]
    OpaqueKeyNeeded,
    #[error("the MFA key does not open this device file")]
    TotpDecryptionFailed,
    #[error("the device file is damaged: {0}")]
    Corrupted(String),
}

/// Writes `device` into a new device file protected by `password` and, if
/// given, by the TOTP opaque key.
pub fn protect(
    device: &LocalDevice,
    password: &str,
    cost: KdfCost,
    totp: Option<&TotpLayer>,
    created_on: DateTime,
    protected_on: DateTime,
) -> DeviceFilePassword {
    let algorithm = cost.algorithm();
    let password_key = algorithm
        .derive(password)
        .expect("the KdfCost parameters are valid Argon2id parameters");
    let inner = password_key.encrypt(&device.dump());
    let ciphertext = match totp {
        Some(layer) => layer.opaque_key.encrypt(&inner),
        None => inner,
    };
    DeviceFilePassword {
        created_on,
        protected_on,
        server_url: device.server_url.clone(),
        organization_id: device.organization_id.clone(),
        user_id: device.user_id,
        device_id: device.device_id,
        human_handle: device.human_handle.clone(),
        device_label: device.device_label.clone(),
        algorithm,
        ciphertext: ciphertext.into(),
        totp_opaque_key_id: totp.map(|layer| layer.opaque_key_id),
    }
}

/// Opens a device file. An MFA-protected file needs the opaque key; the
/// password alone, or the opaque key alone, opens nothing.
pub fn unlock(
    file: &DeviceFilePassword,
    password: &str,
    opaque_key: Option<&SecretKey>,
) -> Result<LocalDevice, UnlockError> {
    let inner = match (file.totp_opaque_key_id, opaque_key) {
        (Some(_), None) => return Err(UnlockError::OpaqueKeyNeeded),
        (Some(_), Some(key)) => key
            .decrypt(&file.ciphertext.0)
            .map_err(|_| UnlockError::TotpDecryptionFailed)?,
        (None, _) => file.ciphertext.0.clone(),
    };
    let password_key = file
        .algorithm
        .derive(password)
        .map_err(|e| UnlockError::Corrupted(e.to_string()))?;
    let clear = password_key.decrypt(&inner).map_err(|_| UnlockError::WrongPassword)?;
    let device = LocalDevice::load(&clear).map_err(|e| UnlockError::Corrupted(e.to_string()))?;
    if device.device_id != file.device_id || device.user_id != file.user_id {
        return Err(UnlockError::Corrupted("its header does not match its content".into()));
    }
    Ok(device)
}
