//! Deliberate defects, to prove the conformance suite catches real bugs
//! (mutation testing). Off by default; `parsec-mfa serve --inject-fault
//! NAME` (repeatable) turns one on, as does the in-process target.
//!
//! Each defect breaks one rule of the behaviour catalogue
//! (`docs/spec.md`, whose ids it names). The MFA logic has no test branches:
//! the server asks this module for each decision a defect can change
//! (usually passing the right answer in), and gets back the right answer
//! unless that defect is on.

use super::store::{OpaqueKey, Organization, User};
use crate::crypto::SecretKey;
use crate::protocol::{AccessToken, DateTime, OrganizationID, TOTPOpaqueKeyID, UserID};
use std::collections::{BTreeSet, HashMap};

/// The defects, each with its name (for `--inject-fault`), the id of the
/// rule it breaks, and what it does. A macro keeps the four views of the
/// one table (enum, names, rules, descriptions) from drifting apart.
macro_rules! fault_table {
    ($($fault:ident: $name:literal, $rule:literal, $what:literal;)+) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Fault {
            $($fault),+
        }

        impl Fault {
            /// Every defect, in the order of the catalogue.
            pub const ALL: &'static [Fault] = &[$(Fault::$fault),+];

            /// The name `--inject-fault` takes.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Fault::$fault => $name),+
                }
            }

            /// The id of the rule of `docs/spec.md` it breaks.
            pub const fn rule(self) -> &'static str {
                match self {
                    $(Fault::$fault => $rule),+
                }
            }

            /// What the faulty server does, in one line.
            pub const fn description(self) -> &'static str {
                match self {
                    $(Fault::$fault => $what),+
                }
            }
        }

        impl Faults {
            /// The name of every defect.
            pub const NAMES: &'static [&'static str] = &[$($name),+];
        }
    };
}

