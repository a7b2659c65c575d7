//! Bringing users and devices into an organization: the bootstrap of a new
//! organization (its first user, an administrator), a new user created by an
//! administrator, a new device of an existing user, and a revocation. Every
//! certificate is real, signed by the root key or by the author's device.

use super::connection::{Connection, ConnectionError, Signer};
use crate::crypto::{PrivateKey, SecretKey, SigningKey};
use crate::protocol::addr::BootstrapAddr;
use crate::protocol::anonymous::organization_bootstrap as bootstrap;
use crate::protocol::authenticated::{device_create, user_create, user_revoke};
use crate::protocol::certif::{Certificate, DeviceCertificate, DevicePurpose, RevokedUserCertificate, UserCertificate};
use crate::protocol::local_device::LocalDevice;
use crate::protocol::{DateTime, DeviceID, HumanHandle, UserID, UserProfile, VlobID};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnrollmentError {
    #[error("the server refused: {0}")]
    Refused(String),
    #[error(transparent)]
    Connection(#[from] ConnectionError),
}

/// Who the new user or device is.
#[derive(Debug, Clone)]
pub struct NewIdentity {
    pub human_handle: HumanHandle,
    pub device_label: String,
}

/// Fresh keys for a device of a new user.
fn new_local_device(
    conn: &Connection,
    root_verify_key: crate::crypto::VerifyKey,
    who: &NewIdentity,
    profile: UserProfile,
) -> LocalDevice {
    LocalDevice {
        server_url: conn.server().to_http_url(""),
        organization_id: conn.organization().clone(),
        root_verify_key,
        user_id: UserID::new(),
        device_id: DeviceID::new(),
        device_label: who.device_label.clone(),
        human_handle: who.human_handle.clone(),
        signing_key: SigningKey::generate(),
        private_key: PrivateKey::generate(),
        initial_profile: profile,
        user_realm_id: VlobID::new(),
        user_realm_key: SecretKey::generate(),
        local_symkey: SecretKey::generate(),
    }
}

fn certificates(device: &LocalDevice, author: Option<DeviceID>, at: DateTime) -> (UserCertificate, DeviceCertificate) {
    let user = UserCertificate {
        author,
        timestamp: at,
        user_id: device.user_id,
        human_handle: Some(device.human_handle.clone()),
        public_key: device.private_key.public_key(),
        profile: device.initial_profile,
    };
    (user, device_certificate(device, author, at))
}

fn device_certificate(device: &LocalDevice, author: Option<DeviceID>, at: DateTime) -> DeviceCertificate {
    DeviceCertificate {
        purpose: Some(DevicePurpose::Standard),
        author,
        timestamp: at,
        user_id: device.user_id,
        device_id: device.device_id,
        device_label: Some(device.device_label.clone()),
        verify_key: device.signing_key.verify_key(),
    }
}

/// Bootstraps the organization of `link` (its bootstrap URL): the first
/// user, an administrator, with one device.
pub async fn bootstrap_organization(
    conn: &Connection,
    link: &BootstrapAddr,
    who: &NewIdentity,
) -> Result<LocalDevice, EnrollmentError> {
    bootstrap_organization_as(conn, link, who, UserID::new()).await
}

/// [`bootstrap_organization`] with the first user's id chosen by the caller
/// (clients choose user ids: the conformance scenarios use this to check
/// that two organizations stay apart when their users share an id).
pub async fn bootstrap_organization_as(
    conn: &Connection,
    link: &BootstrapAddr,
    who: &NewIdentity,
    user_id: UserID,
) -> Result<LocalDevice, EnrollmentError> {
    let (req, device) = bootstrap_request_as(conn, link, who, user_id, conn.clock().now());
    match conn.anonymous(&req).await? {
        bootstrap::Rep::Ok {} => Ok(device),
        other => Err(EnrollmentError::Refused(other.status().to_owned())),
    }
}

/// The `organization_bootstrap` request of [`bootstrap_organization`], its
/// certificates dated `at`, and the device it creates.
pub fn bootstrap_request(
    conn: &Connection,
    link: &BootstrapAddr,
    who: &NewIdentity,
    at: DateTime,
) -> (bootstrap::Req, LocalDevice) {
    bootstrap_request_as(conn, link, who, UserID::new(), at)
}

fn bootstrap_request_as(
    conn: &Connection,
    link: &BootstrapAddr,
    who: &NewIdentity,
    user_id: UserID,
    at: DateTime,
) -> (bootstrap::Req, LocalDevice) {
    let root = SigningKey::generate();
    let device = LocalDevice {
        user_id,
        ..new_local_device(conn, root.verify_key(), who, UserProfile::Admin)
    };
    let (user, device_cert) = certificates(&device, None, at);
    let req = bootstrap::Req {
        bootstrap_token: link.token,
        root_verify_key: root.verify_key(),
        user_certificate: user.dump_and_sign(&root).into(),
        device_certificate: device_cert.dump_and_sign(&root).into(),
        redacted_user_certificate: user.redacted().dump_and_sign(&root).into(),
        redacted_device_certificate: device_cert.redacted().dump_and_sign(&root).into(),
        sequester_authority_certificate: None,
    };
    (req, device)
}

fn signer(device: &LocalDevice) -> Signer<'_> {
    Signer {
        device_id: device.device_id,
        signing_key: &device.signing_key,
    }
}

