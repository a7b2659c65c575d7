//! A `url=` target that misbehaves on one command only (issue 22, items 3
//! and 4): a wrapper in front of a real reference server forwards every
//! request, except `totp_fetch_opaque_key`, which it never answers, answers
//! with a reset, or answers with 64 MiB. The run ends quickly, exit 1,
//! without a crash, its failures naming the command; the harness's memory
//! stays bounded.

use parsec_mfa_scenarios::servers::{ServerOptions, start_reference};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_parsec-mfa");
const COMMAND: &[u8] = b"totp_fetch_opaque_key";

#[derive(Clone, Copy)]
enum Mode {
    /// Reads the request, never answers, keeps the connection open.
    Hang,
    /// Closes the connection with the request unread: the kernel resets it.
    Reset,
    /// Answers 200 with a body of 64 MiB, its length not announced.
    Huge,
}

/// The whole request (head and `Content-Length` body) once it has arrived,
/// peeked, not read: `None` when the client closed first.
fn peek_request(stream: &TcpStream) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = stream.peek(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        let seen = &buf[..n];
        if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if n >= end + 4 + length {
                return Some(seen[..end + 4 + length].to_vec());
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `Connection: close` added after the first line of an HTTP message.
fn closing(message: &[u8]) -> Vec<u8> {
    let line = message.windows(2).position(|w| w == b"\r\n").map_or(0, |p| p + 2);
    [&message[..line], b"Connection: close\r\n", &message[line..]].concat()
}

fn handle(mut client: TcpStream, upstream: u16, mode: Mode) {
    // One request per connection: the reply says `Connection: close`.
    if let Some(request) = peek_request(&client) {
        if request.windows(COMMAND.len()).any(|w| w == COMMAND) {
            match mode {
                Mode::Hang => {
                    let _ = client.read_exact(&mut vec![0; request.len()]);
                    std::thread::sleep(Duration::from_secs(600));
                }
                Mode::Reset => {}
                Mode::Huge => {
                    let _ = client.read_exact(&mut vec![0; request.len()]);
                    // No length announced: the body ends with the
                    // connection, so the client must count as it reads.
                    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/msgpack\r\nConnection: close\r\n\r\n";
                    let chunk = vec![0x80u8; 1 << 20];
                    let _ = client.write_all(head.as_bytes());
                    for _ in 0..64 {
                        if client.write_all(&chunk).is_err() {
                            break;
                        }
                    }
                }
            }
            return;
        }
        if client.read_exact(&mut vec![0; request.len()]).is_err() {
            return;
        }
        let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream)) else {
            return;
        };
        let mut reply = Vec::new();
        if server.write_all(&closing(&request)).is_err() || server.read_to_end(&mut reply).is_err() {
            return;
        }
        let _ = client.write_all(&closing(&reply));
    }
}

/// The wrapper's port, in front of the reference server at `upstream`.
fn wrapper(upstream: u16, mode: Mode) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || handle(stream, upstream, mode));
        }
    });
    port
}

struct Outcome {
    code: i32,
    output: String,
    elapsed: Duration,
    /// The run's peak resident memory, in KiB (`/usr/bin/time -f %M`).
    peak_kib: Option<u64>,
}

/// `parsec-mfa conformance` against the wrapped server, a few scenarios
/// that fetch the opaque key, under `/usr/bin/time` where it is installed.
fn run_against(mode: Mode, name: &str) -> Outcome {
    run_selected(
        mode,
        name,
        Some("5"),
        &[
            "--features",
            "features/login_with_mfa.feature",
            "--tags",
            "@FETCH-1 or @CODE-1 or @CODE-4",
        ],
    )
}

