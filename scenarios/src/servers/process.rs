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
                return match ownership::older_holder(port, self.child.id()) {
                    Some(holder) => Err(ServerError::PortHeldByAnother(format!(
                        "port {port}, chosen for {}, is held by {holder}, which was running before it started",
                        self.name
                    ))),
                    None => Ok(()),
                };
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

/// Who holds a listening port, read from Linux's `/proc`. No crate reads
/// socket inodes and their owners in a few lines (procfs would, with 20
/// crates more), hence this.
mod ownership {
    use std::path::Path;

    /// The process listening on the loopback `port` when it was already
    /// running before `child` started and is not one of its descendants:
    /// another program's server answering in the place of ours. `None`
    /// when it is ours, started after it (a proxy our command started,
    /// e.g. Docker's), or cannot be told (no `/proc`, another user's
    /// process).
    pub(super) fn older_holder(port: u16, child: u32) -> Option<String> {
        let inodes = listening_inodes(port);
        if inodes.is_empty() {
            return None;
        }
        let holder = holder_of(&inodes)?;
        if descends_from(holder, child) {
            return None;
        }
        let (holder_start, child_start) = (stat(holder)?.start, stat(child)?.start);
        (holder_start < child_start).then(|| {
            let command = std::fs::read_to_string(format!("/proc/{holder}/cmdline"))
                .map(|line| line.replace('\0', " ").trim().to_owned())
                .unwrap_or_default();
            format!("process {holder} ({command})")
        })
    }

    /// The inodes of the listening TCP sockets on `port` (IPv4 and IPv6).
    fn listening_inodes(port: u16) -> Vec<String> {
        let port = format!(":{port:04X}");
        ["/proc/net/tcp", "/proc/net/tcp6"]
            .iter()
            .filter_map(|table| std::fs::read_to_string(table).ok())
            .flat_map(|table| {
                table
                    .lines()
                    .skip(1)
                    .filter_map(|line| {
                        // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
                        let fields: Vec<&str> = line.split_whitespace().collect();
                        let listening = fields.get(3) == Some(&"0A") && fields.get(1)?.ends_with(&port);
                        listening.then(|| fields.get(9).map(|inode| (*inode).to_owned()))?
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// The process with a descriptor on one of the sockets `inodes`.
    fn holder_of(inodes: &[String]) -> Option<u32> {
        let wanted: Vec<String> = inodes.iter().map(|inode| format!("socket:[{inode}]")).collect();
        std::fs::read_dir("/proc").ok()?.flatten().find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let fds = std::fs::read_dir(Path::new("/proc").join(pid.to_string()).join("fd")).ok()?;
            fds.flatten()
                .any(|fd| {
                    std::fs::read_link(fd.path())
                        .is_ok_and(|target| wanted.iter().any(|socket| target.as_os_str() == socket.as_str()))
                })
                .then_some(pid)
        })
    }

    fn descends_from(mut pid: u32, ancestor: u32) -> bool {
        for _ in 0..64 {
            if pid == ancestor {
                return true;
            }
            match stat(pid) {
                Some(stat) if stat.parent > 1 => pid = stat.parent,
                _ => return false,
            }
        }
        false
    }

    struct Stat {
        parent: u32,
        /// Clock ticks since boot.
        start: u64,
    }

    fn stat(pid: u32) -> Option<Stat> {
        let line = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The command name, in parentheses, may hold spaces: the fields
        // that follow it are counted from the last ')'.
        let fields: Vec<&str> = line.get(line.rfind(')')? + 1..)?.split_whitespace().collect();
        Some(Stat {
            parent: fields.get(1)?.parse().ok()?,
            start: fields.get(19)?.parse().ok()?,
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_listener_running_before_the_child_is_found_and_one_it_started_is_not() {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            let port = listener.local_addr().expect("address").port();
            // This test process listens, and was running before `sleep`.
            let mut child = std::process::Command::new("sleep").arg("5").spawn().expect("sleep");
            let found = older_holder(port, child.id());
            // Ours when it is the child itself.
            let own = older_holder(port, std::process::id());
            let _ = child.kill();
            let _ = child.wait();
            if !Path::new("/proc/net/tcp").exists() {
                return;
            }
            let found = found.expect("the older listener is found");
            assert!(found.starts_with(&format!("process {}", std::process::id())), "{found}");
            assert_eq!(own, None);
        }
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
