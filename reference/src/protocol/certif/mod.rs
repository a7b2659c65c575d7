//! Certificates: `signature(64) || 0x00 || zstd(msgpack named map)`.
//!
//! The `0x00` byte is the serialization format (v0). Compression is zstd
//! level 3 in streaming mode without a content size, which reproduces the
//! official bytes exactly.

mod device_certificate;
mod revoked_user_certificate;
mod user_certificate;

pub use device_certificate::{DeviceCertificate, DevicePurpose};
pub use revoked_user_certificate::RevokedUserCertificate;
pub use user_certificate::UserCertificate;

use crate::crypto::{CryptoError, SigningKey, VerifyKey, unsecure_unwrap_signed};
use crate::protocol::codec::{DecodeError, Fields, decode_value};
use crate::protocol::{DateTime, DeviceID, UserID};
use std::io::Read;

/// Decompressed payloads larger than this are refused (a zstd bomb).
const MAX_DECOMPRESSED: u64 = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("unknown serialization format {0:#04x}")]
    UnknownFormat(u8),
    #[error("empty payload")]
    Empty,
    #[error("invalid zstd data: {0}")]
    Zstd(String),
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("certificate type is `{found}`, expected `{expected}`")]
    WrongType { expected: &'static str, found: String },
    #[error("unexpected author: expected {expected}, found {found}")]
    UnexpectedAuthor { expected: String, found: String },
    #[error("unexpected user: expected {expected}, found {found}")]
    UnexpectedUser { expected: UserID, found: UserID },
    #[error("unexpected timestamp: expected {expected}, found {found}")]
    UnexpectedTimestamp { expected: DateTime, found: DateTime },
}

/// `0x00 || zstd(data)`.
pub fn format_v0_compress(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8];
    out.extend(zstd::stream::encode_all(data, 3).expect("zstd compression of a buffer cannot fail"));
    out
}

/// Undoes [`format_v0_compress`].
pub fn format_v0_decompress(serialized: &[u8]) -> Result<Vec<u8>, CertificateError> {
    let (&format, compressed) = serialized.split_first().ok_or(CertificateError::Empty)?;
    if format != 0 {
        return Err(CertificateError::UnknownFormat(format));
    }
    let decoder = zstd::stream::read::Decoder::new(compressed).map_err(|e| CertificateError::Zstd(e.to_string()))?;
    let mut out = Vec::new();
    decoder
        .take(MAX_DECOMPRESSED + 1)
        .read_to_end(&mut out)
        .map_err(|e| CertificateError::Zstd(e.to_string()))?;
    if out.len() as u64 > MAX_DECOMPRESSED {
        return Err(CertificateError::Zstd("decompressed data too large".into()));
    }
    Ok(out)
}

/// Who signed a certificate: a device, or the organization's root key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateSigner {
    Root,
    User(DeviceID),
}

impl CertificateSigner {
    fn from_option(author: Option<DeviceID>) -> Self {
        author.map_or(CertificateSigner::Root, CertificateSigner::User)
    }
    fn describe(&self) -> String {
        match self {
            CertificateSigner::Root => "the root key".into(),
            CertificateSigner::User(d) => format!("device {d}"),
        }
    }
}

/// What every certificate type provides to the shared sign/verify code.
pub trait Certificate: Sized {
    const TYPE: &'static str;
    /// Field names in schema order (for the legacy positional form).
    const FIELDS: &'static [&'static str];
    fn to_value(&self) -> rmpv::Value;
    fn from_fields(fields: &Fields<'_>) -> Result<Self, DecodeError>;
    fn author(&self) -> CertificateSigner;
    fn timestamp(&self) -> DateTime;

    /// The unsigned serialized form, `0x00 || zstd(msgpack)`.
    fn dump(&self) -> Vec<u8> {
        format_v0_compress(&crate::protocol::codec::encode_value(&self.to_value()))
    }

    fn dump_and_sign(&self, author_signing_key: &SigningKey) -> Vec<u8> {
        author_signing_key.sign(&self.dump())
    }

    /// Reads the content without checking the signature.
    fn unsecure_load(signed: &[u8]) -> Result<Self, CertificateError> {
        Self::load_serialized(unsecure_unwrap_signed(signed)?)
    }

    fn load_serialized(serialized: &[u8]) -> Result<Self, CertificateError> {
        let raw = format_v0_decompress(serialized)?;
        let value = decode_value(&raw)?;
        let fields = Fields::new(&value, Self::FIELDS)?;
        let found = fields.tag("type")?;
        if found != Self::TYPE {
            return Err(CertificateError::WrongType {
                expected: Self::TYPE,
                found: found.to_owned(),
            });
        }
        Ok(Self::from_fields(&fields)?)
    }

    /// Verifies the signature with the author's key, then that the
    /// certificate says what the caller expects of it.
    fn verify_and_load(
        signed: &[u8],
        author_verify_key: &VerifyKey,
        expected_author: CertificateSigner,
        expected_timestamp: Option<DateTime>,
    ) -> Result<Self, CertificateError> {
        let serialized = author_verify_key.verify(signed)?;
        let cert = Self::load_serialized(serialized)?;
        if cert.author() != expected_author {
            return Err(CertificateError::UnexpectedAuthor {
                expected: expected_author.describe(),
                found: cert.author().describe(),
            });
        }
        if let Some(expected) = expected_timestamp
            && cert.timestamp() != expected
        {
            return Err(CertificateError::UnexpectedTimestamp {
                expected,
                found: cert.timestamp(),
            });
        }
        Ok(cert)
    }
}
