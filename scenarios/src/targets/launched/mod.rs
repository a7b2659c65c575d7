//! Servers the harness starts as processes: the reference binary, the
//! official parsec-cloud server, or any command. Scenarios share one server
//! per configuration (each in its own organization, with unique email
//! addresses), started the ordinary way; a scenario that moves the clock
//! gets a server of its own, whose time the harness controls: the reference
//! through its `--test-clock`, any other under libfaketime
//! ([`crate::faketime`]), after a check that control took hold. Where it did
//! not, the target falls back to real time and says why. A clock server
//! serves one scenario at a time, then the next: a few of them, taken in
//! turns, serve all the clock scenarios of a run.
//!
//! Here the target and its servers' start; in `clock` how a server's
//! clock is moved and checked, in `pool` the servers kept between
//! scenarios, in `command` a `cmd=` target's command line.

mod clock;
mod command;
mod pool;

use self::clock::{ExactSetter, ServerClock, check_exact, check_offset, step_start};
use self::pool::{ClockTurn, IdleClockServers, Running, SharedServers, give_back, start_permits, take_idle};
use super::{
    BoxFuture, Capabilities, ClockControl, DEFAULT_REAL_TIME_BUDGET, Target, TargetError, TargetFactory, TargetSpec,
    loopback, wait_for_real,
};
use crate::faketime::{Faketime, find_library};
use crate::mailbox::Mailbox;
use crate::servers::postgresql::OfficialDb;
use crate::servers::{ServerError, ServerOptions, ServerProcess, free_port, official_command, reference_command};
use parsec_mfa_reference::clock::{Clock, ManualClock, OffsetClock, SystemClock};
use parsec_mfa_reference::protocol::DateTime;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::Mutex;

// Where callers have always found them (`launched::PLACEHOLDERS`…).
pub use self::command::{PLACEHOLDERS, expand_template};
pub use self::pool::CLOCK_SERVERS;

/// Which server to start.
#[derive(Debug, Clone)]
pub enum ServerKind {
    /// The reference binary; with its `--test-clock` for clock scenarios.
    Reference { binary: PathBuf },
    /// The official server from its virtualenv.
    Official {
        venv: PathBuf,
        version: String,
        /// `None`: in memory (MOCKED).
        db: Option<OfficialDb>,
        /// Whether this version has `--advisory-device-file-protection`
        /// (3.8.0 has not); see [`official_takes_advice`].
        takes_advice: bool,
    },
    /// `sh -c <template>` with the placeholders of [`PLACEHOLDERS`].
    Command { template: String },
}

impl ServerKind {
    fn label(&self) -> &'static str {
        match self {
            ServerKind::Reference { .. } => "reference",
            ServerKind::Official { .. } => "official",
            ServerKind::Command { .. } => "cmd",
        }
    }
}

/// How the servers of clock scenarios get their time, where the harness
/// starts them under libfaketime (the official server, `cmd=`); the
/// reference binary has its own `--test-clock`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FaketimeMode {
    /// Stopped, and moved to exact instants.
    #[default]
    Exact,
    /// Flowing, moved forward by an offset.
    Offset,
    /// No libfaketime: real time.
    Off,
}

/// What the check of the clock control found (see [`Launched::start_default`]).
#[derive(Debug, Clone)]
enum ClockVerdict {
    /// The server's answers followed the harness's clock.
    Controlled(String),
    /// Real time, and why.
    Fallback(String),
}

pub struct Launched {
    name: String,
    kind: ServerKind,
    administration_token: String,
    /// Logs and clock files.
    work_dir: PathBuf,
    start_timeout: Duration,
    shared: SharedServers,
    faketime_mode: FaketimeMode,
    real_time_budget: Duration,
    verdict: OnceLock<ClockVerdict>,
    /// Clock scenarios' servers between two scenarios; the first is the
    /// one whose clock the check found controlled.
    idle_clock_servers: IdleClockServers,
    /// How many clock scenarios run at once on this target, each on a
    /// server of its own (see [`CLOCK_SERVERS`]).
    clock_servers: Arc<tokio::sync::Semaphore>,
    /// Deliberate defects every server gets (`--inject-fault`; the
    /// reference binary only).
    faults: Vec<String>,
}

