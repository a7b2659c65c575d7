//! `parsec-mfa bench` works end to end against a spawned reference server:
//! it sets up an organization with MFA and fetches the key without error.
//! Only the counts are checked, never the timing: the figures themselves
//! are measured by hand (docs/measurements.md, `parsec-mfa bench`).

use parsec_mfa_scenarios::servers::free_port;
use parsec_mfa_scenarios::testing::ADMIN_TOKEN;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(port: u16) -> Server {
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_parsec-mfa"))
            .args(["serve", "--db", "MOCKED", "--administration-token", ADMIN_TOKEN])
            .args(["--port", &port.to_string()])
            .stderr(Stdio::null())
            .spawn()
            .expect("the parsec-mfa binary starts"),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    server
}

/// The value of a `name: value` line of the report.
fn field<'a>(report: &'a str, name: &str) -> &'a str {
    report
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
        .unwrap_or_else(|| panic!("no `{name}` in {report:?}"))
}

fn bench(port: u16, token: &str, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_parsec-mfa"))
        .args(["bench", "--addr", &format!("http://127.0.0.1:{port}")])
        .args(["--admin-token", token])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn bench_fetches_the_key_without_errors() {
    let port = free_port();
    let _server = start_server(port);

    let out = bench(port, ADMIN_TOKEN, &["--connections", "4", "--requests", "300"]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(field(&report, "requests"), "300");
    assert_eq!(field(&report, "errors"), "0");
    for name in ["throughput", "latency p50", "latency p99"] {
        assert!(!field(&report, name).is_empty());
    }

    // By duration too, a second organization on the same server.
    let out = bench(port, ADMIN_TOKEN, &["--connections", "2", "--duration", "300ms"]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(field(&report, "requests").parse::<u64>().unwrap() > 0);
    assert_eq!(field(&report, "errors"), "0");
}

#[test]
fn bench_reports_a_refused_setup_as_one_error_line() {
    let port = free_port();
    let _server = start_server(port);
    let out = bench(port, "wrong", &["--requests", "10"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("Error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("403"), "{stderr}");
}
