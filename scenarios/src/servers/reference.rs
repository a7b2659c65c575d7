//! The reference server binary as a process.

use super::{ServerError, ServerOptions, ServerProcess, free_port};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

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
