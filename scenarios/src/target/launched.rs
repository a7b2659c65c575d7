//! Servers the harness starts as processes: the reference binary, the
//! official parsec-cloud server, or any command. Scenarios share one server
//! per configuration (each in its own organization, with unique email
//! addresses); a scenario that moves the clock gets a server of its own,
//! whose time the harness controls.

use super::{BoxFuture, Capabilities, ClockControl, Target, TargetFactory, TargetSpec, loopback, wait_for_real};
use crate::mailbox::Mailbox;
use crate::servers::{
    OfficialOptions, ServerError, ServerOptions, ServerProcess, free_port, official_command, reference_command,
};
use parsec_mfa_reference::clock::{Clock, ManualClock, OffsetClock, SystemClock};
use parsec_mfa_reference::protocol::DateTime;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OnceCell};

/// Which server to start.
#[derive(Debug, Clone)]
pub enum ServerKind {
    /// The reference binary; with its `--test-clock` for clock scenarios.
    Reference { binary: PathBuf },
    /// The official server from its virtualenv; `time_offset`: clock
    /// scenarios go through the launcher that offsets its time source.
    Official {
        venv: PathBuf,
        version: String,
        db: Option<String>,
        time_offset: bool,
        /// Whether this version has `--advisory-device-file-protection`
        /// (3.8.0 has not); see [`official_takes_advice`].
        takes_advice: bool,
    },
    /// `sh -c <template>` with the placeholders of [`PLACEHOLDERS`].
    Command { template: String },
}

/// The placeholders of a `cmd=` target, replaced before the command runs.
pub const PLACEHOLDERS: &[(&str, &str)] = &[
    ("{port}", "the TCP port the server must listen on (127.0.0.1)"),
    ("{server_addr}", "parsec3://127.0.0.1:<port>?no_ssl=true"),
    ("{admin_token}", "the administration token the harness uses"),
    (
        "{smtp_host}",
        "the SMTP host the server must send its email to (127.0.0.1)",
    ),
    ("{smtp_port}", "the SMTP port of the harness's mailbox"),
    (
        "{advice_flags}",
        "one `--advisory-device-file-protection <P>` per advised protection (optional: with it, the @advice scenarios run)",
    ),
];

impl ServerKind {
    fn label(&self) -> &'static str {
        match self {
            ServerKind::Reference { .. } => "reference",
            ServerKind::Official { .. } => "official",
            ServerKind::Command { .. } => "cmd",
        }
    }
}

/// How a running server's time is moved, and how the harness mirrors it.
enum ServerClock {
    Real,
    /// `--test-clock`: stands still; set through `POST /testing/clock`.
    Exact {
        mirror: ManualClock,
        control: String,
    },
    /// The launcher's offset file.
    Offset {
        mirror: OffsetClock,
        file: PathBuf,
    },
}

struct Running {
    process: ServerProcess,
    mailbox: Mailbox,
    clock: ServerClock,
}

/// Servers shared by scenarios, one per advice.
type SharedServers = Mutex<HashMap<Vec<String>, Arc<OnceCell<Arc<Running>>>>>;

pub struct Launched {
    name: String,
    kind: ServerKind,
    administration_token: String,
    /// Logs and clock files.
    work_dir: PathBuf,
    start_timeout: Duration,
    shared: SharedServers,
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

    /// The server every scenario without advice shares: started now, so a
    /// server that cannot start stops the run before any scenario.
    pub async fn start_default(&self) -> Result<SocketAddr, String> {
        let running = self.shared_server(&[]).await?;
        Ok(loopback(running.process.port))
    }

    async fn shared_server(&self, advice: &[String]) -> Result<Arc<Running>, String> {
        let cell = self.shared.lock().await.entry(advice.to_vec()).or_default().clone();
        cell.get_or_try_init(|| async { self.launch(advice, false).await.map(Arc::new) })
            .await
            .cloned()
    }

    /// Starts a server; one that could not bind its port (another program
    /// took it between the choice and the bind) is started again on another.
    async fn launch(&self, advice: &[String], controlled_clock: bool) -> Result<Running, String> {
        if !self.faults.is_empty() && !self.capabilities().fault_injection {
            return Err(format!(
                "{}: fault injection needs the reference server (--inject-fault)",
                self.name
            ));
        }
        let mut attempt = 1;
        loop {
            match self.launch_once(advice, controlled_clock).await {
                Err(LaunchError::PortTaken(_)) if attempt < 3 => attempt += 1,
                Err(LaunchError::PortTaken(why) | LaunchError::Other(why)) => return Err(why),
                Ok(running) => return Ok(running),
            }
        }
    }

