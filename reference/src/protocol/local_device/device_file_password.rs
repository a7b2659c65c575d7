//! The `password` device file (libparsec's `DeviceFilePassword`).

use crate::crypto::{CryptoError, SecretKey};
use crate::protocol::codec::{
    Bytes, DecodeError, Fields, MapBuilder, ValueError, Wire, bin_array, decode_value, encode_value,
};
use crate::protocol::{DateTime, DeviceID, HumanHandle, OrganizationID, TOTPOpaqueKeyID, UserID};
use rmpv::Value;

pub const TYPE: &str = "password";

/// How the password becomes the key of the inner layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordAlgorithm {
    pub salt: [u8; 16],
    pub opslimit: u32,
    pub memlimit_kb: u32,
    pub parallelism: u32,
}

impl PasswordAlgorithm {
    /// Fresh salt with the given cost. Interactive use wants a high cost; the
    /// test suites use a cheap one.
    pub fn argon2id(opslimit: u32, memlimit_kb: u32) -> Self {
        PasswordAlgorithm {
            salt: crate::crypto::random_array(),
            opslimit,
            memlimit_kb,
            parallelism: 1,
        }
    }

    pub fn derive(&self, password: &str) -> Result<SecretKey, CryptoError> {
        SecretKey::from_argon2id(
            password.as_bytes(),
            &self.salt,
            self.opslimit,
            self.memlimit_kb,
            self.parallelism,
        )
    }
}

impl Wire for PasswordAlgorithm {
    fn to_wire(&self) -> Value {
        MapBuilder::with_tag("type", "ARGON2ID")
            .field("memlimit_kb", &self.memlimit_kb)
            .field("opslimit", &self.opslimit)
            .field("parallelism", &self.parallelism)
            .raw("salt", Value::Binary(self.salt.to_vec()))
            .build()
    }
    fn from_wire(value: &Value) -> Result<Self, ValueError> {
        let read = || -> Result<Self, DecodeError> {
            let f = Fields::new(value, &["type", "memlimit_kb", "opslimit", "parallelism", "salt"])?;
            match f.tag("type")? {
                "ARGON2ID" => {}
                other => {
                    return Err(DecodeError::UnknownVariant {
                        kind: "PasswordAlgorithm",
                        value: other.to_owned(),
                    });
                }
            }
            let salt = f.get("salt").ok_or(DecodeError::MissingField("salt"))?;
            Ok(PasswordAlgorithm {
                salt: bin_array::<16>(salt).map_err(|reason| DecodeError::InvalidField { field: "salt", reason })?,
                opslimit: f.required("opslimit")?,
                memlimit_kb: f.required("memlimit_kb")?,
                parallelism: f.required("parallelism")?,
            })
        };
        read().map_err(ValueError::from)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceFilePassword {
    pub created_on: DateTime,
    pub protected_on: DateTime,
    /// The server as an http(s) URL, kept exactly as written.
    pub server_url: String,
    pub organization_id: OrganizationID,
    pub user_id: UserID,
    pub device_id: DeviceID,
    pub human_handle: HumanHandle,
    pub device_label: String,
    pub algorithm: PasswordAlgorithm,
    /// `LocalDevice` encrypted with the password key, and then with the TOTP
    /// opaque key when `totp_opaque_key_id` is set.
    pub ciphertext: Bytes,
    /// Introduced in Parsec 3.8: the device file is MFA-protected.
    pub totp_opaque_key_id: Option<TOTPOpaqueKeyID>,
}

const FIELDS: &[&str] = &[
    "type",
    "created_on",
    "protected_on",
    "server_url",
    "organization_id",
    "user_id",
    "device_id",
    "human_handle",
    "device_label",
    "algorithm",
    "ciphertext",
    "totp_opaque_key_id",
];

impl DeviceFilePassword {
    pub fn to_value(&self) -> Value {
        MapBuilder::with_tag("type", TYPE)
            .field("created_on", &self.created_on)
            .field("protected_on", &self.protected_on)
            .field("server_url", &self.server_url)
            .field("organization_id", &self.organization_id)
            .field("user_id", &self.user_id)
            .field("device_id", &self.device_id)
            .field("human_handle", &self.human_handle)
            .field("device_label", &self.device_label)
            .field("algorithm", &self.algorithm)
            .field("ciphertext", &self.ciphertext)
            .optional("totp_opaque_key_id", &self.totp_opaque_key_id)
            .build()
    }

    pub fn dump(&self) -> Vec<u8> {
        encode_value(&self.to_value())
    }

    /// Reads the current map form and the legacy positional form.
    pub fn load(bytes: &[u8]) -> Result<Self, DecodeError> {
        let value = decode_value(bytes)?;
        let f = Fields::new(&value, FIELDS)?;
        match f.tag("type")? {
            TYPE => {}
            other => {
                return Err(DecodeError::UnknownVariant {
                    kind: "DeviceFile",
                    value: other.to_owned(),
                });
            }
        }
        Ok(DeviceFilePassword {
            created_on: f.required("created_on")?,
            protected_on: f.required("protected_on")?,
            server_url: f.required("server_url")?,
            organization_id: f.required("organization_id")?,
            user_id: f.required("user_id")?,
            device_id: f.required("device_id")?,
            human_handle: f.required("human_handle")?,
            device_label: f.required("device_label")?,
            algorithm: f.required("algorithm")?,
            ciphertext: f.required("ciphertext")?,
            totp_opaque_key_id: f.optional("totp_opaque_key_id")?,
        })
    }
}
