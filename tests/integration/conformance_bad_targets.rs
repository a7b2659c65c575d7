//! `parsec-mfa conformance` against targets it cannot use: down, hanging,
//! slow to start, crashing at start, not a Parsec server, a wrong
//! administration token, or a malformed `--target`. Each ends with one
//! `Error:` line naming the problem and a distinct exit code, quickly, with
//! no scenario run and no panic. And a run stopped by Ctrl-C leaves no
//! server behind.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_parsec-mfa");
const TARGET_UNUSABLE: i32 = 9;
const USAGE: i32 = 2;

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the command and kills it if it is still running after `limit`
/// (then the test fails: the command hung).
fn conformance(args: &[&str], limit: Duration) -> Outcome {
    let reports = std::env::temp_dir().join(format!("parsec-mfa-bad-targets-{}", std::process::id()));
    let mut child = Command::new(BINARY)
        .arg("conformance")
        .args(args)
        .args(["--reports", reports.to_str().expect("a UTF-8 temp dir")])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("parsec-mfa starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`conformance {}` still running after {limit:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    child.stdout.take().expect("piped").read_to_string(&mut stdout).ok();
    child.stderr.take().expect("piped").read_to_string(&mut stderr).ok();
    Outcome {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
    }
}

/// One `Error:` line on stderr containing `expected`, the exit code, and
/// no scenario run.
fn assert_one_error(out: &Outcome, code: i32, expected: &str) {
    let errors: Vec<&str> = out.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(errors.len(), 1, "one error line, got:\n{}", out.stderr);
    assert!(errors[0].starts_with("Error: "), "{}", errors[0]);
    assert!(errors[0].contains(expected), "`{expected}` in: {}", errors[0]);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert!(!out.stdout.contains("Scenario"), "scenarios ran:\n{}", out.stdout);
    assert_eq!(out.code, code, "exit code; stderr: {}", out.stderr);
}

/// A loopback server handing each connection to `handle`, in a thread of
/// its own; its `url=` target.
fn serve_each_connection(mut handle: impl FnMut(TcpStream) + Send + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("an address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            handle(stream);
        }
    });
    format!("url=http://127.0.0.1:{port}")
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("an address").port()
}

#[test]
fn a_server_that_is_down() {
    let url = format!("url=http://127.0.0.1:{}", closed_port());
    let out = conformance(&["--target", &url], Duration::from_secs(30));
    assert_one_error(
        &out,
        TARGET_UNUSABLE,
        "cannot be reached or does not answer (server_config: connection refused",
    );
}

#[test]
fn a_server_that_accepts_and_never_answers() {
    // Accepts connections and keeps them open without a word.
    let mut held = Vec::new();
    let url = serve_each_connection(move |stream| held.push(stream));
    let out = conformance(&["--target", &url], Duration::from_secs(30));
    assert_one_error(
        &out,
        TARGET_UNUSABLE,
        "cannot be reached or does not answer (server_config: no reply within 4 s)",
    );
}

#[test]
fn a_web_server_that_is_not_parsec() {
    let url = serve_each_connection(|mut stream| {
        let mut buffer = [0u8; 4096];
        let _ = stream.read(&mut buffer);
        let body = "<html>Hello</html>";
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    });
    let out = conformance(&["--target", &url], Duration::from_secs(30));
    assert_one_error(&out, TARGET_UNUSABLE, "is not a Parsec server");
}

#[test]
fn a_command_that_never_listens() {
    let out = conformance(
        &["--target", "cmd=sleep 600 # {port}", "--start-timeout", "2"],
        Duration::from_secs(30),
    );
    assert_one_error(&out, TARGET_UNUSABLE, "did not answer on port");
}

#[test]
fn a_command_that_exits_at_once() {
    let out = conformance(
        &["--target", "cmd=echo no server here on {port}; exit 3"],
        Duration::from_secs(30),
    );
    assert_one_error(&out, TARGET_UNUSABLE, "exited (exit status: 3) before answering");
}

