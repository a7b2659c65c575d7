//! The vector fixtures' helpers: fixture loading and msgpack comparison,
//! and the [`Message`] trait over every generated message type.

use parsec_mfa_reference::protocol::{DecodeError, anonymous, anonymous_server, authenticated};
use std::fmt::Debug;
use std::path::PathBuf;

/// `fixtures/<relative>` of the root package.
pub fn fixture_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(relative)
}

pub fn load_json(relative: &str) -> serde_json::Value {
    let path = fixture_path(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("fixture {} is not JSON: {e}", path.display()))
}

pub fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap_or_else(|e| panic!("bad hex `{s}`: {e}"))
}

pub fn unhex_array<const N: usize>(s: &str) -> [u8; N] {
    unhex(s)
        .try_into()
        .unwrap_or_else(|v: Vec<u8>| panic!("`{s}`: expected {N} bytes, found {}", v.len()))
}

/// One serialization vector of the libparsec unit tests.
#[derive(Debug, Clone)]
pub struct Vector {
    /// The libparsec test file, e.g. `.../anonymous_cmds/v5/ping.rs`.
    pub file: String,
    /// Position in that file's list (several vectors share a `test_fn`).
    pub index: usize,
    pub test_fn: String,
    pub comment: String,
    pub bytes: Vec<u8>,
}

impl Vector {
    /// A stable name for messages and exception lists: `anonymous_cmds/v5/ping.rs#1:rep_ok`.
    pub fn name(&self) -> String {
        let short = self
            .file
            .rsplit_once("/tests/")
            .map_or(self.file.as_str(), |(_, s)| s)
            .trim_start_matches("unit/");
        format!("{short}#{}:{}", self.index, self.test_fn)
    }
}

/// Every vector of one libparsec test file, whose path ends with `file_suffix`.
pub fn vectors(fixture: &str, file_suffix: &str) -> Vec<Vector> {
    let json = load_json(fixture);
    let files = json["vectors"].as_object().expect("`vectors` is an object");
    let matching: Vec<_> = files.iter().filter(|(name, _)| name.ends_with(file_suffix)).collect();
    assert_eq!(
        matching.len(),
        1,
        "exactly one vector file must end with `{file_suffix}`"
    );
    let (file, list) = matching[0];
    list.as_array()
        .expect("a list of vectors")
        .iter()
        .enumerate()
        .map(|(index, v)| Vector {
            file: file.clone(),
            index,
            test_fn: v["test_fn"].as_str().expect("test_fn").to_owned(),
            comment: v["comment"].as_str().expect("comment").to_owned(),
            bytes: unhex(v["hex"].as_str().expect("hex")),
        })
        .collect()
}

/// Every file name listed in a vector fixture.
pub fn vector_files(fixture: &str) -> Vec<String> {
    load_json(fixture)["vectors"]
        .as_object()
        .expect("`vectors` is an object")
        .keys()
        .cloned()
        .collect()
}

/// Decodes one msgpack value with rmpv directly (independently of the code
/// under test) and checks nothing trails it.
pub fn msgpack(bytes: &[u8]) -> rmpv::Value {
    let mut cursor = std::io::Cursor::new(bytes);
    let value = rmpv::decode::read_value(&mut cursor).expect("valid msgpack");
    assert_eq!(
        cursor.position() as usize,
        bytes.len(),
        "trailing bytes after the msgpack value"
    );
    value
}

pub fn to_msgpack(value: &rmpv::Value) -> Vec<u8> {
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, value).expect("writing to a Vec cannot fail");
    out
}

/// The `(key, value)` entries of a msgpack map, keys as strings.
pub fn map_entries(value: &rmpv::Value) -> Vec<(String, rmpv::Value)> {
    value
        .as_map()
        .expect("a msgpack map")
        .iter()
        .map(|(k, v)| (k.as_str().expect("string key").to_owned(), v.clone()))
        .collect()
}

/// Asserts that two msgpack maps hold exactly the same key/value pairs and
/// differ in the order of their keys (not identical bytes).
pub fn assert_same_map_other_order(expected: &[u8], actual: &[u8], what: &str) {
    assert_ne!(
        hex::encode(expected),
        hex::encode(actual),
        "{what}: listed as a key-order exception but the bytes are identical; remove it from the list"
    );
    let mut e = map_entries(&msgpack(expected));
    let mut a = map_entries(&msgpack(actual));
    let order_e: Vec<_> = e.iter().map(|(k, _)| k.clone()).collect();
    let order_a: Vec<_> = a.iter().map(|(k, _)| k.clone()).collect();
    assert_ne!(order_e, order_a, "{what}: same key order, yet different bytes");
    e.sort_by(|x, y| x.0.cmp(&y.0));
    a.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(e, a, "{what}: the key/value pairs differ");
}

/// What every message type offers: the generated types have these as
/// inherent functions; the trait lets one generic check handle them all.
pub trait Message: Sized + PartialEq + Debug + Clone {
    fn load(bytes: &[u8]) -> Result<Self, DecodeError>;
    fn dump(&self) -> Vec<u8>;
}

macro_rules! message {
    ($($t:ty),+ $(,)?) => {$(
        impl Message for $t {
            fn load(bytes: &[u8]) -> Result<Self, DecodeError> {
                <$t>::load(bytes)
            }
            fn dump(&self) -> Vec<u8> {
                <$t>::dump(self)
            }
        }
    )+};
}

message!(
    anonymous::AnyCmdReq,
    anonymous::organization_bootstrap::Req,
    anonymous::organization_bootstrap::Rep,
    anonymous::ping::Req,
    anonymous::ping::Rep,
    anonymous::totp_fetch_opaque_key::Req,
    anonymous::totp_fetch_opaque_key::Rep,
    anonymous::totp_setup_confirm::Req,
    anonymous::totp_setup_confirm::Rep,
    anonymous::totp_setup_get_secret::Req,
    anonymous::totp_setup_get_secret::Rep,
    authenticated::AnyCmdReq,
    authenticated::device_create::Req,
    authenticated::device_create::Rep,
    authenticated::ping::Req,
    authenticated::ping::Rep,
    authenticated::totp_create_opaque_key::Req,
    authenticated::totp_create_opaque_key::Rep,
    authenticated::totp_setup_confirm::Req,
    authenticated::totp_setup_confirm::Rep,
    authenticated::totp_setup_get_secret::Req,
    authenticated::totp_setup_get_secret::Rep,
    authenticated::user_create::Req,
    authenticated::user_create::Rep,
    authenticated::user_revoke::Req,
    authenticated::user_revoke::Rep,
    anonymous_server::AnyCmdReq,
    anonymous_server::ping::Req,
    anonymous_server::ping::Rep,
    anonymous_server::server_config::Rep,
);
