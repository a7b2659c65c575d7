//! Certificates and device files against the official vectors
//! (`fixtures/vectors/libparsec-types.json`, from the libparsec `types`
//! unit tests of Scille/parsec-cloud).
//!
//! Certificates (`certif.rs`): the vectors are *signed* certificates,
//! `signature(64) || 0x00 || zstd(msgpack)`. The key that signed them is not
//! published with the vectors, so the signature itself cannot be reproduced
//! here; we check the content, and that our unsigned serialization
//! (`Certificate::dump`) equals the signed bytes minus their first 64 bytes
//! (which proves the msgpack *and* the zstd framing byte for byte). The
//! transcript test re-signs real certificates with a known key.
//!
//! Device files (`local_device_file.rs`): the two `password` vectors, the
//! current map form (3.7.2, with `totp_opaque_key_id`) and the legacy
//! positional-array form (3.0).
//!
//! Note on the comments of these vectors: their "i.e. <date>" renderings are
//! one hour ahead of the bytes (local time of Paris written with a `Z`), e.g.
//! `ext(1, 1262304000000000) i.e. 2010-01-01T01:00:00Z` is 00:00 UTC. We
//! assert what the bytes say.

use crate::vectors::{Vector, msgpack, to_msgpack, unhex, unhex_array};
use parsec_mfa_reference as reference;
use reference::crypto::{CryptoError, PublicKey, SigningKey};
use reference::protocol::certif::{
    Certificate, CertificateError, CertificateSigner, DeviceCertificate, RevokedUserCertificate, UserCertificate,
    format_v0_decompress,
};
use reference::protocol::local_device::{DeviceFilePassword, PasswordAlgorithm};
use reference::protocol::{Bytes, DateTime, DecodeError, DeviceID, HumanHandle, TOTPOpaqueKeyID, UserID, UserProfile};

const TYPES: &str = "vectors/libparsec-types.json";

fn certif_vectors() -> Vec<Vector> {
    crate::vectors::vectors(TYPES, "/certif.rs")
}

fn device_file_vectors() -> Vec<Vector> {
    crate::vectors::vectors(TYPES, "/local_device_file.rs")
}

/// The single vector of `certif.rs` named `test_fn`.
fn certif(test_fn: &str) -> Vector {
    let mut found: Vec<_> = certif_vectors().into_iter().filter(|v| v.test_fn == test_fn).collect();
    assert_eq!(found.len(), 1, "one vector named {test_fn}");
    found.remove(0)
}

// ---------------------------------------------------------------------------
// certif.rs

const CERT_AUTHOR: &str = "de10a11cec0010000000000000000000";
const CERT_USER: &str = "808c0010000000000000000000000000";
/// `ext(1, 1638618643208821)`.
const CERT_TIMESTAMP_MICROS: i64 = 1_638_618_643_208_821;

fn cert_timestamp() -> DateTime {
    let t = DateTime::from_micros(CERT_TIMESTAMP_MICROS);
    // The comment says 12:50:43 (Paris time).
    assert_eq!(t.to_rfc3339(), "2021-12-04T11:50:43.208821Z");
    t
}

fn bob_user_certificate() -> UserCertificate {
    UserCertificate {
        author: Some(DeviceID::from_hex(CERT_AUTHOR).unwrap()),
        timestamp: cert_timestamp(),
        user_id: UserID::from_hex(CERT_USER).unwrap(),
        human_handle: Some(HumanHandle::new("bob@example.com", "Boby McBobFace").unwrap()),
        public_key: PublicKey(unhex_array(
            "7c999e9980bef37707068b07d975591efc56335be9634ceef7c932a09c891e25",
        )),
        profile: UserProfile::Standard,
    }
}

