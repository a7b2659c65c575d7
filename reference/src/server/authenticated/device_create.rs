//! Authenticated `device_create`: a user adds a device of their own (the
//! same MFA setup then serves it too).

use crate::protocol::authenticated::device_create::{Rep, Req};
use crate::protocol::certif::{CertificateSigner, DeviceCertificate};
use crate::server::certificates::{Refused, check_ballpark, refused_reply, verify};
use crate::server::http::Abort;
use crate::server::rpc::AuthenticatedContext;
use crate::server::store::{Change, Device};

pub fn handle(ctx: &AuthenticatedContext<'_>, req: Req) -> Result<Rep, Abort> {
    ctx.state.store.write(|orgs| {
        let (org, _) = match super::author(orgs, ctx) {
            Ok(found) => found,
            Err(abort) => return (Err(abort), vec![]),
        };
        let Some(author_device) = org.devices.get(&ctx.device_id) else {
            return (Err(Abort::BAD_AUTHENTICATION), vec![]);
        };
        let checked = (|| -> Result<DeviceCertificate, Refused> {
            let signer = CertificateSigner::User(ctx.device_id);
            let key = &author_device.verify_key;
            let device: DeviceCertificate = verify(&req.device_certificate.0, key, signer)?;
            let redacted: DeviceCertificate = verify(&req.redacted_device_certificate.0, key, signer)?;
            if device.user_id != ctx.user_id || device.device_label.is_none() || redacted != device.redacted() {
                return Err(Refused::Invalid);
            }
            check_ballpark(device.timestamp, ctx.now)?;
            Ok(device)
        })();
        let device = match checked {
            Ok(device) => device,
            Err(refused) => return (Ok(refused_reply!(Rep, refused)), vec![]),
        };
        if org.devices.contains_key(&device.device_id) {
            return (Ok(Rep::DeviceAlreadyExists {}), vec![]);
        }
        if let Some(last) = org.row.last_certificate_timestamp
            && device.timestamp <= last
        {
            return (
                Ok(Rep::RequireGreaterTimestamp {
                    strictly_greater_than: last,
                }),
                vec![],
            );
        }
        let mut row = org.row.clone();
        row.last_certificate_timestamp = Some(device.timestamp);
        let changes = vec![
            Change::Organization(row),
            Change::Device(
                ctx.organization_id.clone(),
                Device::from_certificate(&device, &req.device_certificate.0, &req.redacted_device_certificate.0),
            ),
        ];
        (Ok(Rep::Ok {}), changes)
    })?
}