fault_table! {
    // Codes
    WideClockWindow: "wide-clock-window", "CODE-2",
        "codes up to 3 steps away are accepted (instead of 1)";
    NoClockWindow: "no-clock-window", "CODE-2",
        "only the code of the current step is accepted (a phone 30 s off is refused)";
    CodeComparedAsPrefix: "code-compared-as-prefix", "CODE-3",
        "a code is accepted when it starts the right one (an empty code passes)";
    // Authenticated totp_setup_get_secret
    SecretRegeneratedEachTime: "secret-regenerated-each-time", "SECRET-1",
        "the profile's MFA section shows a new key each time it is opened";
    SecretShownAfterSetup: "secret-shown-after-setup", "SECRET-2",
        "the key is still handed out once MFA is set up";
    SecretSharedInOrganization: "secret-shared-in-organization", "SECRET-3",
        "a new setup reuses the key of another user of the organization";
    SecretSharedBetweenOrganizations: "secret-shared-between-organizations", "SECRET-5",
        "the same person gets the same key in every organization of the server (one entry for two accounts)";
    ShortSecret: "short-secret", "SECRET-4",
        "keys of 10 bytes (16 characters) instead of 20";
    // Authenticated totp_setup_confirm
    ConfirmIgnoresCode: "confirm-ignores-code", "CONFIRM-1",
        "any code confirms the setup from the profile";
    WrongSetupCodeForgetsSecret: "wrong-setup-code-forgets-secret", "CONFIRM-2",
        "a wrong confirmation code throws the key away (the app's entry stops working)";
    ConfirmAfterSetupAccepted: "confirm-after-setup-accepted", "CONFIRM-3",
        "confirming again once set up is accepted instead of `already_setup`";
    // Anonymous totp_setup_get_secret and totp_setup_confirm (the reset link)
    ResetLinkNewSecretEachOpen: "reset-link-new-secret-each-open", "ANON-SECRET-1",
        "each opening of a reset link shows a new key";
    ResetConfirmIgnoresCode: "reset-confirm-ignores-code", "ANON-CONFIRM-1",
        "any code confirms a reset";
    WrongCodeBurnsResetLink: "wrong-code-burns-reset-link", "ANON-CONFIRM-2",
        "a wrong code on the reset link uses the link up";
    // totp_create_opaque_key
    OpaqueKeyReused: "opaque-key-reused", "CREATE-1",
        "protecting another device hands out the user's existing opaque key again";
    SameOpaqueKeyForEveryone: "same-opaque-key-for-everyone", "CREATE-2",
        "every opaque key has the same value";
    // totp_fetch_opaque_key
    FetchBeforeSetupConfirmed: "fetch-before-setup-confirmed", "FETCH-2",
        "keys open with a valid code before the setup (or its reset) is confirmed";
    FetchKeyOfAnyUser: "fetch-key-of-any-user", "FETCH-3",
        "a user's valid code opens any opaque key of the organization";
    OpaqueKeysSharedBetweenOrganizations: "opaque-keys-shared-between-organizations", "FETCH-4",
        "opaque keys are looked up in every organization, their owner matched by user id only";
    UnknownKeyIdFallsBack: "unknown-key-id-falls-back", "FETCH-5",
        "an unknown opaque key id opens the user's first key";
    FrozenAttemptsCounted: "frozen-attempts-counted", "FETCH-6",
        "wrong codes refused because the user is frozen count towards the lockout";
    // Throttle
    LockoutDisabled: "lockout-disabled", "THR-1",
        "wrong codes are counted but never throttle";
    ThrottleFromTwoSeconds: "throttle-from-two-seconds", "THR-1",
        "the wait is 2^n seconds after n failures (the schema comment's formula)";
    ThrottleLinear: "throttle-linear", "THR-1",
        "the wait is n seconds after n failures";
    ThrottleWaitInThePast: "throttle-wait-in-the-past", "THR-1",
        "a `throttled` reply names a `wait_until` an hour before the attempt";
    ThrottleCapped: "throttle-capped", "THR-2",
        "the wait never exceeds one hour";
    ThrottleEndExcluded: "throttle-end-excluded", "THR-3",
        "an attempt at exactly `wait_until` is allowed";
    RightCodeBypassesThrottle: "right-code-bypasses-throttle", "THR-4",
        "a right code is accepted during the wait";
    ThrottledRepliesCounted: "throttled-replies-counted", "THR-5",
        "an attempt answered `throttled` counts as a failure";
    SuccessKeepsCount: "success-keeps-count", "THR-6",
        "a right code does not clear the failure count";
    ThrottleDecays: "throttle-decays", "THR-7",
        "once a wait is over, the count starts again from zero";
    ThrottlePerUser: "throttle-per-user", "THR-8",
        "a wrong code counts on every opaque key of the user";
    // Reset
    ResetKeepsOldSecret: "reset-keeps-old-secret", "RST-1",
        "a reset keeps the old key (the lost phone still works)";
    ResetKeepsSetupCompleted: "reset-keeps-setup-completed", "RST-2",
        "a reset leaves the setup marked complete (the link cannot set it up again)";
    ResetDeletesOpaqueKeys: "reset-deletes-opaque-keys", "RST-3",
        "a reset takes the opaque keys away (the devices no longer open)";
    ResetKeepsLockout: "reset-keeps-lockout", "RST-4",
        "a reset leaves the opaque keys' lockouts in place";
    SecondResetKeepsFirstLink: "second-reset-keeps-first-link", "RST-5",
        "a reset while another is pending reissues the same link";
    ResetLinkReusable: "reset-link-reusable", "RST-6",
        "a reset link keeps working after MFA is set up again";
    ResetTokenUnchecked: "reset-token-unchecked", "RST-7",
        "any token opens the link of a user whose reset is pending";
    ResetTokenOfAnyUser: "reset-token-of-any-user", "RST-8",
        "a pending token of any user of the organization opens the link of another";
    ResetEmailNotSent: "reset-email-not-sent", "RST-10",
        "the reset email is reported sent but never sent";
    ResetEmailSentUnasked: "reset-email-sent-unasked", "RST-10",
        "the reset email is sent even without --send-email";
    FrozenUserNotResettable: "frozen-user-not-resettable", "RST-12",
        "a frozen user's MFA cannot be reset (`User not found`)";
    // Freeze and revoke
    FrozenUserAuthenticates: "frozen-user-authenticates", "FRZ-1",
        "a frozen user's devices still pass the handshake";
    FrozenUserFetchesKey: "frozen-user-fetches-key", "FRZ-2",
        "a frozen user still logs in with a valid code";
    FrozenUserUsesResetLink: "frozen-user-uses-reset-link", "FRZ-3",
        "a frozen user's reset link still works";
    RevokedUserAuthenticates: "revoked-user-authenticates", "FRZ-4",
        "a revoked user's devices still pass the handshake and run commands";
    RevokedUserFetchesKey: "revoked-user-fetches-key", "FRZ-5",
        "a revoked user still logs in with a valid code";
    RevokedUserUsesResetLink: "revoked-user-uses-reset-link", "FRZ-6",
        "a revoked user's reset link still works";
    UnfreezeIgnored: "unfreeze-ignored", "FRZ-7",
        "unfreezing is acknowledged but the user stays frozen";
    // Administration API
    AdminTokenUnchecked: "admin-token-unchecked", "ADM-1",
        "any bearer token is accepted by the administration API";
    BootstrappedOrganizationRecreated: "bootstrapped-organization-recreated", "ADM-3",
        "an organization in use can be created again (and bootstrapped by someone else)";
    AdminBothSelectorsAccepted: "admin-both-selectors-accepted", "ADM-4",
        "a user id and an email together are accepted (the id wins)";
    AdminUserLookupAcrossOrganizations: "admin-user-lookup-across-organizations", "ADM-5",
        "a user not found in the organization of the path is looked for in the others";
    RevokedUserFoundByEmail: "revoked-user-found-by-email", "ADM-6",
        "the email lookup finds revoked users too";
    // Handshake
    DevicesFoundInAnyOrganization: "devices-found-in-any-organization", "HS-7",
        "a device of another organization passes the handshake (and acts as the user of the same id)";
    SignatureUnchecked: "signature-unchecked", "HS-8",
        "the request's signature is not verified";
    TokenAgeUnchecked: "token-age-unchecked", "HS-9",
        "a signed request of any age is accepted";
    // Advice
    AdviceNotServed: "advice-not-served", "ADV-1",
        "`server_config` advises nothing, whatever the server was started with";
}