/// Content, unsigned bytes, and that the signature is really checked.
fn check_signed_certificate<C: Certificate + PartialEq + std::fmt::Debug>(v: &Vector, expected: C) {
    let name = v.name();
    let decoded = C::unsecure_load(&v.bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(decoded, expected, "{name}: content");

    let (_signature, serialized) = v.bytes.split_at(64);
    assert_eq!(serialized[0], 0x00, "{name}: format v0");
    assert_eq!(
        hex::encode(expected.dump()),
        hex::encode(serialized),
        "{name}: dump() must equal the signed bytes minus the 64-byte signature"
    );
    assert_eq!(C::load_serialized(serialized).as_ref(), Ok(&expected));

    // Without the (unpublished) author key, any key must be refused.
    let other = SigningKey([7; 32]).verify_key();
    assert_eq!(
        C::verify_and_load(&v.bytes, &other, expected.author(), None).err(),
        Some(CertificateError::Crypto(CryptoError::BadSignature)),
        "{name}"
    );
    // And what we sign ourselves verifies and reads back the same.
    let key = SigningKey([9; 32]);
    let resigned = expected.dump_and_sign(&key);
    assert_eq!(&resigned[64..], serialized, "{name}");
    assert_eq!(
        C::verify_and_load(
            &resigned,
            &key.verify_key(),
            expected.author(),
            Some(expected.timestamp())
        )
        .as_ref(),
        Ok(&expected)
    );
}

#[test]
fn serde_user_certificate() {
    check_signed_certificate(&certif("serde_user_certificate"), bob_user_certificate());
}

#[test]
fn serde_user_certificate_redacted() {
    let expected = UserCertificate {
        human_handle: None,
        ..bob_user_certificate()
    };
    assert_eq!(bob_user_certificate().redacted(), expected);
    check_signed_certificate(&certif("serde_user_certificate_redacted"), expected);
}

#[test]
fn serde_revoked_user_certificate() {
    check_signed_certificate(
        &certif("serde_revoked_user_certificate"),
        RevokedUserCertificate {
            author: DeviceID::from_hex(CERT_AUTHOR).unwrap(),
            timestamp: cert_timestamp(),
            user_id: UserID::from_hex(CERT_USER).unwrap(),
        },
    );
}

#[test]
fn the_signed_author_is_what_verify_and_load_expects() {
    let v = certif("serde_user_certificate");
    let cert = UserCertificate::unsecure_load(&v.bytes).unwrap();
    assert_eq!(
        cert.author(),
        CertificateSigner::User(DeviceID::from_hex(CERT_AUTHOR).unwrap())
    );
    // Re-signed with a key of ours, a wrong expected author or timestamp is refused.
    let key = SigningKey([3; 32]);
    let signed = cert.dump_and_sign(&key);
    assert!(matches!(
        UserCertificate::verify_and_load(&signed, &key.verify_key(), CertificateSigner::Root, None),
        Err(CertificateError::UnexpectedAuthor { .. })
    ));
    assert!(matches!(
        UserCertificate::verify_and_load(
            &signed,
            &key.verify_key(),
            cert.author(),
            Some(DateTime::from_micros(CERT_TIMESTAMP_MICROS + 1))
        ),
        Err(CertificateError::UnexpectedTimestamp { .. })
    ));
}

/// The other certificate types of `certif.rs` (realm, shamir, sequester…)
/// are outside the MFA lifecycle: they decompress and decode as msgpack, and
/// each of our certificate types refuses them by their `type`.
/// `serde_sequester_service_certificate` is the one vector stored unsigned
/// (it starts with the `0x00` format byte and the zstd magic).
#[test]
fn other_certificate_types_are_refused_by_type() {
    let ours = [
        "serde_user_certificate",
        "serde_user_certificate_redacted",
        "serde_revoked_user_certificate",
    ];
    let others: Vec<_> = certif_vectors()
        .into_iter()
        .filter(|v| !ours.contains(&v.test_fn.as_str()))
        .collect();
    assert_eq!(others.len(), 15);
    let zstd_magic = [0x28, 0xb5, 0x2f, 0xfd];
    let mut unsigned = vec![];
    for v in others {
        let name = v.name();
        let signed = v.bytes[1..5] != zstd_magic;
        if !signed {
            unsigned.push(v.test_fn.clone());
        }
        let serialized = if signed { &v.bytes[64..] } else { &v.bytes[..] };
        let raw = format_v0_decompress(serialized).unwrap_or_else(|e| panic!("{name}: {e}"));
        let found = crate::vectors::map_entries(&msgpack(&raw))
            .into_iter()
            .find(|(k, _)| k == "type")
            .and_then(|(_, t)| t.as_str().map(str::to_owned))
            .expect("a type");
        assert!(
            v.comment.contains(&format!("type: '{found}'")),
            "{name}: the comment documents type {found}"
        );
        let wrong_type = |expected| {
            Some(CertificateError::WrongType {
                expected,
                found: found.clone(),
            })
        };
        assert_eq!(
            UserCertificate::load_serialized(serialized).err(),
            wrong_type("user_certificate"),
            "{name}"
        );
        assert_eq!(
            RevokedUserCertificate::load_serialized(serialized).err(),
            wrong_type("revoked_user_certificate"),
            "{name}"
        );
        assert_eq!(
            DeviceCertificate::load_serialized(serialized).err(),
            wrong_type("device_certificate"),
            "{name}"
        );
        if signed {
            assert_eq!(
                UserCertificate::unsecure_load(&v.bytes).err(),
                wrong_type("user_certificate"),
                "{name}"
            );
        }
    }
    assert_eq!(unsigned, ["serde_sequester_service_certificate"]);
}

// ---------------------------------------------------------------------------
// local_device_file.rs

const CIPHERTEXT: &str = concat!(
    "9743c0a4c62a016e8c1afd000197ecdc6a589ccbc5a97e323eb2a0ad4304f2e2a04dc56fcdda1bf8",
    "57ca6ef5c8a63c1485b65d333da166f59395ef12381016d5d7edc934d112b6404d113a0549d87b86",
    "f673c970dc740e580150c6fafc155c217a8e2ab463f10d32c3a4ea20e500cd5ec88f4e0f20f8772c",
    "f70b0ffb3d0a6fbd35d29d4676a012f08c9cf8f8c3e36b0af29fa9a7371d785ee06f6b5966567e17",
    "cdb4c2a9789511b6f469b394668a56ca60b2ab3d4843007075d8cde834054db43751dc39e2dd3936",
    "750a3244f53778645e7daeb3b1030e7edae8bea4a770ce2cfb465a5b59962fdc574859ba3d5989b3",
    "49501d5d0224f1388bb9a5f68e578319502c4b3b9d8f7f0c065018bc2b3368e3bb96d13cc53e2284",
    "8bee0b86b4f7daa497bdb308cd3d39daf09f198aceb93f385d4984c8ed36e225d0ef40c60431ec17",
    "91e8082f0039eaaa7d8641af4e2dbc441a36c71f13d4e214440fcbc25374d370d8d5033f4a45c4c9",
    "cb5fe7483d6eeba308b1efd9a4f335ef80b3e8353462088622afaf25916d495945065e1db4406159",
    "86e0a1b4c0f8c29f8819c548603a76215e8301508504aa5dbd136233304c75ed6327a4706e9a5074",
    "e76d9c693a58d0e411eb54a67a910b15e36894c83e8099f4b80027053faf46fde70a8469650d6f91",
    "560a7dfe1b876d23f22c2668aaefb817cdc47be0f1f8d2a5500014920f51adb2f5a1d9a3e543012c",
    "3ed270ff12cd481df5",
);

/// The 3.7.2 vector's content (`password_protected_device_file`, #0).
fn alice_device_file() -> DeviceFilePassword {
    let created_on = DateTime::from_micros(1_262_304_000_000_000);
    let protected_on = DateTime::from_micros(1_263_081_600_000_000);
    assert_eq!(created_on.to_rfc3339(), "2010-01-01T00:00:00.000000Z");
    assert_eq!(protected_on.to_rfc3339(), "2010-01-10T00:00:00.000000Z");
    DeviceFilePassword {
        created_on,
        protected_on,
        server_url: "https://parsec.invalid/".into(),
        organization_id: "CoolOrg".parse().unwrap(),
        user_id: UserID::from_hex("a11cec00100000000000000000000000").unwrap(),
        device_id: DeviceID::from_hex("de10a11cec0010000000000000000000").unwrap(),
        human_handle: HumanHandle::new("alice@example.com", "Alicey McAliceFace").unwrap(),
        device_label: "My dev1 machine".into(),
        algorithm: PasswordAlgorithm {
            salt: unhex_array("2ae6167f0f7472b8565c390df3af4a8b"),
            opslimit: 1,
            memlimit_kb: 8,
            parallelism: 1,
        },
        ciphertext: Bytes(unhex(CIPHERTEXT)),
        totp_opaque_key_id: Some(TOTPOpaqueKeyID::from_hex("8fdb73524fdd495194e877a5fafbe0a1").unwrap()),
    }
}

fn password_file(index: usize) -> Vector {
    let v = device_file_vectors().remove(index);
    assert_eq!(v.test_fn, "password_protected_device_file", "{}", v.name());
    v
}

#[test]
fn password_device_file_with_totp_opaque_key_id() {
    let v = password_file(0);
    assert!(v.comment.contains("Generated from Parsec 3.7.2"));
    let decoded = DeviceFilePassword::load(&v.bytes).unwrap();
    assert_eq!(decoded, alice_device_file());
    // The map form re-encodes byte for byte.
    assert_eq!(hex::encode(decoded.dump()), hex::encode(&v.bytes));
    assert_eq!(hex::encode(alice_device_file().dump()), hex::encode(&v.bytes));
}

#[test]
fn legacy_positional_password_device_file() {
    let v = password_file(1);
    // The legacy form is a msgpack array in schema order, not a map.
    assert!(matches!(msgpack(&v.bytes), rmpv::Value::Array(_)));
    let decoded = DeviceFilePassword::load(&v.bytes).unwrap();

    // The comment claims `human_handle: ("bob@example.com", "Boby McBobFace")`
    // but the bytes hold alice's (the comment was copied from another test):
    // we assert the bytes. The URL has no trailing slash in this vector, and
    // there is no `totp_opaque_key_id` (the field came with Parsec 3.8).
    assert!(v.comment.contains("bob@example.com"));
    let expected = DeviceFilePassword {
        server_url: "https://parsec.invalid".into(),
        totp_opaque_key_id: None,
        ..alice_device_file()
    };
    assert_eq!(decoded, expected);
    assert_eq!(decoded.human_handle.email, "alice@example.com");

    // Re-encoding writes the current map form, which is exactly the 3.7.2
    // vector without its `totp_opaque_key_id` entry and with this vector's
    // server URL: built here from the 3.7.2 bytes with rmpv alone.
    let rmpv::Value::Map(entries) = msgpack(&password_file(0).bytes) else {
        panic!("the 3.7.2 vector is a map")
    };
    let reference_map: Vec<_> = entries
        .into_iter()
        .filter(|(k, _)| k.as_str() != Some("totp_opaque_key_id"))
        .map(|(k, v)| {
            if k.as_str() == Some("server_url") {
                (k, rmpv::Value::from("https://parsec.invalid"))
            } else {
                (k, v)
            }
        })
        .collect();
    let reencoded = decoded.dump();
    assert_eq!(
        hex::encode(&reencoded),
        hex::encode(to_msgpack(&rmpv::Value::Map(reference_map)))
    );
    assert_eq!(DeviceFilePassword::load(&reencoded), Ok(expected));
}

/// The other device file kinds (keyring, PKI, OpenBao, account vault,
/// recovery) are not MFA-relevant here: the password decoder refuses each
/// of them by its `type`, in map and in legacy array form.
#[test]
fn other_device_file_types_are_refused_by_type() {
    let others: Vec<_> = device_file_vectors()
        .into_iter()
        .filter(|v| v.test_fn != "password_protected_device_file")
        .collect();
    assert_eq!(others.len(), 11);
    for v in others {
        let name = v.name();
        let found = match msgpack(&v.bytes) {
            rmpv::Value::Map(entries) => entries
                .into_iter()
                .find(|(k, _)| k.as_str() == Some("type"))
                .and_then(|(_, t)| t.as_str().map(str::to_owned)),
            rmpv::Value::Array(items) => items[0].as_str().map(str::to_owned),
            other => panic!("{name}: unexpected {other:?}"),
        }
        .expect("a type");
        assert_eq!(
            DeviceFilePassword::load(&v.bytes),
            Err(DecodeError::UnknownVariant {
                kind: "DeviceFile",
                value: found
            }),
            "{name}"
        );
    }
}
