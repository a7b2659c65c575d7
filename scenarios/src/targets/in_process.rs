//! The reference server in this process, one per scenario, on a simulated
//! clock that stands still until a step moves it.

use super::{BoxFuture, Capabilities, ClockControl, Target, TargetError, TargetFactory, TargetSpec};
use crate::mailbox::Mailbox;
use crate::testing::server::InProcessServer;
use parsec_mfa_reference::clock::{Clock, ManualClock};
use parsec_mfa_reference::protocol::{DateTime, ValueError};
use parsec_mfa_reference::server::{EmailConfig, Faults, Store};
use std::net::SocketAddr;
use std::sync::Arc;

/// 2026-01-01T00:00:00Z: where every simulated clock starts (the start of a
/// 30 s TOTP step, so "the same step" is well defined).
pub const SIMULATED_START_UNIX: i64 = 1_767_225_600;

pub use crate::testing::ADMIN_TOKEN as ADMINISTRATION_TOKEN;

/// `faults` are deliberate defects every scenario's server gets (mutation
/// testing of the features themselves).
#[derive(Debug, Clone, Default)]
pub struct InProcess {
    pub faults: Vec<String>,
}

struct InProcessTarget {
    server: InProcessServer,
    mailbox: Mailbox,
}

impl TargetFactory for InProcess {
    fn name(&self) -> &str {
        "reference-in-process"
    }

    fn description(&self) -> String {
        let mut text = "the reference server in the harness's process, one per scenario, simulated clock".to_owned();
        if !self.faults.is_empty() {
            text.push_str(&format!(", injected faults: {}", self.faults.join(", ")));
        }
        text
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            clock: ClockControl::Exact,
            fault_injection: true,
            per_scenario_config: true,
        }
    }

    fn start(&self, spec: TargetSpec) -> BoxFuture<'_, Result<Box<dyn Target>, TargetError>> {
        Box::pin(async move {
            let mailbox = Mailbox::start("127.0.0.1:0").await.map_err(|source| TargetError::Io {
                what: "the mailbox cannot listen".into(),
                source,
            })?;
            let clock = ManualClock::new(DateTime::from_micros(SIMULATED_START_UNIX * 1_000_000));
            let advisory = spec
                .advisory_device_file_protection
                .iter()
                .map(|a| a.parse())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e: ValueError| TargetError::Config(e.to_string()))?;
            let mut faults = Faults::default();
            for fault in spec.faults.iter().chain(&self.faults) {
                faults.enable(fault)?;
            }
            let server = InProcessServer::start(clock, Store::memory(), faults, |config| {
                config.email = EmailConfig::Smtp {
                    host: "127.0.0.1".into(),
                    port: mailbox.port(),
                    sender: "parsec@example.com".into(),
                };
                config.advisory_device_file_protection = advisory;
            })
            .await?;
            Ok(Box::new(InProcessTarget { server, mailbox }) as Box<dyn Target>)
        })
    }
}

impl Target for InProcessTarget {
    fn name(&self) -> &str {
        "reference-in-process"
    }

    fn socket_addr(&self) -> SocketAddr {
        self.server.addr
    }

    fn administration_token(&self) -> &str {
        ADMINISTRATION_TOKEN
    }

    fn mailbox(&self) -> &Mailbox {
        &self.mailbox
    }

    fn clock(&self) -> Arc<dyn Clock> {
        Arc::new(self.server.clock.clone())
    }

    fn clock_flows(&self) -> bool {
        false
    }

    fn advance(&self, micros: i64) -> BoxFuture<'_, Result<(), TargetError>> {
        self.server.clock.advance_micros(micros);
        Box::pin(async { Ok(()) })
    }
}
