//! Anonymous `totp_setup_get_secret` (BEHAVIORS.md §2.4): the reset link
//! gives the new secret. Every refusal is `bad_token`.

use crate::protocol::anonymous::totp_setup_get_secret::{Rep, Req};
use crate::server::http::Abort;
use crate::server::rpc::AnonymousContext;
use crate::server::store::{Change, User};

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
        if user.totp.reset_token != Some(req.token) || user.totp.setup_completed {
            return (Ok(Rep::BadToken {}), vec![]);
        }
        let (secret, changes) = secret_or_create(organization_id, user);
        (
            Ok(Rep::Ok {
                totp_secret: secret.into(),
            }),
            changes,
        )
    })?
}

/// The user's secret, created (and stored) on first demand.
pub fn secret_or_create(organization_id: &crate::protocol::OrganizationID, user: &User) -> (Vec<u8>, Vec<Change>) {
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
