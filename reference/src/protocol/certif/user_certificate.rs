//! `user_certificate`: a user's public key, profile and (unless redacted)
//! human handle.

use super::{Certificate, CertificateSigner};
use crate::crypto::PublicKey;
use crate::protocol::codec::{DecodeError, Fields, MapBuilder};
use crate::protocol::{DateTime, DeviceID, HumanHandle, UserID, UserProfile};

pub const ALGORITHM: &str = "X25519_XSALSA20_POLY1305";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCertificate {
    /// `None`: signed by the root key (organization bootstrap).
    pub author: Option<DeviceID>,
    pub timestamp: DateTime,
    pub user_id: UserID,
    /// `None` in the redacted form.
    pub human_handle: Option<HumanHandle>,
    pub public_key: PublicKey,
    pub profile: UserProfile,
}

impl UserCertificate {
    pub fn redacted(&self) -> Self {
        UserCertificate {
            human_handle: None,
            ..self.clone()
        }
    }
}

impl Certificate for UserCertificate {
    const TYPE: &'static str = "user_certificate";
    const FIELDS: &'static [&'static str] = &[
        "type",
        "author",
        "timestamp",
        "user_id",
        "human_handle",
        "public_key",
        "algorithm",
        "profile",
    ];

    fn to_value(&self) -> rmpv::Value {
        MapBuilder::with_tag("type", Self::TYPE)
            .field("author", &self.author)
            .field("timestamp", &self.timestamp)
            .field("user_id", &self.user_id)
            .field("human_handle", &self.human_handle)
            .field("public_key", &self.public_key)
            .raw("algorithm", rmpv::Value::from(ALGORITHM))
            .field("profile", &self.profile)
            .build()
    }

    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        let algorithm: String = f.required("algorithm")?;
        if algorithm != ALGORITHM {
            return Err(DecodeError::UnknownVariant {
                kind: "PrivateKeyAlgorithm",
                value: algorithm,
            });
        }
        Ok(UserCertificate {
            author: f.required_option("author")?,
            timestamp: f.required("timestamp")?,
            user_id: f.required("user_id")?,
            human_handle: f.required_option("human_handle")?,
            public_key: f.required("public_key")?,
            profile: f.required("profile")?,
        })
    }

    fn author(&self) -> CertificateSigner {
        CertificateSigner::from_option(self.author)
    }

    fn timestamp(&self) -> DateTime {
        self.timestamp
    }
}
