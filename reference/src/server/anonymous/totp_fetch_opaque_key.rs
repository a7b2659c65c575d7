//! Anonymous `totp_fetch_opaque_key` (FETCH-1 to FETCH-7, THR-1 to THR-8):
//! the login step, throttled per opaque key.
//!
//! Only one of the user's own keys, in the organization of the request, can
//! be opened, by a user who is neither revoked nor frozen and whose setup is
//! confirmed; every other case is `invalid_one_time_password` and counts
//! nothing. After n consecutive wrong codes no attempt is considered until
//! `last failure + 2^(n-1) s` (inclusive), even with a right code, and a
//! `throttled` answer does not count. A right code clears the count.

use crate::protocol::OrganizationID;
use crate::protocol::anonymous::totp_fetch_opaque_key::{Rep, Req};
use crate::server::faults::Door;
use crate::server::http::Abort;
use crate::server::rpc::AnonymousContext;
use crate::server::store::{Change, OpaqueKey};

pub fn handle(ctx: &AnonymousContext<'_>, req: Req) -> Result<Rep, Abort> {
    let organization_id = &ctx.organization_id;
    let (state, now) = (ctx.state, ctx.now);
    state.store.write(|orgs| {
        let Some(org) = orgs.get(organization_id) else {
            return (Err(Abort::ORGANIZATION_NOT_FOUND), vec![]);
        };
        if org.row.is_expired {
            return (Err(Abort::ORGANIZATION_EXPIRED), vec![]);
        }
        let rows = |org_id: &OrganizationID, keys: Vec<OpaqueKey>| {
            keys.into_iter()
                .map(|k| Change::OpaqueKey(org_id.clone(), k))
                .collect::<Vec<_>>()
        };
        let invalid = |changes| (Ok(Rep::InvalidOneTimePassword {}), changes);
        let Some(user) = org.users.get(&req.user_id) else {
            return invalid(vec![]);
        };
        let Some((key_org, key)) = state
            .faults
            .key_for_login(orgs, organization_id, user.user_id, req.opaque_key_id)
        else {
            return invalid(vec![]);
        };
        // Refused before the code is looked at: the throttle is neither
        // read nor counted (FETCH-6).
        if state.barred(user, Door::Login).is_some()
            || (!user.totp.setup_completed && state.faults.login_needs_confirmed_setup())
        {
            let counted = state.faults.after_refused_login(key, user, now);
            return invalid(rows(key_org, counted.into_iter().collect()));
        }
        let right = state.verify_user_code(user, &req.one_time_password, now);
        if let Some(wait_until) = state.throttled_at(key, now)
            && !(right && state.faults.right_code_passes_wait())
        {
            let counted = state.faults.after_throttled_attempt(key, now);
            return (
                Ok(Rep::Throttled { wait_until }),
                rows(key_org, counted.into_iter().collect()),
            );
        }
        if right {
            let cleared = state.faults.after_right_code(key);
            return (
                Ok(Rep::Ok {
                    opaque_key: key.key.clone(),
                }),
                rows(key_org, cleared.into_iter().collect()),
            );
        }
        let key_org_row = orgs.get(key_org).unwrap_or(org);
        let failed = state
            .faults
            .after_wrong_code(key_org_row, key, state.throttle_wait_until(key), now);
        invalid(rows(key_org, failed))
    })?
}
