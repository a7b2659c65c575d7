//! A server someone else runs, reached by its URL: real time (its
//! time-dependent scenarios waited for within the real-time budget), fixed
//! configuration, its email sent to the harness's mailbox (which listens
//! where that server was told to send it).

use super::{
    BoxFuture, Capabilities, DEFAULT_REAL_TIME_BUDGET, HttpClientError, Route, Target, TargetError, TargetFactory,
    TargetSpec, TlsRoute, wait_for_real,
};
use crate::mailbox::Mailbox;
use parsec_mfa_reference::client::admin::{AdminError, UserRef};
use parsec_mfa_reference::client::tls::HttpSettings;
use parsec_mfa_reference::client::{ConnectionError, RetryPolicy};
use parsec_mfa_reference::clock::{Clock, SystemClock};
use parsec_mfa_reference::protocol::ValueError;
use parsec_mfa_reference::protocol::anonymous_server::server_config;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A target's URL that does not lead to an address.
#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    #[error("{url}: expected http://HOST:PORT or https://HOST:PORT")]
    Form { url: String },
    #[error("{url}: {source}")]
    Lookup { url: String, source: std::io::Error },
    #[error("{url}: the host has no address")]
    NoAddress { url: String },
}

/// Why a server is not one the harness can use: the one clear error line.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error(transparent)]
    HttpClient(#[from] HttpClientError),
    /// The reference crate's organization ID parser reports text.
    #[error("{0}")]
    Organization(String),
    #[error("{http} is not a Parsec server: `server_config` answered {status}")]
    UnexpectedAnswer { http: String, status: String },
    #[error("{http} cannot be reached or does not answer ({why})")]
    Unreachable { http: String, why: String },
    /// `hint`: how to make it trusted, when the harness can tell.
    #[error("{http} cannot be trusted: {why}{hint}")]
    Untrusted {
        http: String,
        why: String,
        hint: &'static str,
    },
    #[error("{http} is not a Parsec server: {source}")]
    NotParsec { http: String, source: ConnectionError },
    #[error("{http} refused the administration token (HTTP 403): give the server's token with --admin-token")]
    TokenRefused { http: String },
    #[error("{http}: the administration API did not answer as expected: {source}")]
    AdministrationApi { http: String, source: AdminError },
    #[error("{http}: the administration API reset a user of an organization that should not exist")]
    ResetUnknownUser { http: String },
}

