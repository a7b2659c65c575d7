//! The msgpack layer every Parsec structure is built on.
//!
//! Parsec messages are msgpack maps with named fields. We decode bytes into an
//! [`rmpv::Value`] tree first and then read typed fields out of it: this gives
//! exact control over what the official decoder accepts (ext types, unknown
//! fields, legacy positional arrays) and turns every malformed input into a
//! [`DecodeError`] instead of a panic.

use rmpv::Value;
use std::io::Cursor;

/// Nesting deeper than this is refused (a 1 MiB body of `0x91` bytes would
/// otherwise recurse a million times).
const MAX_DEPTH: usize = 64;

/// Why bytes could not be read as the expected Parsec structure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("invalid msgpack: {0}")]
    Msgpack(String),
    #[error("expected a msgpack map, found {0}")]
    NotAMap(&'static str),
    #[error("map keys must be strings")]
    NonStringKey,
    #[error("duplicate field `{0}`")]
    DuplicateField(String),
    #[error("missing field `{0}`")]
    MissingField(&'static str),
    #[error("unexpected field `{0}`")]
    UnexpectedField(String),
    #[error("field `{field}`: {reason}")]
    InvalidField { field: &'static str, reason: ValueError },
    #[error("unknown command `{0}`")]
    UnknownCommand(String),
    #[error("unknown {kind} `{value}`")]
    UnknownVariant { kind: &'static str, value: String },
    #[error("invalid {what}: {reason}")]
    Invalid { what: &'static str, reason: String },
}

impl DecodeError {
    pub fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        DecodeError::Invalid {
            what,
            reason: reason.into(),
        }
    }
}

/// Reads one msgpack value. Trailing bytes are ignored, as the official
/// decoder (`rmp_serde::from_slice`) ignores them.
pub fn decode_value(bytes: &[u8]) -> Result<Value, DecodeError> {
    let mut cursor = Cursor::new(bytes);
    rmpv::decode::read_value_with_max_depth(&mut cursor, MAX_DEPTH).map_err(|e| DecodeError::Msgpack(e.to_string()))
}

pub fn encode_value(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    rmpv::encode::write_value(&mut out, value).expect("writing to a Vec cannot fail");
    out
}

/// Why one msgpack value is not the Parsec value expected there; [`Fields`]
/// adds the field name. The texts are the official decoder's where the
/// vectors show them (`Invalid size: …`, `Invalid OrganizationID: …`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("expected {expected}, found {found}")]
    WrongKind {
        expected: &'static str,
        found: &'static str,
    },
    #[error("item {index}: {source}")]
    Item { index: usize, source: Box<ValueError> },
    /// A value of the right kind whose content is refused, with the reason.
    #[error("{0}")]
    Invalid(String),
    /// A structure nested in a field (a map inside the server's config).
    #[error(transparent)]
    Nested(Box<DecodeError>),
}

impl From<DecodeError> for ValueError {
    fn from(error: DecodeError) -> Self {
        ValueError::Nested(Box::new(error))
    }
}

impl ValueError {
    pub fn wrong_kind(expected: &'static str, found: &Value) -> Self {
        ValueError::WrongKind {
            expected,
            found: kind_of(found),
        }
    }
    pub fn invalid(reason: impl Into<String>) -> Self {
        ValueError::Invalid(reason.into())
    }
}

/// A value that has a msgpack representation on the Parsec wire.
pub trait Wire: Sized {
    fn to_wire(&self) -> Value;
    fn from_wire(value: &Value) -> Result<Self, ValueError>;
}

pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Nil => "nil",
        Value::Boolean(_) => "a boolean",
        Value::Integer(_) => "an integer",
        Value::F32(_) | Value::F64(_) => "a float",
        Value::String(_) => "a string",
        Value::Binary(_) => "bytes",
        Value::Array(_) => "an array",
        Value::Map(_) => "a map",
        Value::Ext(..) => "an extension",
    }
}

