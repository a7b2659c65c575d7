//! Snapshots of the canonical encoding of representative messages: the hex
//! of the bytes and rmpv's debug rendering of the msgpack tree, so that any
//! change to the wire format shows up as a reviewable diff in
//! `tests/integration/snapshots/`.
//!
//! The values are fixed (no randomness: fixed keys, and Ed25519 signatures
//! are deterministic). Update after an intended change with
//! `INSTA_UPDATE=always cargo test --test integration snapshots`, then review the diff.

use parsec_mfa_reference as reference;
use reference::crypto::{PrivateKey, SigningKey};
use reference::protocol::anonymous_server::server_config::{
    AccountConfig, CryptPadConfig, OpenBaoConfig, OrganizationBootstrapConfig, ServerConfig,
};
use reference::protocol::certif::{Certificate, UserCertificate, format_v0_decompress};
use reference::protocol::local_device::{DeviceFilePassword, PasswordAlgorithm};
use reference::protocol::{
    Bytes, DateTime, DeviceID, HumanHandle, TOTPOpaqueKeyID, UserID, UserProfile, anonymous, anonymous_server,
};

/// Hex, 32 bytes a line.
fn hex_lines(bytes: &[u8]) -> String {
    bytes.chunks(32).map(hex::encode).collect::<Vec<_>>().join("\n")
}

fn render(bytes: &[u8]) -> String {
    let mut tree = String::new();
    debug_tree(&crate::vectors::msgpack(bytes), 0, &mut tree);
    format!(
        "{} bytes\n\nhex:\n{}\n\nmsgpack (rmpv debug, one map entry a line):\n{tree}",
        bytes.len(),
        hex_lines(bytes)
    )
}

/// rmpv's `Debug` of each value, with maps opened one entry a line (the
/// plain `{:#?}` puts every byte of a key on its own line).
fn debug_tree(value: &rmpv::Value, depth: usize, out: &mut String) {
    let indent = "    ".repeat(depth);
    match value {
        rmpv::Value::Map(entries) => {
            out.push_str(&format!("{indent}Map ({} entries)\n", entries.len()));
            for (k, v) in entries {
                match v {
                    rmpv::Value::Map(_) => {
                        out.push_str(&format!("{indent}    {k:?} =>\n"));
                        debug_tree(v, depth + 2, out);
                    }
                    _ => out.push_str(&format!("{indent}    {k:?} => {v:?}\n")),
                }
            }
        }
        other => out.push_str(&format!("{indent}{other:?}\n")),
    }
}

#[test]
fn totp_fetch_opaque_key_req() {
    let req = anonymous::totp_fetch_opaque_key::Req {
        user_id: UserID::from_hex("85a277d37f664edcb8bab56f225c9c3d").unwrap(),
        opaque_key_id: TOTPOpaqueKeyID::from_hex("a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6").unwrap(),
        one_time_password: "123456".into(),
    };
    insta::assert_snapshot!("totp_fetch_opaque_key_req", render(&req.dump()));
}

#[test]
fn totp_fetch_opaque_key_throttled_rep() {
    let rep = anonymous::totp_fetch_opaque_key::Rep::Throttled {
        wait_until: DateTime::parse_rfc3339("2026-11-23T08:12:01.392102Z").unwrap(),
    };
    insta::assert_snapshot!("totp_fetch_opaque_key_throttled_rep", render(&rep.dump()));
}

#[test]
fn server_config_rep_with_advisories() {
    let rep = anonymous_server::server_config::Rep::Ok(ServerConfig {
        account: AccountConfig::Disabled,
        advisory_device_file_protection: Some(vec!["PASSWORD+TOTP".into(), "PKI".into()]),
        cryptpad: Some(CryptPadConfig::Disabled),
        openbao: OpenBaoConfig::Disabled,
        organization_bootstrap: OrganizationBootstrapConfig::Spontaneous,
    });
    insta::assert_snapshot!("server_config_rep_with_advisories", render(&rep.dump()));
}

#[test]
fn user_certificate() {
    let cert = UserCertificate {
        author: None,
        timestamp: DateTime::parse_rfc3339("2026-11-23T08:12:00.346155Z").unwrap(),
        user_id: UserID::from_hex("389ab0087aa04688a8b732d430a86213").unwrap(),
        human_handle: Some(HumanHandle::new("alice@example.com", "Alice").unwrap()),
        public_key: PrivateKey([1; 32]).public_key(),
        profile: UserProfile::Admin,
    };
    let serialized = cert.dump();
    let signed = cert.dump_and_sign(&SigningKey([2; 32]));
    let content = format!(
        "serialized (0x00 || zstd), {} bytes:\n{}\n\nsigned by SigningKey([2; 32]), {} bytes:\n{}\n\ndecompressed: {}",
        serialized.len(),
        hex_lines(&serialized),
        signed.len(),
        hex_lines(&signed),
        render(&format_v0_decompress(&serialized).unwrap()),
    );
    insta::assert_snapshot!("user_certificate", content);
}

#[test]
fn password_device_file_with_totp() {
    let file = DeviceFilePassword {
        created_on: DateTime::from_unix_seconds(1_795_421_520),
        protected_on: DateTime::from_unix_seconds(1_795_421_530),
        server_url: "http://127.0.0.1:6777".into(),
        organization_id: "GoldenOrg21520".parse().unwrap(),
        user_id: UserID::from_hex("389ab0087aa04688a8b732d430a86213").unwrap(),
        device_id: DeviceID::from_hex("bb72f09cc8954b3fbd891a4944cb1dfb").unwrap(),
        human_handle: HumanHandle::new("alice@example.com", "Alice").unwrap(),
        device_label: "Alice laptop".into(),
        algorithm: PasswordAlgorithm {
            salt: [7; 16],
            opslimit: 1,
            memlimit_kb: 8,
            parallelism: 1,
        },
        // A fixed stand-in: the real ciphertext has a random nonce.
        ciphertext: Bytes(vec![3; 8]),
        totp_opaque_key_id: Some(TOTPOpaqueKeyID::from_hex("a12a9aebb66c48d889453bbe85795b4d").unwrap()),
    };
    insta::assert_snapshot!("password_device_file_with_totp", render(&file.dump()));
}
