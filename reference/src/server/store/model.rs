//! The records the server keeps, per organization.

use super::Change;
use crate::crypto::{SecretKey, VerifyKey};
use crate::protocol::certif::{DeviceCertificate, UserCertificate};
use crate::protocol::{
    AccessToken, DateTime, DeviceID, HumanHandle, OrganizationID, TOTPOpaqueKeyID, UserID, UserProfile,
};
use std::collections::HashMap;

/// The organization's own fields (without its users and devices).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationRow {
    pub id: OrganizationID,
    /// `None` for an organization created by a spontaneous bootstrap.
    pub bootstrap_token: Option<AccessToken>,
    /// Set by the bootstrap; `None` until then.
    pub root_verify_key: Option<VerifyKey>,
    pub is_expired: bool,
    pub active_users_limit: Option<u64>,
    pub user_profile_outsider_allowed: bool,
    pub created_on: DateTime,
    /// Certificates must be strictly newer than this.
    pub last_certificate_timestamp: Option<DateTime>,
}

/// The MFA state of a user (one authenticator entry for all their devices).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TotpState {
    pub setup_completed: bool,
    /// Created lazily when first asked for; forgotten by a reset.
    pub secret: Option<Vec<u8>>,
    /// Issued by an administrator's reset; single use.
    pub reset_token: Option<AccessToken>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub user_id: UserID,
    pub human_handle: HumanHandle,
    pub profile: UserProfile,
    pub created_on: DateTime,
    pub revoked_on: Option<DateTime>,
    pub frozen: bool,
    pub user_certificate: Vec<u8>,
    pub redacted_user_certificate: Vec<u8>,
    pub totp: TotpState,
}

impl User {
    /// A new user, as its (already verified) certificate describes it.
    pub fn from_certificate(cert: &UserCertificate, human_handle: HumanHandle, signed: &[u8], redacted: &[u8]) -> Self {
        User {
            user_id: cert.user_id,
            human_handle,
            profile: cert.profile,
            created_on: cert.timestamp,
            revoked_on: None,
            frozen: false,
            user_certificate: signed.to_vec(),
            redacted_user_certificate: redacted.to_vec(),
            totp: TotpState::default(),
        }
    }

    pub fn is_revoked(&self) -> bool {
        self.revoked_on.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub device_id: DeviceID,
    pub user_id: UserID,
    pub verify_key: VerifyKey,
    pub created_on: DateTime,
    pub device_certificate: Vec<u8>,
    pub redacted_device_certificate: Vec<u8>,
}

impl Device {
    /// A new device, as its (already verified) certificate describes it.
    pub fn from_certificate(cert: &DeviceCertificate, signed: &[u8], redacted: &[u8]) -> Self {
        Device {
            device_id: cert.device_id,
            user_id: cert.user_id,
            verify_key: cert.verify_key.clone(),
            created_on: cert.timestamp,
            device_certificate: signed.to_vec(),
            redacted_device_certificate: redacted.to_vec(),
        }
    }
}

/// A server-held key protecting one device file, with its own throttle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpaqueKey {
    pub id: TOTPOpaqueKeyID,
    pub user_id: UserID,
    pub key: SecretKey,
    pub failed_attempts: u32,
    pub last_failed_attempt: Option<DateTime>,
}

impl OpaqueKey {
    /// `last failure + 2^(n-1) s` after n consecutive failures.
    pub fn wait_until(&self) -> Option<DateTime> {
        match (self.failed_attempts, self.last_failed_attempt) {
            (0, _) | (_, None) => None,
            (n, Some(last)) => Some(last.add_seconds(1i64 << (n - 1).min(62))),
        }
    }

    /// The key after one more wrong code, at `now`.
    pub fn with_failure_at(&self, now: DateTime) -> Self {
        OpaqueKey {
            failed_attempts: self.failed_attempts.saturating_add(1),
            last_failed_attempt: Some(now),
            ..self.clone()
        }
    }

    pub fn with_throttle_cleared(&self) -> Self {
        OpaqueKey {
            failed_attempts: 0,
            last_failed_attempt: None,
            ..self.clone()
        }
    }
}

#[derive(Debug, Clone)]
pub struct Organization {
    pub row: OrganizationRow,
    pub users: HashMap<UserID, User>,
    pub devices: HashMap<DeviceID, Device>,
    pub opaque_keys: HashMap<TOTPOpaqueKeyID, OpaqueKey>,
}

impl Organization {
    pub fn new(row: OrganizationRow) -> Self {
        Organization {
            row,
            users: HashMap::new(),
            devices: HashMap::new(),
            opaque_keys: HashMap::new(),
        }
    }

    pub fn is_bootstrapped(&self) -> bool {
        self.row.root_verify_key.is_some()
    }

    /// The non-revoked user with exactly this email (case-sensitive, as the
    /// official server).
    pub fn active_user_by_email(&self, email: &str) -> Option<&User> {
        self.users
            .values()
            .find(|u| !u.is_revoked() && u.human_handle.email == email)
    }

    pub fn active_users(&self) -> usize {
        self.users.values().filter(|u| !u.is_revoked()).count()
    }
}

pub(super) fn apply(organizations: &mut HashMap<OrganizationID, Organization>, change: Change) {
    match change {
        Change::Organization(row) => match organizations.get_mut(&row.id) {
            Some(org) => org.row = row,
            None => {
                organizations.insert(row.id.clone(), Organization::new(row));
            }
        },
        Change::User(org, user) => {
            if let Some(org) = organizations.get_mut(&org) {
                org.users.insert(user.user_id, user);
            }
        }
        Change::Device(org, device) => {
            if let Some(org) = organizations.get_mut(&org) {
                org.devices.insert(device.device_id, device);
            }
        }
        Change::OpaqueKey(org, key) => {
            if let Some(org) = organizations.get_mut(&org) {
                org.opaque_keys.insert(key.id, key);
            }
        }
    }
}