/// The defects a server runs with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    enabled: BTreeSet<Fault>,
}

/// A defect asked for by a name no defect has (`--inject-fault`, a target's
/// faults): the message lists the known names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    #[error("unknown fault `{name}` (known: {})", .known.join(", "))]
    UnknownFault {
        name: String,
        /// Every defect's name ([`Faults::NAMES`]).
        known: &'static [&'static str],
    },
}

/// Where a user comes to the server: the doors a revoked or frozen user is
/// turned away from (FRZ-1 to FRZ-6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    /// A device's signed request (the authenticated commands).
    Device,
    /// `totp_fetch_opaque_key`.
    Login,
    /// The anonymous commands of a reset link.
    ResetLink,
}

impl Fault {
    pub fn from_name(name: &str) -> Option<Fault> {
        Fault::ALL.iter().copied().find(|f| f.name() == name)
    }
}

impl Faults {
    /// A server with these defects.
    pub fn of(faults: &[Fault]) -> Self {
        Faults {
            enabled: faults.iter().copied().collect(),
        }
    }

    /// Turns the defect `name` on.
    pub fn enable(&mut self, name: &str) -> Result<(), FaultError> {
        let fault = Fault::from_name(name).ok_or_else(|| FaultError::UnknownFault {
            name: name.to_owned(),
            known: Self::NAMES,
        })?;
        self.enabled.insert(fault);
        Ok(())
    }

    pub fn has(&self, fault: Fault) -> bool {
        self.enabled.contains(&fault)
    }

    // ------------------------------------------------------------ codes

    /// CODE-2, CODE-3: whether `code` is accepted, given the right answer.
    pub(super) fn code_accepted(&self, correct: bool, secret: &[u8], code: &str, seconds: u64) -> bool {
        let at_step = |steps: i64| {
            seconds
                .checked_add_signed(steps * crate::totp::STEP_SECONDS as i64)
                .map(|t| crate::totp::code_at(secret, t))
        };
        if self.has(Fault::NoClockWindow) {
            return at_step(0).is_some_and(|c| c == code);
        }
        if self.has(Fault::CodeComparedAsPrefix) && (-1..=1).any(|s| at_step(s).is_some_and(|c| c.starts_with(code))) {
            return true;
        }
        if self.has(Fault::WideClockWindow)
            && [-3, -2, 2, 3]
                .into_iter()
                .any(|s| at_step(s).is_some_and(|c| c == code))
        {
            return true;
        }
        correct
    }

