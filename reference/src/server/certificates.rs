//! Checks shared by the commands that receive certificates.

use crate::crypto::VerifyKey;
use crate::protocol::DateTime;
use crate::protocol::certif::{Certificate, CertificateSigner, DeviceCertificate, UserCertificate};
use crate::protocol::token::{BALLPARK_CLIENT_EARLY_OFFSET, BALLPARK_CLIENT_LATE_OFFSET};
use crate::protocol::{Bytes, HumanHandle};

/// Why certificates were refused, before any state is looked at.
pub enum Refused {
    Invalid,
    OutOfBallpark { client: DateTime, server: DateTime },
}

/// Verifies the signature and author, or says the certificate is invalid.
pub fn verify<C: Certificate>(signed: &[u8], key: &VerifyKey, author: CertificateSigner) -> Result<C, Refused> {
    C::verify_and_load(signed, key, author, None).map_err(|_| Refused::Invalid)
}

/// A certificate must be dated close to the server's time.
pub fn check_ballpark(client: DateTime, server: DateTime) -> Result<(), Refused> {
    let delta = server.as_micros() - client.as_micros();
    let early = BALLPARK_CLIENT_EARLY_OFFSET * 1_000_000;
    let late = BALLPARK_CLIENT_LATE_OFFSET * 1_000_000;
    if -early < delta && delta < late {
        Ok(())
    } else {
        Err(Refused::OutOfBallpark { client, server })
    }
}

/// A new user's four certificates (full and redacted, user and device),
/// verified and consistent with each other.
pub struct NewUser {
    pub user: UserCertificate,
    pub human_handle: HumanHandle,
    pub device: DeviceCertificate,
}

/// Checks the certificates of `organization_bootstrap` and `user_create`:
/// signatures by `key` as `signer`, the redacted forms equal to the full
/// ones minus the personal data, one date, and a date close to `now`.
/// `admin_only`: the first user of an organization must be an administrator.
pub fn verify_new_user(
    [user, device, redacted_user, redacted_device]: [&Bytes; 4],
    key: &VerifyKey,
    signer: CertificateSigner,
    now: DateTime,
    admin_only: bool,
) -> Result<NewUser, Refused> {
    let user: UserCertificate = verify(&user.0, key, signer)?;
    let device: DeviceCertificate = verify(&device.0, key, signer)?;
    let redacted_user: UserCertificate = verify(&redacted_user.0, key, signer)?;
    let redacted_device: DeviceCertificate = verify(&redacted_device.0, key, signer)?;
    let consistent = (!admin_only || user.profile == crate::protocol::UserProfile::Admin)
        && device.device_label.is_some()
        && device.user_id == user.user_id
        && device.timestamp == user.timestamp
        && redacted_user == user.redacted()
        && redacted_device == device.redacted();
    let human_handle = match (&user.human_handle, consistent) {
        (Some(handle), true) => handle.clone(),
        _ => return Err(Refused::Invalid),
    };
    check_ballpark(user.timestamp, now)?;
    Ok(NewUser {
        user,
        human_handle,
        device,
    })
}

pub const EARLY_OFFSET: f64 = BALLPARK_CLIENT_EARLY_OFFSET as f64;
pub const LATE_OFFSET: f64 = BALLPARK_CLIENT_LATE_OFFSET as f64;

/// Turns a refusal into a command's reply: `$rep::InvalidCertificate` or
/// `$rep::TimestampOutOfBallpark`.
macro_rules! refused_reply {
    ($rep:ident, $refused:expr) => {
        match $refused {
            $crate::server::certificates::Refused::Invalid => $rep::InvalidCertificate {},
            $crate::server::certificates::Refused::OutOfBallpark { client, server } => $rep::TimestampOutOfBallpark {
                ballpark_client_early_offset: $crate::server::certificates::EARLY_OFFSET,
                ballpark_client_late_offset: $crate::server::certificates::LATE_OFFSET,
                client_timestamp: client,
                server_timestamp: server,
            },
        }
    };
}
pub(crate) use refused_reply;
