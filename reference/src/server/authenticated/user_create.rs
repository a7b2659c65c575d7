//! Authenticated `user_create`: an administrator adds a user and their
//! first device, both certificates signed by the administrator's device.

use super::author;
use crate::protocol::UserProfile;
use crate::protocol::authenticated::user_create::{Rep, Req};
use crate::protocol::certif::CertificateSigner;
use crate::server::certificates::{NewUser, refused_reply, verify_new_user};
use crate::server::http::Abort;
use crate::server::rpc::AuthenticatedContext;
use crate::server::store::{Change, Device, User};

pub fn handle(ctx: &AuthenticatedContext<'_>, req: Req) -> Result<Rep, Abort> {
    ctx.state.store.write(|orgs| {
        let (org, author_user) = match author(orgs, ctx) {
            Ok(found) => found,
            Err(abort) => return (Err(abort), vec![]),
        };
        if author_user.profile != UserProfile::Admin {
            return (Ok(Rep::AuthorNotAllowed {}), vec![]);
        }
        let Some(author_device) = org.devices.get(&ctx.device_id) else {
            return (Err(Abort::BAD_AUTHENTICATION), vec![]);
        };
        let certificates = [
            &req.user_certificate,
            &req.device_certificate,
            &req.redacted_user_certificate,
            &req.redacted_device_certificate,
        ];
        let signer = CertificateSigner::User(ctx.device_id);
        let NewUser {
            user,
            human_handle,
            device,
        } = match verify_new_user(certificates, &author_device.verify_key, signer, ctx.now, false) {
            Ok(checked) => checked,
            Err(refused) => return (Ok(refused_reply!(Rep, refused)), vec![]),
        };
        if org.users.contains_key(&user.user_id) || org.devices.contains_key(&device.device_id) {
            return (Ok(Rep::UserAlreadyExists {}), vec![]);
        }
        if org.active_user_by_email(&human_handle.email).is_some() {
            return (Ok(Rep::HumanHandleAlreadyTaken {}), vec![]);
        }
        if org
            .row
            .active_users_limit
            .is_some_and(|limit| org.active_users() as u64 >= limit)
        {
            return (Ok(Rep::ActiveUsersLimitReached {}), vec![]);
        }
        if let Some(last) = org.row.last_certificate_timestamp
            && user.timestamp <= last
        {
            return (
                Ok(Rep::RequireGreaterTimestamp {
                    strictly_greater_than: last,
                }),
                vec![],
            );
        }
        let mut row = org.row.clone();
        row.last_certificate_timestamp = Some(user.timestamp);
        let new_user = User::from_certificate(
            &user,
            human_handle,
            &req.user_certificate.0,
            &req.redacted_user_certificate.0,
        );
        let new_device =
            Device::from_certificate(&device, &req.device_certificate.0, &req.redacted_device_certificate.0);
        let changes = vec![
            Change::Organization(row),
            Change::User(ctx.organization_id.clone(), new_user),
            Change::Device(ctx.organization_id.clone(), new_device),
        ];
        (Ok(Rep::Ok {}), changes)
    })?
}
