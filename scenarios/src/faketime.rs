//! libfaketime: the clock of a server process the harness starts, whatever
//! its language. The process is started with `LD_PRELOAD` naming Debian's
//! `libfaketimeMT.so.1` (the variant that serializes its own state between
//! threads), which answers the C library's `clock_gettime`, `gettimeofday`
//! and `time` from a timestamp file the harness rewrites while the server
//! runs (`FAKETIME_NO_CACHE=1`: the file is read at every call).
//!
//! The file holds either an absolute instant (`SECONDS.NANOSECONDS`,
//! `FAKETIME_FMT=%s`): the clock stands still there until the file changes
//! ([`Faketime::freeze_at`], an exact clock), or an offset (`+SECONDS`): the
//! real time plus that much, flowing ([`Faketime::offset_by`]).
//!
//! Left alone: the monotonic clocks (`FAKETIME_DONT_FAKE_MONOTONIC=1`, so
//! timers, asyncio and tokio keep real time) and file timestamps
//! (`NO_FAKE_STAT=1`, so Python's bytecode cache stays valid). A program
//! that does not read the time through the dynamic C library (a statically
//! linked binary, Go's runtime, a command that clears `LD_PRELOAD`) is not
//! affected: the harness checks that control took hold before relying on it
//! (see [`crate::targets::clock_check`]).

use parsec_mfa_reference::protocol::DateTime;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian's package that provides the library (`.ci/run` installs it).
pub const DEBIAN_PACKAGE: &str = "libfaketime";

/// Overrides where the library is looked for (a path to the `.so`).
pub const LIBRARY_ENV: &str = "PARSEC_MFA_LIBFAKETIME";

const LIBRARY_NAME: &str = "libfaketimeMT.so.1";

#[derive(Debug, thiserror::Error)]
pub enum FaketimeError {
    /// Not installed: the tests that need it say SKIPPED (`.ci/run`
    /// installs it and makes it required).
    #[error("libfaketime is not installed (no {LIBRARY_NAME}; Debian package `{DEBIAN_PACKAGE}`)")]
    NotInstalled,
    #[error("{LIBRARY_ENV}={}: no such file", .0.display())]
    NoSuchLibrary(PathBuf),
    #[error("{}: {source}", path.display())]
    TimestampFile { path: PathBuf, source: std::io::Error },
}

/// libfaketime's multi-threaded library on this machine: `$PARSEC_MFA_LIBFAKETIME`,
/// else Debian's place for this architecture (`/usr/lib/<triplet>/faketime/`),
/// else `/usr/lib/faketime/` or `/usr/local/lib/faketime/`.
pub fn find_library() -> Result<PathBuf, FaketimeError> {
    if let Some(path) = std::env::var_os(LIBRARY_ENV) {
        let path = PathBuf::from(path);
        return match path.is_file() {
            true => Ok(path),
            false => Err(FaketimeError::NoSuchLibrary(path)),
        };
    }
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("faketime").join(LIBRARY_NAME))
        .collect();
    candidates.sort();
    candidates.push(Path::new("/usr/lib/faketime").join(LIBRARY_NAME));
    candidates.push(Path::new("/usr/local/lib/faketime").join(LIBRARY_NAME));
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .ok_or(FaketimeError::NotInstalled)
}

/// The timestamp file of one server process.
#[derive(Debug, Clone)]
pub struct Faketime {
    library: PathBuf,
    file: PathBuf,
}

impl Faketime {
    /// A server whose clock will be read from `file` (written now with the
    /// real time, offset 0, until the harness says otherwise).
    pub fn new(library: PathBuf, file: PathBuf) -> Result<Self, FaketimeError> {
        let faketime = Faketime { library, file };
        faketime.write("+0")?;
        Ok(faketime)
    }

    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Prepares `command` to run under libfaketime. An `LD_PRELOAD` the
    /// harness was itself given is kept, after the library; a `FAKETIME`
    /// variable, which would take precedence over the file, is removed.
    pub fn apply(&self, command: &mut Command) {
        let preload = match std::env::var("LD_PRELOAD") {
            Ok(other) if !other.trim().is_empty() => format!("{} {other}", self.library.display()),
            _ => self.library.display().to_string(),
        };
        command
            .env("LD_PRELOAD", preload)
            .env("FAKETIME_TIMESTAMP_FILE", &self.file)
            .env("FAKETIME_NO_CACHE", "1")
            .env("FAKETIME_FMT", "%s")
            .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
            .env("NO_FAKE_STAT", "1")
            .env_remove("FAKETIME");
    }

