//! Talking to a Parsec server: the RPC handshake seen from the client, every
//! HTTP failure mapped to a [`ConnectionError`], and bounded retries for a
//! slow or intermittent network.

use crate::clock::Clock;
use crate::crypto::SigningKey;
use crate::protocol::addr::ServerAddr;
use crate::protocol::anonymous_server::server_config;
use crate::protocol::token::AuthenticatedToken;
use crate::protocol::{API_VERSION_STR, CONTENT_TYPE_MSGPACK, DecodeError, DeviceID, OrganizationID, Request};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the client keeps trying when the network fails. Only failures
/// that say nothing about the request itself are retried: no connection
/// (or a connection that timed out before it was made), a dropped
/// connection, or a proxy's 502/503/504. A request sent that got no reply
/// within `attempt_timeout` is never sent again: the server may have
/// processed it (a wrong code counted), so the attempt ends the call with
/// [`ConnectionError::Unreachable`] naming the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// No new attempt starts after this much time since the first one.
    pub deadline: Duration,
    /// Each attempt gives up after this long (and never after the deadline).
    pub attempt_timeout: Duration,
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

impl RetryPolicy {
    /// One attempt only.
    pub fn once(timeout: Duration) -> Self {
        RetryPolicy {
            deadline: timeout,
            attempt_timeout: timeout,
            first_backoff: Duration::ZERO,
            max_backoff: Duration::ZERO,
        }
    }

    /// Time to wait after the `attempt`-th failure (0-based): doubling, capped.
    pub fn backoff(&self, attempt: u32) -> Duration {
        self.first_backoff
            .saturating_mul(1u32.checked_shl(attempt).unwrap_or(u32::MAX))
            .min(self.max_backoff)
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            deadline: Duration::from_secs(30),
            attempt_timeout: Duration::from_secs(10),
            first_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(4),
        }
    }
}

/// Why a request got no usable reply. Command outcomes (a wrong code, a
/// throttle, ...) are not here: they are replies, typed per command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionError {
    #[error("the server could not be reached ({0})")]
    Unreachable(String),
    #[error("the organization does not exist on this server")]
    OrganizationNotFound,
    #[error("the organization has expired")]
    OrganizationExpired,
    #[error("this user has been revoked")]
    UserRevoked,
    #[error("this user has been frozen by an administrator")]
    UserFrozen,
    #[error("the server did not accept this device's authentication")]
    BadAuthentication,
    #[error("this device's clock is too far from the server's clock")]
    TokenExpired,
    #[error("the server does not speak API {API_VERSION_STR} (it supports: {0})")]
    UnsupportedApiVersion(String),
    #[error("the server could not read the request (HTTP 415)")]
    BadContent,
    #[error("unexpected answer from the server: {0}")]
    InvalidResponse(String),
    /// The reply's body (declared or read) is over [`MAX_REPLY_BYTES`]: its
    /// reading stopped there, never retried.
    #[error("{command}: reply over {limit} bytes")]
    ReplyTooLarge { command: &'static str, limit: usize },
    /// The server's TLS certificate is untrusted, for another name, or the
    /// handshake failed: never retried.
    #[error("the server cannot be trusted: {0}")]
    Tls(String),
}

/// The most a reply's body may weigh. 1 MiB mirrors the request limit (the
/// official server refuses a body over 1 MiB with 413): no reply of the MFA
/// commands comes near it (the largest, `server_config` or an opaque key,
/// is a few hundred bytes), and a hostile or broken server cannot make a
/// client, or a harness running many scenarios at once, hold more than
/// this per request. Headers are bounded by hyper itself: its HTTP/1
/// client refuses a response head over its read buffer (about 400 KiB) and
/// over 100 headers.
pub const MAX_REPLY_BYTES: usize = 1 << 20;

/// The identity that signs authenticated requests.
#[derive(Clone, Copy)]
pub struct Signer<'a> {
    pub device_id: DeviceID,
    pub signing_key: &'a SigningKey,
}

/// A connection to one organization of one server.
#[derive(Clone)]
pub struct Connection {
    http: reqwest::Client,
    server: ServerAddr,
    organization: OrganizationID,
    retry: RetryPolicy,
    clock: Arc<dyn Clock>,
}

