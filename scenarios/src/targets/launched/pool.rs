//! The servers a launched target keeps: one shared per advice, and the
//! clock servers between two clock scenarios, taken in turns; and how many
//! servers start at once in this process.

use super::clock::{STEP_MICROS, ServerClock, step_start};
use crate::mailbox::Mailbox;
use crate::servers::ServerProcess;
use crate::servers::postgresql::Cluster;
use crate::targets::loopback;
use parsec_mfa_reference::clock::Clock;
use parsec_mfa_reference::protocol::DateTime;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use tokio::sync::{Mutex, OnceCell};

/// A server started, with its mailbox and its clock.
pub(super) struct Running {
    pub(super) process: ServerProcess,
    pub(super) mailbox: Mailbox,
    pub(super) clock: ServerClock,
    /// The cluster that holds this server's database, kept running until
    /// the server is stopped (fields drop in order).
    pub(super) _cluster: Option<Arc<Cluster>>,
}

/// Servers shared by scenarios, one per advice.
pub(super) type SharedServers = Mutex<HashMap<Vec<String>, Arc<OnceCell<Arc<Running>>>>>;

/// Servers of clock scenarios whose scenario has ended, per advice, ready
/// for the next clock scenario. A scenario needs a server whose clock no
/// other scenario moves at the same time, not a new one: each works in its
/// own organization with its own addresses, as on the shared servers. An
/// official server's start costs seconds of CPU (a Python process importing
/// its modules), and a run has dozens of clock scenarios per release.
pub(super) type IdleClockServers = Arc<std::sync::Mutex<HashMap<Vec<String>, Vec<Running>>>>;

impl Running {
    pub(super) fn socket_addr(&self) -> SocketAddr {
        loopback(self.process.port)
    }
}

/// How many clock scenarios of one target run at once. Under a controlled
/// clock they take moments (their waits are clock moves), so a few servers
/// taken in turns serve them all; each one more costs a start (seconds of
/// CPU for the official server). Scenarios beyond it wait for a turn.
pub const CLOCK_SERVERS: usize = 4;

/// A clock server an ended scenario left, its clock moved to the start
/// of the next TOTP step, as a new server's check leaves it: "the same
/// step" is as well defined as on a new server, and time never goes
/// back for the server. `None` where there is none, or where the one
/// there no longer runs or answers the move (it is stopped).
pub(super) async fn take_idle(idle: &IdleClockServers, advice: &[String]) -> Option<Running> {
    loop {
        let mut running = {
            let mut servers = idle.lock().ok()?;
            servers.get_mut(advice)?.pop()?
        };
        if running.process.has_exited() {
            continue;
        }
        if let ServerClock::Exact { mirror, setter } = &running.clock {
            let next_step = DateTime::from_micros(step_start(mirror.now()).as_micros() + STEP_MICROS);
            if setter.set(next_step).await.is_err() {
                continue;
            }
            mirror.set(next_step);
        }
        return Some(running);
    }
}

pub(super) fn give_back(idle: &IdleClockServers, advice: Vec<String>, running: Running) {
    if let Ok(mut idle) = idle.lock() {
        idle.entry(advice).or_default().push(running);
    }
}

/// How many servers may be starting at once in this process: one per
/// core, two at least. An official server's start is CPU-bound (a Python
/// process importing its modules: seconds of CPU each); started all at
/// once, one per clock scenario (and per target, when targets run side by
/// side), dozens of them shared the cores so thinly that some exceeded
/// --start-timeout on a loaded machine. In turns, each start gets its share
/// of the machine, and the run takes no longer: the CPU work is the same.
pub(super) fn start_permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(cores.max(2))
    })
}

/// A clock scenario's hold on a clock server: where the server goes back
/// when the scenario ends, and the turn given back after it.
pub(super) struct ClockTurn {
    pub(super) idle: IdleClockServers,
    pub(super) advice: Vec<String>,
    pub(super) _permit: tokio::sync::OwnedSemaphorePermit,
}
