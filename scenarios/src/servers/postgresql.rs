//! A throwaway PostgreSQL cluster for the official server
//! (`--official-db postgresql`), made from the binaries of Debian's
//! `postgresql` package: `initdb` under `<target>/postgresql/<unique>/`, a
//! free port on 127.0.0.1, a template database migrated once with
//! `parsec migrate`, and a database of its own for each server the harness
//! starts, copied from the template (`CREATE DATABASE … TEMPLATE`, a file
//! copy, far faster than migrating again), so that scenarios stay
//! isolated. Dropping the cluster stops it (`pg_ctl stop`), copies its log
//! into the report and deletes its folder.
//!
//! The programs are PostgreSQL's own (`initdb`, `pg_ctl`, `createdb`): no
//! client library would do less. `initdb` and the server refuse to run as
//! root: as root, they run as the `postgres` user the package creates.

use super::{ServerError, SetupError, free_port, last_line};
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

/// Where to look for PostgreSQL's programs before Debian's folders and PATH.
pub const BIN_ENV: &str = "PARSEC_MFA_POSTGRESQL_BIN";

/// The word `--official-db` takes for a cluster the harness makes itself.
pub const MAKE_A_CLUSTER: &str = "postgresql";

/// The database migrated once, which each server's database copies.
const TEMPLATE: &str = "parsec_template";

/// The cluster's superuser (`initdb -U`), trusted on the loopback only.
const SUPERUSER: &str = "postgres";

/// The official server's database: one the user gave, or a cluster the
/// harness made.
#[derive(Debug, Clone)]
pub enum OfficialDb {
    /// `postgresql://…`, shared by every server of the target.
    Url(String),
    /// A database of its own for each server (see [`Cluster::new_database`]).
    Cluster(std::sync::Arc<Cluster>),
}

impl OfficialDb {
    /// For the target's description.
    pub fn describe(&self) -> String {
        match self {
            OfficialDb::Url(_) => "PostgreSQL storage".into(),
            OfficialDb::Cluster(cluster) => format!(
                "PostgreSQL storage ({}, a throwaway cluster the harness made, a database per server)",
                cluster.version
            ),
        }
    }
}

/// The folder holding `initdb`, `pg_ctl` and `createdb`: `$PARSEC_MFA_POSTGRESQL_BIN`,
/// else the newest `/usr/lib/postgresql/<major>/bin` (Debian's layout),
/// else the folder of `initdb` on PATH.
pub fn binaries() -> Result<PathBuf, ServerError> {
    let complete = |dir: &Path| ["initdb", "pg_ctl", "createdb"].iter().all(|p| dir.join(p).is_file());
    if let Some(dir) = std::env::var_os(BIN_ENV) {
        let dir = PathBuf::from(dir);
        return match complete(&dir) {
            true => Ok(dir),
            false => Err(ServerError::Unavailable(format!(
                "PostgreSQL's initdb, pg_ctl and createdb are not all in {} (${BIN_ENV})",
                dir.display()
            ))),
        };
    }
    let mut debian: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let major = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((major, entry.path().join("bin")))
        })
        .filter(|(_, bin)| complete(bin))
        .collect();
    debian.sort();
    if let Some((_, bin)) = debian.pop() {
        return Ok(bin);
    }
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path.into_iter().find(|dir| complete(dir)).ok_or_else(|| {
        ServerError::Unavailable(
            "PostgreSQL is not installed (no initdb, pg_ctl and createdb under /usr/lib/postgresql/*/bin or on PATH): \
             install Debian's `postgresql` package, set $PARSEC_MFA_POSTGRESQL_BIN, or give --official-db postgresql://…"
                .into(),
        )
    })
}

/// A running PostgreSQL cluster, stopped and deleted when dropped.
#[derive(Debug)]
pub struct Cluster {
    bin: PathBuf,
    /// The cluster's folder: `data/`, `postgresql.log` and its socket.
    dir: PathBuf,
    pub port: u16,
    /// `PostgreSQL 15.18`, as `pg_ctl --version` says.
    pub version: String,
    /// Whether the server-side programs run as the `postgres` user (this
    /// process is root).
    as_postgres: bool,
    /// Where the cluster's log is copied when it stops.
    log_copy: PathBuf,
    /// The databases made so far; held while one is made (copies of one
    /// template are made one at a time).
    databases: Mutex<u32>,
}