enum Attempt {
    Reply(reqwest::StatusCode, reqwest::header::HeaderMap, Vec<u8>),
    /// Worth another try: the network failed us.
    Transient(String),
    /// Not worth another: the request was sent, and may have been processed
    /// (no reply in time), or the reply was too large.
    Final(ConnectionError),
    /// Not worth another: the certificate will be the same.
    Tls(String),
}

impl Connection {
    pub fn new(server: ServerAddr, organization: OrganizationID, retry: RetryPolicy, clock: Arc<dyn Clock>) -> Self {
        Connection {
            http: http_client(),
            server,
            organization,
            retry,
            clock,
        }
    }

    /// The same connection through another HTTP client (a private
    /// authority, a proxy in front of the server: see [`super::tls`]).
    pub fn with_http(mut self, http: reqwest::Client) -> Self {
        self.http = http;
        self
    }

    pub fn server(&self) -> &ServerAddr {
        &self.server
    }

    pub fn organization(&self) -> &OrganizationID {
        &self.organization
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    fn org_path(&self, family: &str) -> String {
        let org = crate::protocol::addr::encode_org(&self.organization);
        self.server.to_http_url(&format!("{family}/{org}"))
    }

    /// An anonymous command (`POST /anonymous/<org>`).
    pub async fn anonymous<R: Request>(&self, req: &R) -> Result<R::Rep, ConnectionError> {
        let body = req.dump();
        let reply = self.send(R::CMD, &self.org_path("anonymous"), &body, None).await?;
        R::load_rep(&reply).map_err(undecodable)
    }

    /// An authenticated command (`POST /authenticated/<org>`), signed anew
    /// at each attempt so a retry never carries a stale token.
    pub async fn authenticated<R: Request>(&self, signer: Signer<'_>, req: &R) -> Result<R::Rep, ConnectionError> {
        let body = req.dump();
        let reply = self
            .send(R::CMD, &self.org_path("authenticated"), &body, Some(signer))
            .await?;
        R::load_rep(&reply).map_err(undecodable)
    }

    /// `server_config` (`POST /anonymous_server`).
    pub async fn server_config(&self) -> Result<server_config::Rep, ConnectionError> {
        let reply = self
            .send(
                server_config::CMD,
                &self.server.to_http_url("anonymous_server"),
                &server_config::Req {}.dump(),
                None,
            )
            .await?;
        server_config::Rep::load(&reply).map_err(undecodable)
    }

    async fn send(
        &self,
        command: &'static str,
        url: &str,
        body: &[u8],
        signer: Option<Signer<'_>>,
    ) -> Result<Vec<u8>, ConnectionError> {
        let started = Instant::now();
        let mut attempt = 0u32;
        loop {
            let remaining = self.retry.deadline.saturating_sub(started.elapsed());
            let timeout = self.retry.attempt_timeout.min(remaining).max(Duration::from_millis(1));
            let reason = match self.attempt(command, url, body, signer, timeout).await {
                Attempt::Reply(status, headers, body) => match interpret(status, &headers, body) {
                    Ok(body) => return Ok(body),
                    Err(Retry::Transient(reason)) => reason,
                    Err(Retry::Final(error)) => return Err(error),
                },
                Attempt::Transient(reason) => reason,
                Attempt::Tls(reason) => return Err(ConnectionError::Tls(reason)),
                Attempt::Final(error) => return Err(error),
            };
            let wait = self.retry.backoff(attempt);
            attempt += 1;
            if started.elapsed() + wait >= self.retry.deadline {
                return Err(ConnectionError::Unreachable(format!("{command}: {reason}")));
            }
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(
        &self,
        command: &'static str,
        url: &str,
        body: &[u8],
        signer: Option<Signer<'_>>,
        timeout: Duration,
    ) -> Attempt {
        let mut request = self
            .http
            .post(url)
            .timeout(timeout)
            .header("Api-Version", API_VERSION_STR)
            .header("Content-Type", CONTENT_TYPE_MSGPACK)
            .body(body.to_vec());
        if let Some(signer) = signer {
            let token =
                AuthenticatedToken::build(signer.device_id, signer.signing_key, self.clock.now().unix_seconds());
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let no_reply = || {
            Attempt::Final(ConnectionError::Unreachable(format!(
                "{command}: no reply within {} s",
                seconds(timeout)
            )))
        };
        let response = match request.send().await {
            Ok(response) => response,
            // Timed out with the connection made: the request may have
            // reached the server. Not sent again.
            Err(e) if e.is_timeout() && !e.is_connect() => return no_reply(),
            Err(e) => match super::tls::tls_failure(&e) {
                Some(why) => return Attempt::Tls(why),
                None => return Attempt::Transient(describe(&e)),
            },
        };
        let status = response.status();
        let headers = response.headers().clone();
        let too_large = || {
            Attempt::Final(ConnectionError::ReplyTooLarge {
                command,
                limit: MAX_REPLY_BYTES,
            })
        };
        match read_bounded(response, MAX_REPLY_BYTES).await {
            Ok(bytes) => Attempt::Reply(status, headers, bytes),
            Err(ReadError::TooLarge(_)) => too_large(),
            Err(ReadError::Http(e)) if e.is_timeout() => no_reply(),
            Err(ReadError::Http(e)) => Attempt::Transient(describe(&e)),
        }
    }
}

/// Why [`read_bounded`] read no body.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("reply over {0} bytes")]
    TooLarge(usize),
    #[error(transparent)]
    Http(#[from] reqwest::Error),
}

/// A reply's body, read chunk by chunk and refused as soon as it is over
/// `limit` bytes (declared in `Content-Length`, or read): no more than the
/// limit is ever held, whatever the server sends.
pub async fn read_bounded(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, ReadError> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(ReadError::TooLarge(limit));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if bytes.len() + chunk.len() > limit {
            return Err(ReadError::TooLarge(limit));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// `10`, `0.5`: seconds as a person writes them, to the millisecond.
fn seconds(d: Duration) -> String {
    let text = format!("{:.3}", d.as_secs_f64());
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

enum Retry {
    Transient(String),
    Final(ConnectionError),
}

/// The HTTP status of an RPC answer, read as the official client does.
fn interpret(
    status: reqwest::StatusCode,
    headers: &reqwest::header::HeaderMap,
    body: Vec<u8>,
) -> Result<Vec<u8>, Retry> {
    use ConnectionError as E;
    Err(Retry::Final(match status.as_u16() {
        200 => return Ok(body),
        404 => E::OrganizationNotFound,
        460 => E::OrganizationExpired,
        461 => E::UserRevoked,
        462 => E::UserFrozen,
        401 | 403 => E::BadAuthentication,
        498 => E::TokenExpired,
        415 => E::BadContent,
        422 => E::UnsupportedApiVersion(
            headers
                .get("Supported-Api-Versions")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("none announced")
                .to_owned(),
        ),
        502..=504 => return Err(Retry::Transient(format!("HTTP {status} from a gateway"))),
        _ => E::InvalidResponse(format!("HTTP {status}")),
    }))
}

fn undecodable(e: DecodeError) -> ConnectionError {
    ConnectionError::InvalidResponse(format!("the reply is not a valid Parsec message ({e})"))
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection refused or failed".into()
    } else {
        "connection lost".into()
    }
}

/// The default HTTP client of the reference client: HTTP/1.1, or TLS
/// checked against the system's authorities.
pub(crate) fn http_client() -> reqwest::Client {
    super::tls::HttpSettings::default().client().unwrap_or_else(|e| {
        // Only a system without any usable authority store gets here; plain
        // HTTP still works, and an https:// request then fails with a TLS
        // error naming the cause.
        eprintln!("Warning: {e}");
        reqwest::Client::builder()
            .tls_certs_only(Vec::new())
            .build()
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let policy = RetryPolicy {
            deadline: Duration::from_secs(10),
            attempt_timeout: Duration::from_secs(1),
            first_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(700),
        };
        let waits: Vec<u128> = (0..5).map(|a| policy.backoff(a).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 700, 700]);
        assert_eq!(policy.backoff(40), Duration::from_millis(700));
    }
}
