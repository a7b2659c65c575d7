//! Anonymous `totp_fetch_opaque_key` (BEHAVIORS.md §2.6, §3): the login step,
//! throttled per opaque key.
//!
//! After n consecutive failures no attempt is considered until
//! `last failure + 2^(n-1) s` (inclusive), even with a right code, and a
//! `throttled` answer does not count. A success clears the throttle.

use crate::protocol::anonymous::totp_fetch_opaque_key::{Rep, Req};
use crate::server::http::Abort;
use crate::server::rpc::AnonymousContext;
use crate::server::store::{Change, OpaqueKey};

pub fn handle(ctx: &AnonymousContext<'_>, req: Req) -> Result<Rep, Abort> {
    let organization_id = &ctx.organization_id;
    let now = ctx.now;
    ctx.state.store.write(|orgs| {
        let Some(org) = orgs.get(organization_id) else {
            return (Err(Abort::ORGANIZATION_NOT_FOUND), vec![]);
        };
        if org.row.is_expired {
            return (Err(Abort::ORGANIZATION_EXPIRED), vec![]);
        }
        // Failures decided before the throttle neither read nor count it.
        let invalid = || (Ok(Rep::InvalidOneTimePassword {}), vec![]);
        let user = match org.users.get(&req.user_id) {
            Some(u) if !u.is_revoked() && !u.frozen && u.totp.setup_completed => u,
            _ => return invalid(),
        };
        let key = match org.opaque_keys.get(&req.opaque_key_id) {
            Some(k) if k.user_id == user.user_id => k,
            _ => return invalid(),
        };
        if let Some(wait_until) = ctx.state.throttle_wait_until(key)
            && now <= wait_until
        {
            return (Ok(Rep::Throttled { wait_until }), vec![]);
        }
        let secret = user.totp.secret.as_deref().unwrap_or_default();
        if ctx.state.verify_code(secret, &req.one_time_password, now) {
            let changes = if key.failed_attempts > 0 || key.last_failed_attempt.is_some() {
                vec![Change::OpaqueKey(organization_id.clone(), key.with_throttle_cleared())]
            } else {
                vec![]
            };
            (
                Ok(Rep::Ok {
                    opaque_key: key.key.clone(),
                }),
                changes,
            )
        } else {
            let failed = OpaqueKey {
                failed_attempts: key.failed_attempts.saturating_add(1),
                last_failed_attempt: Some(now),
                ..key.clone()
            };
            (
                Ok(Rep::InvalidOneTimePassword {}),
                vec![Change::OpaqueKey(organization_id.clone(), failed)],
            )
        }
    })?
}
