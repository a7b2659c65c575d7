//! The official parsec-cloud server: installed from the Python package
//! registry into a virtualenv under `target/`, its database migrated, its
//! command line.

use super::{ServerError, ServerOptions, ServerProcess, free_port, run_to_end};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

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

/// The official server's virtualenv for `version`, installed on first use
/// (see [`official_venv`]).
pub fn install_official(target_dir: &Path, version: &str) -> Result<PathBuf, ServerError> {
    let venv = official_venv(target_dir, version);
    if official_installed(target_dir, version) {
        return Ok(venv);
    }
    // Beside the virtualenv (`with_extension` would read `3.9.3` as `3.9` and an extension).
    let lock = target_dir.join("parsec-official").join(format!("{version}.lock"));
    once_installed(
        &lock,
        || official_installed(target_dir, version),
        || install_venv(&venv, version),
    )?;
    Ok(venv)
}

/// Runs `install` unless `installed` says it has run, holding an exclusive
/// lock on the file `lock` meanwhile: two processes installing the same
/// version at once (two test binaries, two commands) would otherwise build
/// one virtualenv together; the second waits, then finds it installed.
/// The operating system lets the lock go with its process, however it ends.
fn once_installed(
    lock: &Path,
    installed: impl FnOnce() -> bool,
    install: impl FnOnce() -> Result<(), ServerError>,
) -> Result<(), ServerError> {
    let io = |source| ServerError::Io {
        path: lock.to_path_buf(),
        source,
    };
    if let Some(parent) = lock.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock)
        .map_err(io)?;
    file.lock().map_err(io)?;
    if installed() {
        return Ok(());
    }
    install()
}

/// Makes the virtualenv `venv` and installs `parsec-cloud==version` in it.
fn install_venv(venv: &Path, version: &str) -> Result<(), ServerError> {
    // A half-made virtualenv (a run killed while installing) goes first.
    let _ = std::fs::remove_dir_all(venv);
    let python = find_python312()?;
    run_to_end(
        Command::new(&python).args(["-m", "venv"]).arg(venv),
        "creating the virtualenv",
    )?;
    let installed = run_to_end(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(format!("parsec-cloud=={version}")),
        &format!("pip install parsec-cloud=={version}"),
    );
    if installed.is_err() {
        // No half-made virtualenv left behind to be mistaken for one.
        let _ = std::fs::remove_dir_all(venv);
    }
    installed?;
    let mark = venv.join(".installed");
    std::fs::write(&mark, version).map_err(|source| ServerError::Io { path: mark, source })
}

/// Whether the official server in `venv` has the advice option (3.8.0 has
/// not), as its `parsec run --help` says.
pub fn official_takes_advice(venv: &Path) -> Result<bool, ServerError> {
    let help = run_to_end(
        Command::new(venv.join("bin/parsec")).args(["run", "--help"]),
        "`parsec run --help`",
    )?;
    Ok(help.contains("--advisory-device-file-protection"))
}

/// Brings the official server's PostgreSQL database up to date
/// (`parsec migrate`), as its operator would before `parsec run`.
pub fn migrate_official_db(venv: &Path, db: &str) -> Result<(), ServerError> {
    run_to_end(
        Command::new(venv.join("bin/parsec")).args(["migrate", "--db", db]),
        &format!("`parsec migrate --db {db}`"),
    )
    .map(|_| ())
    .map_err(ServerError::from)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installs_of_one_version_at_once_install_it_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let dir = std::env::temp_dir().join(format!("parsec-mfa-install-lock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (lock, mark) = (dir.join("3.9.3.lock"), dir.join("installed"));
        let installs = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    once_installed(
                        &lock,
                        || mark.exists(),
                        || {
                            installs.fetch_add(1, Ordering::SeqCst);
                            // Long enough for the others to be waiting.
                            std::thread::sleep(Duration::from_millis(200));
                            std::fs::write(&mark, "done").unwrap();
                            Ok(())
                        },
                    )
                    .unwrap();
                });
            }
        });
        assert_eq!(installs.load(Ordering::SeqCst), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
