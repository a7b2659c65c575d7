//! Authenticated `totp_setup_get_secret` (BEHAVIORS.md §2.1): creates the
//! secret on first call; the same secret until the setup is confirmed.

use super::author;
use crate::protocol::authenticated::totp_setup_get_secret::{Rep, Req};
use crate::server::anonymous::secret_or_create;
use crate::server::http::Abort;
use crate::server::rpc::AuthenticatedContext;

pub fn handle(ctx: &AuthenticatedContext<'_>, _req: Req) -> Result<Rep, Abort> {
    ctx.state.store.write(|orgs| {
        let (_, user) = match author(orgs, ctx) {
            Ok(found) => found,
            Err(abort) => return (Err(abort), vec![]),
        };
        if user.totp.setup_completed {
            return (Ok(Rep::AlreadySetup {}), vec![]);
        }
        let (secret, changes) = secret_or_create(&ctx.organization_id, user);
        (
            Ok(Rep::Ok {
                totp_secret: secret.into(),
            }),
            changes,
        )
    })?
}
