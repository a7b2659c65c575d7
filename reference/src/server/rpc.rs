//! The RPC endpoints and their handshake.
//!
//! The checks run in the official order (HS-1 to HS-10 of `docs/spec.md`)
//! and the first failing one decides the answer: API version (422), organization in the
//! path (404), content type (415), authorization header (401), body size
//! (413, read before the authentication lookup for authenticated requests
//! and after it for anonymous ones), authentication lookup (404, 460, 403,
//! 461, 462, 403, 498), body decoding (415), then the command.

use super::faults::Door;
use super::http::{Abort, json_response, msgpack_response};
use super::store::Change;
use super::{AppState, anonymous, anonymous_server, authenticated};
use crate::protocol::anonymous_server::AnyCmdReq as ServerReq;
use crate::protocol::token::AuthenticatedToken;
use crate::protocol::{
    API_VERSION, API_VERSION_STR, CONTENT_TYPE_MSGPACK, DateTime, DeviceID, MAX_CONTENT_LENGTH, OrganizationID, UserID,
};
use crate::protocol::{anonymous::AnyCmdReq as AnonymousReq, authenticated::AnyCmdReq as AuthenticatedReq};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use std::sync::Arc;

/// Who sent an anonymous request, as the commands see it.
pub struct AnonymousContext<'a> {
    pub state: &'a AppState,
    pub organization_id: OrganizationID,
    /// Read once when the request arrives.
    pub now: DateTime,
}

/// Who sent an authenticated request, once the handshake has proven it.
pub struct AuthenticatedContext<'a> {
    pub state: &'a AppState,
    pub organization_id: OrganizationID,
    pub user_id: UserID,
    pub device_id: DeviceID,
    pub now: DateTime,
}

fn check_api_version(headers: &HeaderMap) -> Result<(), Response> {
    let supported = headers.get("api-version").and_then(|v| v.to_str().ok()).and_then(|v| {
        let (major, minor) = v.split_once('.')?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        (digits(major) && digits(minor)).then(|| major.parse::<u32>().ok())?
    }) == Some(API_VERSION.0);
    if supported {
        return Ok(());
    }
    let mut response = json_response(422, &serde_json::json!({ "detail": "Unprocessable Entity" }));
    response
        .headers_mut()
        .insert("supported-api-versions", HeaderValue::from_static(API_VERSION_STR));
    Err(response)
}

/// The organization part of `/<prefix>/<org>`, percent-decoded.
fn organization_in_path(uri: &Uri, prefix: &str) -> Result<OrganizationID, Abort> {
    uri.path()
        .strip_prefix(prefix)
        .and_then(|raw| percent_decode_str(raw).decode_utf8().ok())
        .and_then(|s| s.parse().ok())
        .ok_or(Abort::ORGANIZATION_NOT_FOUND)
}

fn check_content_type(headers: &HeaderMap) -> Result<(), Abort> {
    // A plain comparison: `application/msgpack; charset=...` is refused too.
    match headers.get(header::CONTENT_TYPE) {
        Some(v) if v.as_bytes() == CONTENT_TYPE_MSGPACK.as_bytes() => Ok(()),
        _ => Err(Abort::BAD_CONTENT),
    }
}

fn parse_authorization(headers: &HeaderMap) -> Result<AuthenticatedToken, Abort> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(Abort::MISSING_AUTHENTICATION)?;
    let mut parts = value.split_whitespace();
    match (parts.next(), parts.next(), parts.next()) {
        (Some(scheme), Some(token), None) if scheme.eq_ignore_ascii_case("bearer") => {
            AuthenticatedToken::parse(token).map_err(|_| Abort::MISSING_AUTHENTICATION)
        }
        _ => Err(Abort::MISSING_AUTHENTICATION),
    }
}

