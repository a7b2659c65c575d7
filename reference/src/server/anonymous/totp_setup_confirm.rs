//! Anonymous `totp_setup_confirm` (BEHAVIORS.md §2.5): completes the
//! re-setup of a reset link. The token stays valid after a wrong code.

use crate::protocol::anonymous::totp_setup_confirm::{Rep, Req};
use crate::server::http::Abort;
use crate::server::rpc::AnonymousContext;
use crate::server::store::Change;

pub fn handle(ctx: &AnonymousContext<'_>, req: Req) -> Result<Rep, Abort> {
    let organization_id = &ctx.organization_id;
    ctx.state.store.write(|orgs| {
        let Some(org) = orgs.get(organization_id) else {
            return (Err(Abort::ORGANIZATION_NOT_FOUND), vec![]);
        };
        if org.row.is_expired {
            return (Err(Abort::ORGANIZATION_EXPIRED), vec![]);
        }
        let user = match org.users.get(&req.user_id) {
            Some(u) if !u.is_revoked() && !u.frozen => u,
            _ => return (Ok(Rep::BadToken {}), vec![]),
        };
        if user.totp.setup_completed || user.totp.reset_token != Some(req.token) {
            return (Ok(Rep::BadToken {}), vec![]);
        }
        let code_ok = user
            .totp
            .secret
            .as_deref()
            .is_some_and(|secret| ctx.state.verify_code(secret, &req.one_time_password, ctx.now));
        if !code_ok {
            return (Ok(Rep::InvalidOneTimePassword {}), vec![]);
        }
        let mut updated = user.clone();
        updated.totp.setup_completed = true;
        updated.totp.reset_token = None;
        (Ok(Rep::Ok {}), vec![Change::User(organization_id.clone(), updated)])
    })?
}
