//! Authenticated `totp_setup_get_secret` (SECRET-1 to SECRET-4): the
//! profile's MFA section. Creates the secret on first call; the same secret
//! until the setup is confirmed; never again after.

use super::author;
use crate::protocol::authenticated::totp_setup_get_secret::{Rep, Req};
use crate::server::faults::Door;
use crate::server::http::Abort;
use crate::server::rpc::AuthenticatedContext;

pub fn handle(ctx: &AuthenticatedContext<'_>, _req: Req) -> Result<Rep, Abort> {
    ctx.state.store.write(|orgs| {
        let (org, user) = match author(orgs, ctx) {
            Ok(found) => found,
            Err(abort) => return (Err(abort), vec![]),
        };
        if user.totp.setup_completed {
            return match (&user.totp.secret, ctx.state.faults.shows_secret_after_setup()) {
                (Some(secret), true) => (
                    Ok(Rep::Ok {
                        totp_secret: secret.clone().into(),
                    }),
                    vec![],
                ),
                _ => (Ok(Rep::AlreadySetup {}), vec![]),
            };
        }
        let (secret, changes) = ctx
            .state
            .secret_or_create(&ctx.organization_id, org, user, Door::Device);
        (
            Ok(Rep::Ok {
                totp_secret: secret.into(),
            }),
            changes,
        )
    })?
}
