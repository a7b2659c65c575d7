//! The one-time password primitives against the RFC test vectors
//! (`fixtures/vectors/rfc-otp.json`): RFC 6238 Appendix B (TOTP with
//! HMAC-SHA1, SHA-256 and SHA-512, 8 digits, 30-second steps) and RFC 4226
//! Appendix D (HOTP, 6 digits).

use parsec_mfa_reference::totp;
use totp_rs::Algorithm;

fn algorithm(name: &str) -> Algorithm {
    match name {
        "SHA1" => Algorithm::SHA1,
        "SHA256" => Algorithm::SHA256,
        "SHA512" => Algorithm::SHA512,
        other => panic!("unknown algorithm {other}"),
    }
}

fn field<'a>(v: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    v.get(name).unwrap_or_else(|| panic!("vector without `{name}`: {v}"))
}

#[test]
fn rfc6238_appendix_b() {
    let json = crate::vectors::load_json("vectors/rfc-otp.json");
    let vectors = json["rfc6238_appendix_b"].as_array().expect("a list");
    // 6 instants x 3 algorithms, as in the RFC table.
    assert_eq!(vectors.len(), 18);
    for v in vectors {
        let secret = field(v, "secret_ascii").as_str().unwrap().as_bytes();
        let unix_time = field(v, "unix_time").as_u64().unwrap();
        let digits = u8::try_from(field(v, "digits").as_u64().unwrap()).unwrap();
        let code = field(v, "code").as_str().unwrap();
        // `code_with` uses Parsec's 30-second step: the vectors must too.
        assert_eq!(field(v, "step").as_u64(), Some(totp::STEP_SECONDS), "{v}");
        assert_eq!(
            totp::code_with(
                secret,
                algorithm(field(v, "algorithm").as_str().unwrap()),
                digits,
                unix_time
            ),
            code,
            "{v}"
        );
    }
}

#[test]
fn rfc4226_appendix_d() {
    let json = crate::vectors::load_json("vectors/rfc-otp.json");
    let vectors = json["rfc4226_appendix_d"].as_array().expect("a list");
    assert_eq!(vectors.len(), 10);
    for (i, v) in vectors.iter().enumerate() {
        assert_eq!(field(v, "algorithm").as_str(), Some("SHA1"), "{v}");
        assert_eq!(field(v, "counter").as_u64(), Some(i as u64), "counters 0 to 9: {v}");
        let secret = field(v, "secret_ascii").as_str().unwrap().as_bytes();
        let digits = u8::try_from(field(v, "digits").as_u64().unwrap()).unwrap();
        assert_eq!(
            totp::hotp(secret, i as u64, digits),
            field(v, "code").as_str().unwrap(),
            "{v}"
        );
    }
}

/// Parsec's own code (SHA-1, 6 digits, 30 s) is the RFC's SHA-1 code cut to
/// its last 6 digits: both truncate the same 31-bit number, modulo 10^8 and
/// 10^6.
#[test]
fn parsec_codes_are_the_rfc_sha1_codes_on_six_digits() {
    let json = crate::vectors::load_json("vectors/rfc-otp.json");
    let sha1 = json["rfc6238_appendix_b"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["algorithm"] == "SHA1");
    let mut checked = 0;
    for v in sha1 {
        let secret = v["secret_ascii"].as_str().unwrap().as_bytes();
        let code8 = v["code"].as_str().unwrap();
        assert_eq!(
            totp::code_at(secret, v["unix_time"].as_u64().unwrap()),
            &code8[2..],
            "{v}"
        );
        checked += 1;
    }
    assert_eq!(checked, 6);
}
