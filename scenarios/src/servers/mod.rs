//! Servers as separate processes, by concern:
//! - [`process`]: a started server (its log, its port, killed when dropped);
//! - [`reference`]: the reference binary's command line;
//! - [`official`]: the official parsec-cloud server installed from the
//!   Python package registry into a virtualenv under `target/`;
//! - [`postgresql`]: a throwaway PostgreSQL cluster for the official server.

use std::io::Read;
use std::path::PathBuf;
use std::process::Command;

mod official;
pub mod postgresql;
mod process;
mod reference;

pub use official::{
    cargo_target_dir, find_python312, install_official, migrate_official_db, official_command, official_installed,
    official_takes_advice, official_venv, start_official,
};
pub use process::ServerProcess;
pub use reference::{reference_command, start_reference};

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
    /// Its port answered, but from a program that was already running
    /// before the server was started (another program took the port after
    /// it was chosen): the caller starts the server again on another port.
    #[error("{0}")]
    PortHeldByAnother(String),
    /// A file or folder of the server's: its log, its data.
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot start {name}: {source}")]
    Spawn { name: String, source: std::io::Error },
    /// A setup command (pip, `parsec migrate`, `initdb`, `pg_ctl`) failed.
    #[error(transparent)]
    Setup(#[from] SetupError),
}

/// A setup command that could not run, or ran and failed.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{what}: {source}")]
    NotStarted { what: String, source: std::io::Error },
    /// `why`: its last error line (pip's "No matching distribution…").
    #[error("{what} failed: {why}")]
    Failed { what: String, why: String },
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

/// Options common to both servers.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub administration_token: String,
    /// Where the server sends email (a [`crate::mailbox::Mailbox`]).
    pub smtp_port: Option<u16>,
    pub advisory_device_file_protection: Vec<String>,
    pub log_dir: PathBuf,
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
fn run_to_end(command: &mut Command, what: &str) -> Result<String, SetupError> {
    let out = command.output().map_err(|source| SetupError::NotStarted {
        what: what.to_owned(),
        source,
    })?;
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
    Err(SetupError::Failed {
        what: what.to_owned(),
        why: why.to_owned(),
    })
}

/// Reads a child's whole stream (helper for command-line tests).
pub fn read_all(mut stream: impl Read) -> String {
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    text
}