/// Reads the body, refusing more than 1 MiB (declared or actual) with 413.
async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, Abort> {
    if let Some(declared) = headers.get(header::CONTENT_LENGTH) {
        let declared = declared
            .to_str()
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or(Abort::TOO_LARGE)?;
        if declared > MAX_CONTENT_LENGTH as u64 {
            discard_unless_closing(headers, body);
            return Err(Abort::TOO_LARGE);
        }
    }
    let mut body = body;
    let mut read = Vec::new();
    while let Some(frame) = next_frame(&mut body).await {
        let Ok(data) = frame.map(|f| f.into_data()) else {
            // A body cut short, or a malformed chunk.
            return Err(Abort::TOO_LARGE);
        };
        let Ok(data) = data else { continue };
        if read.len() + data.len() > MAX_CONTENT_LENGTH {
            discard_unless_closing(headers, body);
            return Err(Abort::TOO_LARGE);
        }
        read.extend_from_slice(&data);
    }
    Ok(read.into())
}

async fn next_frame(body: &mut Body) -> Option<Result<http_body::Frame<Bytes>, axum::Error>> {
    use axum::body::HttpBody as _;
    std::future::poll_fn(|cx| std::pin::Pin::new(&mut *body).poll_frame(cx)).await
}

/// The rest of a refused body, read and thrown away while the 413 goes out,
/// as the official server does: a client that writes its whole body before
/// it reads the answer (Python's `urllib`, which also asks `Connection:
/// close` on every request) then reads the 413. Closing the connection with
/// the body still unread would make the kernel reset it (unread data on a
/// closed socket gives a RST), and the reset throws away the 413 already
/// sent: the client sees a broken pipe or a reset, never the answer.
///
/// hyper writes the 413 at once and keeps reading the body for as long as
/// this task holds it; when the task drops it, hyper closes the connection
/// (asked for `Connection: close`) or waits for the next request.
///
/// Bounded, since the reading costs the server a task and bandwidth: on a
/// kept-alive connection, up to 1 GiB and 10 s without a byte (the
/// connection is worth keeping); on a closing one, up to 64 MiB (declared
/// beyond that, not read at all: the connection closes at once) and 2 s
/// without a byte, since the read is only so that the client can read the
/// 413, and a client writing its body does not pause 2 s between bytes.
fn discard_unless_closing(headers: &HeaderMap, body: Body) {
    let closing = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case("close"));
    let (most, idle) = if closing {
        (CLOSING_DRAIN_MOST, std::time::Duration::from_secs(2))
    } else {
        (1 << 30, std::time::Duration::from_secs(10))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if closing && declared.is_some_and(|length| length > most) {
        return;
    }
    tokio::spawn(discard(body, most, idle));
}

/// The most a closing connection's refused body is read, to let the client
/// read its 413 (see [`discard_unless_closing`]).
const CLOSING_DRAIN_MOST: u64 = 64 << 20;

/// Reads and drops up to `most` bytes of `body`, giving up after `idle`
/// without a byte.
async fn discard(mut body: Body, most: u64, idle: std::time::Duration) {
    let mut seen = 0u64;
    while seen < most {
        match tokio::time::timeout(idle, next_frame(&mut body)).await {
            Ok(Some(Ok(frame))) => seen += frame.data_ref().map_or(0, |d| d.len() as u64),
            _ => return,
        }
    }
}

