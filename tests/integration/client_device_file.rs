//! The reference client's device file and offline workspace: two layers
//! (password inside, TOTP opaque key outside), the official layout, and
//! files that survive without a server.

use parsec_mfa_reference::client::device_file::{KdfCost, TotpLayer, UnlockError, protect, unlock};
use parsec_mfa_reference::client::workspace::{Workspace, WorkspaceError};
use parsec_mfa_reference::crypto::{PrivateKey, SecretKey, SigningKey};
use parsec_mfa_reference::protocol::codec::decode_value;
use parsec_mfa_reference::protocol::local_device::{DeviceFilePassword, LocalDevice};
use parsec_mfa_reference::protocol::{DateTime, DeviceID, HumanHandle, TOTPOpaqueKeyID, UserID, UserProfile, VlobID};
use rmpv::Value;

const PASSWORD: &str = "P@ssw0rd.";

fn device() -> LocalDevice {
    LocalDevice {
        server_url: "http://127.0.0.1:6777/".into(),
        organization_id: "CoolOrg".parse().unwrap(),
        root_verify_key: SigningKey::generate().verify_key(),
        user_id: UserID::new(),
        device_id: DeviceID::new(),
        device_label: "My dev1 machine".into(),
        human_handle: HumanHandle::new("alice@example.com", "Alicey McAliceFace").unwrap(),
        signing_key: SigningKey::generate(),
        private_key: PrivateKey::generate(),
        initial_profile: UserProfile::Admin,
        user_realm_id: VlobID::new(),
        user_realm_key: SecretKey::generate(),
        local_symkey: SecretKey::generate(),
    }
}

fn layer() -> TotpLayer {
    TotpLayer {
        opaque_key_id: TOTPOpaqueKeyID::new(),
        opaque_key: SecretKey::generate(),
    }
}

fn at(seconds: i64) -> DateTime {
    DateTime::from_micros(seconds * 1_000_000)
}

fn mfa_file(device: &LocalDevice, layer: &TotpLayer) -> DeviceFilePassword {
    protect(device, PASSWORD, KdfCost::Minimal, Some(layer), at(1_000), at(2_000))
}

#[test]
fn an_mfa_file_opens_with_the_opaque_key_and_the_password_only() {
    let device = device();
    let layer = layer();
    let file = mfa_file(&device, &layer);
    assert_eq!(file.totp_opaque_key_id, Some(layer.opaque_key_id));
    assert_eq!(unlock(&file, PASSWORD, Some(&layer.opaque_key)), Ok(device));
}

#[test]
fn the_password_alone_does_not_open_an_mfa_file() {
    let file = mfa_file(&device(), &layer());
    assert_eq!(unlock(&file, PASSWORD, None), Err(UnlockError::OpaqueKeyNeeded));
    // Even when the caller pretends the file has no TOTP layer, the
    // password key cannot read the outer layer.
    let stripped = DeviceFilePassword {
        totp_opaque_key_id: None,
        ..file
    };
    assert_eq!(unlock(&stripped, PASSWORD, None), Err(UnlockError::WrongPassword));
}

#[test]
fn the_opaque_key_alone_does_not_open_an_mfa_file() {
    let layer = layer();
    let file = mfa_file(&device(), &layer);
    assert_eq!(
        unlock(&file, "", Some(&layer.opaque_key)),
        Err(UnlockError::WrongPassword)
    );
    assert_eq!(
        unlock(&file, "P@ssw0rd", Some(&layer.opaque_key)),
        Err(UnlockError::WrongPassword)
    );
}

#[test]
fn another_opaque_key_is_a_totp_decryption_failure() {
    let file = mfa_file(&device(), &layer());
    assert_eq!(
        unlock(&file, PASSWORD, Some(&SecretKey::generate())),
        Err(UnlockError::TotpDecryptionFailed)
    );
}

#[test]
fn the_opaque_key_is_the_outer_layer_and_the_password_key_the_inner_one() {
    let device = device();
    let layer = layer();
    let file = mfa_file(&device, &layer);
    let inner = layer.opaque_key.decrypt(&file.ciphertext.0).unwrap();
    let password_key = file.algorithm.derive(PASSWORD).unwrap();
    let clear = password_key.decrypt(&inner).unwrap();
    assert_eq!(LocalDevice::load(&clear).unwrap(), device);
}

#[test]
fn a_password_only_file_opens_with_the_password() {
    let device = device();
    let file = protect(&device, PASSWORD, KdfCost::Minimal, None, at(1), at(1));
    assert_eq!(file.totp_opaque_key_id, None);
    assert_eq!(unlock(&file, PASSWORD, None), Ok(device));
    assert_eq!(unlock(&file, "wrong", None), Err(UnlockError::WrongPassword));
}