/// What the server said to a certificate.
enum Accepted {
    Yes,
    /// `require_greater_timestamp`: try again after this instant.
    NeedsLaterThan(DateTime),
}

/// Sends a request whose certificates carry timestamp `at`. The server wants
/// certificate timestamps strictly increasing; on a frozen or coarse clock
/// the next one may tie, so the client moves past the value the server
/// names, as the official client does (a few times at most).
async fn with_increasing_timestamp<F, Fut>(conn: &Connection, mut send: F) -> Result<(), EnrollmentError>
where
    F: FnMut(DateTime) -> Fut,
    Fut: Future<Output = Result<Accepted, EnrollmentError>>,
{
    let mut at = conn.clock().now();
    for _ in 0..3 {
        match send(at).await? {
            Accepted::Yes => return Ok(()),
            Accepted::NeedsLaterThan(t) => at = DateTime::from_micros(t.as_micros() + 1),
        }
    }
    Err(EnrollmentError::Refused("require_greater_timestamp".into()))
}

/// An administrator (`author`) creates a new user with one device.
pub async fn create_user(
    conn: &Connection,
    author: &LocalDevice,
    who: &NewIdentity,
    profile: UserProfile,
) -> Result<LocalDevice, EnrollmentError> {
    let device = new_local_device(conn, author.root_verify_key.clone(), who, profile);
    let key = &author.signing_key;
    with_increasing_timestamp(conn, |at| {
        let (user, device_cert) = certificates(&device, Some(author.device_id), at);
        let req = user_create::Req {
            user_certificate: user.dump_and_sign(key).into(),
            device_certificate: device_cert.dump_and_sign(key).into(),
            redacted_user_certificate: user.redacted().dump_and_sign(key).into(),
            redacted_device_certificate: device_cert.redacted().dump_and_sign(key).into(),
        };
        async move {
            match conn.authenticated(signer(author), &req).await? {
                user_create::Rep::Ok {} => Ok(Accepted::Yes),
                user_create::Rep::RequireGreaterTimestamp { strictly_greater_than } => {
                    Ok(Accepted::NeedsLaterThan(strictly_greater_than))
                }
                other => Err(EnrollmentError::Refused(other.status().to_owned())),
            }
        }
    })
    .await?;
    Ok(device)
}

/// A new device for the user of `existing`, with its own keys. It shares
/// the user's MFA setup: one authenticator entry serves every device.
pub async fn create_device(
    conn: &Connection,
    existing: &LocalDevice,
    device_label: &str,
) -> Result<LocalDevice, EnrollmentError> {
    let device = LocalDevice {
        device_id: DeviceID::new(),
        device_label: device_label.to_owned(),
        signing_key: SigningKey::generate(),
        local_symkey: SecretKey::generate(),
        ..existing.clone()
    };
    let key = &existing.signing_key;
    with_increasing_timestamp(conn, |at| {
        let cert = device_certificate(&device, Some(existing.device_id), at);
        let req = device_create::Req {
            device_certificate: cert.dump_and_sign(key).into(),
            redacted_device_certificate: cert.redacted().dump_and_sign(key).into(),
        };
        async move {
            match conn.authenticated(signer(existing), &req).await? {
                device_create::Rep::Ok {} => Ok(Accepted::Yes),
                device_create::Rep::RequireGreaterTimestamp { strictly_greater_than } => {
                    Ok(Accepted::NeedsLaterThan(strictly_greater_than))
                }
                other => Err(EnrollmentError::Refused(other.status().to_owned())),
            }
        }
    })
    .await?;
    Ok(device)
}

/// An administrator (`author`) revokes a user.
pub async fn revoke_user(conn: &Connection, author: &LocalDevice, user_id: UserID) -> Result<(), EnrollmentError> {
    with_increasing_timestamp(conn, |at| {
        let cert = RevokedUserCertificate {
            author: author.device_id,
            timestamp: at,
            user_id,
        };
        let req = user_revoke::Req {
            revoked_user_certificate: cert.dump_and_sign(&author.signing_key).into(),
        };
        async move {
            match conn.authenticated(signer(author), &req).await? {
                user_revoke::Rep::Ok {} => Ok(Accepted::Yes),
                user_revoke::Rep::RequireGreaterTimestamp { strictly_greater_than } => {
                    Ok(Accepted::NeedsLaterThan(strictly_greater_than))
                }
                other => Err(EnrollmentError::Refused(other.status().to_owned())),
            }
        }
    })
    .await
}