impl Cluster {
    /// Makes and starts a cluster under `<target_dir>/postgresql/`; its
    /// log goes to `log_copy` when it stops.
    pub fn start(target_dir: &Path, log_copy: PathBuf) -> Result<Self, ServerError> {
        static MADE: AtomicU32 = AtomicU32::new(0);
        let bin = binaries()?;
        let as_postgres = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
        // Absolute: the server runs from its data folder.
        let parent = std::path::absolute(target_dir.join("postgresql")).map_err(|source| ServerError::Io {
            path: target_dir.to_owned(),
            source,
        })?;
        remove_abandoned(&parent, &bin, as_postgres);
        let unique = format!("{}-{}", std::process::id(), MADE.fetch_add(1, Ordering::Relaxed));
        let mut dir = parent.join(&unique);
        make_dir(&dir, as_postgres)?;
        if as_postgres && !postgres_can_write(&dir) {
            // A folder the `postgres` user cannot reach (a checkout under
            // /root, mode 700): the system's temporary folder instead.
            let _ = std::fs::remove_dir_all(&dir);
            dir = std::env::temp_dir().join("parsec-mfa-postgresql").join(&unique);
            make_dir(&dir, as_postgres)?;
        }
        let version = run(Command::new(bin.join("pg_ctl")).arg("--version"), "`pg_ctl --version`")
            .ok()
            .and_then(|v| {
                Some(format!(
                    "PostgreSQL {}",
                    v.strip_prefix("pg_ctl (PostgreSQL) ")?.split_whitespace().next()?
                ))
            })
            .unwrap_or_else(|| "PostgreSQL".into());
        let mut cluster = Cluster {
            bin,
            dir,
            port: 0,
            version,
            as_postgres,
            log_copy,
            databases: Mutex::new(0),
        };
        // From here on, dropping `cluster` stops and deletes what was made.
        cluster.init()?;
        cluster.start_server()?;
        run(
            cluster.client("createdb").arg(TEMPLATE),
            &format!("`createdb {TEMPLATE}`"),
        )?;
        Ok(cluster)
    }

    fn init(&self) -> Result<(), ServerError> {
        let data = self.dir.join("data");
        run(
            self.server_side("initdb").arg("-D").arg(&data).args([
                "-U",
                SUPERUSER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]),
            "`initdb`",
        )?;
        // Only this machine, on a port of the harness's pool; the socket in
        // the cluster's folder (the system's may not be writable). The
        // production defaults otherwise, durability included: the race the
        // scenarios look for lives in how transactions interleave.
        let settings = format!(
            "\n# parsec-mfa's throwaway cluster\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n",
            self.dir.display()
        );
        use std::io::Write as _;
        let conf = data.join("postgresql.conf");
        std::fs::OpenOptions::new()
            .append(true)
            .open(&conf)
            .and_then(|mut file| file.write_all(settings.as_bytes()))
            .map_err(|source| ServerError::Io { path: conf, source })
    }

    /// `pg_ctl start` on a free port; again on another one if the port was
    /// taken in between.
    fn start_server(&mut self) -> Result<(), ServerError> {
        let mut attempt = 1;
        loop {
            self.port = free_port();
            let started = run(
                self.server_side("pg_ctl")
                    .arg("-D")
                    .arg(self.dir.join("data"))
                    .arg("-l")
                    .arg(self.log())
                    .args(["-w", "-t", "60", "-o"])
                    .arg(format!("-p {}", self.port))
                    .arg("start"),
                "`pg_ctl start`",
            );
            match started {
                Ok(_) => return Ok(()),
                Err(_) if attempt < 3 && self.log_text().contains("could not bind") => attempt += 1,
                // Its log says why better than pg_ctl's output.
                Err(_) => {
                    let log = self.log_text();
                    let why = log
                        .lines()
                        .rfind(|l| l.contains("FATAL:"))
                        .unwrap_or_else(|| last_line(&log));
                    return Err(ServerError::Failed(format!("PostgreSQL did not start: {why}")));
                }
            }
        }
    }

