//! `device_certificate`: a device's verify key and (unless redacted) label.

use super::{Certificate, CertificateSigner};
use crate::crypto::VerifyKey;
use crate::protocol::codec::{DecodeError, Fields, MapBuilder};
use crate::protocol::types::wire_enum;
use crate::protocol::{DateTime, DeviceID, UserID};

pub const ALGORITHM: &str = "ED25519";

wire_enum!(
    /// Why the device exists (field added in Parsec 3.2; absent means standard).
    DevicePurpose {
        Standard = "STANDARD",
        ShamirRecovery = "SHAMIR_RECOVERY",
        PassphraseRecovery = "PASSPHRASE_RECOVERY",
        Registration = "REGISTRATION",
    }
);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCertificate {
    /// `None` when the certificate predates the field; it reads as standard.
    pub purpose: Option<DevicePurpose>,
    /// `None`: signed by the root key (organization bootstrap).
    pub author: Option<DeviceID>,
    pub timestamp: DateTime,
    pub user_id: UserID,
    pub device_id: DeviceID,
    /// `None` in the redacted form.
    pub device_label: Option<String>,
    pub verify_key: VerifyKey,
}

impl DeviceCertificate {
    pub fn redacted(&self) -> Self {
        DeviceCertificate {
            device_label: None,
            ..self.clone()
        }
    }
}

impl Certificate for DeviceCertificate {
    const TYPE: &'static str = "device_certificate";
    const FIELDS: &'static [&'static str] = &[
        "type",
        "purpose",
        "author",
        "timestamp",
        "user_id",
        "device_id",
        "device_label",
        "verify_key",
        "algorithm",
    ];

    fn to_value(&self) -> rmpv::Value {
        MapBuilder::with_tag("type", Self::TYPE)
            .optional("purpose", &self.purpose)
            .field("author", &self.author)
            .field("timestamp", &self.timestamp)
            .field("user_id", &self.user_id)
            .field("device_id", &self.device_id)
            .field("device_label", &self.device_label)
            .field("verify_key", &self.verify_key)
            .raw("algorithm", rmpv::Value::from(ALGORITHM))
            .build()
    }

    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        let algorithm: String = f.required("algorithm")?;
        if algorithm != ALGORITHM {
            return Err(DecodeError::UnknownVariant {
                kind: "SigningKeyAlgorithm",
                value: algorithm,
            });
        }
        Ok(DeviceCertificate {
            purpose: f.optional("purpose")?,
            author: f.required_option("author")?,
            timestamp: f.required("timestamp")?,
            user_id: f.required("user_id")?,
            device_id: f.required("device_id")?,
            device_label: f.required_option("device_label")?,
            verify_key: f.required("verify_key")?,
        })
    }

    fn author(&self) -> CertificateSigner {
        CertificateSigner::from_option(self.author)
    }

    fn timestamp(&self) -> DateTime {
        self.timestamp
    }
}