pub struct Remote {
    name: String,
    url: String,
    addr: SocketAddr,
    tls: Option<TlsRoute>,
    token: String,
    mailbox: Arc<Mailbox>,
    real_time_budget: Duration,
    /// What the server advertises (`server_config`), read once by the
    /// probe when the target is prepared ([`Remote::learn`]).
    advice: std::sync::OnceLock<Vec<String>>,
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
    ) -> Result<Self, TargetError> {
        let addr = resolve(url).await?;
        let trust = match ca_cert {
            Some(path) => HttpSettings::trusting_file(path).map_err(|e| TargetError::Config(e.to_string()))?,
            None => HttpSettings::default(),
        };
        let tls = url.strip_prefix("https://").map(|rest| TlsRoute {
            server_name: host_of(rest),
            trust,
            ca_file: ca_cert.map(Path::to_path_buf),
        });
        let mailbox = Mailbox::start(smtp_listen).await.map_err(|source| TargetError::Io {
            what: format!("the mailbox cannot listen on {smtp_listen}"),
            source,
        })?;
        Ok(Remote {
            name: name.to_owned(),
            url: url.to_owned(),
            addr,
            tls,
            token: token.to_owned(),
            mailbox: Arc::new(mailbox),
            real_time_budget: DEFAULT_REAL_TIME_BUDGET,
            advice: std::sync::OnceLock::new(),
        })
    }

    /// Keeps what the probe learnt of the server (its advice), for the
    /// skip rules and for the scenarios whose advice is the server's.
    pub fn learn(&self, facts: &ServerFacts) {
        let _ = self.advice.set(facts.advice.clone());
    }

    /// The server's advertised advice, once learnt.
    pub fn advice(&self) -> Option<Vec<String>> {
        self.advice.get().cloned()
    }

    pub fn with_real_time_budget(mut self, budget: Duration) -> Self {
        self.real_time_budget = budget;
        self
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How the harness reaches this server directly.
    pub fn route(&self) -> Result<Route, HttpClientError> {
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
pub async fn resolve(url: &str) -> Result<SocketAddr, UrlError> {
    let form = || UrlError::Form { url: url.to_owned() };
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(form)?;
    let host_port = rest.trim_end_matches('/');
    if host_port.contains('/') || !host_port.contains(':') {
        return Err(form());
    }
    tokio::net::lookup_host(host_port)
        .await
        .map_err(|source| UrlError::Lookup {
            url: url.to_owned(),
            source,
        })?
        .next()
        .ok_or_else(|| UrlError::NoAddress { url: url.to_owned() })
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
pub async fn probe(addr: SocketAddr, token: &str) -> Result<ServerFacts, ProbeError> {
    probe_route(&Route::new(None, addr)?, token).await
}

/// As [`probe`], through `route` (TLS or not).
pub async fn probe_route(route: &Route, token: &str) -> Result<ServerFacts, ProbeError> {
    let http = route.server.to_http_url("").trim_end_matches('/').to_owned();
    let quick = RetryPolicy {
        deadline: Duration::from_secs(5),
        attempt_timeout: Duration::from_secs(4),
        first_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(500),
    };
    let org = PROBE_ORGANIZATION
        .parse()
        .map_err(|e: ValueError| ProbeError::Organization(format!("{:?}", e.to_string())))?;
    let conn = route.connection(org, quick, Arc::new(SystemClock));
    let advice = match conn.server_config().await {
        Ok(server_config::Rep::Ok(config)) => config.advisory_device_file_protection.unwrap_or_default(),
        Ok(other) => {
            return Err(ProbeError::UnexpectedAnswer {
                http,
                status: other.status().to_owned(),
            });
        }
        Err(ConnectionError::Unreachable(why)) => return Err(ProbeError::Unreachable { http, why }),
        Err(ConnectionError::Tls(why)) => {
            let hint = match why.contains("UnknownIssuer") {
                true => " (give the authority that signed its certificate with --ca-cert)",
                false => "",
            };
            return Err(ProbeError::Untrusted { http, why, hint });
        }
        Err(source) => return Err(ProbeError::NotParsec { http, source }),
    };
    let admin = route.admin(token);
    let nobody = UserRef::Email("nobody@example.com".into());
    match admin.reset_totp(PROBE_ORGANIZATION, &nobody, false).await {
        Err(AdminError::Refused { status: 404, .. }) => Ok(ServerFacts { advice }),
        Err(AdminError::Refused { status: 403, .. }) => Err(ProbeError::TokenRefused { http }),
        Err(source) => Err(ProbeError::AdministrationApi { http, source }),
        Ok(_) => Err(ProbeError::ResetUnknownUser { http }),
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

    fn advertised_advice(&self) -> Option<Vec<String>> {
        self.advice()
    }

    fn start(&self, spec: TargetSpec) -> BoxFuture<'_, Result<Box<dyn Target>, TargetError>> {
        Box::pin(async move {
            // A scenario that gives no advice takes the server as it is; one
            // that gives advice is welcome when it is the server's own
            // (compared as sets): the configuration is fixed, not changed.
            let wanted: std::collections::BTreeSet<&String> = spec.advisory_device_file_protection.iter().collect();
            let advertised = self
                .advice
                .get()
                .map(|a| a.iter().collect::<std::collections::BTreeSet<_>>());
            let same_advice = wanted.is_empty() || advertised.as_ref().is_some_and(|a| *a == wanted);
            if !same_advice || !spec.faults.is_empty() {
                return Err(TargetError::Refused {
                    target: self.url.clone(),
                    why: "this target's configuration is fixed",
                });
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

    fn advance(&self, micros: i64) -> BoxFuture<'_, Result<(), TargetError>> {
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
        let refused = resolve("127.0.0.1:6777").await.unwrap_err().to_string();
        assert!(refused.contains("http://HOST:PORT"), "{refused}");
        assert!(matches!(resolve("127.0.0.1:6777").await, Err(UrlError::Form { .. })));
        assert!(matches!(resolve("http://127.0.0.1").await, Err(UrlError::Form { .. })));
        assert!(matches!(
            resolve("http://127.0.0.1:1/path").await,
            Err(UrlError::Form { .. })
        ));
    }
}
