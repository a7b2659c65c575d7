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

    /// Whether the process has ended (it is reaped if so).
    pub fn has_exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    /// Files to remove once the process is stopped (what it leaves behind
    /// when killed).
    pub fn remove_after_stop(&mut self, paths: impl IntoIterator<Item = PathBuf>) {
        self.leftovers.extend(paths);
    }

    /// Starts `command` with stdout and stderr to `log`, without waiting.
    pub fn launch(name: &str, mut command: Command, port: u16, log: PathBuf, group: bool) -> Result<Self, ServerError> {
        let log_error = |source| ServerError::Io {
            path: log.clone(),
            source,
        };
        let out = std::fs::File::create(&log).map_err(log_error)?;
        let err = out.try_clone().map_err(log_error)?;
        if group {
            use std::os::unix::process::CommandExt as _;
            command.process_group(0);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|source| ServerError::Spawn {
                name: name.to_owned(),
                source,
            })?;
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
            let child = self.child.id();
            // Reading /proc is blocking work too: done beside the probe.
            let (answered, older_holder) = tokio::task::spawn_blocking(move || {
                let answered = answers_http(port);
                (
                    answered,
                    answered.then(|| ownership::older_holder(port, child)).flatten(),
                )
            })
            .await
            .unwrap_or((false, None));
            self.check_alive(started, if answered && in_time { Duration::MAX } else { timeout })?;
            if answered {
                return match older_holder {
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
        foreign(holder, child).then(|| {
            let command = std::fs::read_to_string(format!("/proc/{holder}/cmdline"))
                .map(|line| line.replace('\0', " ").trim().to_owned())
                .unwrap_or_default();
            format!("process {holder} ({command})")
        })
    }

    /// Another program's: not the harness itself (its own listeners bind
    /// ports above the range servers are given), not `child` nor one of its
    /// descendants, and running before `child` started.
    fn foreign(holder: u32, child: u32) -> bool {
        if holder == std::process::id() || descends_from(holder, child) {
            return false;
        }
        matches!((stat(holder), stat(child)), (Some(holder), Some(child)) if holder.start < child.start)
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
        fn the_listener_of_a_port_and_its_process_are_found() {
            if !Path::new("/proc/net/tcp").exists() {
                return;
            }
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            let port = listener.local_addr().expect("address").port();
            let inodes = listening_inodes(port);
            assert!(!inodes.is_empty(), "no listening socket found on {port}");
            assert_eq!(holder_of(&inodes), Some(std::process::id()));
        }

        #[test]
        fn a_program_running_before_the_server_is_foreign_and_the_server_its_harness_and_children_are_not() {
            if !Path::new("/proc/net/tcp").exists() {
                return;
            }
            let mut child = std::process::Command::new("sh")
                .args(["-c", "sleep 5 & wait"])
                .spawn()
                .expect("sh");
            std::thread::sleep(std::time::Duration::from_millis(200));
            let grandchild = std::fs::read_to_string(format!("/proc/{}/task/{}/children", child.id(), child.id()))
                .ok()
                .and_then(|children| children.split_whitespace().next()?.parse::<u32>().ok());
            let parent = std::os::unix::process::parent_id();
            let verdicts = (
                foreign(parent, child.id()),
                foreign(std::process::id(), child.id()),
                foreign(child.id(), child.id()),
                grandchild.map(|grandchild| foreign(grandchild, child.id())),
            );
            let _ = child.kill();
            let _ = child.wait();
            // (The grandchild is found where the kernel lists children.)
            assert_eq!((verdicts.0, verdicts.1, verdicts.2), (true, false, false));
            assert_ne!(verdicts.3, Some(true));
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
