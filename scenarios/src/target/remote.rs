//! A server someone else runs, reached by its URL: real time (its
//! time-dependent scenarios waited for within the real-time budget), fixed
//! configuration, its email sent to the harness's mailbox (which listens
//! where that server was told to send it).

use super::{
    BoxFuture, Capabilities, DEFAULT_REAL_TIME_BUDGET, Route, Target, TargetFactory, TargetSpec, TlsRoute,
    wait_for_real,
};
use crate::mailbox::Mailbox;
use parsec_mfa_reference::client::admin::{AdminError, UserRef};
use parsec_mfa_reference::client::tls::HttpSettings;
use parsec_mfa_reference::client::{ConnectionError, RetryPolicy};
use parsec_mfa_reference::clock::{Clock, SystemClock};
use parsec_mfa_reference::protocol::anonymous_server::server_config;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub struct Remote {
    name: String,
    url: String,
    addr: SocketAddr,
    tls: Option<TlsRoute>,
    token: String,
    mailbox: Arc<Mailbox>,
    real_time_budget: Duration,
}

impl Remote {
    /// `url`: `http://HOST:PORT`, or `https://HOST:PORT` whose certificate
    /// is checked against HOST with the authorities of the PEM file
    /// `ca_cert` (default: the system's); the mailbox listens on
    /// `smtp_listen` (`127.0.0.1:0` for a free port).
    pub async fn new(
        name: &str,
        url: &str,
        token: &str,
        smtp_listen: &str,
        ca_cert: Option<&Path>,
    ) -> Result<Self, String> {
        let addr = resolve(url).await?;
        let trust = match ca_cert {
            Some(path) => HttpSettings::trusting_file(path)?,
            None => HttpSettings::default(),
        };
        let tls = url.strip_prefix("https://").map(|rest| TlsRoute {
            server_name: host_of(rest),
            trust,
            ca_file: ca_cert.map(Path::to_path_buf),
        });
        let mailbox = Mailbox::start(smtp_listen)
            .await
            .map_err(|e| format!("the mailbox cannot listen on {smtp_listen}: {e}"))?;
        Ok(Remote {
            name: name.to_owned(),
            url: url.to_owned(),
            addr,
            tls,
            token: token.to_owned(),
            mailbox: Arc::new(mailbox),
            real_time_budget: DEFAULT_REAL_TIME_BUDGET,
        })
    }

    pub fn with_real_time_budget(mut self, budget: Duration) -> Self {
        self.real_time_budget = budget;
        self
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How the harness reaches this server directly.
    pub fn route(&self) -> Result<Route, String> {
        Route::new(self.tls.as_ref(), self.addr)
    }

    pub fn smtp_addr(&self) -> SocketAddr {
        self.mailbox.addr()
    }
}

/// `HOST:PORT[/]` to HOST, without an IPv6 address's brackets: the name
/// a TLS certificate is checked against.
fn host_of(host_port: &str) -> String {
    let host_port = host_port.trim_end_matches('/');
    let host = host_port.rsplit_once(':').map_or(host_port, |(host, _)| host);
    host.trim_start_matches('[').trim_end_matches(']').to_owned()
}

/// `http://HOST:PORT[/]` or `https://HOST:PORT[/]` to a socket address.
pub async fn resolve(url: &str) -> Result<SocketAddr, String> {
    let Some(rest) = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://")) else {
        return Err(format!("{url}: expected http://HOST:PORT or https://HOST:PORT"));
    };
    let host_port = rest.trim_end_matches('/');
    if host_port.contains('/') || !host_port.contains(':') {
        return Err(format!("{url}: expected http://HOST:PORT or https://HOST:PORT"));
    }
    tokio::net::lookup_host(host_port)
        .await
        .map_err(|e| format!("{url}: {e}"))?
        .next()
        .ok_or_else(|| format!("{url}: the host has no address"))
}

/// An organization the probe asks about, which no scenario creates.
const PROBE_ORGANIZATION: &str = "ParsecMfaConformanceProbe";

/// What the harness learnt of a server before running any scenario.
#[derive(Debug, Clone)]
pub struct ServerFacts {
    /// Its `advisory_device_file_protection`.
    pub advice: Vec<String>,
}

/// Checks, within a few seconds, that a Parsec server answers at `addr` and
/// accepts the administration token: the one clear error line otherwise.
pub async fn probe(addr: SocketAddr, token: &str) -> Result<ServerFacts, String> {
    probe_route(&Route::new(None, addr)?, token).await
}

