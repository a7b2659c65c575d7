//! Authenticated `totp_setup_confirm` (BEHAVIORS.md §2.2). Success also
//! cancels a pending reset link. Failures here are not throttled.

use super::author;
use crate::protocol::authenticated::totp_setup_confirm::{Rep, Req};
use crate::server::http::Abort;
use crate::server::rpc::AuthenticatedContext;
use crate::server::store::Change;

pub fn handle(ctx: &AuthenticatedContext<'_>, req: Req) -> Result<Rep, Abort> {
    ctx.state.store.write(|orgs| {
        let (_, user) = match author(orgs, ctx) {
            Ok(found) => found,
            Err(abort) => return (Err(abort), vec![]),
        };
        if user.totp.setup_completed {
            return (Ok(Rep::AlreadySetup {}), vec![]);
        }
        if !ctx.state.verify_user_code(user, &req.one_time_password, ctx.now) {
            return (Ok(Rep::InvalidOneTimePassword {}), vec![]);
        }
        (
            Ok(Rep::Ok {}),
            vec![Change::User(ctx.organization_id.clone(), user.with_setup_confirmed())],
        )
    })?
}
