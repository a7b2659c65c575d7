//! The administration REST API seen from a server administrator's tools
//! (`parsec-mfa organization create`, `parsec-mfa user totp-reset`).

use super::connection::http_client;
use crate::protocol::addr::ServerAddr;
use crate::protocol::admin::{CreateOrganizationRep, EmailSentStatus, ErrorDetail, FreezeUserRep, ResetTotpRep};
use serde_json::{Value as Json, json};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminError {
    /// The server refused with a JSON `detail` (e.g. `User not found`).
    #[error("{detail}")]
    Refused { status: u16, detail: String },
    /// Anything else: the official CLI's wording.
    #[error("Unexpected response from server, status={status} ({problem})")]
    Unexpected { status: String, problem: String },
    #[error("the server could not be reached ({0})")]
    Unreachable(String),
    #[error("the server cannot be trusted: {0}")]
    Tls(String),
}

/// Which user an administrator's command is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    Id(String),
    Email(String),
}

impl UserRef {
    fn insert_into(&self, body: &mut Json) {
        match self {
            UserRef::Id(hex) => body["user_id"] = json!(hex),
            UserRef::Email(email) => body["user_email"] = json!(email),
        }
    }
}

pub struct AdminClient {
    http: reqwest::Client,
    server: ServerAddr,
    token: String,
    timeout: Duration,
}

impl AdminClient {
    pub fn new(server: ServerAddr, token: impl Into<String>) -> Self {
        AdminClient {
            http: http_client(),
            server,
            token: token.into(),
            timeout: Duration::from_secs(30),
        }
    }

    /// Each request gives up after `timeout` without its reply (30 s unless
    /// set).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The same client through another HTTP client (see [`super::tls`]).
    pub fn with_http(mut self, http: reqwest::Client) -> Self {
        self.http = http;
        self
    }

    fn org_url(&self, org: &str, rest: &str) -> String {
        let org = percent_encoding::utf8_percent_encode(org, percent_encoding::NON_ALPHANUMERIC);
        self.server
            .to_http_url(&format!("administration/organizations/{org}{rest}"))
    }

    async fn post<T: serde::de::DeserializeOwned>(&self, url: String, body: Json) -> Result<T, AdminError> {
        let response = self
            .http
            .post(url)
            .timeout(self.timeout)
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .map_err(|e| match super::tls::tls_failure(&e) {
                Some(why) => AdminError::Tls(why),
                None => AdminError::Unreachable(if e.is_timeout() {
                    "timed out".into()
                } else {
                    "connection failed".into()
                }),
            })?;
        let status = response.status();
        let bytes = super::connection::read_bounded(response, super::connection::MAX_REPLY_BYTES)
            .await
            .map_err(|e| match e {
                super::connection::ReadError::TooLarge(_) => AdminError::Unexpected {
                    status: status.to_string(),
                    problem: e.to_string(),
                },
                super::connection::ReadError::Http(e) if e.is_timeout() => AdminError::Unreachable("timed out".into()),
                super::connection::ReadError::Http(_) => AdminError::Unreachable("connection lost".into()),
            })?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| AdminError::Unexpected {
                status: status.to_string(),
                problem: e.to_string(),
            });
        }
        match serde_json::from_slice::<ErrorDetail>(&bytes) {
            Ok(ErrorDetail { detail }) => Err(AdminError::Refused {
                status: status.as_u16(),
                detail,
            }),
            Err(e) => Err(AdminError::Unexpected {
                status: status.to_string(),
                problem: e.to_string(),
            }),
        }
    }

    /// `POST /administration/organizations`: the bootstrap URL.
    pub async fn create_organization(&self, organization_id: &str) -> Result<CreateOrganizationRep, AdminError> {
        let url = self.server.to_http_url("administration/organizations");
        self.post(url, json!({ "organization_id": organization_id })).await
    }

    /// `POST …/users/reset_totp`, with `send_email` always explicit as the
    /// official CLI sends it.
    pub async fn reset_totp(&self, org: &str, user: &UserRef, send_email: bool) -> Result<ResetTotpRep, AdminError> {
        let mut body = json!({ "send_email": send_email });
        user.insert_into(&mut body);
        self.post(self.org_url(org, "/users/reset_totp"), body).await
    }

    /// `POST …/users/freeze`.
    pub async fn freeze_user(&self, org: &str, user: &UserRef, frozen: bool) -> Result<FreezeUserRep, AdminError> {
        let mut body = json!({ "frozen": frozen });
        user.insert_into(&mut body);
        self.post(self.org_url(org, "/users/freeze"), body).await
    }
}

/// The parts of a report the official CLI highlights (green, yellow).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emphasis {
    UserId,
    Value,
}

/// What `parsec-cli user totp-reset` prints for a reset (3.9.3 wording):
/// the user, the URL, and the email outcome. `paint` adds the terminal's
/// colours, or nothing.
pub fn totp_reset_report(rep: &ResetTotpRep, paint: impl Fn(Emphasis, &str) -> String) -> Vec<String> {
    let mut lines = vec![
        format!("TOTP reset for user {}", paint(Emphasis::UserId, &rep.user_id)),
        format!("Reset URL: {}", paint(Emphasis::Value, &rep.totp_reset_url)),
    ];
    let email = paint(Emphasis::Value, &rep.user_email);
    match rep.email_sent_status {
        EmailSentStatus::NotSentAsRequested => {}
        EmailSentStatus::SentAsRequested => lines.push(format!("An email with the reset URL has been sent to {email}")),
        failed => lines.push(format!(
            "Email sending to {email} has failed (error: {})",
            failed.as_str()
        )),
    }
    lines
}

/// No colours.
pub fn plain(_: Emphasis, text: &str) -> String {
    text.to_owned()
}
