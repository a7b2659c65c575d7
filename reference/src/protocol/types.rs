//! Identifiers and value types shared by the commands, certificates and
//! device files, with their exact wire encodings.

use super::codec::{ValueError, Wire, bin_array, ext_payload};
use rmpv::Value;
use std::fmt;
use std::str::FromStr;

/// msgpack extension type of `DateTime` (8 bytes, big-endian microseconds).
pub const EXT_DATETIME: i8 = 1;
/// msgpack extension type of every UUID-based ID (16 raw bytes).
pub const EXT_UUID: i8 = 2;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            pub fn new() -> Self {
                $name(uuid::Uuid::from_bytes(crate::crypto::random_array()))
            }
            pub fn from_bytes(bytes: [u8; 16]) -> Self {
                $name(uuid::Uuid::from_bytes(bytes))
            }
            pub fn as_bytes(&self) -> &[u8; 16] {
                self.0.as_bytes()
            }
            /// 32 lowercase hex digits, the form used in tokens and JSON.
            pub fn hex(&self) -> String {
                self.0.simple().to_string()
            }
            /// Accepts 32 hex digits, and the dashed or upper-case UUID forms
            /// the official parser also takes.
            pub fn from_hex(s: &str) -> Result<Self, ValueError> {
                uuid::Uuid::try_parse(s)
                    .map($name)
                    .map_err(|_| ValueError::Invalid(format!("Invalid {}: `{s}`", stringify!($name))))
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.hex())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.hex())
            }
        }

        impl FromStr for $name {
            type Err = ValueError;
            fn from_str(s: &str) -> Result<Self, ValueError> {
                Self::from_hex(s)
            }
        }

        impl Wire for $name {
            fn to_wire(&self) -> Value {
                Value::Ext(EXT_UUID, self.as_bytes().to_vec())
            }
            fn from_wire(value: &Value) -> Result<Self, ValueError> {
                ext_payload::<16>(value, EXT_UUID).map(Self::from_bytes)
            }
        }
    };
}

uuid_id!(
    /// A user of an organization.
    UserID
);
uuid_id!(
    /// One device (one set of keys) of a user.
    DeviceID
);
uuid_id!(
    /// The server-side key protecting one MFA-enabled device file.
    TOTPOpaqueKeyID
);
uuid_id!(
    /// A realm (the user's own realm in `LocalDevice`).
    VlobID
);

/// An instant, microseconds since the UNIX epoch (UTC).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct DateTime(i64);

impl DateTime {
    pub const fn from_micros(micros: i64) -> Self {
        DateTime(micros)
    }
    pub const fn from_unix_seconds(seconds: i64) -> Self {
        DateTime(seconds.saturating_mul(1_000_000))
    }
    pub const fn as_micros(&self) -> i64 {
        self.0
    }
    /// Whole seconds, rounded down.
    pub const fn unix_seconds(&self) -> i64 {
        self.0.div_euclid(1_000_000)
    }
    pub fn add_seconds(&self, seconds: i64) -> Self {
        DateTime(self.0.saturating_add(seconds.saturating_mul(1_000_000)))
    }
    pub fn add_micros(&self, micros: i64) -> Self {
        DateTime(self.0.saturating_add(micros))
    }

