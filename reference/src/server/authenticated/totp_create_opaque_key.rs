//! Authenticated `totp_create_opaque_key` (BEHAVIORS.md §2.3): a new key
//! with a fresh throttle, whatever the setup state.

use super::author;
use crate::crypto::SecretKey;
use crate::protocol::TOTPOpaqueKeyID;
use crate::protocol::authenticated::totp_create_opaque_key::{Rep, Req};
use crate::server::http::Abort;
use crate::server::rpc::AuthenticatedContext;
use crate::server::store::{Change, OpaqueKey};

pub fn handle(ctx: &AuthenticatedContext<'_>, _req: Req) -> Result<Rep, Abort> {
    ctx.state.store.write(|orgs| {
        let (_, user) = match author(orgs, ctx) {
            Ok(found) => found,
            Err(abort) => return (Err(abort), vec![]),
        };
        let key = OpaqueKey {
            id: TOTPOpaqueKeyID::new(),
            user_id: user.user_id,
            key: SecretKey::generate(),
            failed_attempts: 0,
            last_failed_attempt: None,
        };
        let rep = Rep::Ok {
            opaque_key: key.key.clone(),
            opaque_key_id: key.id,
        };
        (Ok(rep), vec![Change::OpaqueKey(ctx.organization_id.clone(), key)])
    })?
}