impl Launched {
    pub fn new(
        name: &str,
        kind: ServerKind,
        administration_token: &str,
        work_dir: PathBuf,
        start_timeout: Duration,
    ) -> Self {
        Launched {
            name: name.to_owned(),
            kind,
            administration_token: administration_token.to_owned(),
            work_dir,
            start_timeout,
            shared: Mutex::default(),
            faketime_mode: FaketimeMode::default(),
            real_time_budget: DEFAULT_REAL_TIME_BUDGET,
            verdict: OnceLock::new(),
            idle_clock_servers: IdleClockServers::default(),
            clock_servers: Arc::new(tokio::sync::Semaphore::new(CLOCK_SERVERS)),
            faults: Vec::new(),
        }
    }

    /// Every server this target starts gets these deliberate defects
    /// (mutation testing of the features); a server other than the
    /// reference binary refuses to start with them.
    pub fn with_faults(mut self, faults: Vec<String>) -> Self {
        self.faults = faults;
        self
    }

    /// How clock scenarios' servers get their time (official, `cmd=`).
    pub fn with_faketime(mut self, mode: FaketimeMode) -> Self {
        self.faketime_mode = mode;
        self
    }

    pub fn with_real_time_budget(mut self, budget: Duration) -> Self {
        self.real_time_budget = budget;
        self
    }

    /// The server every scenario without advice shares: started now, so a
    /// server that cannot start stops the run before any scenario. Where
    /// clock scenarios get servers under libfaketime, one is started too, at
    /// the same time (each takes seconds), and its clock checked: the
    /// target's clock control is what that check found (see
    /// [`TargetFactory::clock_note`]).
    pub async fn start_default(&self) -> Result<SocketAddr, TargetError> {
        let check = async {
            if !self.uses_faketime() || self.verdict.get().is_some() {
                return;
            }
            let verdict = match self.launch(&[], true).await {
                Ok(checked) => {
                    give_back(&self.idle_clock_servers, Vec::new(), checked);
                    ClockVerdict::Controlled(match self.faketime_mode {
                        FaketimeMode::Offset => "checked: the server's time followed the offset".into(),
                        _ => "checked: the server's time stood still at the instants set".into(),
                    })
                }
                Err(why) => ClockVerdict::Fallback(why.to_string()),
            };
            let _ = self.verdict.set(verdict);
        };
        let (running, ()) = tokio::join!(self.shared_server(&[]), check);
        Ok(loopback(running?.process.port))
    }

    /// Whether clock scenarios' servers run under libfaketime.
    fn uses_faketime(&self) -> bool {
        !matches!(self.kind, ServerKind::Reference { .. }) && self.faketime_mode != FaketimeMode::Off
    }

    /// The clock control of this target's clock scenarios' servers.
    fn clock_control(&self) -> ClockControl {
        match (&self.kind, self.faketime_mode, self.verdict.get()) {
            (ServerKind::Reference { .. }, _, _) => ClockControl::Exact,
            (_, FaketimeMode::Off, _) | (_, _, Some(ClockVerdict::Fallback(_))) => ClockControl::None,
            (_, FaketimeMode::Exact, _) => ClockControl::Exact,
            (_, FaketimeMode::Offset, _) => ClockControl::Offset,
        }
    }

    /// One phrase for the description: how clock scenarios get their time.
    fn clock_description(&self) -> String {
        let budget = self.real_time_budget.as_secs();
        let real = format!("time-dependent scenarios run in real time within a budget of {budget} s");
        match (&self.kind, self.faketime_mode, self.verdict.get()) {
            (ServerKind::Reference { .. }, _, _) => {
                "clock scenarios on servers of their own (one scenario at a time) with --test-clock".into()
            }
            (_, FaketimeMode::Off, _) => format!("unmodified, real time: {real}"),
            (_, _, Some(ClockVerdict::Fallback(why))) => {
                format!("real time, because control of its clock could not be confirmed ({why}): {real}")
            }
            (_, mode, verdict) => format!(
                "clock scenarios on servers of their own (one scenario at a time) under libfaketime, their time {}{}",
                match mode {
                    FaketimeMode::Offset => "offset while it keeps flowing",
                    _ => "stopped and moved to exact instants",
                },
                match verdict {
                    Some(ClockVerdict::Controlled(how)) => format!(" ({how})"),
                    _ => String::new(),
                }
            ),
        }
    }