impl Wire for String {
    fn to_wire(&self) -> Value {
        Value::from(self.as_str())
    }
    fn from_wire(value: &Value) -> Result<Self, ValueError> {
        match value {
            Value::String(s) => s
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| ValueError::invalid("string is not valid UTF-8")),
            // serde's String visitor (used by the official decoder) also
            // takes bin holding UTF-8.
            Value::Binary(b) => String::from_utf8(b.clone()).map_err(|_| ValueError::invalid("bytes are not UTF-8")),
            other => Err(ValueError::wrong_kind("a string", other)),
        }
    }
}

impl Wire for bool {
    fn to_wire(&self) -> Value {
        Value::Boolean(*self)
    }
    fn from_wire(value: &Value) -> Result<Self, ValueError> {
        value
            .as_bool()
            .ok_or_else(|| ValueError::wrong_kind("a boolean", value))
    }
}

impl Wire for u64 {
    fn to_wire(&self) -> Value {
        Value::from(*self)
    }
    fn from_wire(value: &Value) -> Result<Self, ValueError> {
        value
            .as_u64()
            .ok_or_else(|| ValueError::wrong_kind("an unsigned integer", value))
    }
}

impl Wire for u32 {
    fn to_wire(&self) -> Value {
        Value::from(*self)
    }
    fn from_wire(value: &Value) -> Result<Self, ValueError> {
        let n = u64::from_wire(value)?;
        u32::try_from(n).map_err(|_| ValueError::Invalid(format!("{n} does not fit in 32 bits")))
    }
}

impl Wire for f64 {
    fn to_wire(&self) -> Value {
        Value::F64(*self)
    }
    fn from_wire(value: &Value) -> Result<Self, ValueError> {
        match value {
            Value::F64(f) => Ok(*f),
            Value::F32(f) => Ok(f64::from(*f)),
            // serde's float visitor accepts integers too.
            Value::Integer(i) => i.as_f64().ok_or_else(|| ValueError::invalid("integer out of range")),
            other => Err(ValueError::wrong_kind("a float", other)),
        }
    }
}

/// Opaque bytes (`Bytes` in the schemas): bin, or a UTF-8 str as the official
/// decoder also accepts.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Bytes(pub Vec<u8>);

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bytes({})", hex::encode(&self.0))
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Bytes(v)
    }
}

impl From<&[u8]> for Bytes {
    fn from(v: &[u8]) -> Self {
        Bytes(v.to_vec())
    }
}

impl Wire for Bytes {
    fn to_wire(&self) -> Value {
        Value::Binary(self.0.clone())
    }
    fn from_wire(value: &Value) -> Result<Self, ValueError> {
        match value {
            Value::Binary(b) => Ok(Bytes(b.clone())),
            Value::String(s) => Ok(Bytes(s.as_bytes().to_vec())),
            other => Err(ValueError::wrong_kind("bytes", other)),
        }
    }
}

impl<T: Wire> Wire for Vec<T> {
    fn to_wire(&self) -> Value {
        Value::Array(self.iter().map(Wire::to_wire).collect())
    }
    fn from_wire(value: &Value) -> Result<Self, ValueError> {
        match value {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    T::from_wire(v).map_err(|e| ValueError::Item {
                        index: i,
                        source: Box::new(e),
                    })
                })
                .collect(),
            other => Err(ValueError::wrong_kind("an array", other)),
        }
    }
}

/// Reads a fixed-size msgpack `bin` (keys, tokens, salts).
pub fn bin_array<const N: usize>(value: &Value) -> Result<[u8; N], ValueError> {
    match value {
        Value::Binary(b) => b
            .as_slice()
            .try_into()
            .map_err(|_| ValueError::Invalid(format!("Invalid size: expected {N} bytes, found {}", b.len()))),
        other => Err(ValueError::wrong_kind("bytes", other)),
    }
}

