//! Authenticated `totp_create_opaque_key` (CREATE-1, CREATE-2): a new
//! random key with a fresh throttle, whatever the setup state.

use super::author;
use crate::protocol::authenticated::totp_create_opaque_key::{Rep, Req};
use crate::server::http::Abort;
use crate::server::rpc::AuthenticatedContext;
use crate::server::store::Change;

pub fn handle(ctx: &AuthenticatedContext<'_>, _req: Req) -> Result<Rep, Abort> {
    ctx.state.store.write(|orgs| {
        let (org, user) = match author(orgs, ctx) {
            Ok(found) => found,
            Err(abort) => return (Err(abort), vec![]),
        };
        let (key, is_new) = ctx.state.faults.key_to_create(org, user.user_id);
        let rep = Rep::Ok {
            opaque_key: key.key.clone(),
            opaque_key_id: key.id,
        };
        let changes = match is_new {
            true => vec![Change::OpaqueKey(ctx.organization_id.clone(), key)],
            false => vec![],
        };
        (Ok(rep), changes)
    })?
}
