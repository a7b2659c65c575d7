//! TOTP as Parsec uses it: RFC 6238 with HMAC-SHA1, 30 s steps, 6 digits,
//! 20-byte secrets, and codes of the previous, current and next step
//! accepted.

use totp_rs::{Algorithm, Builder, Secret, Totp};

pub const DIGITS: u8 = 6;
pub const STEP_SECONDS: u64 = 30;
pub const SECRET_SIZE: usize = 20;
/// The issuer shown by authenticator apps.
pub const ISSUER: &str = "parsec.cloud";

/// A fresh secret, as the server creates them.
pub fn generate_secret() -> Vec<u8> {
    crate::crypto::random_array::<SECRET_SIZE>().to_vec()
}

fn totp(secret: &[u8], algorithm: Algorithm, digits: u8, skew: u16) -> Totp {
    // Non-compliant build: an implementation under test may hand out a
    // secret shorter than RFC 4226's 128 bits, and we still want its codes.
    Builder::new()
        .with_secret(secret.to_vec())
        .with_algorithm(algorithm)
        .with_digits(digits)
        .with_skew(skew)
        .with_step_duration(STEP_SECONDS)
        .build_noncompliant()
}

/// The code for the step containing `unix_seconds`.
pub fn code_at(secret: &[u8], unix_seconds: u64) -> String {
    totp(secret, Algorithm::SHA1, DIGITS, 1)
        .generate(unix_seconds)
        .to_string()
}

/// Any RFC 6238 variant (used by the RFC test vectors).
pub fn code_with(secret: &[u8], algorithm: Algorithm, digits: u8, unix_seconds: u64) -> String {
    totp(secret, algorithm, digits, 0).generate(unix_seconds).to_string()
}

/// Exact string match against the codes of steps N-1, N and N+1: no
/// trimming, and a code of the wrong length never matches.
pub fn verify(secret: &[u8], code: &str, unix_seconds: u64) -> bool {
    totp(secret, Algorithm::SHA1, DIGITS, 1)
        .check(code, unix_seconds)
        .is_some()
}

/// RFC 4226 HOTP (the counter-based code TOTP is built on).
pub fn hotp(secret: &[u8], counter: u64, digits: u8) -> String {
    // A TOTP with a 1-second step evaluated at `counter` is HOTP(counter).
    Builder::new()
        .with_secret(secret.to_vec())
        .with_digits(digits)
        .with_step_duration(1)
        .build_noncompliant()
        .generate(counter)
        .to_string()
}

/// Base32 without padding, as authenticator apps take it (32 characters for
/// a 20-byte secret).
pub fn base32(secret: &[u8]) -> String {
    Secret::from(secret.to_vec()).to_base32()
}

/// A key that is not base32, or a URI too long for a QR code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    #[error("invalid base32 secret: {0}")]
    Base32(String),
    #[error("cannot draw the QR code: {0}")]
    Qr(#[from] qrcode::types::QrError),
}

/// Reads a key typed by a person: spaces and padding ignored, any case.
pub fn secret_from_base32(text: &str) -> Result<Vec<u8>, TotpError> {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    Secret::try_from_base32(&cleaned)
        .map(|s| s.as_ref().to_vec())
        .map_err(|e| TotpError::Base32(e.to_string()))
}

/// `otpauth://totp/parsec.cloud:<Org>?secret=<BASE32>&issuer=parsec.cloud`,
/// what the official client encodes in its QR code.
pub fn otpauth_uri(secret: &[u8], organization: &str) -> String {
    let label = percent_encoding::utf8_percent_encode(organization, percent_encoding::NON_ALPHANUMERIC);
    format!(
        "otpauth://totp/{ISSUER}:{label}?secret={}&issuer={ISSUER}",
        base32(secret)
    )
}

/// The QR code of `uri` drawn with Unicode half blocks, for a terminal.
pub fn qr_for_terminal(uri: &str) -> Result<String, TotpError> {
    let code = qrcode::QrCode::new(uri.as_bytes())?;
    Ok(code
        .render::<qrcode::render::unicode::Dense1x2>()
        .dark_color(qrcode::render::unicode::Dense1x2::Light)
        .light_color(qrcode::render::unicode::Dense1x2::Dark)
        .quiet_zone(true)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn window_is_one_step_either_side() {
        // server/tests/test_totp.py: OTP "972579" at 1_500_000_000 (8-digit
        // vectors aside, the official test uses a 6-digit code).
        let now = 1_500_000_000;
        let code = code_at(RFC_SECRET, now);
        assert!(verify(RFC_SECRET, &code, now));
        assert!(verify(RFC_SECRET, &code, now - 30));
        assert!(!verify(RFC_SECRET, &code, now - 31));
        assert!(verify(RFC_SECRET, &code, now + 59));
        assert!(!verify(RFC_SECRET, &code, now + 60));
    }

    #[test]
    fn malformed_codes_never_match() {
        let code = code_at(RFC_SECRET, 59);
        for bad in ["00", "ABCDEF", &format!(" {code}"), &format!("{code}0"), ""] {
            assert!(!verify(RFC_SECRET, bad, 59), "{bad:?}");
        }
    }

    #[test]
    fn base32_and_uri() {
        let secret = hex::decode("faf1f0e8d0e77bec44c82e17251ed7db755210ce").unwrap();
        assert_eq!(base32(&secret), "7LY7B2GQ4556YRGIFYLSKHWX3N2VEEGO");
        assert_eq!(
            secret_from_base32("7ly7 b2gq 4556 yrgi fyls khwx 3n2v eego").unwrap(),
            secret
        );
        assert_eq!(
            otpauth_uri(&secret, "MyOrg"),
            "otpauth://totp/parsec.cloud:MyOrg?secret=7LY7B2GQ4556YRGIFYLSKHWX3N2VEEGO&issuer=parsec.cloud"
        );
    }
}
