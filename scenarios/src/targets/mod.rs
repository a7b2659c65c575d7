//! The server under test, behind one trait: what it can do (capabilities)
//! and how the harness reaches it. A scenario that needs a capability the
//! target lacks is skipped with the reason in the reports, never passed.
//!
//! - [`in_process`]: the reference server in this process, simulated clock;
//! - [`launched`]: servers the harness starts as processes (the reference
//!   binary, the official parsec-cloud server, any command);
//! - [`remote`]: a server someone else runs, reached by its URL;
//! - [`clock_check`]: whether a server's clock really follows the harness;
//! - [`real_time`]: the real-time budget of targets without clock control.

pub mod build;
pub mod clock_check;
#[cfg(feature = "containers")]
pub mod container;
mod container_unavailable;
pub mod in_process;
pub mod launched;
pub mod real_time;
pub mod remote;

use crate::mailbox::Mailbox;
use crate::servers::ServerError;
use parsec_mfa_reference::clock::Clock;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

pub use in_process::{ADMINISTRATION_TOKEN, InProcess, SIMULATED_START_UNIX};
pub use real_time::{DEFAULT_REAL_TIME_BUDGET, depends_on_time, real_seconds_needed, wait_for_real};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a target could not give a scenario its server, or move its time.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The scenario asks for what this target cannot give (faults, advice).
    #[error("{target}: {why}")]
    Refused { target: String, why: &'static str },
    /// A wait longer than the real-time budget, where the clock cannot be moved.
    #[error(
        "this target has no clock control: {wait:?} of real time is more than the real-time budget of {budget:?} (--real-time-budget)"
    )]
    OverBudget { wait: Duration, budget: Duration },
    /// The server could not bind its port (another program took it between
    /// its choice and the bind): the caller starts it again on another.
    #[error(transparent)]
    PortTaken(ServerError),
    #[error(transparent)]
    Server(#[from] ServerError),
    #[error(transparent)]
    Faketime(#[from] crate::faketime::FaketimeError),
    /// The server's clock could not be read, or did not follow the harness.
    #[error(transparent)]
    Clock(#[from] clock_check::ClockCheckError),
    /// The reference's `--test-clock` could not be reached.
    #[error("{control}: {source}")]
    TestClock { control: String, source: reqwest::Error },
    #[error("{control} answered {status}")]
    TestClockRefused {
        control: String,
        status: reqwest::StatusCode,
    },
    #[error(transparent)]
    Url(#[from] remote::UrlError),
    #[error(transparent)]
    Probe(#[from] remote::ProbeError),
    /// Boxed: its variants carry the container's log and last line.
    #[error(transparent)]
    #[cfg(feature = "containers")]
    Container(Box<container::ContainerError>),
    /// `--target image=…` in a build without the `containers` feature.
    #[error(
        "image={reference}: this build has no container support; build it with the `containers` feature: cargo run --features containers -- conformance --target image={reference}"
    )]
    NoContainerSupport { reference: String },
    #[error(transparent)]
    HttpClient(#[from] HttpClientError),
    #[error(transparent)]
    InProcess(#[from] crate::testing::server::InProcessServerError),
    /// A configuration the reference crate refused (an advice, a CA
    /// file): its parsers and loaders report text.
    #[error("{0}")]
    Config(String),
    /// A deliberate defect no defect is named after.
    #[error(transparent)]
    Fault(#[from] parsec_mfa_reference::server::FaultError),
    /// Something of the harness's own: a folder, the mailbox's port.
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
    #[error("the servers' start permits: {0}")]
    Permits(#[from] tokio::sync::AcquireError),
    /// A blocking task of the start (a database's creation) stopped.
    #[error("{0}")]
    Task(#[from] tokio::task::JoinError),
}

#[cfg(feature = "containers")]
impl From<container::ContainerError> for TargetError {
    fn from(e: container::ContainerError) -> Self {
        TargetError::Container(Box::new(e))
    }
}

/// The reference crate's HTTP client could not be built (its builder
/// reports text).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpClientError(pub String);

/// How far the harness can move a target's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClockControl {
    /// Real time only: waits within the real-time budget are waited for
    /// real.
    #[default]
    None,
    /// The time source can be moved forward while it keeps flowing: long
    /// waits are skipped over, exact instants cannot be hit.
    Offset,
    /// The time stands still and moves only when told: any instant.
    Exact,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    pub clock: ClockControl,
    /// The server can be started with deliberate defects (mutation testing).
    pub fault_injection: bool,
    /// Each scenario can have its own server configuration (advice).
    pub per_scenario_config: bool,
}

/// Scenario tags that ask for a capability (see `features/README.md`).
pub mod tags {
    /// Moves the server's time: by the harness where it controls the clock,
    /// else waited for in real time within the budget.
    pub const CLOCK: &str = "clock";
    /// Needs the server's time stopped at exact instants.
    pub const EXACT_CLOCK: &str = "exact-clock";
    /// Needs a server started with its own `--advisory-device-file-protection`
    /// (the advice its steps give), or a fixed-configuration target that
    /// advises exactly that.
    pub const ADVICE: &str = "advice";
    /// A client rule: the scenario goes through a command client (the
    /// reference client's binary where `--client reference`).
    pub const CLIENT: &str = "client";
    /// Needs a password-only device to be allowed: skipped on a target
    /// whose advice allows no `PASSWORD` device (e.g. only `+TOTP`
    /// variants, the admin guide's MFA-mandatory configuration).
    pub const PASSWORD_ONLY: &str = "password-only";
}

/// What a scenario's steps ask of the server's configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScenarioNeeds {
    /// The advisory device file protection its steps give the server
    /// ("the server administrator advises …", "the server is started with
    /// the flags …"), as a set; empty: none (the default configuration).
    pub advice: std::collections::BTreeSet<String>,
}

/// The advice the steps (text, docstring) of a scenario give its server.
pub fn advice_of_steps<'a>(steps: impl IntoIterator<Item = (&'a str, Option<&'a str>)>) -> ScenarioNeeds {
    let mut advice = std::collections::BTreeSet::new();
    for (text, docstring) in steps {
        if let Some(list) = text
            .strip_prefix("the server administrator advises \"")
            .and_then(|rest| rest.strip_suffix('"'))
        {
            advice.extend(list.split(", ").map(str::to_owned));
        }
        if text.starts_with("the server is started with the flags") {
            let mut words = docstring.unwrap_or_default().split_whitespace();
            while let Some(word) = words.next() {
                if word == "--advisory-device-file-protection"
                    && let Some(value) = words.next()
                {
                    advice.insert(value.to_owned());
                }
            }
        }
    }
    ScenarioNeeds { advice }
}

/// Whether a server advising `advice` lets a password-only device in:
/// with no advice, or when `PASSWORD` itself is advised.
pub fn allows_password_only(advice: &[String]) -> bool {
    advice.is_empty() || advice.iter().any(|a| a == "PASSWORD")
}

/// What the skip rules know of a target and of the run.
#[derive(Debug, Clone, Default)]
pub struct SkipContext {
    pub capabilities: Capabilities,
    /// The longest a scenario may wait for real where the clock cannot be moved.
    pub real_time_budget: Duration,
    /// Why the target has less clock control than its kind usually has
    /// (e.g. libfaketime did not take hold), added to clock reasons.
    pub clock_note: Option<String>,
    /// What a fixed-configuration target advertises in `server_config`
    /// (read once when it is prepared); `None`: not known.
    pub advertised_advice: Option<Vec<String>>,
}

/// Why a scenario with these tags, which waits `real_seconds` where the
/// clock cannot be moved (see [`real_seconds_needed`]), cannot run on this
/// target, or `None` when it can.
pub fn skip_reason<'a>(
    scenario_tags: impl IntoIterator<Item = &'a String>,
    real_seconds: u64,
    context: &SkipContext,
) -> Option<String> {
    skip_reason_for(scenario_tags, real_seconds, &ScenarioNeeds::default(), context)
}

/// As [`skip_reason`], for a scenario whose steps need `needs` of the
/// server's configuration.
pub fn skip_reason_for<'a>(
    scenario_tags: impl IntoIterator<Item = &'a String>,
    real_seconds: u64,
    needs: &ScenarioNeeds,
    context: &SkipContext,
) -> Option<String> {
    let tags: Vec<&str> = scenario_tags.into_iter().map(String::as_str).collect();
    let clock = context.capabilities.clock;
    let note = context
        .clock_note
        .as_ref()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    if tags.contains(&tags::EXACT_CLOCK) && clock != ClockControl::Exact {
        return Some(match clock {
            ClockControl::Offset => "needs the server's clock stopped at exact instants (@exact-clock); this target's time source can only be offset while it keeps flowing".into(),
            _ => format!("needs the server's clock stopped at exact instants (@exact-clock); this target has no clock control{note}"),
        });
    }
    let budget = context.real_time_budget.as_secs();
    if clock == ClockControl::None && real_seconds > budget {
        let needed = match real_seconds {
            u64::MAX => "more real time than can be counted".to_owned(),
            s => format!("{s} s of real time"),
        };
        return Some(format!(
            "needs {needed}, over the real-time budget of {budget} s (--real-time-budget); this target has no clock control{note}"
        ));
    }
    if context.capabilities.per_scenario_config {
        return None;
    }
    let shown = |advice: &[String]| match advice {
        [] => "nothing".to_owned(),
        _ => advice.join(", "),
    };
    let needed: Vec<String> = needs.advice.iter().cloned().collect();
    if tags.contains(&tags::ADVICE) {
        match &context.advertised_advice {
            None => {
                return Some(format!(
                    "needs a server advising {} (@advice); this target's configuration is fixed and its advice is not known",
                    shown(&needed)
                ));
            }
            Some(advertised) => {
                let advertised_set: std::collections::BTreeSet<String> = advertised.iter().cloned().collect();
                if advertised_set != needs.advice {
                    return Some(format!(
                        "needs a server advising {} (@advice); this target's configuration is fixed and advises {}",
                        shown(&needed),
                        shown(advertised)
                    ));
                }
            }
        }
    }
    if tags.contains(&tags::PASSWORD_ONLY)
        && let Some(advertised) = &context.advertised_advice
        && !allows_password_only(advertised)
    {
        return Some(format!(
            "needs a password-only device to be allowed (@password-only); this target advises {}, which allows none (MFA mandatory)",
            shown(advertised)
        ));
    }
    None
}

/// What a scenario asks of its server.
#[derive(Debug, Clone, Default)]
pub struct TargetSpec {
    pub advisory_device_file_protection: Vec<String>,
    pub faults: Vec<String>,
    /// The scenario depends on the server's time (tagged `@clock` or
    /// `@exact-clock`, or its steps wait or race a lockout, see
    /// [`depends_on_time`]): it gets a server of its own (no other
    /// scenario uses it meanwhile), whose clock the harness controls, where
    /// servers are shared and the clock can be controlled.
    pub moves_clock: bool,
}

pub trait Target: Send + Sync {
    fn name(&self) -> &str;
    /// The server's own address (the client goes through the Network).
    fn socket_addr(&self) -> SocketAddr;
    fn administration_token(&self) -> &str;
    /// Where this server's email arrives.
    fn mailbox(&self) -> &Mailbox;
    /// The target's time: what the client signs with and the phone sees.
    fn clock(&self) -> Arc<dyn Clock>;
    /// Whether that time flows by itself (real or offset time), rather than
    /// standing still between steps.
    fn clock_flows(&self) -> bool;
    /// Moves the server's time forward, or waits for real where it cannot.
    fn advance(&self, micros: i64) -> BoxFuture<'_, Result<(), TargetError>>;
    /// Whether the server speaks TLS, for which name and authorities.
    fn tls(&self) -> Option<&TlsRoute> {
        None
    }
}

/// A target behind TLS: its certificate is checked against `server_name`
/// (whatever address the harness connects to: the target itself or the
/// Network in front of it), with the authorities of `trust`.
#[derive(Clone, Debug)]
pub struct TlsRoute {
    pub server_name: String,
    pub trust: parsec_mfa_reference::client::tls::HttpSettings,
    /// The PEM file of `trust`'s authorities, for the commands the
    /// scenarios run (`PARSEC_MFA_CA_CERT`); `None`: the system's.
    pub ca_file: Option<std::path::PathBuf>,
}

/// How the harness's client reaches a target through `via` (the target's
/// own address, or the Network proxy's).
#[derive(Clone)]
pub struct Route {
    pub server: parsec_mfa_reference::protocol::addr::ServerAddr,
    settings: parsec_mfa_reference::client::tls::HttpSettings,
}

impl Route {
    pub fn new(tls: Option<&TlsRoute>, via: SocketAddr) -> Result<Route, HttpClientError> {
        use parsec_mfa_reference::client::tls::HttpSettings;
        use parsec_mfa_reference::protocol::addr::ServerAddr;
        let route = match tls {
            None => Route {
                server: crate::exchange::plain_http(via),
                settings: HttpSettings::default(),
            },
            Some(tls) => Route {
                server: ServerAddr {
                    hostname: tls.server_name.clone(),
                    port: Some(via.port()),
                    use_ssl: true,
                },
                settings: tls.trust.clone().resolving(&tls.server_name, via),
            },
        };
        // Checked once here: later clients are built the same way.
        route.settings.client().map_err(|e| HttpClientError(e.to_string()))?;
        Ok(route)
    }

    /// The route to `target` itself.
    pub fn to(target: &dyn Target) -> Result<Route, HttpClientError> {
        Route::new(target.tls(), target.socket_addr())
    }

    /// A new HTTP client: its own connections, as each app's (a scenario
    /// that drops the next connections counts on new ones being opened).
    pub fn http(&self) -> reqwest::Client {
        self.settings.client().expect("checked when the route was made")
    }

    pub fn connection(
        &self,
        organization: parsec_mfa_reference::protocol::OrganizationID,
        retry: parsec_mfa_reference::client::RetryPolicy,
        clock: Arc<dyn Clock>,
    ) -> parsec_mfa_reference::client::Connection {
        parsec_mfa_reference::client::Connection::new(self.server.clone(), organization, retry, clock)
            .with_http(self.http())
    }

    pub fn admin(&self, token: &str) -> parsec_mfa_reference::client::admin::AdminClient {
        parsec_mfa_reference::client::admin::AdminClient::new(self.server.clone(), token)
            .with_http(self.http())
            .with_timeout(crate::exchange::request_timeout())
    }
}

/// Starts (or attaches to) a server for each scenario.
pub trait TargetFactory: Send + Sync {
    /// The report folder's name: `reports/<name>/`.
    fn name(&self) -> &str;
    /// One line for the reports: what runs, and how.
    fn description(&self) -> String;
    fn capabilities(&self) -> Capabilities;
    /// Why this target has less clock control than its kind usually has
    /// (libfaketime did not take hold, or is not installed): said in the
    /// skip reasons.
    fn clock_note(&self) -> Option<String> {
        None
    }
    /// The longest a scenario may wait for real where the clock cannot be
    /// moved (`--real-time-budget`).
    fn real_time_budget(&self) -> Duration {
        DEFAULT_REAL_TIME_BUDGET
    }
    /// What a fixed-configuration target advertises as its advisory device
    /// file protection (`server_config`), read when it was prepared.
    fn advertised_advice(&self) -> Option<Vec<String>> {
        None
    }
    fn start(&self, spec: TargetSpec) -> BoxFuture<'_, Result<Box<dyn Target>, TargetError>>;
}

/// What `--target image=NAME[:TAG]` asks for (see [`START_IMAGE`]).
pub struct ImageRequest<'a> {
    pub name: &'a str,
    /// `NAME[:TAG]`.
    pub reference: &'a str,
    /// The container's command, with the `cmd=` placeholders; `None`: the
    /// image's own.
    pub command: Option<&'a str>,
    pub token: &'a str,
    /// Where its output goes.
    pub work_dir: &'a std::path::Path,
    pub timeout: Duration,
    pub real_time_budget: Duration,
}

/// An image target once its container answers.
pub struct StartedImage {
    pub factory: Arc<dyn TargetFactory>,
    /// The container's id (its first 12 characters are Docker's short id).
    pub container_id: String,
    /// Where the harness's mailbox listens for the container's email.
    pub smtp_addr: SocketAddr,
}

/// How an image target starts, in either build.
pub type StartImage = for<'a> fn(ImageRequest<'a>) -> BoxFuture<'a, Result<StartedImage, TargetError>>;

