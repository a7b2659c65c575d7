//! The authenticator app on a person's phone: entries added from a QR code
//! (an `otpauth://` URI) or a typed key, codes at any instant, and a phone
//! clock that may be off.

use parsec_mfa_reference::protocol::DateTime;
use parsec_mfa_reference::totp;

/// Why a QR code or a typed key gives no entry.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    #[error("not a TOTP QR code: {0}")]
    NotTotp(String),
    #[error("no parameters in the QR code")]
    NoParameters,
    #[error("no secret in the QR code")]
    NoSecret,
    /// The key is not base32 (the reason as the TOTP library gives it).
    #[error(transparent)]
    BadKey(#[from] totp::TotpError),
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub issuer: String,
    pub account: String,
    pub secret: Vec<u8>,
}

#[derive(Debug, Clone, Default)]
pub struct AuthenticatorApp {
    entries: Vec<Entry>,
    /// How far the phone's clock is from the true time.
    pub clock_offset_seconds: i64,
}

impl AuthenticatorApp {
    /// Scans a QR code: `otpauth://totp/<issuer>:<account>?secret=…&issuer=…`.
    pub fn scan(&mut self, uri: &str) -> Result<&Entry, EntryError> {
        let rest = uri
            .strip_prefix("otpauth://totp/")
            .ok_or_else(|| EntryError::NotTotp(uri.to_owned()))?;
        let (label, query) = rest.split_once('?').ok_or(EntryError::NoParameters)?;
        let label = percent_decode(label);
        let (issuer, account) = label.split_once(':').unwrap_or(("", label.as_str()));
        let param = |name: &str| {
            query
                .split('&')
                .find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
                .map(percent_decode)
        };
        let secret =
            totp::secret_from_base32(&param("secret").ok_or(EntryError::NoSecret)?).map_err(EntryError::BadKey)?;
        self.entries.push(Entry {
            issuer: param("issuer").unwrap_or_else(|| issuer.to_owned()),
            account: account.to_owned(),
            secret,
        });
        Ok(self.entries.last().expect("just pushed"))
    }

    /// Types a key by hand.
    pub fn add_key(&mut self, issuer: &str, account: &str, base32_key: &str) -> Result<(), EntryError> {
        let secret = totp::secret_from_base32(base32_key).map_err(EntryError::BadKey)?;
        self.entries.push(Entry {
            issuer: issuer.into(),
            account: account.into(),
            secret,
        });
        Ok(())
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The code the newest entry for `account` shows when the true time is `now`.
    pub fn code(&self, account: &str, now: DateTime) -> Option<String> {
        let entry = self.entries.iter().rev().find(|e| e.account == account)?;
        let phone_time = now.unix_seconds() + self.clock_offset_seconds;
        Some(totp::code_at(&entry.secret, phone_time.max(0) as u64))
    }

    /// The code of the entry before the newest one (an old authenticator entry).
    pub fn previous_code(&self, account: &str, now: DateTime) -> Option<String> {
        let entry = self.entries.iter().rev().filter(|e| e.account == account).nth(1)?;
        let phone_time = now.unix_seconds() + self.clock_offset_seconds;
        Some(totp::code_at(&entry.secret, phone_time.max(0) as u64))
    }
}

impl AuthenticatorApp {
    /// The `n`-th of the six-digit codes that no entry for `account` shows
    /// within three steps of `now`, whatever the phone clock: certainly wrong.
    pub fn wrong_code(&self, account: &str, now: DateTime, n: u32) -> String {
        let secrets: Vec<&[u8]> = self
            .entries
            .iter()
            .filter(|e| e.account == account)
            .map(|e| e.secret.as_slice())
            .collect();
        let phone_time = now.unix_seconds() + self.clock_offset_seconds;
        crate::testing::wrong_codes(&secrets, phone_time, 3, u64::from(n))
            .next()
            .expect("fewer than a million codes are shown")
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(v) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_the_official_qr_code_and_follows_the_phone_clock() {
        let secret = b"12345678901234567890";
        let mut app = AuthenticatorApp::default();
        let entry = app.scan(&totp::otpauth_uri(secret, "Cool Org")).unwrap();
        assert_eq!(
            (entry.issuer.as_str(), entry.account.as_str()),
            ("parsec.cloud", "Cool Org")
        );
        let now = DateTime::from_micros(1_500_000_000 * 1_000_000);
        assert_eq!(app.code("Cool Org", now).unwrap(), totp::code_at(secret, 1_500_000_000));
        app.clock_offset_seconds = -30;
        assert_eq!(app.code("Cool Org", now).unwrap(), totp::code_at(secret, 1_499_999_970));
        assert!(app.code("Other", now).is_none());
    }
}