    async fn shared_server(&self, advice: &[String]) -> Result<Arc<Running>, TargetError> {
        let cell = self.shared.lock().await.entry(advice.to_vec()).or_default().clone();
        cell.get_or_try_init(|| async { self.launch(advice, false).await.map(Arc::new) })
            .await
            .cloned()
    }

    /// Starts a server; one that could not bind its port (another program
    /// took it between the choice and the bind) is started again on another.
    async fn launch(&self, advice: &[String], controlled_clock: bool) -> Result<Running, TargetError> {
        if !self.faults.is_empty() && !self.capabilities().fault_injection {
            return Err(TargetError::Refused {
                target: self.name.clone(),
                why: "fault injection needs the reference server (--inject-fault)",
            });
        }
        let mut attempt = 1;
        loop {
            match self.launch_once(advice, controlled_clock).await {
                Err(TargetError::PortTaken(_)) if attempt < 3 => attempt += 1,
                done => return done,
            }
        }
    }

    async fn launch_once(&self, advice: &[String], controlled_clock: bool) -> Result<Running, TargetError> {
        std::fs::create_dir_all(&self.work_dir).map_err(|source| TargetError::Io {
            what: self.work_dir.display().to_string(),
            source,
        })?;
        // Held until the server answers: --start-timeout measures the
        // server's own start, not its wait for a turn; and its port is
        // chosen once its turn has come, so that no other program has the
        // time of a wait to take it.
        let _permit = start_permits().acquire().await?;
        // Its port from the same pool as the servers': never one a server
        // is about to bind.
        let mailbox = Mailbox::start(&format!("127.0.0.1:{}", free_port()))
            .await
            .map_err(|source| TargetError::Io {
                what: "the mailbox cannot listen".into(),
                source,
            })?;
        let port = free_port();
        let options = ServerOptions {
            administration_token: self.administration_token.clone(),
            smtp_port: Some(mailbox.port()),
            advisory_device_file_protection: advice.to_vec(),
            log_dir: self.work_dir.clone(),
        };
        let label = self.kind.label();
        // A clock server's log says so: it holds several scenarios' requests.
        let role = if controlled_clock { "-clock" } else { "" };
        let log = self.work_dir.join(format!("{label}{role}-{port}.log"));
        let (mut command, group) = match &self.kind {
            ServerKind::Reference { binary } => {
                let mut command = reference_command(binary, port, &options, controlled_clock);
                for fault in &self.faults {
                    command.args(["--inject-fault", fault]);
                }
                (command, false)
            }
            ServerKind::Official { venv, db, .. } => {
                let url = match db {
                    None => None,
                    Some(OfficialDb::Url(url)) => Some(url.clone()),
                    Some(OfficialDb::Cluster(cluster)) => {
                        let cluster = cluster.clone();
                        let made = tokio::task::spawn_blocking(move || cluster.new_database()).await;
                        Some(made??)
                    }
                };
                (official_command(venv, port, &options, url.as_deref())?, false)
            }
            ServerKind::Command { template } => {
                let mut command = Command::new("sh");
                command.arg("-c").arg(expand_template(template, port, &options));
                (command, true)
            }
        };
        let clock = match (&self.kind, controlled_clock) {
            (_, false) => ServerClock::Real,
            (ServerKind::Reference { .. }, true) => ServerClock::Exact {
                mirror: ManualClock::new(DateTime::from_micros(super::SIMULATED_START_UNIX * 1_000_000)),
                setter: ExactSetter::TestClock(format!("http://127.0.0.1:{port}/testing/clock")),
            },
            (_, true) => {
                let faketime = Faketime::new(find_library()?, self.work_dir.join(format!("clock-{port}")))?;
                faketime.apply(&mut command);
                match self.faketime_mode {
                    FaketimeMode::Offset => ServerClock::Offset {
                        mirror: OffsetClock::default(),
                        faketime,
                    },
                    _ => {
                        // The start of a TOTP step, a second behind (the
                        // check then moves it there): "the same step" is
                        // well defined, as on the simulated clocks.
                        let start = step_start(SystemClock.now());
                        let mirror = ManualClock::new(start);
                        faketime.freeze_at(DateTime::from_micros(start.as_micros() - 1_000_000))?;
                        ServerClock::Exact {
                            mirror,
                            setter: ExactSetter::Faketime(faketime),
                        }
                    }
                }
            }
        };
        let name = format!("the {label} server");
        let mut process = ServerProcess::launch(&name, command, port, log, group)?;
        if let ServerClock::Exact {
            setter: ExactSetter::Faketime(faketime),
            ..
        }
        | ServerClock::Offset { faketime, .. } = &clock
        {
            process.remove_after_stop(crate::faketime::leftovers(process.pid()));
            process.remove_after_stop([faketime.file().to_owned()]);
        }
        process.wait_listening(self.start_timeout).await.map_err(|e| match e {
            // Another program took the port between its choice and the bind.
            e @ ServerError::Exited(_) if process.log().to_lowercase().contains("in use") => TargetError::PortTaken(e),
            e @ ServerError::PortHeldByAnother(_) => TargetError::PortTaken(e),
            other => TargetError::Server(other),
        })?;
        let running = Running {
            process,
            mailbox,
            clock,
            _cluster: match &self.kind {
                ServerKind::Official {
                    db: Some(OfficialDb::Cluster(cluster)),
                    ..
                } => Some(cluster.clone()),
                _ => None,
            },
        };
        match &running.clock {
            ServerClock::Real => {}
            ServerClock::Exact {
                mirror,
                setter: setter @ ExactSetter::TestClock(_),
            } => setter.set(mirror.now()).await?,
            ServerClock::Exact {
                mirror,
                setter: setter @ ExactSetter::Faketime(_),
            } => check_exact(running.socket_addr(), &self.administration_token, mirror, setter).await?,
            ServerClock::Offset { faketime, .. } => {
                check_offset(running.socket_addr(), &self.administration_token, faketime).await?
            }
        }
        Ok(running)
    }
}

