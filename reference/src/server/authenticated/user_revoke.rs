//! Authenticated `user_revoke`: an administrator revokes a user.

use crate::protocol::UserProfile;
use crate::protocol::authenticated::user_revoke::{Rep, Req};
use crate::protocol::certif::{CertificateSigner, RevokedUserCertificate};
use crate::server::certificates::{check_ballpark, refused_reply, verify};
use crate::server::http::Abort;
use crate::server::rpc::AuthenticatedContext;
use crate::server::store::Change;

pub fn handle(ctx: &AuthenticatedContext<'_>, req: Req) -> Result<Rep, Abort> {
    ctx.state.store.write(|orgs| {
        let (org, author_user) = match super::author(orgs, ctx) {
            Ok(found) => found,
            Err(abort) => return (Err(abort), vec![]),
        };
        if author_user.profile != UserProfile::Admin {
            return (Ok(Rep::AuthorNotAllowed {}), vec![]);
        }
        let Some(author_device) = org.devices.get(&ctx.device_id) else {
            return (Err(Abort::BAD_AUTHENTICATION), vec![]);
        };
        let cert = verify::<RevokedUserCertificate>(
            &req.revoked_user_certificate.0,
            &author_device.verify_key,
            CertificateSigner::User(ctx.device_id),
        )
        .and_then(|cert| check_ballpark(cert.timestamp, ctx.now).map(|()| cert));
        let cert = match cert {
            Ok(cert) => cert,
            Err(refused) => return (Ok(refused_reply!(Rep, refused)), vec![]),
        };
        let Some(target) = org.users.get(&cert.user_id) else {
            return (Ok(Rep::UserNotFound {}), vec![]);
        };
        let last = org.row.last_certificate_timestamp.unwrap_or_default();
        if target.is_revoked() {
            return (
                Ok(Rep::UserAlreadyRevoked {
                    last_common_certificate_timestamp: last,
                }),
                vec![],
            );
        }
        if cert.timestamp <= last {
            return (
                Ok(Rep::RequireGreaterTimestamp {
                    strictly_greater_than: last,
                }),
                vec![],
            );
        }
        let mut row = org.row.clone();
        row.last_certificate_timestamp = Some(cert.timestamp);
        let mut revoked = target.clone();
        revoked.revoked_on = Some(cert.timestamp);
        (
            Ok(Rep::Ok {}),
            vec![
                Change::Organization(row),
                Change::User(ctx.organization_id.clone(), revoked),
            ],
        )
    })?
}