    /// `postgresql://postgres@127.0.0.1:<port>/<database>`
    pub fn url(&self, database: &str) -> String {
        format!("postgresql://{SUPERUSER}@127.0.0.1:{}/{database}", self.port)
    }

    /// The template's URL, for `parsec migrate`.
    pub fn template_url(&self) -> String {
        self.url(TEMPLATE)
    }

    /// A new database copied from the (migrated) template: its URL.
    pub fn new_database(&self) -> Result<String, ServerError> {
        let mut made = self
            .databases
            .lock()
            .map_err(|_| ServerError::Failed("the cluster's lock is poisoned".into()))?;
        *made += 1;
        let name = format!("parsec_{made}");
        run(
            self.client("createdb").args(["-T", TEMPLATE]).arg(&name),
            &format!("`createdb -T {TEMPLATE} {name}`"),
        )?;
        Ok(self.url(&name))
    }

    /// The cluster's log while it runs.
    pub fn log(&self) -> PathBuf {
        self.dir.join("postgresql.log")
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(self.log()).unwrap_or_default()
    }

    /// A program that acts on the cluster's files (`initdb`, `pg_ctl`).
    fn server_side(&self, program: &str) -> Command {
        server_side(&self.bin, program, self.as_postgres)
    }

    /// A client of the running cluster, as its superuser over TCP.
    fn client(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin.join(program));
        command.args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", SUPERUSER]);
        command
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.port != 0 {
            stop(&self.bin, &self.dir.join("data"), self.as_postgres);
        }
        if let Some(folder) = self.log_copy.parent() {
            let _ = std::fs::create_dir_all(folder);
        }
        let _ = std::fs::copy(self.log(), &self.log_copy);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn server_side(bin: &Path, program: &str, as_postgres: bool) -> Command {
    match as_postgres {
        true => {
            let mut command = Command::new("runuser");
            command.args(["-u", SUPERUSER, "--"]).arg(bin.join(program));
            command
        }
        false => Command::new(bin.join(program)),
    }
}

fn stop(bin: &Path, data: &Path, as_postgres: bool) {
    let _ = server_side(bin, "pg_ctl", as_postgres)
        .arg("-D")
        .arg(data)
        .args(["-m", "fast", "-w", "stop"])
        .output();
}

/// The clusters of runs that were killed before they could delete theirs
/// (their folders are named after their process id): stopped and deleted.
fn remove_abandoned(parent: &Path, bin: &Path, as_postgres: bool) {
    for entry in std::fs::read_dir(parent).into_iter().flatten().flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.split('-').next()) else {
            continue;
        };
        if Path::new("/proc").join(pid).exists() {
            continue;
        }
        let data = entry.path().join("data");
        if data.join("postmaster.pid").exists() {
            stop(bin, &data, as_postgres);
        }
        let _ = std::fs::remove_dir_all(entry.path());
    }
}

/// `dir`, created; owned by the `postgres` user where the programs run as it.
fn make_dir(dir: &Path, as_postgres: bool) -> Result<(), ServerError> {
    std::fs::create_dir_all(dir).map_err(|source| ServerError::Io {
        path: dir.to_owned(),
        source,
    })?;
    if as_postgres {
        let owner = format!("{SUPERUSER}:");
        run(
            Command::new("chown").arg(&owner).arg(dir),
            &format!("`chown {owner} {}` (is there a `{SUPERUSER}` user?)", dir.display()),
        )?;
    }
    Ok(())
}

fn postgres_can_write(dir: &Path) -> bool {
    Command::new("runuser")
        .args(["-u", SUPERUSER, "--", "test", "-w"])
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs a setup command to its end: its stdout, or why it failed (its last
/// line of output).
fn run(command: &mut Command, what: &str) -> Result<String, SetupError> {
    let out = command.output().map_err(|source| SetupError::NotStarted {
        what: what.to_owned(),
        source,
    })?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        return Ok(stdout);
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let why = match stderr.trim().is_empty() {
        true => last_line(&stdout),
        false => last_line(&stderr),
    };
    Err(SetupError::Failed {
        what: what.to_owned(),
        why: why.to_owned(),
    })
}
