//! Anonymous `totp_setup_get_secret` (ANON-SECRET-1, ANON-SECRET-2): the
//! reset link gives the new secret, the same one at each opening until the
//! setup is confirmed. Every refusal is `bad_token`.

use super::reset_link_user;
use crate::protocol::anonymous::totp_setup_get_secret::{Rep, Req};
use crate::server::faults::Door;
use crate::server::http::Abort;
use crate::server::rpc::AnonymousContext;

pub fn handle(ctx: &AnonymousContext<'_>, req: Req) -> Result<Rep, Abort> {
    let organization_id = &ctx.organization_id;
    ctx.state.store.write(
        |orgs| match reset_link_user(ctx.state, orgs, organization_id, &req.user_id, req.token) {
            Err(abort) => (Err(abort), vec![]),
            Ok(None) => (Ok(Rep::BadToken {}), vec![]),
            Ok(Some((org, user))) => {
                let (secret, changes) = ctx.state.secret_or_create(organization_id, org, user, Door::ResetLink);
                (
                    Ok(Rep::Ok {
                        totp_secret: secret.into(),
                    }),
                    changes,
                )
            }
        },
    )?
}