/// Reads a msgpack `ext` of the given type and exact length.
pub fn ext_payload<const N: usize>(value: &Value, ext_type: i8) -> Result<[u8; N], ValueError> {
    match value {
        Value::Ext(t, data) if *t == ext_type => data
            .as_slice()
            .try_into()
            .map_err(|_| ValueError::Invalid(format!("ext {ext_type} must hold {N} bytes, found {}", data.len()))),
        Value::Ext(t, _) => Err(ValueError::Invalid(format!(
            "expected ext type {ext_type}, found ext type {t}"
        ))),
        other => Err(ValueError::Invalid(format!(
            "expected ext type {ext_type}, found {}",
            kind_of(other)
        ))),
    }
}

/// The named fields of a decoded structure.
///
/// Parsec structures are maps; the legacy positional form (an array whose
/// items follow the schema order) is accepted too, as the official decoder
/// does.
pub struct Fields<'a> {
    entries: Vec<(&'a str, &'a Value)>,
}

impl<'a> Fields<'a> {
    /// `schema_order` names the fields in the order of the legacy positional
    /// form; it is only used when the value is an array.
    pub fn new(value: &'a Value, schema_order: &[&'static str]) -> Result<Self, DecodeError> {
        let entries = match value {
            Value::Map(map) => {
                let mut entries: Vec<(&'a str, &'a Value)> = Vec::with_capacity(map.len());
                for (k, v) in map {
                    let key = k.as_str().ok_or(DecodeError::NonStringKey)?;
                    if entries.iter().any(|(seen, _)| *seen == key) {
                        return Err(DecodeError::DuplicateField(key.to_owned()));
                    }
                    entries.push((key, v));
                }
                entries
            }
            Value::Array(items) if !schema_order.is_empty() => {
                if items.len() > schema_order.len() {
                    return Err(DecodeError::invalid(
                        "structure",
                        format!(
                            "{} positional items, at most {} expected",
                            items.len(),
                            schema_order.len()
                        ),
                    ));
                }
                schema_order.iter().copied().zip(items.iter()).collect()
            }
            other => return Err(DecodeError::NotAMap(kind_of(other))),
        };
        Ok(Fields { entries })
    }

    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.entries.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    }

    pub fn names(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.entries.iter().map(|(k, _)| *k)
    }

    /// A field that must be present (`T`).
    pub fn required<T: Wire>(&self, name: &'static str) -> Result<T, DecodeError> {
        let value = self.get(name).ok_or(DecodeError::MissingField(name))?;
        T::from_wire(value).map_err(|reason| DecodeError::InvalidField { field: name, reason })
    }

    /// `RequiredOption<T>`: the field must be present, `nil` means none.
    pub fn required_option<T: Wire>(&self, name: &'static str) -> Result<Option<T>, DecodeError> {
        match self.get(name).ok_or(DecodeError::MissingField(name))? {
            Value::Nil => Ok(None),
            value => T::from_wire(value)
                .map(Some)
                .map_err(|reason| DecodeError::InvalidField { field: name, reason }),
        }
    }

    /// `NonRequiredOption<T>` and fields `introduced_in` a later version: the
    /// field may be absent; `nil` also means none.
    pub fn optional<T: Wire>(&self, name: &'static str) -> Result<Option<T>, DecodeError> {
        match self.get(name) {
            None | Some(Value::Nil) => Ok(None),
            Some(value) => T::from_wire(value)
                .map(Some)
                .map_err(|reason| DecodeError::InvalidField { field: name, reason }),
        }
    }

    /// Refuses any field outside `allowed` (used where the official decoder
    /// does, e.g. requests without fields).
    pub fn deny_unknown(&self, allowed: &[&str]) -> Result<(), DecodeError> {
        match self.names().find(|n| !allowed.contains(n)) {
            Some(extra) => Err(DecodeError::UnexpectedField(extra.to_owned())),
            None => Ok(()),
        }
    }

    /// The string discriminant (`cmd`, `status`, `type`).
    pub fn tag(&self, name: &'static str) -> Result<&'a str, DecodeError> {
        match self.get(name).ok_or(DecodeError::MissingField(name))? {
            Value::String(s) => s.as_str().ok_or(DecodeError::InvalidField {
                field: name,
                reason: ValueError::invalid("string is not valid UTF-8"),
            }),
            other => Err(DecodeError::InvalidField {
                field: name,
                reason: ValueError::wrong_kind("a string", other),
            }),
        }
    }
}