/// `GET|POST /anonymous/{organization_id}`.
pub async fn anonymous_endpoint(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Err(response) = check_api_version(&headers) {
        return response;
    }
    let run = async {
        let organization_id = organization_in_path(&uri, "/anonymous/")?;
        check_content_type(&headers)?;
        let now = state.clock.now();
        anonymous_auth(&state, &organization_id, method == Method::POST)?;
        if method == Method::GET {
            return Ok(msgpack_response(Vec::new()));
        }
        let bytes = read_body(&headers, body).await?;
        let req = AnonymousReq::load(&bytes).map_err(|_| Abort::BAD_CONTENT)?;
        let ctx = AnonymousContext {
            state: &state,
            organization_id,
            now,
        };
        anonymous::dispatch(&ctx, req).await.map(msgpack_response)
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// Unknown organization: 404, or created on the fly (not bootstrapped) for
/// a POST when spontaneous bootstrap is on. Expired: 460.
fn anonymous_auth(state: &AppState, organization_id: &OrganizationID, is_post: bool) -> Result<(), Abort> {
    let spontaneous = state.config.spontaneous_organization_bootstrap && is_post;
    let now = state.clock.now();
    state
        .store
        .write(|orgs| match orgs.get(organization_id) {
            Some(org) if org.row.is_expired => (Err(Abort::ORGANIZATION_EXPIRED), vec![]),
            Some(_) => (Ok(()), vec![]),
            None if spontaneous => (
                Ok(()),
                vec![Change::Organization(
                    super::administration::create_organization::new_organization_row(
                        organization_id.clone(),
                        None,
                        now,
                    ),
                )],
            ),
            None => (Err(Abort::ORGANIZATION_NOT_FOUND), vec![]),
        })
        .map_err(|_| Abort::INTERNAL)?
}

/// `POST /authenticated/{organization_id}`.
pub async fn authenticated_endpoint(
    State(state): State<Arc<AppState>>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Err(response) = check_api_version(&headers) {
        return response;
    }
    let run = async {
        let organization_id = organization_in_path(&uri, "/authenticated/")?;
        check_content_type(&headers)?;
        let token = parse_authorization(&headers)?;
        let bytes = read_body(&headers, body).await?;
        let now = state.clock.now();
        let user_id = authenticated_auth(&state, &organization_id, &token, now)?;
        let req = AuthenticatedReq::load(&bytes).map_err(|_| Abort::BAD_CONTENT)?;
        let ctx = AuthenticatedContext {
            state: &state,
            organization_id,
            user_id,
            device_id: token.device_id,
            now,
        };
        authenticated::dispatch(&ctx, req).await.map(msgpack_response)
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// The official order: organization, expiry, device (HS-7), revoked
/// (FRZ-4), frozen (FRZ-1), then (only then) signature (HS-8) and token age
/// (HS-9).
fn authenticated_auth(
    state: &AppState,
    organization_id: &OrganizationID,
    token: &AuthenticatedToken,
    now: DateTime,
) -> Result<UserID, Abort> {
    let (user_id, verify_key) = state.store.read(|orgs| {
        let org = orgs.get(organization_id).ok_or(Abort::ORGANIZATION_NOT_FOUND)?;
        if org.row.is_expired {
            return Err(Abort::ORGANIZATION_EXPIRED);
        }
        let device_org = match org.devices.contains_key(&token.device_id) {
            false if state.faults.looks_for_devices_elsewhere() => orgs
                .values()
                .find(|o| o.devices.contains_key(&token.device_id))
                .unwrap_or(org),
            _ => org,
        };
        let device = device_org
            .devices
            .get(&token.device_id)
            .ok_or(Abort::BAD_AUTHENTICATION)?;
        let user = device_org.users.get(&device.user_id).ok_or(Abort::BAD_AUTHENTICATION)?;
        if let Some(barred) = state.barred(user, Door::Device) {
            return Err(barred.abort());
        }
        Ok((user.user_id, device.verify_key.clone()))
    })?;
    if !state.faults.signature_accepted(token.verify(&verify_key)) {
        return Err(Abort::BAD_AUTHENTICATION);
    }
    if !state.faults.token_age_accepted(token.in_ballpark(now.unix_seconds())) {
        return Err(Abort::TOKEN_EXPIRED);
    }
    Ok(user_id)
}

/// `POST /anonymous_server`.
pub async fn anonymous_server_endpoint(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    if let Err(response) = check_api_version(&headers) {
        return response;
    }
    let run = async {
        check_content_type(&headers)?;
        let bytes = read_body(&headers, body).await?;
        let req = ServerReq::load(&bytes).map_err(|_| Abort::BAD_CONTENT)?;
        Ok::<_, Abort>(msgpack_response(anonymous_server::dispatch(&state, req)))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// A storage failure inside a command: 500, nothing applied.
impl From<super::store::StorageError> for Abort {
    fn from(_: super::store::StorageError) -> Self {
        Abort::INTERNAL
    }
}

/// Unknown paths: 404 with a JSON detail, as FastAPI answers.
pub async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({"detail": "Not Found"})),
    )
        .into_response()
}
