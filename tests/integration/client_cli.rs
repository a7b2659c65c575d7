//! The client command line against the reference server as a process: the
//! server's advice on protection, a second device of the same user, the
//! administrator's command flags and errors, and an unreachable server.

use parsec_mfa_scenarios::servers::{ServerOptions, ServerProcess, free_port, start_reference};
use parsec_mfa_scenarios::testing::cli::{Computer, Output, code_now};
use std::path::{Path, PathBuf};

const BINARY: &str = env!("CARGO_BIN_EXE_parsec-mfa");

use parsec_mfa_scenarios::testing::ADMIN_TOKEN as TOKEN;
const PASSWORD: &str = "P@ssw0rd.";
const ALICE: &str = "alice@example.com";

fn home(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("client-cli").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn server(home: &Path, advice: &[&str]) -> ServerProcess {
    let options = ServerOptions {
        administration_token: TOKEN.into(),
        smtp_port: None,
        advisory_device_file_protection: advice.iter().map(|s| s.to_string()).collect(),
        log_dir: home.to_owned(),
    };
    start_reference(Path::new(env!("CARGO_BIN_EXE_parsec-mfa")), &options, &[]).unwrap()
}

/// Creates and bootstraps `org`; Alice's device is in `computer`.
fn organization_with_alice(computer: &Computer, server: &ServerProcess, org: &str) {
    let out = computer.create_and_bootstrap(&server.parsec_addr(), TOKEN, org, ALICE, PASSWORD);
    assert_eq!(out.code, 0, "{out}");
}

/// The one line on stderr, after the prompts it may follow (`Password of
/// …: `, shown on stderr even with --password-stdin).
fn one_error_line(out: &Output) -> &str {
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr\n{out}");
    let error = lines[0].find("Error: ").map(|at| &lines[0][at..]);
    error.unwrap_or_else(|| panic!("no `Error: ` on stderr\n{out}"))
}

#[test]
fn when_mfa_is_advised_a_password_only_login_is_refused_until_mfa_is_enabled() {
    let home = home("advice-required");
    let server = server(&home, &["PASSWORD+TOTP", "PKI"]);
    let alice = Computer::new(BINARY.as_ref(), home.join("alice"));
    organization_with_alice(&alice, &server, "Advised");

    let out = alice.run(
        &["login", "--device", ALICE, "--password-stdin"],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(out.code, 7, "{out}");
    assert!(
        one_error_line(&out).contains("requires multi-factor authentication: enable it with `parsec-mfa mfa enable")
    );

    let (out, key) = alice.enable_mfa(ALICE, PASSWORD, "");
    assert_eq!(out.code, 0, "{out}");
    let out = alice.login(ALICE, &code_now(&key), PASSWORD, "ls\n");
    assert_eq!(out.code, 0, "{out}");
}

#[test]
fn when_password_is_advised_mfa_is_optional() {
    let home = home("advice-optional");
    let server = server(&home, &["PASSWORD", "PASSWORD+TOTP"]);
    let alice = Computer::new(BINARY.as_ref(), home.join("alice"));
    organization_with_alice(&alice, &server, "Optional");
    let out = alice.run(
        &["login", "--device", ALICE, "--password-stdin"],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(out.code, 0, "{out}");
}

#[test]
fn a_second_device_uses_the_same_authenticator_entry() {
    let home = home("second-device");
    let server = server(&home, &[]);
    let alice = Computer::new(BINARY.as_ref(), home.join("alice"));
    organization_with_alice(&alice, &server, "TwoDevices");
    let (out, key) = alice.enable_mfa(ALICE, PASSWORD, "");
    assert_eq!(out.code, 0, "{out}");

    let first = alice.run(&["device", "list"], "").stdout;
    let first_id = first.split_whitespace().next().unwrap().to_owned();
    let out = alice.run(
        &[
            "device",
            "create",
            "--device",
            &first_id,
            "--code",
            &code_now(&key),
            "--label",
            "desktop",
        ]
        .iter()
        .chain(&["--password-stdin", "--kdf-cost", "minimal"])
        .copied()
        .collect::<Vec<_>>(),
        &format!("{PASSWORD}\n{PASSWORD}\n"),
    );
    assert_eq!(out.code, 0, "{out}");
    let second_id = out.stdout.split_whitespace().nth(1).unwrap().to_owned();

    // No new key is shown: the code of the existing entry enables it.
    let (out, shown_key) = alice.enable_mfa(&second_id, PASSWORD, &format!("{}\n", code_now(&key)));
    assert_eq!(out.code, 0, "{out}");
    assert!(
        shown_key.is_empty() && out.stdout.contains("use the same entry of your authenticator app"),
        "{out}"
    );

    for device in [&first_id, &second_id] {
        let out = alice.login(device, &code_now(&key), PASSWORD, "");
        assert_eq!(out.code, 0, "{device}: {out}");
    }
    let listing = alice.run(&["device", "list"], "").stdout;
    assert_eq!(listing.matches("password+MFA").count(), 2, "{listing}");
}

#[test]
fn totp_reset_takes_the_official_flags_and_environment() {
    let home = home("totp-reset-flags");
    let server = server(&home, &[]);
    let admin = Computer::new(BINARY.as_ref(), home.join("admin"));
    organization_with_alice(&admin, &server, "Flags");
    let addr = server.parsec_addr();

    // Exactly one of --user-id and --user-email: a usage error otherwise.
    let both = admin.run(
        &[
            "user",
            "totp-reset",
            "-a",
            &addr,
            "-t",
            TOKEN,
            "-o",
            "Flags",
            "--user-id",
            "00",
            "--user-email",
            ALICE,
        ],
        "",
    );
    assert_eq!(both.code, 2, "{both}");
    let neither = admin.run(&["user", "totp-reset", "-a", &addr, "-t", TOKEN, "-o", "Flags"], "");
    assert_eq!(neither.code, 2, "{neither}");

    // The environment variables stand for --addr, --token, --organization.
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_parsec-mfa"));
    let out = command
        .args(["user", "totp-reset", "--user-email", ALICE])
        .env("PARSEC_SERVER_ADDR", &addr)
        .env("PARSEC_ADMINISTRATION_TOKEN", TOKEN)
        .env("PARSEC_ORGANIZATION_ID", "Flags")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert_eq!(
        stdout.lines().count(),
        2,
        "no email line without --send-email: {stdout}"
    );
    assert!(stdout.starts_with("TOTP reset for user "));
    assert!(
        stdout
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("Reset URL: parsec3://127.0.0.1:")
    );

    // A server refusal: `Error: <detail>` on stderr, exit 1.
    let out = admin.run(
        &[
            "user",
            "totp-reset",
            "-a",
            &addr,
            "-t",
            TOKEN,
            "-o",
            "Flags",
            "--user-email",
            "unknown@example.com",
        ],
        "",
    );
    assert_eq!(out.code, 1, "{out}");
    assert_eq!(one_error_line(&out), "Error: User not found");
    let out = admin.run(
        &[
            "user",
            "totp-reset",
            "-a",
            &addr,
            "-t",
            "wrong",
            "-o",
            "Flags",
            "--user-email",
            ALICE,
        ],
        "",
    );
    assert_eq!(out.code, 1, "{out}");
    assert_eq!(one_error_line(&out), "Error: Bad authorization token");
}

#[test]
fn an_unreachable_server_is_one_sentence_and_exit_6() {
    let home = home("unreachable");
    let server = server(&home, &[]);
    let alice = Computer::new(BINARY.as_ref(), home.join("alice"));
    organization_with_alice(&alice, &server, "Gone");
    let (out, key) = alice.enable_mfa(ALICE, PASSWORD, "");
    assert_eq!(out.code, 0, "{out}");
    drop(server);
    let out = alice.run(
        &[
            "login",
            "--device",
            ALICE,
            "--code",
            &code_now(&key),
            "--password-stdin",
            "--deadline",
            "0.5",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(out.code, 6, "{out}");
    assert!(one_error_line(&out).contains("could not be reached"));
    let port = free_port();
    let out = alice.run(
        &[
            "organization",
            "create",
            "X",
            "--addr",
            &format!("parsec3://127.0.0.1:{port}?no_ssl=true"),
            "--token",
            TOKEN,
        ],
        "",
    );
    assert_eq!(out.code, 1, "{out}");
    one_error_line(&out);
}

/// `mfa status`: the local half (this device's protection, from its file)
/// without a code; both halves with the code and the password.
#[test]
fn mfa_status_answers_the_local_part_without_a_code() {
    let home = home("status-local");
    let server = server(&home, &[]);
    let alice = Computer::new(BINARY.as_ref(), home.join("alice"));
    organization_with_alice(&alice, &server, "Status");
    let (out, key) = alice.enable_mfa(ALICE, PASSWORD, "");
    assert_eq!(out.code, 0, "{out}");

    let out = alice.run(&["mfa", "status", "--device", ALICE, "--password-stdin"], "");
    assert_eq!(out.code, 0, "{out}");
    assert!(
        out.stdout.contains("This device: protected by MFA (opaque key "),
        "{out}"
    );
    assert!(!out.stdout.contains("MFA: "), "the server was not asked\n{out}");
    assert!(out.stderr.contains("give the code with --code"), "{out}");

    let out = alice.run(
        &[
            "mfa",
            "status",
            "--device",
            ALICE,
            "--code",
            &code_now(&key),
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(out.code, 0, "{out}");
    assert!(
        out.stdout.contains("This device: protected by MFA (opaque key "),
        "{out}"
    );
    assert!(out.stdout.contains("MFA: set up for "), "{out}");
}