    async fn launch_once(&self, advice: &[String], controlled_clock: bool) -> Result<Running, LaunchError> {
        std::fs::create_dir_all(&self.work_dir).map_err(|e| format!("{}: {e}", self.work_dir.display()))?;
        // Its port from the same pool as the servers': never one a server
        // is about to bind.
        let mailbox = Mailbox::start(&format!("127.0.0.1:{}", free_port()))
            .await
            .map_err(|e| format!("the mailbox cannot listen: {e}"))?;
        let port = free_port();
        let options = ServerOptions {
            administration_token: self.administration_token.clone(),
            smtp_port: Some(mailbox.port()),
            advisory_device_file_protection: advice.to_vec(),
            log_dir: self.work_dir.clone(),
        };
        let label = self.kind.label();
        let log = self.work_dir.join(format!("{label}-{port}.log"));
        let (command, group, clock) = match &self.kind {
            ServerKind::Reference { binary } => {
                let clock = match controlled_clock {
                    true => ServerClock::Exact {
                        mirror: ManualClock::new(DateTime::from_micros(super::SIMULATED_START_UNIX * 1_000_000)),
                        control: format!("http://127.0.0.1:{port}/testing/clock"),
                    },
                    false => ServerClock::Real,
                };
                let mut command = reference_command(binary, port, &options, controlled_clock);
                for fault in &self.faults {
                    command.args(["--inject-fault", fault]);
                }
                (command, false, clock)
            }
            ServerKind::Official {
                venv, db, time_offset, ..
            } => {
                let file =
                    (controlled_clock && *time_offset).then(|| self.work_dir.join(format!("clock-offset-{port}")));
                if let Some(file) = &file {
                    std::fs::write(file, "0").map_err(|e| format!("{}: {e}", file.display()))?;
                }
                let official = OfficialOptions {
                    db: db.clone(),
                    time_offset_file: file.clone(),
                };
                let command = official_command(venv, port, &options, &official).map_err(|e| e.to_string())?;
                let clock = match file {
                    Some(file) => ServerClock::Offset {
                        mirror: OffsetClock::default(),
                        file,
                    },
                    None => ServerClock::Real,
                };
                (command, false, clock)
            }
            ServerKind::Command { template } => {
                let line = expand_template(template, port, &options);
                let mut command = Command::new("sh");
                command.arg("-c").arg(line);
                (command, true, ServerClock::Real)
            }
        };
        let name = format!("the {label} server");
        let mut process = ServerProcess::launch(&name, command, port, log, group).map_err(|e| e.to_string())?;
        process.wait_listening(self.start_timeout).await.map_err(|e| match e {
            // Another program took the port between its choice and the bind.
            ServerError::Exited(why) if process.log().to_lowercase().contains("in use") => LaunchError::PortTaken(why),
            other => LaunchError::Other(other.to_string()),
        })?;
        let running = Running {
            process,
            mailbox,
            clock,
        };
        if let ServerClock::Exact { mirror, control } = &running.clock {
            set_test_clock(control, mirror.now()).await?;
        }
        Ok(running)
    }
}

enum LaunchError {
    /// The server stopped before it answered: its port was taken.
    PortTaken(String),
    Other(String),
}

impl From<String> for LaunchError {
    fn from(why: String) -> Self {
        LaunchError::Other(why)
    }
}

/// `template` with the placeholders replaced.
pub fn expand_template(template: &str, port: u16, options: &ServerOptions) -> String {
    let advice_flags = options
        .advisory_device_file_protection
        .iter()
        .map(|a| format!("--advisory-device-file-protection '{a}'"))
        .collect::<Vec<_>>()
        .join(" ");
    template
        .replace("{port}", &port.to_string())
        .replace("{server_addr}", &format!("parsec3://127.0.0.1:{port}?no_ssl=true"))
        .replace("{admin_token}", &options.administration_token)
        .replace("{smtp_host}", "127.0.0.1")
        .replace("{smtp_port}", &options.smtp_port.unwrap_or_default().to_string())
        .replace("{advice_flags}", &advice_flags)
}

async fn set_test_clock(control: &str, at: DateTime) -> Result<(), String> {
    let reply = reqwest::Client::new()
        .post(control)
        .json(&serde_json::json!({ "set_us": at.as_micros() }))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .map_err(|e| format!("{control}: {e}"))?;
    if !reply.status().is_success() {
        return Err(format!("{control} answered {}", reply.status()));
    }
    Ok(())
}

impl TargetFactory for Launched {
    fn name(&self) -> &str {
        &self.name
    }

    fn description(&self) -> String {
        match &self.kind {
            ServerKind::Reference { binary } => format!(
                "the reference server as a process ({}), MOCKED storage; clock scenarios on servers of their own with --test-clock{}",
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
                time_offset,
                takes_advice,
                ..
            } => format!(
                "the official parsec-cloud server {version}, {} storage; {}{}",
                if db.is_some() { "PostgreSQL" } else { "MOCKED" },
                if *time_offset {
                    "clock scenarios on servers of their own, started through the launcher that offsets the time source"
                } else {
                    "unmodified, real time"
                },
                if *takes_advice {
                    ""
                } else {
                    "; this version has no --advisory-device-file-protection"
                }
            ),
            ServerKind::Command { template } => format!("a server started by `{template}`, real time"),
        }
    }

