//! `parsec-mfa serve` refuses what it cannot do with one clear line on
//! stderr, starting with `Error:`, and a non-zero exit (issue 3): a busy
//! port, bad flag values, an unusable database, a test clock on a public
//! address.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs the binary; a server that starts instead of refusing is killed
/// after 20 s and fails the test.
fn run(args: &[&str]) -> Outcome {
    let mut command = Command::new(env!("CARGO_BIN_EXE_parsec-mfa"));
    // Only the flags of the test count.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("PARSEC_") {
            command.env_remove(name);
        }
    }
    let mut child = command
        .args(args)
        // Never the user's data directory, whatever the flags.
        .env("XDG_DATA_HOME", std::env::temp_dir().join("parsec-mfa-cli-test"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the parsec-mfa binary starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`parsec-mfa {}` is still running after 20 s", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    Outcome {
        code: status.code(),
        stdout,
        stderr,
    }
}

/// Exactly one line on stderr, starting with `Error:` and naming `mentions`;
/// nothing on stdout; a non-zero exit.
fn assert_one_error_line(args: &[&str], mentions: &str) {
    let out = run(args);
    let what = format!("parsec-mfa {}", args.join(" "));
    assert!(
        out.code.is_some_and(|c| c != 0),
        "{what}: exit {:?}, stderr {:?}",
        out.code,
        out.stderr
    );
    assert_eq!(out.stdout, "", "{what}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{what}: {:?}", out.stderr);
    assert!(lines[0].starts_with("Error: "), "{what}: {:?}", lines[0]);
    assert!(
        lines[0].contains(mentions),
        "{what}: {:?} should mention {mentions:?}",
        lines[0]
    );
}

const TOKEN: [&str; 2] = ["--administration-token", parsec_mfa_scenarios::testing::ADMIN_TOKEN];

fn serve(extra: &[&str]) -> Vec<String> {
    ["serve", "--db", "MOCKED", TOKEN[0], TOKEN[1]]
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .collect()
}

fn check(args: &[String], mentions: &str) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_one_error_line(&args, mentions);
}

#[test]
fn a_busy_port_is_one_error_line() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    check(&serve(&["--port", &port]), &port);
    // With the SQLite default too (in a temporary data directory).
    check(&["serve", TOKEN[0], TOKEN[1], "--port", &port].map(String::from), &port);
    drop(taken);
}

#[test]
fn bad_flag_values_are_one_error_line() {
    check(&serve(&["--advisory-device-file-protection", "BOGUS"]), "BOGUS");
    check(
        &serve(&["--advisory-device-file-protection", "PASSWORD+DUMMY"]),
        "PASSWORD+DUMMY",
    );
    check(&serve(&["--port", "99999"]), "99999");
    check(&serve(&["--host", "not-an-address"]), "not-an-address");
    check(&serve(&["--server-addr", "http://example.com"]), "http://example.com");
    check(&serve(&["--email-port", "smtp"]), "smtp");
    check(&serve(&["--inject-fault", "nope"]), "nope");
    check(&serve(&["--no-such-flag"]), "--no-such-flag");
    check(&["serve".to_owned()], "--administration-token");
    check(&["serve", TOKEN[0], ""].map(String::from), "--administration-token");
    check(&["bogus".to_owned()], "bogus");
}

#[test]
fn an_unusable_database_is_one_error_line() {
    for db in ["weird:xx", "postgresql://parsec@localhost/parsec", "sqlite:", ""] {
        check(&["serve", TOKEN[0], TOKEN[1], "--db", db].map(String::from), "--db");
    }
    // Not a SQLite file.
    let not_a_db = std::env::temp_dir().join(format!("parsec-mfa-cli-{}.txt", std::process::id()));
    std::fs::write(&not_a_db, "not a database, just text ".repeat(100)).unwrap();
    let path = not_a_db.display().to_string();
    check(&["serve", TOKEN[0], TOKEN[1], "--db", &path].map(String::from), &path);
    let _ = std::fs::remove_file(&not_a_db);
    // A file where a directory is needed.
    check(
        &["serve", TOKEN[0], TOKEN[1], "--db", "sqlite:/dev/null/server.sqlite"].map(String::from),
        "/dev/null",
    );
}

#[test]
fn a_test_clock_on_a_public_address_is_one_error_line() {
    check(&serve(&["--test-clock", "--host", "0.0.0.0"]), "--test-clock");
    check(&serve(&["--test-clock", "--host", "::"]), "--test-clock");
}

#[test]
fn help_and_version_still_print_normally() {
    let out = run(&["--version"]);
    assert_eq!(out.code, Some(0));
    assert!(out.stdout.starts_with("parsec-mfa "), "{:?}", out.stdout);
    let out = run(&["serve", "--help"]);
    assert_eq!(out.code, Some(0));
    assert!(out.stdout.contains("--advisory-device-file-protection"));
}
