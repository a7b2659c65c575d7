//! Anonymous `organization_bootstrap`: the first user (an administrator) and
//! device, signed by the new root key.

use crate::protocol::anonymous::organization_bootstrap::{Rep, Req};
use crate::protocol::certif::CertificateSigner;
use crate::server::certificates::{NewUser, Refused, refused_reply, verify_new_user};
use crate::server::http::Abort;
use crate::server::rpc::AnonymousContext;
use crate::server::store::{Change, Device, User};

fn check_certificates(req: &Req, ctx: &AnonymousContext<'_>) -> Result<NewUser, Refused> {
    if req.sequester_authority_certificate.is_some() {
        // Sequestering is not part of the MFA lifecycle: not supported.
        return Err(Refused::Invalid);
    }
    let certificates = [
        &req.user_certificate,
        &req.device_certificate,
        &req.redacted_user_certificate,
        &req.redacted_device_certificate,
    ];
    verify_new_user(
        certificates,
        &req.root_verify_key,
        CertificateSigner::Root,
        ctx.now,
        true,
    )
}

pub fn handle(ctx: &AnonymousContext<'_>, req: Req) -> Result<Rep, Abort> {
    let NewUser {
        user,
        human_handle,
        device,
    } = match check_certificates(&req, ctx) {
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
        let user = User::from_certificate(
            &user,
            human_handle,
            &req.user_certificate.0,
            &req.redacted_user_certificate.0,
        );
        let device = Device::from_certificate(&device, &req.device_certificate.0, &req.redacted_device_certificate.0);
        let changes = vec![
            Change::Organization(row),
            Change::User(organization_id.clone(), user),
            Change::Device(organization_id.clone(), device),
        ];
        (Ok(Rep::Ok {}), changes)
    })?
}
