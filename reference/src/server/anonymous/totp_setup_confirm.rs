//! Anonymous `totp_setup_confirm` (ANON-CONFIRM-1, ANON-CONFIRM-2): completes
//! the re-setup of a reset link and uses the link up. The link stays valid
//! after a wrong code.

use super::reset_link_user;
use crate::protocol::anonymous::totp_setup_confirm::{Rep, Req};
use crate::server::faults::Door;
use crate::server::http::Abort;
use crate::server::rpc::AnonymousContext;
use crate::server::store::Change;

pub fn handle(ctx: &AnonymousContext<'_>, req: Req) -> Result<Rep, Abort> {
    let organization_id = &ctx.organization_id;
    let state = ctx.state;
    state.store.write(|orgs| {
        let user = match reset_link_user(state, orgs, organization_id, &req.user_id, req.token) {
            Err(abort) => return (Err(abort), vec![]),
            Ok(None) => return (Ok(Rep::BadToken {}), vec![]),
            Ok(Some((_, user))) => user,
        };
        let right = state.verify_user_code(user, &req.one_time_password, ctx.now);
        if !state.faults.confirmation_accepted(right, Door::ResetLink) {
            let changes = state
                .faults
                .after_wrong_confirmation(user, Door::ResetLink)
                .map(|u| Change::User(organization_id.clone(), u));
            return (Ok(Rep::InvalidOneTimePassword {}), changes.into_iter().collect());
        }
        (
            Ok(Rep::Ok {}),
            vec![Change::User(organization_id.clone(), state.setup_confirmed(user))],
        )
    })?
}
