//! Anonymous `organization_bootstrap`: the first user (an administrator) and
//! device, signed by the new root key.

use crate::protocol::UserProfile;
use crate::protocol::anonymous::organization_bootstrap::{Rep, Req};
use crate::protocol::certif::{CertificateSigner, DeviceCertificate, UserCertificate};
use crate::server::certificates::{Refused, check_ballpark, refused_reply, verify};
use crate::server::http::Abort;
use crate::server::rpc::AnonymousContext;
use crate::server::store::{Change, Device, TotpState, User};

struct Checked {
    user: UserCertificate,
    device: DeviceCertificate,
}

fn check_certificates(req: &Req, ctx: &AnonymousContext<'_>) -> Result<Checked, Refused> {
    if req.sequester_authority_certificate.is_some() {
        // Sequestering is not part of the MFA lifecycle: not supported.
        return Err(Refused::Invalid);
    }
    let root = &req.root_verify_key;
    let user: UserCertificate = verify(&req.user_certificate.0, root, CertificateSigner::Root)?;
    let device: DeviceCertificate = verify(&req.device_certificate.0, root, CertificateSigner::Root)?;
    let redacted_user: UserCertificate = verify(&req.redacted_user_certificate.0, root, CertificateSigner::Root)?;
    let redacted_device: DeviceCertificate = verify(&req.redacted_device_certificate.0, root, CertificateSigner::Root)?;
    let consistent = user.profile == UserProfile::Admin
        && user.human_handle.is_some()
        && device.device_label.is_some()
        && device.user_id == user.user_id
        && device.timestamp == user.timestamp
        && redacted_user == user.redacted()
        && redacted_device == device.redacted();
    if !consistent {
        return Err(Refused::Invalid);
    }
    check_ballpark(user.timestamp, ctx.now)?;
    Ok(Checked { user, device })
}

pub fn handle(ctx: &AnonymousContext<'_>, req: Req) -> Result<Rep, Abort> {
    let Checked { user, device } = match check_certificates(&req, ctx) {
        Ok(checked) => checked,
        Err(refused) => return Ok(refused_reply!(Rep, refused)),
    };
    let organization_id = &ctx.organization_id;
    ctx.state.store.write(|orgs| {
        let Some(org) = orgs.get(organization_id) else {
            return (Err(Abort::ORGANIZATION_NOT_FOUND), vec![]);
        };
        if org.is_bootstrapped() {
            return (Ok(Rep::OrganizationAlreadyBootstrapped {}), vec![]);
        }
        if org.row.bootstrap_token != req.bootstrap_token {
            return (Ok(Rep::InvalidBootstrapToken {}), vec![]);
        }
        let mut row = org.row.clone();
        row.root_verify_key = Some(req.root_verify_key.clone());
        row.last_certificate_timestamp = Some(user.timestamp);
        let changes = vec![
            Change::Organization(row),
            Change::User(
                organization_id.clone(),
                User {
                    user_id: user.user_id,
                    human_handle: user.human_handle.clone().expect("checked above"),
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
                organization_id.clone(),
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