/// As [`run_against`], with the scenarios `selection` chooses, and
/// `--request-timeout` if given.
fn run_selected(mode: Mode, name: &str, timeout: Option<&str>, selection: &[&str]) -> Outcome {
    let dir = std::env::temp_dir().join(format!("parsec-mfa-misbehaving-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let options = ServerOptions {
        administration_token: "s3cr3t".into(),
        smtp_port: None,
        advisory_device_file_protection: vec![],
        log_dir: dir.clone(),
    };
    let server = start_reference(Path::new(BINARY), &options, &[]).unwrap();
    let port = wrapper(server.port, mode);
    let time = Path::new("/usr/bin/time");
    let peak_file = dir.join("peak");
    let mut command = if time.exists() {
        let mut c = Command::new(time);
        c.arg("-f").arg("%M").arg("-o").arg(&peak_file).arg(BINARY);
        c
    } else {
        Command::new(BINARY)
    };
    command
        .args(["conformance", "--target", &format!("url=http://127.0.0.1:{port}")])
        .args(selection)
        .args(timeout.map(|t| ["--request-timeout", t]).into_iter().flatten())
        .arg("--reports")
        .arg(dir.join("reports"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null());
    let started = Instant::now();
    let out = command.output().expect("parsec-mfa runs");
    let elapsed = started.elapsed();
    drop(server);
    let peak_kib = std::fs::read_to_string(&peak_file)
        .ok()
        .and_then(|s| s.lines().last().and_then(|l| l.trim().parse().ok()));
    Outcome {
        code: out.status.code().unwrap_or(-1),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        elapsed,
        peak_kib,
    }
}

fn check(outcome: &Outcome, what: &str, expected: &str) {
    let Outcome {
        code, output, elapsed, ..
    } = outcome;
    println!("{what}: exit {code} in {elapsed:?}, peak {:?} KiB", outcome.peak_kib);
    assert_eq!(*code, 1, "{what}: exit {code}:\n{output}");
    assert!(*elapsed < Duration::from_secs(60), "{what}: {elapsed:?}");
    assert!(output.contains(expected), "{what}: no {expected:?} in:\n{output}");
    assert!(!output.contains("thread 'main' panicked"), "{what}:\n{output}");
}

#[test]
fn a_target_that_never_answers_a_command_is_judged_in_under_a_minute() {
    let outcome = run_against(Mode::Hang, "hang");
    check(
        &outcome,
        "never answering",
        "totp_fetch_opaque_key: no reply within 5 s",
    );
}

#[test]
fn a_target_that_resets_on_a_command_is_judged_in_under_a_minute() {
    let outcome = run_against(Mode::Reset, "reset");
    check(&outcome, "resetting", "totp_fetch_opaque_key: connection lost");
}

#[test]
fn a_target_answering_64_mib_is_refused_in_bounded_memory() {
    let outcome = run_against(Mode::Huge, "huge");
    // The steps print the error's Debug form.
    check(
        &outcome,
        "64 MiB",
        "ReplyTooLarge { command: \"totp_fetch_opaque_key\", limit: 1048576 }",
    );
    if let Some(peak) = outcome.peak_kib {
        assert!(peak < 400 * 1024, "peak {peak} KiB");
    }
}

/// The whole suite against the 64 MiB target, its 16 scenarios at a time
/// (the issue measured 743 MiB there before replies were bounded): the
/// peak stays under 400 MiB. Slower (every feature): run it with
/// `cargo test --test integration whole_run -- --ignored`.
#[test]
#[ignore = "the whole suite: run by hand"]
fn a_whole_run_against_a_target_answering_64_mib_stays_under_400_mib() {
    let outcome = run_selected(Mode::Huge, "huge-whole", Some("5"), &[]);
    let Outcome {
        code,
        output,
        elapsed,
        peak_kib,
    } = &outcome;
    let summary = output.lines().filter(|l| l.contains(" passed, ")).collect::<Vec<_>>();
    let too_large = output.matches("ReplyTooLarge").count();
    println!(
        "whole run, 64 MiB: exit {code} in {elapsed:?}, peak {peak_kib:?} KiB, {summary:?}, {too_large} ReplyTooLarge"
    );
    assert_eq!(*code, 1, "{output}");
    assert!(output.contains("ReplyTooLarge"), "{output}");
    let peak = peak_kib.expect("/usr/bin/time measured the run");
    assert!(peak < 400 * 1024, "peak {peak} KiB");
}

/// The whole suite against a target that never answers the command, with
/// `--request-timeout 5` (30.8 s measured; 61 s with the default 10 s, the
/// 65 scenarios that wait going 16 at a time):
/// `cargo test --test integration whole_run -- --ignored`.
#[test]
#[ignore = "the whole suite: run by hand"]
fn a_whole_run_against_a_target_that_never_answers_a_command_ends_in_under_a_minute() {
    let outcome = run_selected(Mode::Hang, "hang-whole", Some("5"), &[]);
    let Outcome {
        code, output, elapsed, ..
    } = &outcome;
    let summary = output.lines().filter(|l| l.contains(" passed, ")).collect::<Vec<_>>();
    println!("whole run, never answering: exit {code} in {elapsed:?}, {summary:?}");
    check(
        &outcome,
        "whole run, never answering",
        "totp_fetch_opaque_key: no reply within 5 s",
    );
}
