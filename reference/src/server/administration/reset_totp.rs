//! `POST /administration/organizations/{org}/users/reset_totp` (RST-1 to
//! RST-12, ADM-4 to ADM-7): forgets the secret, issues a new single-use
//! reset token (the previous link stops working), clears the throttle of
//! every opaque key of the user (keys are kept), and emails the link when
//! asked. The reset is stored before the email is sent.

use super::{find_user, user_command};
use crate::protocol::addr::TotpResetAddr;
use crate::protocol::admin::{EmailSentStatus, ResetTotpRep, ResetTotpReq};
use crate::server::AppState;
use crate::server::http::{json_detail, json_response};
use crate::server::mailer::totp_reset_email;
use crate::server::store::Change;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use std::sync::Arc;

pub async fn handle(
    State(state): State<Arc<AppState>>,
    Path(raw_organization_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (req, selection, organization_id) =
        match user_command(&state, &headers, body, &raw_organization_id, |r: &ResetTotpReq| {
            (&r.user_id, &r.user_email)
        })
        .await
        {
            Ok(parsed) => parsed,
            Err(response) => return response,
        };
    let faults = &state.faults;
    let outcome = state.store.write(|orgs| {
        let (org, user) = match find_user(&state, orgs, &organization_id, &selection) {
            Ok(found) => found,
            Err(refusal) => return (Err(refusal), vec![]),
        };
        if user.frozen && !faults.resets_frozen_users() {
            return (Err((404, "User not found")), vec![]);
        }
        let token = faults.reset_token(user.totp.reset_token);
        let org_id = &org.row.id;
        let mut changes = vec![Change::User(org_id.clone(), faults.reset_user(user, token))];
        changes.extend(
            faults
                .opaque_key_changes_on_reset(org, user.user_id)
                .into_iter()
                .map(|key| Change::OpaqueKey(org_id.clone(), key)),
        );
        (Ok((user.user_id, user.human_handle.email.clone(), token)), changes)
    });
    let (user_id, user_email, token) = match outcome {
        Err(_) => return json_detail(500, "Internal Server Error"),
        Ok(Err((status, detail))) => return json_detail(status, detail),
        Ok(Ok(found)) => found,
    };
    let addr = TotpResetAddr {
        server: state.config.server_addr.clone(),
        organization_id: organization_id.clone(),
        user_id,
        token,
    };
    let (send, claim_sent) = faults.reset_email(req.send_email);
    let status = if send {
        let email = totp_reset_email(&user_email, organization_id.as_str(), &addr.to_http_redirection_url());
        state.config.email.send(&email).await
    } else {
        EmailSentStatus::NotSentAsRequested
    };
    let email_sent_status = match (req.send_email, claim_sent) {
        (true, true) => EmailSentStatus::SentAsRequested,
        (false, _) => EmailSentStatus::NotSentAsRequested,
        (true, false) => status,
    };
    let rep = ResetTotpRep {
        user_id: user_id.hex(),
        user_email,
        totp_reset_url: addr.to_string(),
        totp_reset_url_as_http_redirection: addr.to_http_redirection_url(),
        email_sent_status,
    };
    json_response(200, &serde_json::to_value(rep).expect("plain strings"))
}
