//! Whether the harness really controls a server's clock, judged from the
//! server's own answers: an `organization_bootstrap` whose certificates are
//! dated far from any plausible time is refused `timestamp_out_of_ballpark`
//! with the server's `server_timestamp` (both the reference and the official
//! server send it). That instant must be the one the harness set (a clock
//! that stands still) or the real time plus the offset it set (a clock that
//! flows); a server that ignores libfaketime answers with the real time.

use crate::exchange::plain_http;
use parsec_mfa_reference::client::admin::{AdminClient, AdminError};
use parsec_mfa_reference::client::enrollment::{NewIdentity, bootstrap_request};
use parsec_mfa_reference::client::{Connection, ConnectionError, RetryPolicy};
use parsec_mfa_reference::clock::{Clock, SystemClock};
use parsec_mfa_reference::protocol::addr::{AddrError, BootstrapAddr};
use parsec_mfa_reference::protocol::anonymous::organization_bootstrap::Rep;
use parsec_mfa_reference::protocol::{DateTime, HumanHandle};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The server's time, as it answered one request, with the real time the
/// request left and its reply arrived.
/// Why the server's time could not be read, or did not follow the
/// harness: its clock control is not confirmed (the target falls back to
/// real time and says why).
#[derive(Debug, thiserror::Error)]
pub enum ClockCheckError {
    #[error("the clock check could not create an organization: {0}")]
    CreateOrganization(#[source] AdminError),
    #[error("the clock check got a bad bootstrap URL: {0:?}")]
    BootstrapUrl(#[source] AddrError),
    /// The reference crate's check of a human handle reports text.
    #[error("{0}")]
    Identity(String),
    #[error("the clock check's organization_bootstrap failed: {0}")]
    Bootstrap(#[source] ConnectionError),
    #[error(
        "the clock check's organization_bootstrap, dated 2000-01-01, was answered `{0}` instead of `timestamp_out_of_ballpark` with the server's time"
    )]
    UnexpectedAnswer(String),
    /// libfaketime was told `set`; the server answered `server` at the real time `real`.
    #[error(
        "libfaketime did not take hold: the server's clock, {set}, answered {server} (the real time was {real}); a statically linked server, or a command that clears LD_PRELOAD, ignores it"
    )]
    NotFollowed {
        set: String,
        server: DateTime,
        real: DateTime,
    },
}

#[derive(Debug, Clone, Copy)]
pub struct ServerTime {
    pub server: DateTime,
    pub sent: DateTime,
    pub answered: DateTime,
}

impl ServerTime {
    /// Whether the server's time is the real time plus `offset_micros`,
    /// within `slack_micros` (for the clock's own reading granularity).
    pub fn is_offset_by(&self, offset_micros: i64, slack_micros: i64) -> bool {
        let server = self.server.as_micros() - offset_micros;
        self.sent.as_micros() - slack_micros <= server && server <= self.answered.as_micros() + slack_micros
    }
}

/// 2000-01-01: a certificate date every server refuses as out of ballpark.
const FAR_PAST_MICROS: i64 = 946_684_800_000_000;

/// Asks the server for its time (see the module's comment). Each call
/// creates an organization of its own, never bootstrapped.
pub async fn server_time(addr: SocketAddr, token: &str) -> Result<ServerTime, ClockCheckError> {
    let unique = hex::encode(parsec_mfa_reference::crypto::random_array::<6>());
    let org = format!("ParsecMfaClockCheck{unique}");
    let created = AdminClient::new(plain_http(addr), token)
        .create_organization(&org)
        .await
        .map_err(ClockCheckError::CreateOrganization)?;
    let link = BootstrapAddr::parse_any(&created.bootstrap_url).map_err(ClockCheckError::BootstrapUrl)?;
    let quick = RetryPolicy {
        deadline: Duration::from_secs(5),
        attempt_timeout: Duration::from_secs(4),
        first_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(500),
    };
    let conn = Connection::new(
        plain_http(addr),
        link.organization_id.clone(),
        quick,
        Arc::new(SystemClock),
    );
    let who = NewIdentity {
        human_handle: HumanHandle::new("clock.check@example.com", "Clock check")
            .map_err(|e| ClockCheckError::Identity(e.to_string()))?,
        device_label: "clock check".into(),
    };
    let (req, _) = bootstrap_request(&conn, &link, &who, DateTime::from_micros(FAR_PAST_MICROS));
    let sent = SystemClock.now();
    let reply = conn.anonymous(&req).await.map_err(ClockCheckError::Bootstrap)?;
    let answered = SystemClock.now();
    match reply {
        Rep::TimestampOutOfBallpark { server_timestamp, .. } => Ok(ServerTime {
            server: server_timestamp,
            sent,
            answered,
        }),
        other => Err(ClockCheckError::UnexpectedAnswer(other.status().to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offset_is_judged_against_the_window_of_the_request() {
        let observed = ServerTime {
            server: DateTime::from_micros(86_400_000_000 + 1_500),
            sent: DateTime::from_micros(1_000),
            answered: DateTime::from_micros(2_000),
        };
        assert!(observed.is_offset_by(86_400_000_000, 0));
        assert!(!observed.is_offset_by(0, 0));
        assert!(!observed.is_offset_by(86_400_000_000 + 10_000, 1_000));
    }
}