#[test]
fn a_wrong_administration_token() {
    // The reference binary started by the command knows another token.
    let out = conformance(
        &[
            "--target",
            &format!("cmd={BINARY} serve --db MOCKED --port {{port}} --administration-token other"),
            "--admin-token",
            "not-the-token",
        ],
        Duration::from_secs(30),
    );
    assert_one_error(&out, TARGET_UNUSABLE, "refused the administration token");
}

#[test]
fn malformed_targets_are_usage_errors() {
    for target in [
        "nowhere",
        "url=ftp://example.com",
        "official=3.9.3;rm",
        "cmd=server without port",
    ] {
        let out = conformance(&["--target", target], Duration::from_secs(30));
        assert_one_error(&out, USAGE, "--target");
    }
    let out = conformance(
        &["--target", "in-process", "--tags", "@clock and ("],
        Duration::from_secs(30),
    );
    assert_one_error(&out, USAGE, "--tags");
}

#[test]
fn ctrl_c_stops_the_run_and_its_servers() {
    // A token unique to this test marks the server's command line.
    let marker = format!("ctrl-c-check-{}", std::process::id());
    let reports = std::env::temp_dir().join(format!("parsec-mfa-ctrl-c-{}", std::process::id()));
    let target = format!(
        "cmd={BINARY} serve --db MOCKED --port {{port}} --administration-token {marker} \
         --email-host {{smtp_host}} --email-port {{smtp_port}} --email-sender harness@example.com"
    );
    let mut child = Command::new(BINARY)
        .args(["conformance", "--target", &target, "--admin-token", &marker])
        .args(["--reports", reports.to_str().expect("a UTF-8 temp dir")])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("parsec-mfa starts");
    // Interrupted once its server answers (the run has begun).
    let running = |pattern: &str| {
        Command::new("pgrep")
            .args(["-f", pattern])
            .output()
            .map(|o| !o.stdout.is_empty())
            .unwrap_or(false)
    };
    let started = Instant::now();
    while !running(&format!(
        "serve --db MOCKED --port [0-9]+ --administration-token {marker}"
    )) {
        assert!(started.elapsed() < Duration::from_secs(20), "the server never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(interrupted.success());
    let status = loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "still running after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    child.stderr.take().expect("piped").read_to_string(&mut stderr).ok();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("Error: interrupted"), "{stderr}");
    assert!(
        !running(&format!(
            "serve --db MOCKED --port [0-9]+ --administration-token {marker}"
        )),
        "a server outlived the run"
    );
}

/// A server whose answer to a probe begun within the start timeout comes
/// after it has answered: it is not reported as one that "did not answer";
/// one that answers no probe begun in time is.
#[tokio::test]
async fn a_late_answer_to_a_probe_begun_in_time_counts() {
    use parsec_mfa_scenarios::servers::ServerProcess;
    // Answers each connection `delay` after it opened.
    fn answering_after(delay: Duration) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("its address").port();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    std::thread::sleep(delay);
                    let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
                });
            }
        });
        port
    }
    let log = std::env::temp_dir().join(format!("parsec-mfa-late-answer-{}.log", std::process::id()));
    // A process that stays up: the answers come from the listener.
    let start = |port| {
        let mut process = Command::new("sleep");
        process.arg("30");
        ServerProcess::launch("the slow server", process, port, log.clone(), false).expect("sleep starts")
    };
    let timeout = Duration::from_millis(500);
    let mut late = start(answering_after(Duration::from_millis(800)));
    late.wait_listening(timeout)
        .await
        .expect("answered a probe begun within the timeout");
    // The probe gives up after 1 s without an answer, past the timeout.
    let mut silent = start(answering_after(Duration::from_secs(5)));
    let error = silent
        .wait_listening(timeout)
        .await
        .expect_err("no probe begun in time was answered");
    assert!(error.to_string().contains("did not answer on port"), "{error}");
    let _ = std::fs::remove_file(&log);
}
