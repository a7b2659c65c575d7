//! `LocalDevice`: everything a device needs to act for its user.

use crate::crypto::{PrivateKey, SecretKey, SigningKey, VerifyKey};
use crate::protocol::codec::{DecodeError, Fields, MapBuilder, decode_value, encode_value};
use crate::protocol::{DeviceID, HumanHandle, OrganizationID, UserID, UserProfile, VlobID};
use rmpv::Value;

pub const TYPE: &str = "local_device";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalDevice {
    pub server_url: String,
    pub organization_id: OrganizationID,
    pub root_verify_key: VerifyKey,
    pub user_id: UserID,
    pub device_id: DeviceID,
    pub device_label: String,
    pub human_handle: HumanHandle,
    pub signing_key: SigningKey,
    pub private_key: PrivateKey,
    pub initial_profile: UserProfile,
    pub user_realm_id: VlobID,
    pub user_realm_key: SecretKey,
    /// Encrypts what the device keeps locally (our offline workspace).
    pub local_symkey: SecretKey,
}

const FIELDS: &[&str] = &[
    "type",
    "server_url",
    "organization_id",
    "root_verify_key",
    "user_id",
    "device_id",
    "device_label",
    "human_handle",
    "signing_key",
    "private_key",
    "initial_profile",
    "user_realm_id",
    "user_realm_key",
    "local_symkey",
];

impl LocalDevice {
    pub fn to_value(&self) -> Value {
        MapBuilder::with_tag("type", TYPE)
            .field("server_url", &self.server_url)
            .field("organization_id", &self.organization_id)
            .field("root_verify_key", &self.root_verify_key)
            .field("user_id", &self.user_id)
            .field("device_id", &self.device_id)
            .field("device_label", &self.device_label)
            .field("human_handle", &self.human_handle)
            .field("signing_key", &self.signing_key)
            .field("private_key", &self.private_key)
            .field("initial_profile", &self.initial_profile)
            .field("user_realm_id", &self.user_realm_id)
            .field("user_realm_key", &self.user_realm_key)
            .field("local_symkey", &self.local_symkey)
            .build()
    }

    pub fn dump(&self) -> Vec<u8> {
        encode_value(&self.to_value())
    }

    pub fn load(bytes: &[u8]) -> Result<Self, DecodeError> {
        let value = decode_value(bytes)?;
        let f = Fields::new(&value, FIELDS)?;
        match f.tag("type")? {
            TYPE => {}
            other => {
                return Err(DecodeError::UnknownVariant {
                    kind: "LocalDevice",
                    value: other.to_owned(),
                });
            }
        }
        Ok(LocalDevice {
            server_url: f.required("server_url")?,
            organization_id: f.required("organization_id")?,
            root_verify_key: f.required("root_verify_key")?,
            user_id: f.required("user_id")?,
            device_id: f.required("device_id")?,
            device_label: f.required("device_label")?,
            human_handle: f.required("human_handle")?,
            signing_key: f.required("signing_key")?,
            private_key: f.required("private_key")?,
            initial_profile: f.required("initial_profile")?,
            user_realm_id: f.required("user_realm_id")?,
            user_realm_key: f.required("user_realm_key")?,
            local_symkey: f.required("local_symkey")?,
        })
    }
}
