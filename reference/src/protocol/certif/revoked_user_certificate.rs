//! `revoked_user_certificate`: an administrator's device revokes a user.

use super::{Certificate, CertificateSigner};
use crate::protocol::codec::{DecodeError, Fields, MapBuilder};
use crate::protocol::{DateTime, DeviceID, UserID};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedUserCertificate {
    pub author: DeviceID,
    pub timestamp: DateTime,
    pub user_id: UserID,
}

impl Certificate for RevokedUserCertificate {
    const TYPE: &'static str = "revoked_user_certificate";
    const FIELDS: &'static [&'static str] = &["type", "author", "timestamp", "user_id"];

    fn to_value(&self) -> rmpv::Value {
        MapBuilder::with_tag("type", Self::TYPE)
            .field("author", &self.author)
            .field("timestamp", &self.timestamp)
            .field("user_id", &self.user_id)
            .build()
    }

    fn from_fields(f: &Fields<'_>) -> Result<Self, DecodeError> {
        Ok(RevokedUserCertificate {
            author: f.required("author")?,
            timestamp: f.required("timestamp")?,
            user_id: f.required("user_id")?,
        })
    }

    fn author(&self) -> CertificateSigner {
        CertificateSigner::User(self.author)
    }

    fn timestamp(&self) -> DateTime {
        self.timestamp
    }
}
