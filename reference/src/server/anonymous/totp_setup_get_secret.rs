//! Anonymous `totp_setup_get_secret` (BEHAVIORS.md §2.4): the reset link
//! gives the new secret. Every refusal is `bad_token`.

use super::reset_link_user;
use crate::protocol::OrganizationID;
use crate::protocol::anonymous::totp_setup_get_secret::{Rep, Req};
use crate::server::http::Abort;
use crate::server::rpc::AnonymousContext;
use crate::server::store::{Change, User};

pub fn handle(ctx: &AnonymousContext<'_>, req: Req) -> Result<Rep, Abort> {
    let organization_id = &ctx.organization_id;
    ctx.state.store.write(
        |orgs| match reset_link_user(orgs, organization_id, &req.user_id, req.token) {
            Err(abort) => (Err(abort), vec![]),
            Ok(None) => (Ok(Rep::BadToken {}), vec![]),
            Ok(Some(user)) => {
                let (secret, changes) = secret_or_create(organization_id, user);
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

/// The user's secret, created (and stored) on first demand.
pub fn secret_or_create(organization_id: &OrganizationID, user: &User) -> (Vec<u8>, Vec<Change>) {
    match &user.totp.secret {
        Some(secret) => (secret.clone(), vec![]),
        None => {
            let secret = crate::totp::generate_secret();
            let mut updated = user.clone();
            updated.totp.secret = Some(secret.clone());
            (secret, vec![Change::User(organization_id.clone(), updated)])
        }
    }
}