/// Starts an image target: through the Docker engine where the build has
/// the `containers` feature (testcontainers, bollard and its BuildKit
/// client: a fifth of a cold build, which the README's `cargo run` leaves
/// out; `cargo test` turns it on); without it, an error saying how to get
/// a build that has it.
#[cfg(feature = "containers")]
pub const START_IMAGE: StartImage = container::start_image;
#[cfg(not(feature = "containers"))]
pub const START_IMAGE: StartImage = container_unavailable::start_image;
// The stand-in is compiled, linted and held to the same signature in every
// build, so the build without the feature cannot drift unseen.
const _: StartImage = container_unavailable::start_image;

/// The harness's own process addresses servers on the loopback interface
/// without TLS.
pub fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(clock: ClockControl, per_scenario_config: bool) -> SkipContext {
        SkipContext {
            capabilities: Capabilities {
                clock,
                fault_injection: false,
                per_scenario_config,
            },
            real_time_budget: Duration::from_secs(30),
            clock_note: None,
            advertised_advice: None,
        }
    }

    fn fixed_advising(advice: &[&str]) -> SkipContext {
        SkipContext {
            advertised_advice: Some(advice.iter().map(|a| a.to_string()).collect()),
            ..context(ClockControl::None, false)
        }
    }

    fn needing(advice: &[&str]) -> ScenarioNeeds {
        ScenarioNeeds {
            advice: advice.iter().map(|a| a.to_string()).collect(),
        }
    }

    #[test]
    fn advice_scenarios_run_on_a_fixed_target_advising_the_same_set() {
        let advice = tags(&["advice"]);
        let guide = fixed_advising(&["PASSWORD+TOTP", "PKI"]);
        let same = needing(&["PKI", "PASSWORD+TOTP"]);
        assert_eq!(skip_reason_for(&advice, 0, &same, &guide), None);
        let other = needing(&["PASSWORD+TOTP"]);
        let reason = skip_reason_for(&advice, 0, &other, &guide).unwrap();
        assert!(
            reason.contains("needs a server advising PASSWORD+TOTP (@advice)")
                && reason.contains("advises PASSWORD+TOTP, PKI"),
            "{reason}"
        );
        let none = needing(&[]);
        let reason = skip_reason_for(&advice, 0, &none, &guide).unwrap();
        assert!(reason.contains("advising nothing"), "{reason}");
        assert_eq!(skip_reason_for(&advice, 0, &none, &fixed_advising(&[])), None);
        // Unknown advice: skipped, as before.
        let unknown = context(ClockControl::None, false);
        assert!(
            skip_reason_for(&advice, 0, &same, &unknown)
                .unwrap()
                .contains("not known")
        );
        // A target starting a server per scenario gives each its own.
        assert_eq!(
            skip_reason_for(&advice, 0, &other, &context(ClockControl::None, true)),
            None
        );
    }

    #[test]
    fn password_only_scenarios_skip_where_mfa_is_mandatory() {
        let password_only = tags(&["password-only"]);
        let none = ScenarioNeeds::default();
        let reason = skip_reason_for(&password_only, 0, &none, &fixed_advising(&["PASSWORD+TOTP", "PKI"])).unwrap();
        assert!(
            reason.contains("@password-only") && reason.contains("advises PASSWORD+TOTP, PKI"),
            "{reason}"
        );
        assert!(skip_reason_for(&password_only, 0, &none, &fixed_advising(&["PKI+TOTP", "KEYRING"])).is_some());
        for allowing in [&[][..], &["PASSWORD", "PASSWORD+TOTP"][..]] {
            assert_eq!(
                skip_reason_for(&password_only, 0, &none, &fixed_advising(allowing)),
                None
            );
        }
        assert_eq!(
            skip_reason_for(&password_only, 0, &none, &context(ClockControl::None, false)),
            None
        );
        assert_eq!(
            skip_reason_for(&password_only, 0, &none, &context(ClockControl::Exact, true)),
            None
        );
    }

    #[test]
    fn the_advice_a_scenario_needs_comes_from_its_steps() {
        let needs = advice_of_steps([
            ("the server administrator advises \"PASSWORD+TOTP, PKI\"", None),
            ("an organization whose administrator is Alice", None),
        ]);
        assert_eq!(needs, needing(&["PASSWORD+TOTP", "PKI"]));
        let flags = "--advisory-device-file-protection PASSWORD+TOTP \\\n--advisory-device-file-protection PKI";
        let needs = advice_of_steps([(
            "the server is started with the flags, as quoted from admin-guide-user-authentication.txt:",
            Some(flags),
        )]);
        assert_eq!(needs, needing(&["PASSWORD+TOTP", "PKI"]));
        assert_eq!(advice_of_steps([("Alice logs in", None)]), ScenarioNeeds::default());
    }

    fn tags(list: &[&str]) -> Vec<String> {
        list.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn untagged_scenarios_run_everywhere() {
        assert_eq!(skip_reason(&tags(&[]), 0, &context(ClockControl::None, false)), None);
        assert_eq!(
            skip_reason(&tags(&["serial"]), 3, &context(ClockControl::None, false)),
            None
        );
    }

    #[test]
    fn clock_scenarios_run_in_real_time_within_the_budget() {
        let clock = tags(&["clock"]);
        assert_eq!(skip_reason(&clock, 15, &context(ClockControl::None, true)), None);
        let over = skip_reason(&clock, 511, &context(ClockControl::None, true)).unwrap();
        assert!(
            over.contains("needs 511 s of real time, over the real-time budget of 30 s"),
            "{over}"
        );
        assert_eq!(skip_reason(&clock, 511, &context(ClockControl::Offset, true)), None);
        assert_eq!(skip_reason(&clock, 511, &context(ClockControl::Exact, true)), None);
        let mut fallback = context(ClockControl::None, true);
        fallback.clock_note = Some("libfaketime did not take hold".into());
        let said = skip_reason(&clock, 3_600, &fallback).unwrap();
        assert!(said.contains("(libfaketime did not take hold)"), "{said}");
    }

    #[test]
    fn exact_instants_need_an_exact_clock() {
        let exact = tags(&["exact-clock"]);
        let offset = skip_reason(&exact, 1, &context(ClockControl::Offset, true)).unwrap();
        assert!(offset.contains("offset"), "{offset}");
        assert!(skip_reason(&exact, 1, &context(ClockControl::None, true)).is_some());
        assert_eq!(skip_reason(&exact, 1, &context(ClockControl::Exact, false)), None);
    }

    #[test]
    fn advice_scenarios_need_per_scenario_config() {
        let advice = tags(&["advice"]);
        let reason = skip_reason(&advice, 0, &context(ClockControl::Exact, false)).unwrap();
        assert!(reason.contains("@advice"), "{reason}");
        assert_eq!(skip_reason(&advice, 0, &context(ClockControl::None, true)), None);
    }
}