impl TargetFactory for Launched {
    fn name(&self) -> &str {
        &self.name
    }

    fn description(&self) -> String {
        let clock = self.clock_description();
        match &self.kind {
            ServerKind::Reference { binary } => format!(
                "the reference server as a process ({}), MOCKED storage; {clock}{}",
                binary.display(),
                if self.faults.is_empty() {
                    String::new()
                } else {
                    format!("; injected faults: {}", self.faults.join(", "))
                }
            ),
            ServerKind::Official {
                version,
                db,
                takes_advice,
                ..
            } => format!(
                "the official parsec-cloud server {version}, {}; {clock}{}",
                db.as_ref().map_or("MOCKED storage".into(), OfficialDb::describe),
                if *takes_advice {
                    ""
                } else {
                    "; this version has no --advisory-device-file-protection"
                }
            ),
            ServerKind::Command { template } => format!("a server started by `{template}`; {clock}"),
        }
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            clock: self.clock_control(),
            fault_injection: matches!(self.kind, ServerKind::Reference { .. }),
            per_scenario_config: match &self.kind {
                ServerKind::Reference { .. } => true,
                ServerKind::Official { takes_advice, .. } => *takes_advice,
                ServerKind::Command { template } => template.contains("{advice_flags}"),
            },
        }
    }

    fn clock_note(&self) -> Option<String> {
        match self.verdict.get() {
            Some(ClockVerdict::Fallback(why)) => Some(why.clone()),
            _ => None,
        }
    }

    fn real_time_budget(&self) -> Duration {
        self.real_time_budget
    }

    fn start(&self, spec: TargetSpec) -> BoxFuture<'_, Result<Box<dyn Target>, TargetError>> {
        Box::pin(async move {
            if !spec.faults.is_empty() {
                return Err(TargetError::Refused {
                    target: self.name.clone(),
                    why: "faults for one scenario need the in-process target (a launched target takes them for all its servers)",
                });
            }
            let advice = spec.advisory_device_file_protection.clone();
            if !advice.is_empty() && !self.capabilities().per_scenario_config {
                return Err(TargetError::Refused {
                    target: self.name.clone(),
                    why: "this target's configuration is fixed",
                });
            }
            let (running, turn) = if spec.moves_clock && self.capabilities().clock != ClockControl::None {
                let permit = self
                    .clock_servers
                    .clone()
                    .acquire_owned()
                    // Never closed: the error cannot happen.
                    .await?;
                let running = match take_idle(&self.idle_clock_servers, &advice).await {
                    Some(idle) => idle,
                    None => self.launch(&advice, true).await?,
                };
                let turn = ClockTurn {
                    idle: self.idle_clock_servers.clone(),
                    advice,
                    _permit: permit,
                };
                (Arc::new(running), Some(turn))
            } else {
                (self.shared_server(&advice).await?, None)
            };
            Ok(Box::new(LaunchedTarget {
                name: self.name.clone(),
                token: self.administration_token.clone(),
                running: Some(running),
                turn,
                real_time_budget: self.real_time_budget,
            }) as Box<dyn Target>)
        })
    }
}

