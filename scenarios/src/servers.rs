//! Servers as separate processes: the reference binary, and the official
//! parsec-cloud server installed from the Python package registry into a
//! virtualenv under `target/`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The prerequisite is missing on this machine: the run is skipped with
    /// this reason, never counted as passed.
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Failed(String),
    /// The server stopped before it answered.
    #[error("{0}")]
    Exited(String),
}

/// A free TCP port on the loopback interface for a server to bind later.
///
/// It is taken below the range the OS hands out for port 0 and for
/// outgoing connections (`ip_local_port_range`): the harness's own
/// listeners (network proxies, in-process servers) bind port 0, and one of
/// them could otherwise take the port before the server does, then answer
/// in its place. A port is never handed out twice by this process; a server
/// that loses its port to another program fails to bind and is started
/// again by its caller.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let (low, high) = ports_outside_the_ephemeral_range();
    for _ in 0..200 {
        let random = u16::from_le_bytes(parsec_mfa_reference::crypto::random_array::<2>());
        let port = low + random % (high - low);
        let Ok(mut given) = GIVEN.lock() else { return 0 };
        if given.contains(&port) || std::net::TcpListener::bind(("127.0.0.1", port)).is_err() {
            continue;
        }
        given.push(port);
        return port;
    }
    0
}

/// `[low, high)`: ports under the OS's ephemeral range, above the
/// well-known and usual service ports.
fn ports_outside_the_ephemeral_range() -> (u16, u16) {
    const LOW: u16 = 10_000;
    let ephemeral_start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32_768);
    (LOW, ephemeral_start.max(LOW + 1_000))
}

/// A server process, killed when dropped.
pub struct ServerProcess {
    child: Child,
    pub port: u16,
    pub name: String,
    log: PathBuf,
    /// Started through a shell in its own process group: the whole group
    /// is killed, so nothing the command started outlives the run.
    group: bool,
    /// Files removed once the process is stopped.
    leftovers: Vec<PathBuf>,
}

impl ServerProcess {
    /// `parsec3://127.0.0.1:<port>?no_ssl=true`
    pub fn parsec_addr(&self) -> String {
        format!("parsec3://127.0.0.1:{}?no_ssl=true", self.port)
    }