    /// The clock stands still at `at` (to the microsecond) until the next
    /// write.
    pub fn freeze_at(&self, at: DateTime) -> Result<(), FaketimeError> {
        self.write(&frozen_spec(at))
    }

    /// The clock flows, `micros` ahead of the real time.
    pub fn offset_by(&self, micros: i64) -> Result<(), FaketimeError> {
        self.write(&offset_spec(micros))
    }

    /// Replaced by a rename: the server never reads half a line.
    fn write(&self, spec: &str) -> Result<(), FaketimeError> {
        let partial = self.file.with_extension("partial");
        std::fs::write(&partial, format!("{spec}\n"))
            .and_then(|_| std::fs::rename(&partial, &self.file))
            .map_err(|source| FaketimeError::TimestampFile {
                path: self.file.clone(),
                source,
            })
    }
}

/// `SECONDS.NANOSECONDS` for `FAKETIME_FMT=%s`. libfaketime turns the
/// fraction into nanoseconds through a `double` and truncates, which can
/// lose one nanosecond (`.000002` becomes 1999 ns): 100 ns are added, so a
/// server that truncates or rounds to microseconds reads exactly `at`.
fn frozen_spec(at: DateTime) -> String {
    let micros = at.as_micros();
    let seconds = micros.div_euclid(1_000_000);
    let fraction = micros.rem_euclid(1_000_000);
    format!("{seconds}.{fraction:06}100")
}

/// `+SECONDS.MICROSECONDS` (`-` behind).
fn offset_spec(micros: i64) -> String {
    let sign = if micros < 0 { '-' } else { '+' };
    let magnitude = micros.unsigned_abs();
    format!("{sign}{}.{:06}", magnitude / 1_000_000, magnitude % 1_000_000)
}

/// What libfaketime leaves in `/dev/shm` for a process (and the children
/// that share its state) killed before its exit handlers ran.
pub fn leftovers(pid: u32) -> [PathBuf; 2] {
    [
        PathBuf::from(format!("/dev/shm/sem.faketime_sem_{pid}")),
        PathBuf::from(format!("/dev/shm/faketime_shm_{pid}")),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_keep_their_microseconds_through_libfaketimes_double() {
        assert_eq!(
            frozen_spec(DateTime::from_micros(1_767_225_600_000_002)),
            "1767225600.000002100"
        );
        assert_eq!(
            frozen_spec(DateTime::from_micros(1_767_225_600_999_999)),
            "1767225600.999999100"
        );
        assert_eq!(frozen_spec(DateTime::from_micros(5)), "0.000005100");
    }

    #[test]
    fn offsets_are_signed_seconds_with_microseconds() {
        assert_eq!(offset_spec(0), "+0.000000");
        assert_eq!(offset_spec(518_400_000_001), "+518400.000001");
        assert_eq!(offset_spec(-1_500_000), "-1.500000");
    }

    /// The mechanism itself, on `date` (skipped where libfaketime is not
    /// installed, unless `PARSEC_MFA_REQUIRE_FAKETIME=1`, as `.ci/run` sets).
    #[test]
    fn a_process_reads_the_frozen_instant_and_the_moved_offset() {
        let library = match find_library() {
            Ok(library) => library,
            Err(e) if std::env::var("PARSEC_MFA_REQUIRE_FAKETIME").as_deref() == Ok("1") => panic!("{e}"),
            Err(e) => {
                println!("SKIPPED: {e}");
                return;
            }
        };
        let dir = std::env::temp_dir().join(format!("parsec-mfa-faketime-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        let faketime = Faketime::new(library, dir.join("clock")).expect("the file is written");
        let date = |faketime: &Faketime| {
            let mut command = Command::new("date");
            command.args(["-u", "+%s.%N"]);
            faketime.apply(&mut command);
            let out = command.output().expect("date runs");
            String::from_utf8_lossy(&out.stdout).trim().to_owned()
        };
        faketime
            .freeze_at(DateTime::from_micros(1_767_225_600_000_002))
            .expect("frozen");
        assert_eq!(date(&faketime), "1767225600.000002100");
        faketime.offset_by(86_400_000_000).expect("offset");
        let seen: f64 = date(&faketime).parse().expect("seconds");
        let real = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs_f64();
        assert!((seen - real - 86_400.0).abs() < 5.0, "{seen} vs {real}");
    }
}
