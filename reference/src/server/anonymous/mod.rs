//! Handlers of the anonymous commands.

mod organization_bootstrap;
mod ping;
mod totp_fetch_opaque_key;
mod totp_setup_confirm;
mod totp_setup_get_secret;

pub use totp_setup_get_secret::secret_or_create;

use super::http::Abort;
use super::rpc::AnonymousContext;
use crate::protocol::anonymous::AnyCmdReq;

pub async fn dispatch(ctx: &AnonymousContext<'_>, req: AnyCmdReq) -> Result<Vec<u8>, Abort> {
    Ok(match req {
        AnyCmdReq::OrganizationBootstrap(req) => organization_bootstrap::handle(ctx, req)?.dump(),
        AnyCmdReq::Ping(req) => ping::handle(req).dump(),
        AnyCmdReq::TotpSetupGetSecret(req) => totp_setup_get_secret::handle(ctx, req)?.dump(),
        AnyCmdReq::TotpSetupConfirm(req) => totp_setup_confirm::handle(ctx, req)?.dump(),
        AnyCmdReq::TotpFetchOpaqueKey(req) => totp_fetch_opaque_key::handle(ctx, req)?.dump(),
    })
}
