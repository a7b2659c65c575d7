//! The authenticated request token:
//! `PARSEC-SIGN-ED25519.<device_id_hex>.<unix_seconds>.<urlsafe_b64(signature)>`,
//! the signature covering everything before the last dot.

use crate::crypto::{SigningKey, VerifyKey};
use crate::protocol::DeviceID;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE;

pub const HEADER: &str = "PARSEC-SIGN-ED25519";
/// A token may be this many seconds ahead of the server clock (exclusive).
pub const BALLPARK_CLIENT_EARLY_OFFSET: i64 = 300;
/// A token may be this many seconds behind the server clock (exclusive).
pub const BALLPARK_CLIENT_LATE_OFFSET: i64 = 320;

/// Why an `Authorization` header is not a well-formed token (HTTP 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed authentication token: {0}")]
pub struct TokenFormatError(pub &'static str);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedToken {
    pub device_id: DeviceID,
    pub timestamp: i64,
    /// The signed part, as received.
    pub signed_part: String,
    pub signature: Vec<u8>,
}

impl AuthenticatedToken {
    /// The full token (without the `Bearer ` scheme).
    pub fn build(device_id: DeviceID, signing_key: &SigningKey, unix_seconds: i64) -> String {
        let signed_part = format!("{HEADER}.{}.{unix_seconds}", device_id.hex());
        let signature = signing_key.sign_only_signature(signed_part.as_bytes());
        format!("{signed_part}.{}", URL_SAFE.encode(signature))
    }

    pub fn parse(token: &str) -> Result<Self, TokenFormatError> {
        let (signed_part, signature_b64) = token.rsplit_once('.').ok_or(TokenFormatError("no signature"))?;
        let mut parts = signed_part.split('.');
        let (Some(header), Some(device), Some(timestamp), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenFormatError("expected 4 dot-separated parts"));
        };
        if header != HEADER {
            return Err(TokenFormatError("unknown token type"));
        }
        let device_id = DeviceID::from_hex(device).map_err(|_| TokenFormatError("bad device id"))?;
        let timestamp = timestamp
            .parse::<i64>()
            .map_err(|_| TokenFormatError("bad timestamp"))?;
        let signature = URL_SAFE
            .decode(signature_b64)
            .map_err(|_| TokenFormatError("signature is not url-safe base64"))?;
        Ok(AuthenticatedToken {
            device_id,
            timestamp,
            signed_part: signed_part.to_owned(),
            signature,
        })
    }

    pub fn verify(&self, verify_key: &VerifyKey) -> bool {
        verify_key
            .verify_signature(&self.signature, self.signed_part.as_bytes())
            .is_ok()
    }

    /// Whether the token's time is close enough to the server's.
    pub fn in_ballpark(&self, server_now_seconds: i64) -> bool {
        let delta = server_now_seconds - self.timestamp;
        -BALLPARK_CLIENT_EARLY_OFFSET < delta && delta < BALLPARK_CLIENT_LATE_OFFSET
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_parse_verify_round_trip() {
        let sk = SigningKey::generate();
        let device = DeviceID::new();
        let token = AuthenticatedToken::build(device, &sk, 1_795_421_520);
        assert!(token.ends_with("=="), "padded url-safe base64: {token}");
        let parsed = AuthenticatedToken::parse(&token).unwrap();
        assert_eq!(parsed.device_id, device);
        assert!(parsed.verify(&sk.verify_key()));
        assert!(!parsed.verify(&SigningKey::generate().verify_key()));
    }

    #[test]
    fn ballpark_bounds_are_strict() {
        let t = AuthenticatedToken {
            device_id: DeviceID::new(),
            timestamp: 1000,
            signed_part: String::new(),
            signature: vec![],
        };
        assert!(t.in_ballpark(1000));
        assert!(t.in_ballpark(1000 + 319));
        assert!(!t.in_ballpark(1000 + 320));
        assert!(t.in_ballpark(1000 - 299));
        assert!(!t.in_ballpark(1000 - 300));
    }

    #[test]
    fn malformed_tokens_are_errors() {
        for bad in [
            "",
            "<dummy>",
            "PARSEC-SIGN-ED25519.x.1.AA==",
            "OTHER.bb72f09cc8954b3fbd891a4944cb1dfb.1.AA==",
            "PARSEC-SIGN-ED25519.bb72f09cc8954b3fbd891a4944cb1dfb.soon.AA==",
            "PARSEC-SIGN-ED25519.bb72f09cc8954b3fbd891a4944cb1dfb.1.AA",
        ] {
            assert!(AuthenticatedToken::parse(bad).is_err(), "{bad}");
        }
    }
}