    // ------------------------------------------------------------ secrets

    /// SECRET-1, ANON-SECRET-1: whether a secret already created is shown
    /// again (rather than replaced) at `door`.
    pub(super) fn keeps_pending_secret(&self, door: Door) -> bool {
        match door {
            Door::ResetLink => !self.has(Fault::ResetLinkNewSecretEachOpen),
            _ => !self.has(Fault::SecretRegeneratedEachTime),
        }
    }

    /// SECRET-3, SECRET-4: the secret of a new setup of `user`.
    pub(super) fn new_secret(&self, org: &Organization, user: &User) -> Vec<u8> {
        if self.has(Fault::SecretSharedInOrganization)
            && let Some(other) = org
                .users
                .values()
                .filter(|u| u.user_id != user.user_id)
                .find_map(|u| u.totp.secret.clone())
        {
            return other;
        }
        if self.has(Fault::SecretSharedBetweenOrganizations) {
            // Keyed by the person's email alone, whatever the organization:
            // a deterministic signature under a fixed key stands for a
            // server-wide table of secrets by email.
            let by_email = crate::crypto::SigningKey([7; 32]).sign_only_signature(user.human_handle.email.as_bytes());
            return by_email[..20].to_vec();
        }
        let secret = crate::totp::generate_secret();
        match self.has(Fault::ShortSecret) {
            true => secret[..10].to_vec(),
            false => secret,
        }
    }

    /// SECRET-2: whether a confirmed setup still hands the secret out.
    pub(super) fn shows_secret_after_setup(&self) -> bool {
        self.has(Fault::SecretShownAfterSetup)
    }

    // ------------------------------------------------------------ confirmations

    /// CONFIRM-1, ANON-CONFIRM-1: whether a setup confirmation at `door`
    /// passes, given whether its code is right.
    pub(super) fn confirmation_accepted(&self, code_is_right: bool, door: Door) -> bool {
        code_is_right
            || match door {
                Door::ResetLink => self.has(Fault::ResetConfirmIgnoresCode),
                _ => self.has(Fault::ConfirmIgnoresCode),
            }
    }

    /// CONFIRM-3: whether a completed setup answers `already_setup` before
    /// looking at the code.
    pub(super) fn refuses_second_confirmation(&self) -> bool {
        !self.has(Fault::ConfirmAfterSetupAccepted)
    }

    /// CONFIRM-2, ANON-CONFIRM-2: the user after a wrong confirmation code
    /// at `door`, if it changes.
    pub(super) fn after_wrong_confirmation(&self, user: &User, door: Door) -> Option<User> {
        let mut changed = user.clone();
        match door {
            Door::ResetLink if self.has(Fault::WrongCodeBurnsResetLink) => changed.totp.reset_token = None,
            Door::Device if self.has(Fault::WrongSetupCodeForgetsSecret) => changed.totp.secret = None,
            _ => return None,
        }
        Some(changed)
    }

    // ------------------------------------------------------------ opaque keys

    /// CREATE-1, CREATE-2: the key `totp_create_opaque_key` hands out, and
    /// whether it is a new one to store.
    pub(super) fn key_to_create(&self, org: &Organization, user_id: UserID) -> (OpaqueKey, bool) {
        if self.has(Fault::OpaqueKeyReused)
            && let Some(existing) = org
                .opaque_keys
                .values()
                .filter(|k| k.user_id == user_id)
                .min_by_key(|k| k.id)
        {
            return (existing.clone(), false);
        }
        let key = match self.has(Fault::SameOpaqueKeyForEveryone) {
            true => SecretKey([0x42; 32]),
            false => SecretKey::generate(),
        };
        let created = OpaqueKey {
            id: TOTPOpaqueKeyID::new(),
            user_id,
            key,
            failed_attempts: 0,
            last_failed_attempt: None,
        };
        (created, true)
    }

