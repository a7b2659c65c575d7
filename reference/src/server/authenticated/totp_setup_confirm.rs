//! Authenticated `totp_setup_confirm` (CONFIRM-1 to CONFIRM-5). Success also
//! cancels a pending reset link. Failures here are not throttled.

use super::author;
use crate::protocol::authenticated::totp_setup_confirm::{Rep, Req};
use crate::server::faults::Door;
use crate::server::http::Abort;
use crate::server::rpc::AuthenticatedContext;
use crate::server::store::Change;

pub fn handle(ctx: &AuthenticatedContext<'_>, req: Req) -> Result<Rep, Abort> {
    let state = ctx.state;
    state.store.write(|orgs| {
        let (_, user) = match author(orgs, ctx) {
            Ok(found) => found,
            Err(abort) => return (Err(abort), vec![]),
        };
        if user.totp.setup_completed && state.faults.refuses_second_confirmation() {
            return (Ok(Rep::AlreadySetup {}), vec![]);
        }
        let right = state.verify_user_code(user, &req.one_time_password, ctx.now);
        if !state.faults.confirmation_accepted(right, Door::Device) {
            let changes = state
                .faults
                .after_wrong_confirmation(user, Door::Device)
                .map(|u| Change::User(ctx.organization_id.clone(), u));
            return (Ok(Rep::InvalidOneTimePassword {}), changes.into_iter().collect());
        }
        (
            Ok(Rep::Ok {}),
            vec![Change::User(ctx.organization_id.clone(), state.setup_confirmed(user))],
        )
    })?
}
