//! The libsodium-compatible primitives Parsec uses: Ed25519 signatures in
//! combined mode, X25519 key pairs, XSalsa20-Poly1305 secret boxes
//! (nonce-prefixed) and Argon2id password derivation.

use crypto_secretbox::aead::{Aead, KeyInit};
use ed25519_dalek::Signer as _;
use std::fmt;

pub const SIGNATURE_SIZE: usize = 64;
pub const NONCE_SIZE: usize = 24;
pub const MAC_SIZE: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("signature is invalid")]
    BadSignature,
    #[error("signed data is too short to hold a signature")]
    SignedDataTooShort,
    #[error("decryption failed (wrong key or corrupted data)")]
    Decryption,
    #[error("invalid key: {0}")]
    InvalidKey(String),
    #[error("invalid password derivation parameters: {0}")]
    InvalidAlgorithm(String),
}

/// Fills an array from the operating system's random source.
pub fn random_array<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).expect("the operating system random source is unavailable");
    out
}

macro_rules! key32 {
    ($(#[$doc:meta])* $name:ident, secret) => {
        key32!($(#[$doc])* $name);
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}(****)", stringify!($name))
            }
        }
    };
    ($(#[$doc:meta])* $name:ident, public) => {
        key32!($(#[$doc])* $name);
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), hex::encode(self.0))
            }
        }
    };
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash)]
        pub struct $name(pub [u8; 32]);

        impl $name {
            pub fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }
        }
    };
}

key32!(
    /// Ed25519 signing key (the 32-byte seed).
    SigningKey,
    secret
);
key32!(
    /// Ed25519 public key.
    VerifyKey,
    public
);
key32!(
    /// X25519 private key.
    PrivateKey,
    secret
);
key32!(
    /// X25519 public key.
    PublicKey,
    public
);
key32!(
    /// XSalsa20-Poly1305 key.
    SecretKey,
    secret
);

impl SigningKey {
    pub fn generate() -> Self {
        SigningKey(random_array())
    }

    pub fn verify_key(&self) -> VerifyKey {
        VerifyKey(
            ed25519_dalek::SigningKey::from_bytes(&self.0)
                .verifying_key()
                .to_bytes(),
        )
    }

    /// The detached 64-byte signature.
    pub fn sign_only_signature(&self, data: &[u8]) -> [u8; SIGNATURE_SIZE] {
        ed25519_dalek::SigningKey::from_bytes(&self.0).sign(data).to_bytes()
    }

    /// libsodium `crypto_sign` combined mode: signature then data.
    pub fn sign(&self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(SIGNATURE_SIZE + data.len());
        out.extend_from_slice(&self.sign_only_signature(data));
        out.extend_from_slice(data);
        out
    }
}

impl VerifyKey {
    fn dalek(&self) -> Result<ed25519_dalek::VerifyingKey, CryptoError> {
        ed25519_dalek::VerifyingKey::from_bytes(&self.0).map_err(|e| CryptoError::InvalidKey(e.to_string()))
    }

    /// Verifies a detached signature. Strict, as libsodium: small-order and
    /// non-canonical points are refused.
    pub fn verify_signature(&self, signature: &[u8], data: &[u8]) -> Result<(), CryptoError> {
        let signature = ed25519_dalek::Signature::from_slice(signature).map_err(|_| CryptoError::BadSignature)?;
        self.dalek()?
            .verify_strict(data, &signature)
            .map_err(|_| CryptoError::BadSignature)
    }

    /// Opens combined-mode signed data and returns the data.
    pub fn verify<'a>(&self, signed: &'a [u8]) -> Result<&'a [u8], CryptoError> {
        if signed.len() < SIGNATURE_SIZE {
            return Err(CryptoError::SignedDataTooShort);
        }
        let (signature, data) = signed.split_at(SIGNATURE_SIZE);
        self.verify_signature(signature, data)?;
        Ok(data)
    }
}

/// Splits combined-mode signed data without verifying it (to find out who the
/// author is before choosing the key).
pub fn unsecure_unwrap_signed(signed: &[u8]) -> Result<&[u8], CryptoError> {
    signed.get(SIGNATURE_SIZE..).ok_or(CryptoError::SignedDataTooShort)
}

impl PrivateKey {
    pub fn generate() -> Self {
        PrivateKey(random_array())
    }

    pub fn public_key(&self) -> PublicKey {
        let secret = x25519_dalek::StaticSecret::from(self.0);
        PublicKey(x25519_dalek::PublicKey::from(&secret).to_bytes())
    }
}

impl SecretKey {
    pub fn generate() -> Self {
        SecretKey(random_array())
    }

    fn cipher(&self) -> crypto_secretbox::XSalsa20Poly1305 {
        crypto_secretbox::XSalsa20Poly1305::new(&self.0.into())
    }

    /// `nonce(24) || mac(16) || ciphertext`, as libparsec's `SecretKey::encrypt`.
    pub fn encrypt(&self, cleartext: &[u8]) -> Vec<u8> {
        let nonce: [u8; NONCE_SIZE] = random_array();
        let sealed = self
            .cipher()
            .encrypt(&nonce.into(), cleartext)
            .expect("XSalsa20-Poly1305 encryption cannot fail");
        let mut out = Vec::with_capacity(NONCE_SIZE + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    pub fn decrypt(&self, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if ciphertext.len() < NONCE_SIZE + MAC_SIZE {
            return Err(CryptoError::Decryption);
        }
        let (nonce, sealed) = ciphertext.split_at(NONCE_SIZE);
        let nonce: [u8; NONCE_SIZE] = nonce.try_into().expect("split at NONCE_SIZE");
        self.cipher()
            .decrypt(&nonce.into(), sealed)
            .map_err(|_| CryptoError::Decryption)
    }

    /// libsodium `crypto_pwhash` with Argon2id v1.3 (parallelism is always 1
    /// in libsodium; other values are computed as the RFC says).
    pub fn from_argon2id(
        password: &[u8],
        salt: &[u8],
        opslimit: u32,
        memlimit_kb: u32,
        parallelism: u32,
    ) -> Result<Self, CryptoError> {
        let params = argon2::Params::new(memlimit_kb, opslimit, parallelism, Some(32))
            .map_err(|e| CryptoError::InvalidAlgorithm(e.to_string()))?;
        let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = [0u8; 32];
        argon
            .hash_password_into(password, salt, &mut out)
            .map_err(|e| CryptoError::InvalidAlgorithm(e.to_string()))?;
        Ok(SecretKey(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_signature_round_trips_and_detects_tampering() {
        let sk = SigningKey::generate();
        let signed = sk.sign(b"hello");
        assert_eq!(&signed[SIGNATURE_SIZE..], b"hello");
        assert_eq!(sk.verify_key().verify(&signed), Ok(&b"hello"[..]));
        let mut tampered = signed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(sk.verify_key().verify(&tampered), Err(CryptoError::BadSignature));
        assert_eq!(
            sk.verify_key().verify(&signed[..10]),
            Err(CryptoError::SignedDataTooShort)
        );
    }

    #[test]
    fn secret_box_layout_is_nonce_mac_ciphertext() {
        let key = SecretKey::generate();
        let boxed = key.encrypt(b"fourteen bytes");
        assert_eq!(boxed.len(), 24 + 16 + 14);
        assert_eq!(key.decrypt(&boxed).unwrap(), b"fourteen bytes");
        assert_eq!(SecretKey::generate().decrypt(&boxed), Err(CryptoError::Decryption));
        assert_eq!(key.decrypt(&boxed[..20]), Err(CryptoError::Decryption));
    }
}
