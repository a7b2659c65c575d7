//! The decisions several commands share, each named after its rule in the
//! behaviour catalogue (`docs/spec.md`): checking a code, the throttle, who
//! is turned away, the secret of a setup. Each one asks [`super::Faults`]
//! whether a deliberate defect replaces it.

use super::AppState;
use super::faults::Door;
use super::http::Abort;
use super::store::{Change, OpaqueKey, Organization, User};
use crate::protocol::{DateTime, OrganizationID};

/// Why a user is turned away (FRZ-1 to FRZ-6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Barred {
    Revoked,
    Frozen,
}

impl Barred {
    /// The handshake's answer to a device of a barred user (461, 462).
    pub fn abort(self) -> Abort {
        match self {
            Barred::Revoked => Abort::USER_REVOKED,
            Barred::Frozen => Abort::USER_FROZEN,
        }
    }
}

impl AppState {
    /// CODE-1 to CODE-3: whether `code` is the code of the step before, at,
    /// or after `now`, exactly.
    pub fn verify_code(&self, secret: &[u8], code: &str, now: DateTime) -> bool {
        let seconds = now.unix_seconds().max(0) as u64;
        let correct = crate::totp::verify(secret, code, seconds);
        self.faults.code_accepted(correct, secret, code, seconds)
    }

    /// Whether `code` is valid for the user's secret (none yet: never).
    pub fn verify_user_code(&self, user: &User, code: &str, now: DateTime) -> bool {
        user.totp
            .secret
            .as_deref()
            .is_some_and(|secret| self.verify_code(secret, code, now))
    }

    /// THR-1, THR-2: until when the opaque key refuses attempts, if it does.
    pub fn throttle_wait_until(&self, key: &OpaqueKey) -> Option<DateTime> {
        self.faults.wait_until(key, key.wait_until())
    }

    /// THR-3: the end of the wait if `now` falls in it.
    pub fn throttled_at(&self, key: &OpaqueKey, now: DateTime) -> Option<DateTime> {
        self.throttle_wait_until(key)
            .filter(|wait_until| self.faults.in_wait(now, *wait_until))
            .map(|wait_until| self.faults.reported_wait(now, wait_until))
    }

    /// FRZ-1 to FRZ-6: whether a revoked or frozen user is turned away at
    /// `door` (revocation first, as the official handshake checks).
    pub fn barred(&self, user: &User, door: Door) -> Option<Barred> {
        if user.is_revoked() && !self.faults.lets_revoked_in(door) {
            return Some(Barred::Revoked);
        }
        if user.frozen && !self.faults.lets_frozen_in(door) {
            return Some(Barred::Frozen);
        }
        None
    }

    /// SECRET-1, SECRET-3, SECRET-4, ANON-SECRET-1: the user's pending
    /// secret, created (and stored) on first demand, the same one at each
    /// demand until the setup is confirmed.
    pub fn secret_or_create(
        &self,
        organization_id: &OrganizationID,
        org: &Organization,
        user: &User,
        door: Door,
    ) -> (Vec<u8>, Vec<Change>) {
        match &user.totp.secret {
            Some(secret) if self.faults.keeps_pending_secret(door) => (secret.clone(), vec![]),
            _ => {
                let secret = self.faults.new_secret(org, user);
                let mut updated = user.clone();
                updated.totp.secret = Some(secret.clone());
                (secret, vec![Change::User(organization_id.clone(), updated)])
            }
        }
    }

    /// CONFIRM-5, RST-6: the user once a setup is confirmed (from a device
    /// or by a reset link): completed, and any pending reset link used up.
    pub fn setup_confirmed(&self, user: &User) -> User {
        let mut confirmed = user.clone();
        confirmed.totp.setup_completed = true;
        if self.faults.setup_ends_reset_link() {
            confirmed.totp.reset_token = None;
        }
        confirmed
    }

    /// RST-6 to RST-8, FRZ-3, FRZ-6: whether a reset link (its user and
    /// token) still stands.
    pub fn reset_link_stands(&self, org: &Organization, user: &User, token: crate::protocol::AccessToken) -> bool {
        self.barred(user, Door::ResetLink).is_none()
            && (!user.totp.setup_completed || !self.faults.setup_ends_reset_link())
            && self.faults.reset_token_matches(org, user, token)
    }
}
