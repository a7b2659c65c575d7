//! Authenticated `user_create`: an administrator adds a user and their
//! first device, both certificates signed by the administrator's device.

use super::author;
use crate::protocol::UserProfile;
use crate::protocol::authenticated::user_create::{Rep, Req};
use crate::protocol::certif::{CertificateSigner, DeviceCertificate, UserCertificate};
use crate::server::certificates::{Refused, check_ballpark, refused_reply, verify};
use crate::server::http::Abort;
use crate::server::rpc::AuthenticatedContext;
use crate::server::store::{Change, Device, TotpState, User};

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
        let checked = (|| -> Result<(UserCertificate, DeviceCertificate), Refused> {
            let signer = CertificateSigner::User(ctx.device_id);
            let key = &author_device.verify_key;
            let user: UserCertificate = verify(&req.user_certificate.0, key, signer)?;
            let device: DeviceCertificate = verify(&req.device_certificate.0, key, signer)?;
            let redacted_user: UserCertificate = verify(&req.redacted_user_certificate.0, key, signer)?;
            let redacted_device: DeviceCertificate = verify(&req.redacted_device_certificate.0, key, signer)?;
            let consistent = user.human_handle.is_some()
                && device.device_label.is_some()
                && device.user_id == user.user_id
                && device.timestamp == user.timestamp
                && redacted_user == user.redacted()
                && redacted_device == device.redacted();
            if !consistent {
                return Err(Refused::Invalid);
            }
            check_ballpark(user.timestamp, ctx.now)?;
            Ok((user, device))
        })();
        let (user, device) = match checked {
            Ok(certs) => certs,
            Err(refused) => return (Ok(refused_reply!(Rep, refused)), vec![]),
        };
        let human_handle = user.human_handle.clone().expect("checked above");
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
        let changes = vec![
            Change::Organization(row),
            Change::User(
                ctx.organization_id.clone(),
                User {
                    user_id: user.user_id,
                    human_handle,
                    profile: user.profile,
                    created_on: user.timestamp,
                    revoked_on: None,
                    frozen: false,
                    user_certificate: req.user_certificate.0.clone(),
                    redacted_user_certificate: req.redacted_user_certificate.0.clone(),
                    totp: TotpState::default(),
                },
            ),
            Change::Device(
                ctx.organization_id.clone(),
                Device {
                    device_id: device.device_id,
                    user_id: device.user_id,
                    verify_key: device.verify_key.clone(),
                    created_on: device.timestamp,
                    device_certificate: req.device_certificate.0.clone(),
                    redacted_device_certificate: req.redacted_device_certificate.0.clone(),
                },
            ),
        ];
        (Ok(Rep::Ok {}), changes)
    })?
}