    /// FETCH-3, FETCH-4, FETCH-5: the opaque key a login names, with its
    /// organization: one of the user's own keys in the organization of the
    /// request, or none.
    pub(super) fn key_for_login<'a>(
        &self,
        orgs: &'a HashMap<OrganizationID, Organization>,
        organization_id: &OrganizationID,
        user_id: UserID,
        key_id: TOTPOpaqueKeyID,
    ) -> Option<(&'a OrganizationID, &'a OpaqueKey)> {
        let (org_id, org) = orgs.get_key_value(organization_id)?;
        let owned = |k: &OpaqueKey| k.user_id == user_id || self.has(Fault::FetchKeyOfAnyUser);
        if let Some(key) = org.opaque_keys.get(&key_id).filter(|k| owned(k)) {
            return Some((org_id, key));
        }
        if self.has(Fault::OpaqueKeysSharedBetweenOrganizations)
            && let Some(found) = orgs
                .iter()
                .find_map(|(id, o)| o.opaque_keys.get(&key_id).filter(|k| owned(k)).map(|k| (id, k)))
        {
            return Some(found);
        }
        if self.has(Fault::UnknownKeyIdFallsBack) && !org.opaque_keys.contains_key(&key_id) {
            return org
                .opaque_keys
                .values()
                .filter(|k| k.user_id == user_id)
                .min_by_key(|k| k.id)
                .map(|k| (org_id, k));
        }
        None
    }

    // ------------------------------------------------------------ throttle

    /// THR-1, THR-2: until when a key refuses attempts, given the right
    /// answer (`last failure + 2^(n-1) s`).
    pub(super) fn wait_until(&self, key: &OpaqueKey, correct: Option<DateTime>) -> Option<DateTime> {
        let (n, last) = (key.failed_attempts as i64, key.last_failed_attempt?);
        if self.has(Fault::LockoutDisabled) || n == 0 {
            return None;
        }
        if self.has(Fault::ThrottleFromTwoSeconds) {
            return Some(last.add_seconds(1 << n.min(62)));
        }
        if self.has(Fault::ThrottleLinear) {
            return Some(last.add_seconds(n));
        }
        if self.has(Fault::ThrottleCapped) {
            return correct.map(|w| DateTime::from_micros(w.as_micros().min(last.add_seconds(3600).as_micros())));
        }
        correct
    }

    /// THR-1: the `wait_until` a `throttled` reply at `now` names, given
    /// the right one.
    pub(super) fn reported_wait(&self, now: DateTime, wait_until: DateTime) -> DateTime {
        match self.has(Fault::ThrottleWaitInThePast) {
            true => now.add_seconds(-3600),
            false => wait_until,
        }
    }

    /// THR-3: whether an attempt at `now` falls in the wait.
    pub(super) fn in_wait(&self, now: DateTime, wait_until: DateTime) -> bool {
        match self.has(Fault::ThrottleEndExcluded) {
            true => now < wait_until,
            false => now <= wait_until,
        }
    }

    /// THR-4: whether a right code opens a key during its wait.
    pub(super) fn right_code_passes_wait(&self) -> bool {
        self.has(Fault::RightCodeBypassesThrottle)
    }

    /// THR-5: the key after an attempt answered `throttled`, if it changes.
    pub(super) fn after_throttled_attempt(&self, key: &OpaqueKey, now: DateTime) -> Option<OpaqueKey> {
        self.has(Fault::ThrottledRepliesCounted)
            .then(|| key.with_failure_at(now))
    }

    /// THR-6: the key after a right code, if it changes.
    pub(super) fn after_right_code(&self, key: &OpaqueKey) -> Option<OpaqueKey> {
        let cleared = key.with_throttle_cleared();
        (cleared != *key && !self.has(Fault::SuccessKeepsCount)).then_some(cleared)
    }

    /// THR-7, THR-8: the keys after a wrong code on `key` (`wait_until`: its
    /// wait before this failure).
    pub(super) fn after_wrong_code(
        &self,
        org: &Organization,
        key: &OpaqueKey,
        wait_until: Option<DateTime>,
        now: DateTime,
    ) -> Vec<OpaqueKey> {
        let mut counted = key.clone();
        if self.has(Fault::ThrottleDecays) && wait_until.is_some_and(|w| now > w) {
            counted = counted.with_throttle_cleared();
        }
        let mut keys = vec![counted.with_failure_at(now)];
        if self.has(Fault::ThrottlePerUser) {
            keys.extend(
                org.opaque_keys
                    .values()
                    .filter(|k| k.user_id == key.user_id && k.id != key.id)
                    .map(|k| k.with_failure_at(now)),
            );
        }
        keys
    }

    /// FETCH-6: the key after a login refused before its code was looked
    /// at (frozen user), if it changes.
    pub(super) fn after_refused_login(&self, key: &OpaqueKey, user: &User, now: DateTime) -> Option<OpaqueKey> {
        (self.has(Fault::FrozenAttemptsCounted) && user.frozen).then(|| key.with_failure_at(now))
    }

    // ------------------------------------------------------------ freeze and revoke

    /// FRZ-1 to FRZ-6: whether a revoked user is let in at `door`.
    pub(super) fn lets_revoked_in(&self, door: Door) -> bool {
        self.has(match door {
            Door::Device => Fault::RevokedUserAuthenticates,
            Door::Login => Fault::RevokedUserFetchesKey,
            Door::ResetLink => Fault::RevokedUserUsesResetLink,
        })
    }

    /// FRZ-1 to FRZ-3, FETCH-6: whether a frozen user is let in at `door`.
    pub(super) fn lets_frozen_in(&self, door: Door) -> bool {
        match door {
            Door::Device => self.has(Fault::FrozenUserAuthenticates),
            Door::Login => self.has(Fault::FrozenUserFetchesKey),
            Door::ResetLink => self.has(Fault::FrozenUserUsesResetLink),
        }
    }

    /// FETCH-2, RST-2: whether a login needs a confirmed setup.
    pub(super) fn login_needs_confirmed_setup(&self) -> bool {
        !self.has(Fault::FetchBeforeSetupConfirmed)
    }

    /// FRZ-7: the frozen state an administrator's request leaves.
    pub(super) fn frozen_after(&self, requested: bool, before: bool) -> bool {
        match self.has(Fault::UnfreezeIgnored) {
            true => requested || before,
            false => requested,
        }
    }

    // ------------------------------------------------------------ reset

    /// RST-5: the token of a new reset, given the one still pending.
    pub(super) fn reset_token(&self, pending: Option<AccessToken>) -> AccessToken {
        match pending {
            Some(token) if self.has(Fault::SecondResetKeepsFirstLink) => token,
            _ => AccessToken::new(),
        }
    }

    /// RST-1, RST-2: the MFA state of a user once reset.
    pub(super) fn reset_user(&self, user: &User, token: AccessToken) -> User {
        let mut reset = user.clone();
        reset.totp.setup_completed = self.has(Fault::ResetKeepsSetupCompleted) && user.totp.setup_completed;
        if !self.has(Fault::ResetKeepsOldSecret) {
            reset.totp.secret = None;
        }
        reset.totp.reset_token = Some(token);
        reset
    }

    /// RST-3, RST-4: the opaque keys a reset rewrites: throttles cleared,
    /// keys kept.
    pub(super) fn opaque_key_changes_on_reset(&self, org: &Organization, user_id: UserID) -> Vec<OpaqueKey> {
        org.opaque_keys
            .values()
            .filter(|k| k.user_id == user_id)
            .map(|k| {
                let mut key = match self.has(Fault::ResetKeepsLockout) {
                    true => k.clone(),
                    false => k.with_throttle_cleared(),
                };
                if self.has(Fault::ResetDeletesOpaqueKeys) {
                    // Nobody owns this id: fetching the key now fails.
                    key.user_id = UserID::from_bytes([0; 16]);
                }
                key
            })
            .collect()
    }

    /// RST-6: whether setting MFA up again (by the link or from a device)
    /// uses a pending link up.
    pub(super) fn setup_ends_reset_link(&self) -> bool {
        !self.has(Fault::ResetLinkReusable)
    }

    /// RST-7, RST-8: whether `token` is the pending reset token of `user`
    /// (of the organization `org`).
    pub(super) fn reset_token_matches(&self, org: &Organization, user: &User, token: AccessToken) -> bool {
        if self.has(Fault::ResetTokenUnchecked) && user.totp.reset_token.is_some() {
            return true;
        }
        if self.has(Fault::ResetTokenOfAnyUser) {
            return org.users.values().any(|u| u.totp.reset_token == Some(token));
        }
        user.totp.reset_token == Some(token)
    }

    /// RST-10: whether the reset email is sent (`asked`: `--send-email`),
    /// and whether it is reported sent without being sent.
    pub(super) fn reset_email(&self, asked: bool) -> (bool, bool) {
        match (
            asked,
            self.has(Fault::ResetEmailNotSent),
            self.has(Fault::ResetEmailSentUnasked),
        ) {
            (true, true, _) => (false, true),
            (false, _, true) => (true, false),
            (asked, _, _) => (asked, false),
        }
    }

    /// RST-12: whether a frozen user can be reset.
    pub(super) fn resets_frozen_users(&self) -> bool {
        !self.has(Fault::FrozenUserNotResettable)
    }

    // ------------------------------------------------------------ administration

    /// ADM-1: whether a bearer token is the administration token.
    pub(super) fn admin_token_accepted(&self, correct: bool) -> bool {
        correct || self.has(Fault::AdminTokenUnchecked)
    }

    /// ADM-3: whether an organization in use may be created again.
    pub(super) fn recreates_bootstrapped_organizations(&self) -> bool {
        self.has(Fault::BootstrappedOrganizationRecreated)
    }

    /// ADM-4: whether a user id and an email together select the user of the id.
    pub(super) fn accepts_both_selectors(&self) -> bool {
        self.has(Fault::AdminBothSelectorsAccepted)
    }

    /// ADM-5: whether a user missing from the organization of the path is
    /// looked for in the others.
    pub(super) fn looks_for_users_elsewhere(&self) -> bool {
        self.has(Fault::AdminUserLookupAcrossOrganizations)
    }

    /// ADM-6: whether the email lookup considers revoked users.
    pub(super) fn finds_revoked_by_email(&self) -> bool {
        self.has(Fault::RevokedUserFoundByEmail)
    }

    // ------------------------------------------------------------ handshake

    /// HS-7: whether a device unknown to the organization of the path is
    /// looked for in the others.
    pub(super) fn looks_for_devices_elsewhere(&self) -> bool {
        self.has(Fault::DevicesFoundInAnyOrganization)
    }

    /// HS-8: whether a request's signature passes, given the right answer.
    pub(super) fn signature_accepted(&self, valid: bool) -> bool {
        valid || self.has(Fault::SignatureUnchecked)
    }

    /// HS-9: whether a signed timestamp passes, given the right answer.
    pub(super) fn token_age_accepted(&self, in_ballpark: bool) -> bool {
        in_ballpark || self.has(Fault::TokenAgeUnchecked)
    }

    // ------------------------------------------------------------ advice

    /// ADV-1: whether `server_config` tells the advice.
    pub(super) fn serves_advice(&self) -> bool {
        !self.has(Fault::AdviceNotServed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_has_a_unique_name_a_rule_and_a_description() {
        let names: BTreeSet<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(names.len(), Fault::ALL.len());
        assert_eq!(Faults::NAMES.len(), Fault::ALL.len());
        for fault in Fault::ALL {
            assert_eq!(Fault::from_name(fault.name()), Some(*fault));
            let (group, number) = fault.rule().rsplit_once('-').expect("GROUP-N");
            assert!(!group.is_empty() && number.parse::<u32>().is_ok(), "{}", fault.rule());
            assert!(!fault.description().is_empty());
        }
    }

    #[test]
    fn unknown_names_are_refused_with_the_list() {
        let error = Faults::default().enable("no-such-fault").unwrap_err();
        assert!(matches!(&error, FaultError::UnknownFault { name, .. } if name == "no-such-fault"));
        let message = error.to_string();
        assert!(
            message.starts_with("unknown fault `no-such-fault` (known: wide-clock-window, no-clock-window, "),
            "{message}"
        );
        assert!(message.ends_with(", advice-not-served)"), "{message}");
        assert!(message.contains("lockout-disabled"), "{message}");
    }
}
