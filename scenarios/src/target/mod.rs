//! The server under test, behind one trait: what it can do (capabilities)
//! and how the harness reaches it. A scenario that needs a capability the
//! target lacks is skipped with the reason in the reports, never passed.
//!
//! - [`in_process`]: the reference server in this process, simulated clock;
//! - [`launched`]: servers the harness starts as processes (the reference
//!   binary, the official parsec-cloud server, any command);
//! - [`remote`]: a server someone else runs, reached by its URL.

pub mod in_process;
pub mod launched;
pub mod remote;

use crate::mailbox::Mailbox;
use parsec_mfa_reference::clock::Clock;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

pub use in_process::{ADMINISTRATION_TOKEN, InProcess, SIMULATED_START_UNIX};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How far the harness can move a target's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClockControl {
    /// Real time only: waits of a few seconds are waited for real.
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
    /// Moves the server's time further than a few seconds of real waiting.
    pub const CLOCK: &str = "clock";
    /// Needs the server's time stopped at exact instants.
    pub const EXACT_CLOCK: &str = "exact-clock";
    /// Needs a server started with its own `--advisory-device-file-protection`.
    pub const ADVICE: &str = "advice";
}

/// Why a scenario with these tags cannot run on a target with these
/// capabilities, or `None` when it can.
pub fn skip_reason<'a>(
    scenario_tags: impl IntoIterator<Item = &'a String>,
    capabilities: &Capabilities,
) -> Option<String> {
    let tags: Vec<&str> = scenario_tags.into_iter().map(String::as_str).collect();
    if tags.contains(&tags::EXACT_CLOCK) && capabilities.clock != ClockControl::Exact {
        return Some(match capabilities.clock {
            ClockControl::Offset => "needs the server's clock stopped at exact instants (@exact-clock); this target's time source can only be offset while it keeps flowing".into(),
            _ => "needs the server's clock stopped at exact instants (@exact-clock); this target has no clock control".into(),
        });
    }
    if tags.contains(&tags::CLOCK) && capabilities.clock == ClockControl::None {
        return Some("needs the server's clock moved beyond a few seconds of real time (@clock); this target has no clock control".into());
    }
    if tags.contains(&tags::ADVICE) && !capabilities.per_scenario_config {
        return Some("needs a server started with its own advisory device file protection (@advice); this target's configuration is fixed".into());
    }
    None
}

/// What a scenario asks of its server.
#[derive(Debug, Clone, Default)]
pub struct TargetSpec {
    pub advisory_device_file_protection: Vec<String>,
    pub faults: Vec<String>,
    /// The scenario moves the server's time (tagged `@clock`): it gets a
    /// server of its own where servers are shared.
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
    fn advance(&self, micros: i64) -> BoxFuture<'_, Result<(), String>>;
}

/// Starts (or attaches to) a server for each scenario.
pub trait TargetFactory: Send + Sync {
    /// The report folder's name: `reports/<name>/`.
    fn name(&self) -> &str;
    /// One line for the reports: what runs, and how.
    fn description(&self) -> String;
    fn capabilities(&self) -> Capabilities;
    fn start(&self, spec: TargetSpec) -> BoxFuture<'_, Result<Box<dyn Target>, String>>;
}

/// The longest wait a real-time target is asked to sit through at once.
pub const LONGEST_REAL_WAIT: Duration = Duration::from_secs(5);

/// Time passing on a target whose clock is the real one.
pub async fn wait_for_real(micros: i64) -> Result<(), String> {
    let wait = Duration::from_micros(micros.max(0) as u64);
    if wait > LONGEST_REAL_WAIT {
        return Err(format!(
            "this target has no clock control: {wait:?} of real time is more than the {LONGEST_REAL_WAIT:?} a scenario may wait (tag the scenario @clock)"
        ));
    }
    tokio::time::sleep(wait).await;
    Ok(())
}

/// The harness's own process addresses servers on the loopback interface
/// without TLS.
pub fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(clock: ClockControl, per_scenario_config: bool) -> Capabilities {
        Capabilities {
            clock,
            fault_injection: false,
            per_scenario_config,
        }
    }

    fn tags(list: &[&str]) -> Vec<String> {
        list.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn untagged_scenarios_run_everywhere() {
        assert_eq!(skip_reason(&tags(&[]), &caps(ClockControl::None, false)), None);
        assert_eq!(skip_reason(&tags(&["serial"]), &caps(ClockControl::None, false)), None);
    }

    #[test]
    fn clock_scenarios_need_clock_control_of_the_right_kind() {
        let clock = tags(&["clock"]);
        let exact = tags(&["exact-clock"]);
        assert!(skip_reason(&clock, &caps(ClockControl::None, true)).is_some());
        assert_eq!(skip_reason(&clock, &caps(ClockControl::Offset, true)), None);
        assert_eq!(skip_reason(&clock, &caps(ClockControl::Exact, true)), None);
        let offset = skip_reason(&exact, &caps(ClockControl::Offset, true)).unwrap();
        assert!(offset.contains("offset"), "{offset}");
        assert!(skip_reason(&exact, &caps(ClockControl::None, true)).is_some());
        assert_eq!(skip_reason(&exact, &caps(ClockControl::Exact, false)), None);
    }

    #[test]
    fn advice_scenarios_need_per_scenario_config() {
        let advice = tags(&["advice"]);
        let reason = skip_reason(&advice, &caps(ClockControl::Exact, false)).unwrap();
        assert!(reason.contains("@advice"), "{reason}");
        assert_eq!(skip_reason(&advice, &caps(ClockControl::None, true)), None);
    }

    #[tokio::test]
    async fn real_waits_are_bounded() {
        assert!(wait_for_real(1_000).await.is_ok());
        let too_long = wait_for_real(6_000_000).await.unwrap_err();
        assert!(too_long.contains("@clock"), "{too_long}");
    }
}