#[test]
fn a_header_that_does_not_match_the_content_is_refused() {
    let layer = layer();
    let file = DeviceFilePassword {
        device_id: DeviceID::new(),
        ..mfa_file(&device(), &layer)
    };
    assert!(matches!(
        unlock(&file, PASSWORD, Some(&layer.opaque_key)),
        Err(UnlockError::Corrupted(_))
    ));
}

#[test]
fn interactive_cost_is_a_real_argon2id_cost() {
    let algorithm = KdfCost::Interactive.algorithm();
    assert_eq!(
        (algorithm.opslimit, algorithm.memlimit_kb, algorithm.parallelism),
        (3, 65536, 1)
    );
    assert_ne!(
        KdfCost::Interactive.algorithm().salt,
        algorithm.salt,
        "a fresh salt each time"
    );
}

/// The kind of a msgpack value, down to the extension type.
fn kind(v: &Value) -> String {
    match v {
        Value::Ext(t, data) => format!("ext{t}/{}", data.len()),
        Value::Binary(b) if b.len() <= 16 => format!("bin{}", b.len()),
        Value::Binary(_) => "bin".into(),
        Value::String(_) => "str".into(),
        Value::Integer(_) => "int".into(),
        Value::Array(items) => format!("[{}]", items.iter().map(kind).collect::<Vec<_>>().join(",")),
        Value::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{}:{}", k.as_str().unwrap_or("?"), kind(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => format!("{other:?}"),
    }
}

#[test]
fn an_mfa_file_has_the_layout_of_the_official_vector() {
    let vector = crate::vectors::vectors("vectors/libparsec-types.json", "/local_device_file.rs")
        .into_iter()
        .find(|v| v.test_fn == "password_protected_device_file" && v.comment.contains("totp_opaque_key_id: ext"))
        .expect("the official MFA password device file vector");
    let official = decode_value(&vector.bytes).unwrap();
    let ours = decode_value(&mfa_file(&device(), &layer()).dump()).unwrap();
    // Same keys in the same order, each with the same msgpack kind (ext 1
    // timestamps, ext 2 ids, 16-byte salt, binary ciphertext, ...).
    assert_eq!(kind(&ours), kind(&official));
    assert!(kind(&ours).contains("totp_opaque_key_id:ext2/16"));
}

// ---------------------------------------------------------------------------
// The offline workspace

fn workspace(dir: &std::path::Path, key: &SecretKey) -> Workspace {
    Workspace::open(dir.join("ws"), key.clone())
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "{name}-{}",
        hex::encode(parsec_mfa_reference::crypto::random_array::<4>())
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn workspace_files_are_written_read_listed_replaced_and_removed() {
    let dir = temp_dir("workspace");
    let key = SecretKey::generate();
    let ws = workspace(&dir, &key);
    assert_eq!(ws.list().unwrap(), Vec::<String>::new());
    ws.write("notes.txt", b"Meeting at noon").unwrap();
    ws.write("a.txt", b"").unwrap();
    assert_eq!(ws.list().unwrap(), ["a.txt", "notes.txt"]);
    ws.write("notes.txt", b"Meeting at one").unwrap();
    assert_eq!(ws.read("notes.txt").unwrap(), b"Meeting at one");
    assert_eq!(
        std::fs::read_dir(ws.dir()).unwrap().count(),
        2,
        "replaced in place, no temporary left"
    );
    ws.remove("a.txt").unwrap();
    assert!(matches!(ws.read("a.txt"), Err(WorkspaceError::NotFound(_))));
    // Reopened (a new login): the content is there.
    assert_eq!(workspace(&dir, &key).read("notes.txt").unwrap(), b"Meeting at one");
}

#[test]
fn workspace_names_and_contents_are_encrypted() {
    let dir = temp_dir("workspace-encrypted");
    let ws = workspace(&dir, &SecretKey::generate());
    ws.write("secret-plan.txt", b"the plan").unwrap();
    for entry in std::fs::read_dir(ws.dir()).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert!(!path.to_string_lossy().contains("secret-plan"));
        assert!(!bytes.windows(8).any(|w| w == b"the plan"));
    }
    let other = workspace(&dir, &SecretKey::generate());
    assert!(matches!(other.list(), Err(WorkspaceError::Undecryptable { .. })));
}

#[test]
fn invalid_workspace_names_are_refused() {
    let dir = temp_dir("workspace-names");
    let ws = workspace(&dir, &SecretKey::generate());
    for name in ["", "a/b", "tab\there", &"x".repeat(256)] {
        assert!(
            matches!(ws.write(name, b"x"), Err(WorkspaceError::InvalidName(_))),
            "{name:?}"
        );
    }
    assert_eq!(ws.list().unwrap(), Vec::<String>::new());
}
