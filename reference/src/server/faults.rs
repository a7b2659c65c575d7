//! Deliberate defects, to prove the conformance suite catches real bugs
//! (mutation testing). Off by default; `parsec-mfa serve --inject-fault`
//! turns one on. The MFA logic itself has no test branches: these switches
//! only replace a decision the store or the TOTP check would take.

use super::store::{OpaqueKey, Organization};
use crate::protocol::UserID;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// Wrong codes are counted but never throttle.
    pub lockout_disabled: bool,
    /// Codes up to 3 steps away are accepted (instead of 1).
    pub wide_clock_window: bool,
    /// A reset keeps the old secret (the lost phone still works).
    pub reset_keeps_old_secret: bool,
    /// A reset takes the opaque keys away from the user, so their devices
    /// can no longer be opened.
    pub reset_deletes_opaque_keys: bool,
}

impl Faults {
    pub const NAMES: &'static [&'static str] = &[
        "lockout-disabled",
        "wide-clock-window",
        "reset-keeps-old-secret",
        "reset-deletes-opaque-keys",
    ];

    pub fn enable(&mut self, name: &str) -> Result<(), String> {
        match name {
            "lockout-disabled" => self.lockout_disabled = true,
            "wide-clock-window" => self.wide_clock_window = true,
            "reset-keeps-old-secret" => self.reset_keeps_old_secret = true,
            "reset-deletes-opaque-keys" => self.reset_deletes_opaque_keys = true,
            other => {
                return Err(format!("unknown fault `{other}` (known: {})", Self::NAMES.join(", ")));
            }
        }
        Ok(())
    }

    pub(super) fn accepts_code_anyway(&self, secret: &[u8], code: &str, seconds: u64) -> bool {
        self.wide_clock_window
            && (2..=3u64).any(|steps| {
                let delta = steps * crate::totp::STEP_SECONDS;
                crate::totp::code_at(secret, seconds.saturating_sub(delta)) == code
                    || crate::totp::code_at(secret, seconds + delta) == code
            })
    }

    pub(super) fn secret_after_reset(&self, old: &Option<Vec<u8>>) -> Option<Vec<u8>> {
        if self.reset_keeps_old_secret { old.clone() } else { None }
    }

    /// The opaque keys a reset rewrites: throttles cleared, keys kept.
    pub(super) fn opaque_key_changes_on_reset(&self, org: &Organization, user_id: UserID) -> Vec<OpaqueKey> {
        org.opaque_keys
            .values()
            .filter(|k| k.user_id == user_id)
            .map(|k| {
                let mut key = k.with_throttle_cleared();
                if self.reset_deletes_opaque_keys {
                    // Nobody owns this id: fetching the key now fails.
                    key.user_id = UserID::from_bytes([0; 16]);
                }
                key
            })
            .collect()
    }
}