    pub fn http_base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What the process printed so far (stdout and stderr).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Files to remove once the process is stopped (what it leaves behind
    /// when killed).
    pub fn remove_after_stop(&mut self, paths: impl IntoIterator<Item = PathBuf>) {
        self.leftovers.extend(paths);
    }

    /// Starts `command` with stdout and stderr to `log`, without waiting.
    pub fn launch(name: &str, mut command: Command, port: u16, log: PathBuf, group: bool) -> Result<Self, ServerError> {
        let out = std::fs::File::create(&log).map_err(|e| ServerError::Failed(format!("{}: {e}", log.display())))?;
        let err = out.try_clone().map_err(|e| ServerError::Failed(e.to_string()))?;
        if group {
            use std::os::unix::process::CommandExt as _;
            command.process_group(0);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| ServerError::Failed(format!("cannot start {name}: {e}")))?;
        Ok(ServerProcess {
            child,
            port,
            name: name.to_owned(),
            log,
            group,
            leftovers: Vec::new(),
        })
    }

    /// Starts `command` and waits (blocking) until its port answers HTTP,
    /// the process exits, or `timeout` passes.
    pub fn spawn(
        name: &str,
        command: Command,
        port: u16,
        log: PathBuf,
        timeout: Duration,
    ) -> Result<Self, ServerError> {
        let mut server = Self::launch(name, command, port, log, false)?;
        let started = Instant::now();
        loop {
            let answered = answers_http(port);
            server.check_alive(started, timeout)?;
            if answered {
                return Ok(server);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits (asynchronously) until the port answers HTTP while the process
    /// runs, the process exits, or `timeout` passes. Accepting connections
    /// is not enough: another program may hold the port (the server then
    /// fails to bind it and exits).
    pub async fn wait_listening(&mut self, timeout: Duration) -> Result<(), ServerError> {
        let started = Instant::now();
        loop {
            let port = self.port;
            // A probe begun within the timeout counts, even if its answer
            // (up to 2 s later) comes after it: the server did answer in
            // time. One begun after it does not: the one before had no
            // answer, and "did not answer within" is then true.
            let in_time = started.elapsed() <= timeout;
            let answered = tokio::task::spawn_blocking(move || answers_http(port))
                .await
                .unwrap_or(false);
            self.check_alive(started, if answered && in_time { Duration::MAX } else { timeout })?;
            if answered {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn check_alive(&mut self, started: Instant, timeout: Duration) -> Result<(), ServerError> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Err(ServerError::Exited(format!(
                "{} exited ({status}) before answering on port {}: {} (log: {})",
                self.name,
                self.port,
                last_line(&self.log()),
                self.log.display(),
            )));
        }
        if started.elapsed() > timeout {
            return Err(ServerError::Failed(format!(
                "{} did not answer on port {} within {timeout:?} (log: {})",
                self.name,
                self.port,
                self.log.display()
            )));
        }
        Ok(())
    }
}

/// Whether an HTTP server answers on the loopback `port` (any status),
/// within a second.
fn answers_http(port: u16) -> bool {
    use std::io::Write as _;
    let limit = Some(Duration::from_secs(1));
    let Ok(mut stream) = std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(1))
    else {
        return false;
    };
    let _ = stream.set_read_timeout(limit);
    let _ = stream.set_write_timeout(limit);
    let mut start = [0u8; 5];
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .and_then(|_| stream.read_exact(&mut start))
        .is_ok()
        && &start == b"HTTP/"
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if self.group {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        for path in &self.leftovers {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Options common to both servers.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub administration_token: String,
    /// Where the server sends email (a [`crate::mailbox::Mailbox`]).
    pub smtp_port: Option<u16>,
    pub advisory_device_file_protection: Vec<String>,
    pub log_dir: PathBuf,
}

/// The reference server binary's command line, in memory (MOCKED).
/// `test_clock`: its time stands still and moves through `/testing/clock`.
pub fn reference_command(binary: &Path, port: u16, options: &ServerOptions, test_clock: bool) -> Command {
    let mut command = Command::new(binary);
    command.args(["serve", "--db", "MOCKED", "--port", &port.to_string()]);
    command.args(["--administration-token", &options.administration_token]);
    command.args(["--server-addr", &format!("parsec3://127.0.0.1:{port}?no_ssl=true")]);
    if let Some(smtp) = options.smtp_port {
        command.args(["--email-host", "127.0.0.1", "--email-port", &smtp.to_string()]);
        command.args(["--email-sender", "parsec@example.com"]);
    }
    for advice in &options.advisory_device_file_protection {
        command.args(["--advisory-device-file-protection", advice]);
    }
    if test_clock {
        command.arg("--test-clock");
    }
    command
}

/// The reference server binary as a process, in memory (MOCKED).
pub fn start_reference(binary: &Path, options: &ServerOptions, extra: &[&str]) -> Result<ServerProcess, ServerError> {
    let port = free_port();
    let mut command = reference_command(binary, port, options, false);
    command.args(extra);
    let log = options.log_dir.join(format!("reference-{port}.log"));
    ServerProcess::spawn("the reference server", command, port, log, Duration::from_secs(10))
}

/// A Python 3.12 interpreter: pyenv's, else `python3.12` on PATH.
pub fn find_python312() -> Result<PathBuf, ServerError> {
    let pyenv = Command::new("pyenv").args(["versions", "--bare"]).output();
    if let Ok(out) = pyenv {
        let versions = String::from_utf8_lossy(&out.stdout);
        if let Some(version) = versions.lines().map(str::trim).find(|v| v.starts_with("3.12"))
            && let Ok(root) = Command::new("pyenv").arg("root").output()
        {
            let root = String::from_utf8_lossy(&root.stdout).trim().to_owned();
            let python = Path::new(&root).join("versions").join(version).join("bin/python3.12");
            if python.exists() {
                return Ok(python);
            }
        }
    }
    if Command::new("python3.12")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Ok(PathBuf::from("python3.12"));
    }
    Err(ServerError::Unavailable(
        "Python 3.12 is not installed (neither through pyenv nor as python3.12 on PATH): the official server cannot run here".into(),
    ))
}

/// Cargo's target folder (`CARGO_TARGET_DIR`, else `fallback`), where the
/// official server's virtualenvs go.
pub fn cargo_target_dir(fallback: PathBuf) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or(fallback)
}

/// `<target>/parsec-official/<version>/`: the official server's virtualenv.
pub fn official_venv(target_dir: &Path, version: &str) -> PathBuf {
    target_dir.join("parsec-official").join(version)
}

/// Whether [`install_official`] has nothing left to do.
pub fn official_installed(target_dir: &Path, version: &str) -> bool {
    official_venv(target_dir, version).join(".installed").exists()
}

/// The last line of a program's output that says something.
pub fn last_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("no output")
}

/// Runs a setup command to its end: its stdout, or `<what> failed: <why>`,
/// where `why` is its last error line (pip's "No matching distribution…").
fn run_to_end(command: &mut Command, what: &str) -> Result<String, String> {
    let out = command.output().map_err(|e| format!("{what}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        return Ok(stdout);
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let why = stderr
        .lines()
        .chain(stdout.lines())
        .map(str::trim)
        .rfind(|l| l.starts_with("ERROR") || l.contains("Error"))
        .unwrap_or_else(|| last_line(&stderr));
    Err(format!("{what} failed: {why}"))
}

/// The official server's virtualenv for `version`, installed on first use
/// (see [`official_venv`]).
pub fn install_official(target_dir: &Path, version: &str) -> Result<PathBuf, ServerError> {
    let venv = official_venv(target_dir, version);
    if official_installed(target_dir, version) {
        return Ok(venv);
    }
    let python = find_python312()?;
    run_to_end(
        Command::new(&python).args(["-m", "venv"]).arg(&venv),
        "creating the virtualenv",
    )
    .map_err(ServerError::Failed)?;
    let installed = run_to_end(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(format!("parsec-cloud=={version}")),
        &format!("pip install parsec-cloud=={version}"),
    );
    if installed.is_err() {
        // No half-made virtualenv left behind to be mistaken for one.
        let _ = std::fs::remove_dir_all(&venv);
    }
    installed.map_err(ServerError::Failed)?;
    std::fs::write(venv.join(".installed"), version).map_err(|e| ServerError::Failed(e.to_string()))?;
    Ok(venv)
}

/// Whether the official server in `venv` has the advice option (3.8.0 has
/// not), as its `parsec run --help` says.
pub fn official_takes_advice(venv: &Path) -> Result<bool, String> {
    let help = run_to_end(
        Command::new(venv.join("bin/parsec")).args(["run", "--help"]),
        "`parsec run --help`",
    )?;
    Ok(help.contains("--advisory-device-file-protection"))
}

/// Brings the official server's PostgreSQL database up to date
/// (`parsec migrate`), as its operator would before `parsec run`.
pub fn migrate_official_db(venv: &Path, db: &str) -> Result<(), String> {
    run_to_end(
        Command::new(venv.join("bin/parsec")).args(["migrate", "--db", db]),
        &format!("`parsec migrate --db {db}`"),
    )
    .map(|_| ())
}

/// The official server's command line: `db` is `postgresql://…`, or in
/// memory (MOCKED) when `None`.
pub fn official_command(
    venv: &Path,
    port: u16,
    options: &ServerOptions,
    db: Option<&str>,
) -> Result<Command, ServerError> {
    let mut command = Command::new(venv.join("bin/parsec"));
    // Blocks go where the metadata goes: PostgreSQL has its own blockstore.
    let (db, blockstore) = match db {
        Some(url) => (url, "POSTGRESQL"),
        None => ("MOCKED", "MOCKED"),
    };
    command.args(["run", "--db", db, "--blockstore", blockstore, "--host", "127.0.0.1"]);
    command.args(["--port", &port.to_string()]);
    command.args(["--administration-token", &options.administration_token]);
    command.args(["--server-addr", &format!("parsec3://127.0.0.1:{port}?no_ssl=true")]);
    command.args(["--fake-account-password-algorithm-seed", "conformance"]);
    match options.smtp_port {
        Some(smtp) => command.args([
            "--email-host",
            "127.0.0.1",
            "--email-port",
            &smtp.to_string(),
            "--email-sender",
            "parsec@example.com",
        ]),
        None => command.args(["--email-host", "MOCKED"]),
    };
    for advice in &options.advisory_device_file_protection {
        command.args(["--advisory-device-file-protection", advice]);
    }
    Ok(command)
}

/// The official server from `venv`, in memory (MOCKED).
pub fn start_official(venv: &Path, options: &ServerOptions) -> Result<ServerProcess, ServerError> {
    let port = free_port();
    let command = official_command(venv, port, options, None)?;
    let log = options.log_dir.join(format!("official-{port}.log"));
    ServerProcess::spawn("the official server", command, port, log, Duration::from_secs(60))
}

/// Reads a child's whole stream (helper for command-line tests).
pub fn read_all(mut stream: impl Read) -> String {
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    text
}