    fn capabilities(&self) -> Capabilities {
        match &self.kind {
            ServerKind::Reference { .. } => Capabilities {
                clock: ClockControl::Exact,
                fault_injection: true,
                per_scenario_config: true,
            },
            ServerKind::Official {
                time_offset,
                takes_advice,
                ..
            } => Capabilities {
                clock: if *time_offset {
                    ClockControl::Offset
                } else {
                    ClockControl::None
                },
                fault_injection: false,
                per_scenario_config: *takes_advice,
            },
            ServerKind::Command { template } => Capabilities {
                clock: ClockControl::None,
                fault_injection: false,
                per_scenario_config: template.contains("{advice_flags}"),
            },
        }
    }

    fn start(&self, spec: TargetSpec) -> BoxFuture<'_, Result<Box<dyn Target>, String>> {
        Box::pin(async move {
            if !spec.faults.is_empty() {
                return Err(format!(
                    "{}: faults for one scenario need the in-process target (a launched target takes them for all its servers)",
                    self.name
                ));
            }
            let advice = spec.advisory_device_file_protection.clone();
            if !advice.is_empty() && !self.capabilities().per_scenario_config {
                return Err(format!("{}: this target's configuration is fixed", self.name));
            }
            let running = if spec.moves_clock && self.capabilities().clock != ClockControl::None {
                Arc::new(self.launch(&advice, true).await?)
            } else {
                self.shared_server(&advice).await?
            };
            Ok(Box::new(LaunchedTarget {
                name: self.name.clone(),
                token: self.administration_token.clone(),
                running,
            }) as Box<dyn Target>)
        })
    }
}

/// A scenario's handle on a server: the last handle on a server of its own
/// stops it.
struct LaunchedTarget {
    name: String,
    token: String,
    running: Arc<Running>,
}

impl Target for LaunchedTarget {
    fn name(&self) -> &str {
        &self.name
    }

    fn socket_addr(&self) -> SocketAddr {
        loopback(self.running.process.port)
    }

    fn administration_token(&self) -> &str {
        &self.token
    }

    fn mailbox(&self) -> &Mailbox {
        &self.running.mailbox
    }

    fn clock(&self) -> Arc<dyn Clock> {
        match &self.running.clock {
            ServerClock::Real => Arc::new(SystemClock),
            ServerClock::Exact { mirror, .. } => Arc::new(mirror.clone()),
            ServerClock::Offset { mirror, .. } => Arc::new(mirror.clone()),
        }
    }

    fn clock_flows(&self) -> bool {
        !matches!(self.running.clock, ServerClock::Exact { .. })
    }

    fn advance(&self, micros: i64) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            match &self.running.clock {
                ServerClock::Real => wait_for_real(micros).await,
                ServerClock::Exact { mirror, control } => {
                    let at = DateTime::from_micros(mirror.now().as_micros() + micros);
                    set_test_clock(control, at).await?;
                    mirror.set(at);
                    Ok(())
                }
                ServerClock::Offset { mirror, file } => {
                    let offset = mirror.advance_micros(micros);
                    // Renamed into place: the launcher never reads half a number.
                    let partial = file.with_extension("partial");
                    std::fs::write(&partial, offset.to_string())
                        .and_then(|_| std::fs::rename(&partial, file))
                        .map_err(|e| format!("{}: {e}", file.display()))
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_is_replaced() {
        let options = ServerOptions {
            administration_token: "tok".into(),
            smtp_port: Some(2525),
            advisory_device_file_protection: vec!["PASSWORD+TOTP".into(), "PKI".into()],
            log_dir: PathBuf::new(),
        };
        let template: String = PLACEHOLDERS.iter().map(|(p, _)| *p).collect::<Vec<_>>().join(" ");
        let line = expand_template(&template, 8123, &options);
        assert_eq!(
            line,
            "8123 parsec3://127.0.0.1:8123?no_ssl=true tok 127.0.0.1 2525 \
             --advisory-device-file-protection 'PASSWORD+TOTP' --advisory-device-file-protection 'PKI'"
        );
    }

    #[test]
    fn commands_get_per_scenario_config_only_with_the_advice_placeholder() {
        let fixed = Launched::new(
            "cmd",
            ServerKind::Command {
                template: "server --port {port}".into(),
            },
            "t",
            PathBuf::new(),
            Duration::from_secs(1),
        );
        assert!(!fixed.capabilities().per_scenario_config);
        let configurable = Launched::new(
            "cmd",
            ServerKind::Command {
                template: "server --port {port} {advice_flags}".into(),
            },
            "t",
            PathBuf::new(),
            Duration::from_secs(1),
        );
        assert!(configurable.capabilities().per_scenario_config);
        assert_eq!(configurable.capabilities().clock, ClockControl::None);
    }
}
