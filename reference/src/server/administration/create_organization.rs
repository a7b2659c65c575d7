//! `POST /administration/organizations` (ADM-3): creates (or re-creates,
//! while not bootstrapped) an organization and returns its bootstrap link, addressed
//! with the host of the request, as the official server does.

use super::authenticate_and_parse;
use crate::protocol::addr::{BootstrapAddr, ServerAddr};
use crate::protocol::admin::{CreateOrganizationRep, CreateOrganizationReq};
use crate::protocol::{AccessToken, DateTime, OrganizationID};
use crate::server::AppState;
use crate::server::http::{json_detail, json_response};
use crate::server::store::{Change, OrganizationRow};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use std::sync::Arc;

/// A new, not yet bootstrapped organization with the server's defaults.
pub fn new_organization_row(
    id: OrganizationID,
    bootstrap_token: Option<AccessToken>,
    now: DateTime,
) -> OrganizationRow {
    OrganizationRow {
        id,
        bootstrap_token,
        root_verify_key: None,
        is_expired: false,
        active_users_limit: None,
        user_profile_outsider_allowed: true,
        created_on: now,
        last_certificate_timestamp: None,
    }
}

pub async fn handle(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let req: CreateOrganizationReq = match authenticate_and_parse(&state, &headers, body).await {
        Ok(req) => req,
        Err(response) => return response,
    };
    let Ok(organization_id) = req.organization_id.parse::<OrganizationID>() else {
        return super::unprocessable("value_error", "Invalid OrganizationID");
    };
    // The link points where the administrator reached us, TLS or not.
    let scheme = if state.tls { "https" } else { "http" };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| ServerAddr::from_http_url(&format!("{scheme}://{h}")).ok())
        .unwrap_or_else(|| state.config.server_addr.clone());
    let token = AccessToken::new();
    let now = state.clock.now();
    let outcome = state.store.write(|orgs| {
        if orgs.get(&organization_id).is_some_and(|o| o.is_bootstrapped())
            && !state.faults.recreates_bootstrapped_organizations()
        {
            return (Err(()), vec![]);
        }
        let mut row = new_organization_row(organization_id.clone(), Some(token), now);
        if let Some(limit) = req.active_users_limit {
            row.active_users_limit = limit;
        }
        if let Some(allowed) = req.user_profile_outsider_allowed {
            row.user_profile_outsider_allowed = allowed;
        }
        (Ok(()), vec![Change::Organization(row)])
    });
    match outcome {
        Err(_) => json_detail(500, "Internal Server Error"),
        Ok(Err(())) => json_detail(400, "Organization already exists"),
        Ok(Ok(())) => {
            let addr = BootstrapAddr {
                server: host,
                organization_id,
                token: Some(token),
            };
            let rep = CreateOrganizationRep {
                bootstrap_url: addr.to_string(),
                bootstrap_url_as_http_redirection: addr.to_http_redirection_url(),
            };
            json_response(200, &serde_json::to_value(rep).expect("plain strings"))
        }
    }
}
