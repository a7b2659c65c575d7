//! The administration REST API (JSON), as the official FastAPI one answers:
//! (a) a JSON body that does not parse: 422, before authentication;
//! (b) no or bad bearer token: 403; (c) body validation: 422;
//! (d) invalid organization in the path: 404; (e) the business errors.

pub mod create_organization;
pub mod freeze_user;
pub mod reset_totp;

use super::AppState;
use super::http::{json_detail, json_response};
use super::store::{Organization, User};
use crate::protocol::{OrganizationID, UserID};
use axum::body::Body;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

/// Bodies larger than this are refused before parsing.
const MAX_BODY: usize = 64 * 1024;

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| {
            let v = v.trim().to_ascii_lowercase();
            v == "application/json" || (v.starts_with("application/") && v.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// A FastAPI-shaped validation error.
pub fn unprocessable(kind: &str, msg: &str) -> Response {
    json_response(
        422,
        &serde_json::json!({ "detail": [{ "type": kind, "loc": ["body"], "msg": msg }] }),
    )
}

/// Steps (a) to (c): returns the typed body or the answer to send.
pub async fn authenticate_and_parse<T: DeserializeOwned>(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<T, Response> {
    let json = is_json(headers);
    // Read at most MAX_BODY: a bigger body is refused without buffering it.
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return Err(json_detail(413, "Request Entity Too Large"));
    };
    let parsed: Option<Result<serde_json::Value, _>> =
        (json && !body.is_empty()).then(|| serde_json::from_slice::<serde_json::Value>(&body));
    if let Some(Err(e)) = &parsed {
        return Err(unprocessable("json_invalid", &format!("JSON decode error: {e}")));
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, token)| scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .map(|(_, token)| token.trim());
    match bearer {
        None => return Err(json_detail(403, "Not authenticated")),
        Some(token)
            if !state
                .faults
                .admin_token_accepted(token == state.config.administration_token) =>
        {
            return Err(json_detail(403, "Bad authorization token"));
        }
        Some(_) => {}
    }
    match parsed {
        None if !json => Err(unprocessable(
            "model_attributes_type",
            "Input should be a valid JSON object",
        )),
        None => Err(unprocessable("missing", "Field required")),
        // serde would also read a struct from an array, by position.
        Some(Ok(value)) if !value.is_object() => Err(unprocessable("model_type", "Input should be a JSON object")),
        Some(Ok(value)) => serde_json::from_value(value).map_err(|e| unprocessable("value_error", &e.to_string())),
        Some(Err(_)) => unreachable!("handled in step (a)"),
    }
}

/// Step (d).
pub fn organization_in_path(raw: &str) -> Result<OrganizationID, Response> {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| json_detail(404, "Invalid organization ID"))
}

/// Which user an administrator's request is about.
#[derive(Clone)]
pub enum UserSelector {
    Id(UserID),
    Email(String),
}

/// What the request said about the user: one selector, both, or neither
/// (the last two are refused only after the organization lookup, as the
/// official server does).
pub enum Selection {
    One(UserSelector),
    Both { id: UserID },
    Neither,
}

/// The body of a command about one user of one organization: the typed
/// request, which user it selects, and the organization of the path, each
/// checked in the official order (body and token, selector, path).
pub async fn user_command<T: DeserializeOwned>(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    raw_organization_id: &str,
    selectors: impl FnOnce(&T) -> (&Option<String>, &Option<String>),
) -> Result<(T, Selection, OrganizationID), Response> {
    let req: T = authenticate_and_parse(state, headers, body).await?;
    let (user_id, user_email) = selectors(&req);
    let selection = user_selection(user_id, user_email)?;
    let organization_id = organization_in_path(raw_organization_id)?;
    Ok((req, selection, organization_id))
}

/// `user_id` xor `user_email`, validated as the official models do (a bad
/// id or email is a 422).
pub fn user_selection(user_id: &Option<String>, user_email: &Option<String>) -> Result<Selection, Response> {
    let id = user_id
        .as_deref()
        .map(UserID::from_hex)
        .transpose()
        .map_err(|e| unprocessable("value_error", &e.to_string()))?;
    if let Some(email) = user_email
        && crate::protocol::HumanHandle::new(email, "x").is_err()
    {
        return Err(unprocessable("value_error", "Invalid email address"));
    }
    Ok(match (id, user_email) {
        (Some(id), None) => Selection::One(UserSelector::Id(id)),
        (None, Some(email)) => Selection::One(UserSelector::Email(email.clone())),
        (Some(id), Some(_)) => Selection::Both { id },
        (None, None) => Selection::Neither,
    })
}

/// The organization and the selected user, or the official error answer
/// (ADM-4 to ADM-6). A revoked user is "not found" by email and "revoked"
/// by id. Users are looked for in the organization of the path only.
pub fn find_user<'a>(
    state: &AppState,
    orgs: &'a HashMap<OrganizationID, Organization>,
    organization_id: &OrganizationID,
    selection: &Selection,
) -> Result<(&'a Organization, &'a User), (u16, &'static str)> {
    // The organization's expiry is deliberately not checked.
    let org = orgs.get(organization_id).ok_or((404, "Organization not found"))?;
    let selector = match selection {
        Selection::Both { id, .. } if state.faults.accepts_both_selectors() => UserSelector::Id(*id),
        Selection::Both { .. } => return Err((400, "Both `user_id` and `user_email` fields are provided")),
        Selection::Neither => return Err((400, "Missing either `user_id` or `user_email` field")),
        Selection::One(selector) => selector.clone(),
    };
    let lookup = |org: &'a Organization| match &selector {
        UserSelector::Email(email) => Ok(org
            .users
            .values()
            .find(|u| u.human_handle.email == *email && (!u.is_revoked() || state.faults.finds_revoked_by_email()))),
        UserSelector::Id(id) => match org.users.get(id) {
            Some(user) if user.is_revoked() => Err((404, "User has been revoked")),
            found => Ok(found),
        },
    };
    let found = match lookup(org)? {
        Some(user) => Some((org, user)),
        None if state.faults.looks_for_users_elsewhere() => {
            orgs.values().find_map(|o| lookup(o).ok().flatten().map(|u| (o, u)))
        }
        None => None,
    };
    found.ok_or((404, "User not found"))
}
