//! Anonymous `totp_setup_confirm` (BEHAVIORS.md §2.5): completes the
//! re-setup of a reset link. The token stays valid after a wrong code.

use super::reset_link_user;
use crate::protocol::anonymous::totp_setup_confirm::{Rep, Req};
use crate::server::http::Abort;
use crate::server::rpc::AnonymousContext;
use crate::server::store::Change;

pub fn handle(ctx: &AnonymousContext<'_>, req: Req) -> Result<Rep, Abort> {
    let organization_id = &ctx.organization_id;
    ctx.state.store.write(
        |orgs| match reset_link_user(orgs, organization_id, &req.user_id, req.token) {
            Err(abort) => (Err(abort), vec![]),
            Ok(None) => (Ok(Rep::BadToken {}), vec![]),
            Ok(Some(user)) if !ctx.state.verify_user_code(user, &req.one_time_password, ctx.now) => {
                (Ok(Rep::InvalidOneTimePassword {}), vec![])
            }
            Ok(Some(user)) => (
                Ok(Rep::Ok {}),
                vec![Change::User(organization_id.clone(), user.with_setup_confirmed())],
            ),
        },
    )?
}
