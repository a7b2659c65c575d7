//! A server started as a process: its output in a log file, killed (with
//! its process group when started through a shell) when dropped.

use super::{ServerError, last_line};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
            let answered = tokio::task::spawn_blocking(move || answers_http(port))
                .await
                .unwrap_or(false);
            self.check_alive(started, timeout)?;
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
