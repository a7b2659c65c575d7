//! Handlers of the authenticated commands.

mod device_create;
mod ping;
mod totp_create_opaque_key;
mod totp_setup_confirm;
mod totp_setup_get_secret;
mod user_create;
mod user_revoke;

use super::Barred;
use super::faults::Door;
use super::http::Abort;
use super::rpc::AuthenticatedContext;
use super::store::{Organization, User};
use crate::protocol::OrganizationID;
use crate::protocol::authenticated::AnyCmdReq;
use std::collections::HashMap;

pub async fn dispatch(ctx: &AuthenticatedContext<'_>, req: AnyCmdReq) -> Result<Vec<u8>, Abort> {
    Ok(match req {
        AnyCmdReq::Ping(req) => ping::handle(req).dump(),
        AnyCmdReq::TotpSetupGetSecret(req) => totp_setup_get_secret::handle(ctx, req)?.dump(),
        AnyCmdReq::TotpSetupConfirm(req) => totp_setup_confirm::handle(ctx, req)?.dump(),
        AnyCmdReq::TotpCreateOpaqueKey(req) => totp_create_opaque_key::handle(ctx, req)?.dump(),
        AnyCmdReq::UserCreate(req) => user_create::handle(ctx, req)?.dump(),
        AnyCmdReq::DeviceCreate(req) => device_create::handle(ctx, req)?.dump(),
        AnyCmdReq::UserRevoke(req) => user_revoke::handle(ctx, req)?.dump(),
    })
}

/// The organization and the author, re-checked inside the command's
/// transaction (the state may have changed since the handshake). As in the
/// official server, only the revocation is checked again here (FRZ-4).
fn author<'a>(
    orgs: &'a HashMap<OrganizationID, Organization>,
    ctx: &AuthenticatedContext<'_>,
) -> Result<(&'a Organization, &'a User), Abort> {
    let org = orgs.get(&ctx.organization_id).ok_or(Abort::ORGANIZATION_NOT_FOUND)?;
    if org.row.is_expired {
        return Err(Abort::ORGANIZATION_EXPIRED);
    }
    let user = org.users.get(&ctx.user_id).ok_or(Abort::BAD_AUTHENTICATION)?;
    if let Some(Barred::Revoked) = ctx.state.barred(user, Door::Device) {
        return Err(Abort::USER_REVOKED);
    }
    Ok((org, user))
}
