//! Handlers of the anonymous commands.

mod organization_bootstrap;
mod ping;
mod totp_fetch_opaque_key;
mod totp_setup_confirm;
mod totp_setup_get_secret;

use super::AppState;
use super::http::Abort;
use super::rpc::AnonymousContext;
use super::store::{Organization, User};
use crate::protocol::anonymous::AnyCmdReq;
use crate::protocol::{AccessToken, OrganizationID, UserID};
use std::collections::HashMap;

pub async fn dispatch(ctx: &AnonymousContext<'_>, req: AnyCmdReq) -> Result<Vec<u8>, Abort> {
    Ok(match req {
        AnyCmdReq::OrganizationBootstrap(req) => organization_bootstrap::handle(ctx, req)?.dump(),
        AnyCmdReq::Ping(req) => ping::handle(req).dump(),
        AnyCmdReq::TotpSetupGetSecret(req) => totp_setup_get_secret::handle(ctx, req)?.dump(),
        AnyCmdReq::TotpSetupConfirm(req) => totp_setup_confirm::handle(ctx, req)?.dump(),
        AnyCmdReq::TotpFetchOpaqueKey(req) => totp_fetch_opaque_key::handle(ctx, req)?.dump(),
    })
}

/// The organization and the user a reset link designates, while the link
/// still stands (ANON-SECRET-2): `None` (answered `bad_token`) for an
/// unknown, revoked or frozen user, a wrong or used token, or a setup
/// already completed.
fn reset_link_user<'a>(
    state: &AppState,
    orgs: &'a HashMap<OrganizationID, Organization>,
    organization_id: &OrganizationID,
    user_id: &UserID,
    token: AccessToken,
) -> Result<Option<(&'a Organization, &'a User)>, Abort> {
    let org = orgs.get(organization_id).ok_or(Abort::ORGANIZATION_NOT_FOUND)?;
    if org.row.is_expired {
        return Err(Abort::ORGANIZATION_EXPIRED);
    }
    Ok(org
        .users
        .get(user_id)
        .filter(|user| state.reset_link_stands(org, user, token))
        .map(|user| (org, user)))
}
