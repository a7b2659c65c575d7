//! The server under test, behind one trait: what it can do (capabilities)
//! and how the harness reaches it. A scenario that needs a capability the
//! target lacks is skipped with the reason, never passed.

use parsec_mfa_reference::clock::{Clock, ManualClock};
use parsec_mfa_reference::protocol::DateTime;
use parsec_mfa_reference::protocol::addr::ServerAddr;
use parsec_mfa_reference::server::{AppState, EmailConfig, Faults, ServerConfig, Store};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// The harness can set and move the server's clock.
    pub clock_control: bool,
    /// The server can be started with deliberate defects (mutation testing).
    pub fault_injection: bool,
    /// Each scenario can have its own server configuration (advice).
    pub per_scenario_config: bool,
}

/// What a scenario asks of its server.
#[derive(Debug, Clone, Default)]
pub struct TargetSpec {
    pub advisory_device_file_protection: Vec<String>,
    /// Where the server sends email (the scenario's Mailbox).
    pub smtp_port: u16,
    pub faults: Vec<String>,
}

pub trait Target: Send + Sync {
    fn name(&self) -> &str;
    fn capabilities(&self) -> Capabilities;
    /// The server's own address (the client goes through the Network).
    fn socket_addr(&self) -> SocketAddr;
    fn administration_token(&self) -> &str;
    /// The target's time: what the client signs with and the phone sees.
    fn clock(&self) -> Arc<dyn Clock>;
    /// Moves the server's time forward.
    fn advance(&self, micros: i64) -> BoxFuture<'_, Result<(), String>>;
}

/// Starts a target per scenario.
pub trait TargetFactory: Send + Sync {
    fn name(&self) -> &str;
    fn capabilities(&self) -> Capabilities;
    fn start(&self, spec: TargetSpec) -> BoxFuture<'_, Result<Box<dyn Target>, String>>;
}

/// 2026-01-01T00:00:00Z: where every simulated clock starts (the start of a
/// 30 s TOTP step, so "the same step" is well defined).
pub const SIMULATED_START_UNIX: i64 = 1_767_225_600;

/// The reference server in this process, on a simulated clock. `faults`
/// are deliberate defects every scenario's server gets (mutation testing of
/// the features themselves).
#[derive(Debug, Clone, Default)]
pub struct InProcess {
    pub faults: Vec<String>,
}

struct InProcessTarget {
    addr: SocketAddr,
    clock: ManualClock,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for InProcessTarget {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub const ADMINISTRATION_TOKEN: &str = "s3cr3t";

impl TargetFactory for InProcess {
    fn name(&self) -> &str {
        "reference-in-process"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            clock_control: true,
            fault_injection: true,
            per_scenario_config: true,
        }
    }

    fn start(&self, spec: TargetSpec) -> BoxFuture<'_, Result<Box<dyn Target>, String>> {
        Box::pin(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| e.to_string())?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            let clock = ManualClock::new(DateTime::from_micros(SIMULATED_START_UNIX * 1_000_000));
            let advisory = spec
                .advisory_device_file_protection
                .iter()
                .map(|a| a.parse())
                .collect::<Result<Vec<_>, _>>()?;
            let config = ServerConfig {
                administration_token: ADMINISTRATION_TOKEN.into(),
                server_addr: format!("parsec3://127.0.0.1:{}?no_ssl=true", addr.port())
                    .parse::<ServerAddr>()
                    .map_err(|e| e.to_string())?,
                email: EmailConfig::Smtp {
                    host: "127.0.0.1".into(),
                    port: spec.smtp_port,
                    sender: "parsec@example.com".into(),
                },
                advisory_device_file_protection: advisory,
                spontaneous_organization_bootstrap: false,
            };
            let mut state = AppState::new(config, Store::memory(), Arc::new(clock.clone()));
            let mut faults = Faults::default();
            for fault in spec.faults.iter().chain(&self.faults) {
                faults.enable(fault)?;
            }
            state.faults = faults;
            let task = tokio::spawn(async move {
                let _ = parsec_mfa_reference::server::serve(listener, Arc::new(state)).await;
            });
            Ok(Box::new(InProcessTarget { addr, clock, task }) as Box<dyn Target>)
        })
    }
}

impl Target for InProcessTarget {
    fn name(&self) -> &str {
        "reference-in-process"
    }

    fn capabilities(&self) -> Capabilities {
        InProcess::default().capabilities()
    }

    fn socket_addr(&self) -> SocketAddr {
        self.addr
    }

    fn administration_token(&self) -> &str {
        ADMINISTRATION_TOKEN
    }

    fn clock(&self) -> Arc<dyn Clock> {
        Arc::new(self.clock.clone())
    }

    fn advance(&self, micros: i64) -> BoxFuture<'_, Result<(), String>> {
        self.clock.advance_micros(micros);
        Box::pin(async { Ok(()) })
    }
}
