//! `POST /administration/organizations/{org}/users/freeze` (ADM-8, FRZ-7): a
//! frozen user's authenticated requests get 462 and their anonymous MFA
//! commands fail (FRZ-1 to FRZ-3); unfreezing restores everything as it was.

use super::{find_user, user_command};
use crate::protocol::admin::{FreezeUserRep, FreezeUserReq};
use crate::server::AppState;
use crate::server::http::{json_detail, json_response};
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
        match user_command(&state, &headers, body, &raw_organization_id, |r: &FreezeUserReq| {
            (&r.user_id, &r.user_email)
        })
        .await
        {
            Ok(parsed) => parsed,
            Err(response) => return response,
        };
    let outcome = state.store.write(|orgs| {
        let (org, user) = match find_user(&state, orgs, &organization_id, &selection) {
            Ok(found) => found,
            Err(refusal) => return (Err(refusal), vec![]),
        };
        let rep = FreezeUserRep {
            user_id: user.user_id.hex(),
            user_email: user.human_handle.email.clone(),
            user_name: user.human_handle.label.clone(),
            frozen: req.frozen,
        };
        let frozen = state.faults.frozen_after(req.frozen, user.frozen);
        let changes = if user.frozen == frozen {
            vec![]
        } else {
            let mut updated = user.clone();
            updated.frozen = frozen;
            vec![Change::User(org.row.id.clone(), updated)]
        };
        (Ok(rep), changes)
    });
    match outcome {
        Err(_) => json_detail(500, "Internal Server Error"),
        Ok(Err((status, detail))) => json_detail(status, detail),
        Ok(Ok(rep)) => json_response(200, &serde_json::to_value(rep).expect("plain values")),
    }
}