    /// RFC 3339 in UTC with microseconds, e.g. `2000-01-02T01:00:00.000000Z`.
    pub fn to_rfc3339(&self) -> String {
        let secs = self.0.div_euclid(1_000_000);
        let micros = self.0.rem_euclid(1_000_000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
            sod / 3600,
            (sod / 60) % 60,
            sod % 60
        )
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`.
    pub fn parse_rfc3339(s: &str) -> Result<Self, ValueError> {
        let bad = || ValueError::Invalid(format!("invalid UTC timestamp `{s}`"));
        let s2 = s.strip_suffix('Z').ok_or_else(bad)?;
        let (date, time) = s2.split_once('T').ok_or_else(bad)?;
        let num = |t: &str| t.parse::<i64>().map_err(|_| bad());
        let dp: Vec<&str> = date.split('-').collect();
        if dp.len() != 3 {
            return Err(bad());
        }
        let (time, frac) = time.split_once('.').unwrap_or((time, ""));
        let tp: Vec<&str> = time.split(':').collect();
        if tp.len() != 3 || frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let micros = if frac.is_empty() {
            0
        } else {
            num(frac)? * 10i64.pow(6 - frac.len() as u32)
        };
        let (year, month, day) = (num(dp[0])?, num(dp[1])?, num(dp[2])?);
        let (hour, minute, second) = (num(tp[0])?, num(tp[1])?, num(tp[2])?);
        // Out-of-range fields are errors, not overflows (a panic in debug
        // builds) nor silently shifted instants. The year bound keeps the
        // arithmetic below in range; the last step is checked.
        let in_range = (-300_000..=300_000).contains(&year)
            && (1..=12).contains(&month)
            && (1..=31).contains(&day)
            && (0..24).contains(&hour)
            && (0..60).contains(&minute)
            && (0..60).contains(&second);
        if !in_range {
            return Err(bad());
        }
        let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
        secs.checked_mul(1_000_000)
            .and_then(|us| us.checked_add(micros))
            .map(DateTime)
            .ok_or_else(bad)
    }
}

// Gregorian calendar conversions (H. Hinnant's algorithms), so that no date
// crate is needed for a UTC timestamp.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl fmt::Debug for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DateTime({})", self.to_rfc3339())
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Wire for DateTime {
    fn to_wire(&self) -> Value {
        Value::Ext(EXT_DATETIME, self.0.to_be_bytes().to_vec())
    }
    fn from_wire(value: &Value) -> Result<Self, ValueError> {
        ext_payload::<8>(value, EXT_DATETIME).map(|b| DateTime(i64::from_be_bytes(b)))
    }
}

/// A 16-byte random token: bootstrap token, TOTP reset token.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AccessToken(pub [u8; 16]);

impl AccessToken {
    pub fn new() -> Self {
        AccessToken(crate::crypto::random_array())
    }
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
    pub fn from_hex(s: &str) -> Result<Self, ValueError> {
        let bytes = hex::decode(s).map_err(|_| ValueError::Invalid(format!("invalid token `{s}`")))?;
        bytes
            .try_into()
            .map(AccessToken)
            .map_err(|_| ValueError::Invalid(format!("invalid token `{s}`: expected 16 bytes")))
    }
}

impl Default for AccessToken {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccessToken({})", self.hex())
    }
}

impl Wire for AccessToken {
    fn to_wire(&self) -> Value {
        Value::Binary(self.0.to_vec())
    }
    fn from_wire(value: &Value) -> Result<Self, ValueError> {
        bin_array::<16>(value).map(AccessToken)
    }
}

/// An organization name: NFC-normalized, 1 to 32 **bytes** of UTF-8, every
/// character a Unicode word character (`\w`: letters, marks, decimal
/// digits, connector punctuation, joiners) or `-`. This is the official rule
/// (checked against the 3.9.3 bindings): `"é" * 16` is valid and
/// `"é" * 17` (34 bytes) is not, `²` and `①` are not word characters,
/// combining marks and `‿` are, and `a` + U+0301 is stored as `á`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrganizationID(String);

impl OrganizationID {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for OrganizationID {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        let id = icu_normalizer::ComposingNormalizerBorrowed::new_nfc().normalize(s);
        let valid = (1..=32).contains(&id.len()) && id.chars().all(|c| c == '-' || regex_syntax::is_word_character(c));
        if valid {
            Ok(OrganizationID(id.into_owned()))
        } else {
            Err(ValueError::Invalid(format!("Invalid OrganizationID: `{s}`")))
        }
    }
}

impl fmt::Debug for OrganizationID {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OrganizationID({:?})", self.0)
    }
}

impl fmt::Display for OrganizationID {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Wire for OrganizationID {
    fn to_wire(&self) -> Value {
        Value::from(self.0.as_str())
    }
    fn from_wire(value: &Value) -> Result<Self, ValueError> {
        String::from_wire(value)?.parse()
    }
}

/// A person: email address and display label, encoded `[email, label]`.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct HumanHandle {
    pub email: String,
    pub label: String,
}

impl HumanHandle {
    pub fn new(email: &str, label: &str) -> Result<Self, ValueError> {
        let email_ok = matches!(email.split_once('@'), Some((l, d)) if !l.is_empty() && !d.is_empty())
            && email.len() <= 254
            && !email.chars().any(char::is_whitespace);
        if !email_ok {
            return Err(ValueError::Invalid(format!("Invalid email address: `{email}`")));
        }
        if label.trim().is_empty() || label.chars().count() > 254 {
            return Err(ValueError::Invalid(format!("Invalid human label: `{label}`")));
        }
        Ok(HumanHandle {
            email: email.to_owned(),
            label: label.to_owned(),
        })
    }
}

impl Wire for HumanHandle {
    fn to_wire(&self) -> Value {
        Value::Array(vec![Value::from(self.email.as_str()), Value::from(self.label.as_str())])
    }
    fn from_wire(value: &Value) -> Result<Self, ValueError> {
        match value {
            Value::Array(items) if items.len() == 2 => {
                HumanHandle::new(&String::from_wire(&items[0])?, &String::from_wire(&items[1])?)
            }
            other => Err(ValueError::wrong_kind("[email, label]", other)),
        }
    }
}

/// Generates a string-encoded enum with its exact wire names.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::protocol::codec::ValueError;
            fn from_str(s: &str) -> Result<Self, $crate::protocol::codec::ValueError> {
                match s {
                    $($wire => Ok($name::$variant),)+
                    other => Err($crate::protocol::codec::ValueError::invalid(format!("unknown {} `{other}`", stringify!($name)))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::protocol::codec::Wire for $name {
            fn to_wire(&self) -> rmpv::Value {
                rmpv::Value::from(self.as_str())
            }
            fn from_wire(value: &rmpv::Value) -> Result<Self, $crate::protocol::codec::ValueError> {
                <String as $crate::protocol::codec::Wire>::from_wire(value)?.parse()
            }
        }
    };
}
pub(crate) use wire_enum;

wire_enum!(
    /// What a user may do in an organization.
    UserProfile {
        Admin = "ADMIN",
        Standard = "STANDARD",
        Outsider = "OUTSIDER",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_renders_and_parses_rfc3339() {
        let t = DateTime::from_micros(946_774_800_000_000);
        assert_eq!(t.to_rfc3339(), "2000-01-02T01:00:00.000000Z");
        assert_eq!(DateTime::parse_rfc3339("2000-01-02T01:00:00Z"), Ok(t));
        let t = DateTime::from_micros(1_795_421_521_392_102);
        assert_eq!(t.to_rfc3339(), "2026-11-23T08:12:01.392102Z");
        assert_eq!(DateTime::parse_rfc3339(&t.to_rfc3339()), Ok(t));
        assert!(DateTime::parse_rfc3339("2000-01-02 01:00:00").is_err());
        // Out of range: an error, neither a panic nor a shifted instant.
        for bad in [
            "2000-13-01T00:00:00Z",
            "2000-01-32T00:00:00Z",
            "2000-01-01T24:00:00Z",
            "2000-01-01T00:60:00Z",
            "9223372036854775807-01-01T00:00:00Z",
            "2000-01-01T9223372036854775807:00:00Z",
            "295000-01-01T00:00:00Z", // beyond i64 microseconds
        ] {
            assert!(DateTime::parse_rfc3339(bad).is_err(), "{bad}");
        }
        assert_eq!(
            DateTime::parse_rfc3339("1970-01-01T00:00:00.000001Z"),
            Ok(DateTime::from_micros(1))
        );
    }

    #[test]
    fn organization_ids_follow_the_official_rule() {
        for ok in ["Org", "Orgé", "a-b_c", "康熙帝", &"x".repeat(32)] {
            assert!(ok.parse::<OrganizationID>().is_ok(), "{ok}");
        }
        for bad in ["", "Org.1", "Org 1", "<>", &"x".repeat(33)] {
            assert!(bad.parse::<OrganizationID>().is_err(), "{bad}");
        }
        // Cases answered by the official 3.9.3 bindings (OrganizationID).
        for ok in [
            "é".repeat(16).as_str(),
            "a\u{203f}b",
            "a\u{200d}b",
            "x\u{301}",
            "\u{663}",
            "\u{216b}",
            "_",
            "-",
        ] {
            assert!(ok.parse::<OrganizationID>().is_ok(), "{ok:?}");
        }
        for bad in ["é".repeat(17).as_str(), "\u{b2}", "\u{2460}", "a\u{ad}b"] {
            assert!(bad.parse::<OrganizationID>().is_err(), "{bad:?}");
        }
        // NFC: stored composed, so both spellings are the same organization,
        // and the length counts the composed bytes.
        let composed: OrganizationID = "\u{e1}".parse().unwrap();
        assert_eq!("a\u{301}".parse::<OrganizationID>(), Ok(composed));
        assert!("e\u{301}".repeat(16).parse::<OrganizationID>().is_ok());
    }

    #[test]
    fn ids_accept_the_official_hex_forms() {
        let id = UserID::from_hex("389ab0087aa04688a8b732d430a86213").unwrap();
        assert_eq!(UserID::from_hex("389AB008-7AA0-4688-A8B7-32D430A86213"), Ok(id));
        assert_eq!(id.hex(), "389ab0087aa04688a8b732d430a86213");
        assert!(UserID::from_hex("<>").is_err());
    }
}