/// A scenario's handle on a server. A clock scenario's own server goes
/// back to the idle ones when the scenario ends; the target's end stops them.
struct LaunchedTarget {
    name: String,
    token: String,
    /// `Some` until dropped.
    running: Option<Arc<Running>>,
    /// A clock scenario's: its server is its own for the scenario.
    turn: Option<ClockTurn>,
    real_time_budget: Duration,
}

impl LaunchedTarget {
    fn running(&self) -> &Running {
        self.running.as_ref().expect("taken only when dropped")
    }
}

impl Drop for LaunchedTarget {
    fn drop(&mut self) {
        // The turn (and its permit) goes at the end of this scope: once
        // the server is idle again.
        if let (Some(running), Some(turn)) = (self.running.take(), self.turn.take())
            && let Ok(running) = Arc::try_unwrap(running)
        {
            give_back(&turn.idle, turn.advice, running);
        }
    }
}

impl Target for LaunchedTarget {
    fn name(&self) -> &str {
        &self.name
    }

    fn socket_addr(&self) -> SocketAddr {
        loopback(self.running().process.port)
    }

    fn administration_token(&self) -> &str {
        &self.token
    }

    fn mailbox(&self) -> &Mailbox {
        &self.running().mailbox
    }

    fn clock(&self) -> Arc<dyn Clock> {
        match &self.running().clock {
            ServerClock::Real => Arc::new(SystemClock),
            ServerClock::Exact { mirror, .. } => Arc::new(mirror.clone()),
            ServerClock::Offset { mirror, .. } => Arc::new(mirror.clone()),
        }
    }

    fn clock_flows(&self) -> bool {
        !matches!(self.running().clock, ServerClock::Exact { .. })
    }

    fn advance(&self, micros: i64) -> BoxFuture<'_, Result<(), TargetError>> {
        Box::pin(async move {
            match &self.running().clock {
                ServerClock::Real => wait_for_real(micros, self.real_time_budget).await,
                ServerClock::Exact { mirror, setter } => {
                    let at = DateTime::from_micros(mirror.now().as_micros() + micros);
                    setter.set(at).await?;
                    mirror.set(at);
                    Ok(())
                }
                ServerClock::Offset { mirror, faketime } => Ok(faketime.offset_by(mirror.advance_micros(micros))?),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `cmd=` target with this command line (never started).
    fn command_target(template: &str) -> Launched {
        Launched::new(
            "cmd",
            ServerKind::Command {
                template: template.into(),
            },
            "t",
            PathBuf::new(),
            Duration::from_secs(1),
        )
    }

    #[test]
    fn commands_get_per_scenario_config_only_with_the_advice_placeholder() {
        let fixed = command_target("server --port {port}");
        assert!(!fixed.capabilities().per_scenario_config);
        let configurable = command_target("server --port {port} {advice_flags}");
        assert!(configurable.capabilities().per_scenario_config);
    }

    #[test]
    fn commands_get_the_clock_control_of_their_libfaketime_mode() {
        let command = |mode| command_target("server --port {port}").with_faketime(mode);
        assert_eq!(command(FaketimeMode::Exact).capabilities().clock, ClockControl::Exact);
        assert_eq!(command(FaketimeMode::Offset).capabilities().clock, ClockControl::Offset);
        assert_eq!(command(FaketimeMode::Off).capabilities().clock, ClockControl::None);
        let fallen_back = command(FaketimeMode::Exact);
        let _ = fallen_back
            .verdict
            .set(ClockVerdict::Fallback("libfaketime did not take hold".into()));
        assert_eq!(fallen_back.capabilities().clock, ClockControl::None);
        assert_eq!(
            fallen_back.clock_note().as_deref(),
            Some("libfaketime did not take hold")
        );
        assert!(fallen_back.description().contains("libfaketime did not take hold"));
    }
}
