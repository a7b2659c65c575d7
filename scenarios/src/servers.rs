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
}

/// A free TCP port on the loopback interface (the OS picks it; a small race
/// with other programs is possible and reported as a start failure).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// A server process, killed when dropped.
pub struct ServerProcess {
    child: Child,
    pub port: u16,
    pub name: String,
    log: PathBuf,
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

    /// Starts `command` (stdout and stderr to `log`) and waits until the
    /// port accepts connections, the process exits, or `timeout` passes.
    pub fn spawn(
        name: &str,
        mut command: Command,
        port: u16,
        log: PathBuf,
        timeout: Duration,
    ) -> Result<Self, ServerError> {
        let out = std::fs::File::create(&log).map_err(|e| ServerError::Failed(format!("{}: {e}", log.display())))?;
        let err = out.try_clone().map_err(|e| ServerError::Failed(e.to_string()))?;
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| ServerError::Failed(format!("cannot start {name}: {e}")))?;
        let mut server = ServerProcess {
            child,
            port,
            name: name.to_owned(),
            log,
        };
        let started = Instant::now();
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(server);
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(ServerError::Failed(format!(
                    "{name} exited ({status}) before answering:\n{}",
                    server.log()
                )));
            }
            if started.elapsed() > timeout {
                return Err(ServerError::Failed(format!(
                    "{name} did not answer on port {port} within {timeout:?}:\n{}",
                    server.log()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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

/// The reference server binary as a process, in memory (MOCKED).
pub fn start_reference(binary: &Path, options: &ServerOptions, extra: &[&str]) -> Result<ServerProcess, ServerError> {
    let port = free_port();
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

/// The official server's virtualenv for `version`, installed on first use:
/// `<target>/parsec-official/<version>/`.
pub fn install_official(target_dir: &Path, version: &str) -> Result<PathBuf, ServerError> {
    let venv = target_dir.join("parsec-official").join(version);
    let marker = venv.join(".installed");
    if marker.exists() {
        return Ok(venv);
    }
    let python = find_python312()?;
    let run = |command: &mut Command, what: &str| -> Result<(), ServerError> {
        let out = command
            .output()
            .map_err(|e| ServerError::Failed(format!("{what}: {e}")))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(ServerError::Failed(format!(
                "{what} failed:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )))
        }
    };
    run(
        Command::new(&python).args(["-m", "venv"]).arg(&venv),
        "creating the virtualenv",
    )?;
    run(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(format!("parsec-cloud=={version}")),
        &format!("pip install parsec-cloud=={version}"),
    )?;
    std::fs::write(&marker, version).map_err(|e| ServerError::Failed(e.to_string()))?;
    Ok(venv)
}

/// The official server from `venv`, in memory (MOCKED).
pub fn start_official(venv: &Path, options: &ServerOptions) -> Result<ServerProcess, ServerError> {
    let port = free_port();
    let mut command = Command::new(venv.join("bin/parsec"));
    command.args(["run", "--db", "MOCKED", "--blockstore", "MOCKED", "--host", "127.0.0.1"]);
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
    let log = options.log_dir.join(format!("official-{port}.log"));
    ServerProcess::spawn("the official server", command, port, log, Duration::from_secs(60))
}

/// Reads a child's whole stream (helper for command-line tests).
pub fn read_all(mut stream: impl Read) -> String {
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    text
}