/// Builds a map in the exact key order given, which is what makes our bytes
/// identical to the official ones.
#[derive(Default)]
pub struct MapBuilder {
    entries: Vec<(Value, Value)>,
}

impl MapBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_tag(tag_name: &str, tag: &str) -> Self {
        let mut b = Self::new();
        b.entries.push((Value::from(tag_name), Value::from(tag)));
        b
    }

    pub fn field(mut self, name: &str, value: &impl Wire) -> Self {
        self.entries.push((Value::from(name), value.to_wire()));
        self
    }

    pub fn raw(mut self, name: &str, value: Value) -> Self {
        self.entries.push((Value::from(name), value));
        self
    }

    /// `RequiredOption<T>`: always written, `nil` for none.
    pub fn nullable<T: Wire>(self, name: &str, value: &Option<T>) -> Self {
        let v = value.as_ref().map_or(Value::Nil, Wire::to_wire);
        self.raw(name, v)
    }

    /// `NonRequiredOption<T>`: left out when none.
    pub fn optional<T: Wire>(self, name: &str, value: &Option<T>) -> Self {
        match value {
            Some(v) => self.field(name, v),
            None => self,
        }
    }

    pub fn build(self) -> Value {
        Value::Map(self.entries)
    }

    pub fn encode(self) -> Vec<u8> {
        encode_value(&self.build())
    }
}

/// Decodes a reply whose status is unknown to this version of the protocol:
/// kept so a client can report it rather than fail to decode.
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownStatus {
    pub status: String,
    pub reason: Option<String>,
}

impl UnknownStatus {
    pub fn from_fields(status: &str, fields: &Fields<'_>) -> Result<Self, DecodeError> {
        Ok(UnknownStatus {
            status: status.to_owned(),
            reason: fields.optional("reason")?,
        })
    }

    pub fn to_value(&self) -> Value {
        MapBuilder::with_tag("status", &self.status)
            .optional("reason", &self.reason)
            .build()
    }
}

/// The 32-byte keys of [`crate::crypto`] on the wire: msgpack binaries.
/// Here, not in `crypto`, so that the primitives know nothing of the
/// protocol that carries them.
macro_rules! wire_key32 {
    ($($name:ident),*) => {$(
        impl Wire for crate::crypto::$name {
            fn to_wire(&self) -> Value {
                Value::Binary(self.0.to_vec())
            }
            fn from_wire(value: &Value) -> Result<Self, ValueError> {
                bin_array::<32>(value).map(crate::crypto::$name)
            }
        }
    )*};
}

wire_key32!(SigningKey, VerifyKey, PrivateKey, PublicKey, SecretKey);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let bytes = vec![0x91u8; 1 << 20];
        assert!(matches!(decode_value(&bytes), Err(DecodeError::Msgpack(_))));
    }

    #[test]
    fn huge_declared_lengths_do_not_allocate() {
        // array32 claiming 4 billion items, then nothing.
        let bytes = [0xdd, 0xff, 0xff, 0xff, 0xff];
        assert!(decode_value(&bytes).is_err());
        let bytes = [0xc6, 0xff, 0xff, 0xff, 0xff, 0x00];
        assert!(decode_value(&bytes).is_err());
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let v = MapBuilder::new().field("a", &1u64).field("a", &2u64).build();
        assert_eq!(
            Fields::new(&v, &[]).err(),
            Some(DecodeError::DuplicateField("a".into()))
        );
    }
}