/// As [`probe`], through `route` (TLS or not).
pub async fn probe_route(route: &Route, token: &str) -> Result<ServerFacts, String> {
    let http = route.server.to_http_url("").trim_end_matches('/').to_owned();
    let quick = RetryPolicy {
        deadline: Duration::from_secs(5),
        attempt_timeout: Duration::from_secs(4),
        first_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(500),
    };
    let org = PROBE_ORGANIZATION.parse().map_err(|e| format!("{e:?}"))?;
    let conn = route.connection(org, quick, Arc::new(SystemClock));
    let advice = match conn.server_config().await {
        Ok(server_config::Rep::Ok(config)) => config.advisory_device_file_protection.unwrap_or_default(),
        Ok(other) => {
            return Err(format!(
                "{http} is not a Parsec server: `server_config` answered {}",
                other.status()
            ));
        }
        Err(ConnectionError::Unreachable(why)) => {
            return Err(format!("{http} cannot be reached or does not answer ({why})"));
        }
        Err(ConnectionError::Tls(why)) => {
            let hint = match why.contains("UnknownIssuer") {
                true => " (give the authority that signed its certificate with --ca-cert)",
                false => "",
            };
            return Err(format!("{http} cannot be trusted: {why}{hint}"));
        }
        Err(e) => return Err(format!("{http} is not a Parsec server: {e}")),
    };
    let admin = route.admin(token);
    let nobody = UserRef::Email("nobody@example.com".into());
    match admin.reset_totp(PROBE_ORGANIZATION, &nobody, false).await {
        Err(AdminError::Refused { status: 404, .. }) => Ok(ServerFacts { advice }),
        Err(AdminError::Refused { status: 403, .. }) => Err(format!(
            "{http} refused the administration token (HTTP 403): give the server's token with --admin-token"
        )),
        Err(e) => Err(format!(
            "{http}: the administration API did not answer as expected: {e}"
        )),
        Ok(_) => Err(format!(
            "{http}: the administration API reset a user of an organization that should not exist"
        )),
    }
}

impl TargetFactory for Remote {
    fn name(&self) -> &str {
        &self.name
    }

    fn description(&self) -> String {
        format!(
            "the server at {}, real time (time-dependent scenarios run in real time within a budget of {} s), fixed configuration; its email expected at SMTP {}",
            self.url,
            self.real_time_budget.as_secs(),
            self.mailbox.addr()
        )
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    fn real_time_budget(&self) -> Duration {
        self.real_time_budget
    }

    fn start(&self, spec: TargetSpec) -> BoxFuture<'_, Result<Box<dyn Target>, String>> {
        Box::pin(async move {
            if !spec.advisory_device_file_protection.is_empty() || !spec.faults.is_empty() {
                return Err(format!("{}: this target's configuration is fixed", self.url));
            }
            Ok(Box::new(RemoteTarget {
                name: self.name.clone(),
                addr: self.addr,
                tls: self.tls.clone(),
                token: self.token.clone(),
                mailbox: self.mailbox.clone(),
                real_time_budget: self.real_time_budget,
            }) as Box<dyn Target>)
        })
    }
}

struct RemoteTarget {
    name: String,
    addr: SocketAddr,
    tls: Option<TlsRoute>,
    token: String,
    mailbox: Arc<Mailbox>,
    real_time_budget: Duration,
}

impl Target for RemoteTarget {
    fn name(&self) -> &str {
        &self.name
    }

    fn socket_addr(&self) -> SocketAddr {
        self.addr
    }

    fn administration_token(&self) -> &str {
        &self.token
    }

    fn mailbox(&self) -> &Mailbox {
        &self.mailbox
    }

    fn clock(&self) -> Arc<dyn Clock> {
        Arc::new(SystemClock)
    }

    fn clock_flows(&self) -> bool {
        true
    }

    fn advance(&self, micros: i64) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(wait_for_real(micros, self.real_time_budget))
    }

    fn tls(&self) -> Option<&TlsRoute> {
        self.tls.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn urls_are_http_or_https_host_and_port() {
        assert_eq!(resolve("http://127.0.0.1:6777").await.unwrap().port(), 6777);
        assert_eq!(resolve("http://127.0.0.1:6777/").await.unwrap().port(), 6777);
        assert_eq!(resolve("https://localhost:6778/").await.unwrap().port(), 6778);
        assert_eq!(host_of("localhost:6778/"), "localhost");
        assert_eq!(host_of("[::1]:6778"), "::1");
        assert!(
            resolve("127.0.0.1:6777")
                .await
                .unwrap_err()
                .contains("http://HOST:PORT")
        );
        assert!(
            resolve("http://127.0.0.1")
                .await
                .unwrap_err()
                .contains("http://HOST:PORT")
        );
        assert!(
            resolve("http://127.0.0.1:1/path")
                .await
                .unwrap_err()
                .contains("http://HOST:PORT")
        );
    }
}
