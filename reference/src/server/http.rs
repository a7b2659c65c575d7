//! Response shapes shared by every endpoint.

use crate::protocol::{API_VERSION_STR, CONTENT_TYPE_MSGPACK};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Statuses the official server uses beyond the standard ones.
pub mod status {
    pub const ORGANIZATION_EXPIRED: u16 = 460;
    pub const USER_REVOKED: u16 = 461;
    pub const USER_FROZEN: u16 = 462;
    pub const TOKEN_EXPIRED: u16 = 498;
}

/// A handshake or command abort: `{"detail": ...}` with the given status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Abort {
    pub status: u16,
    pub detail: &'static str,
    /// Whether the answer carries `Api-Version` (only once the version is
    /// settled: 413 and 422 do not).
    pub api_version: bool,
}

impl Abort {
    pub const fn new(status: u16, detail: &'static str) -> Self {
        Abort {
            status,
            detail,
            api_version: true,
        }
    }

    pub const ORGANIZATION_NOT_FOUND: Abort = Abort::new(404, "Organization not found");
    pub const ORGANIZATION_EXPIRED: Abort = Abort::new(status::ORGANIZATION_EXPIRED, "Organization expired");
    pub const BAD_CONTENT: Abort = Abort::new(415, "Bad content type or invalid body or unknown command");
    pub const MISSING_AUTHENTICATION: Abort = Abort::new(401, "Missing authentication info");
    pub const BAD_AUTHENTICATION: Abort = Abort::new(403, "Bad authentication info");
    pub const USER_REVOKED: Abort = Abort::new(status::USER_REVOKED, "User revoked");
    pub const USER_FROZEN: Abort = Abort::new(status::USER_FROZEN, "User frozen");
    pub const TOKEN_EXPIRED: Abort = Abort::new(status::TOKEN_EXPIRED, "Token expired");
    pub const TOO_LARGE: Abort = Abort {
        status: 413,
        detail: "Request Entity Too Large",
        api_version: false,
    };
    pub const INTERNAL: Abort = Abort::new(500, "Internal Server Error");
}

impl IntoResponse for Abort {
    fn into_response(self) -> Response {
        let mut response = json_detail(self.status, self.detail);
        if self.api_version {
            response
                .headers_mut()
                .insert("api-version", HeaderValue::from_static(API_VERSION_STR));
        }
        response
    }
}

/// `{"detail": "<text>"}` with a JSON content type.
pub fn json_detail(status: u16, detail: &str) -> Response {
    json_response(status, &serde_json::json!({ "detail": detail }))
}

pub fn json_response(status: u16, body: &serde_json::Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body.to_string(),
    )
        .into_response()
}

/// A command's reply: HTTP 200, msgpack body.
pub fn msgpack_response(body: Vec<u8>) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_MSGPACK)),
            (
                header::HeaderName::from_static("api-version"),
                HeaderValue::from_static(API_VERSION_STR),
            ),
        ],
        body,
    )
        .into_response()
}
