//! A `url=` target configured as the admin guide recommends (MFA
//! mandatory: `--advisory-device-file-protection PASSWORD+TOTP
//! --advisory-device-file-protection PKI`): the run passes. The
//! `@password-only` scenarios are skipped with the reason, and the
//! `@advice` scenarios whose advice is the server's run and pass; the
//! others are skipped with both advices named. Then the same against the
//! official 3.9.3 started with the guide's flags, where it is installed.

use parsec_mfa_scenarios::report::{Status, TargetReport};
use parsec_mfa_scenarios::servers::{
    ServerOptions, cargo_target_dir, free_port, official_installed, official_venv, start_official, start_reference,
};
use std::path::Path;
use std::process::Command;

const BINARY: &str = env!("CARGO_BIN_EXE_parsec-mfa");
const GUIDE_ADVICE: [&str; 2] = ["PASSWORD+TOTP", "PKI"];
/// The `@advice` scenarios whose steps give the guide's advice.
const GUIDE_ADVICE_SCENARIOS: [&str; 3] = [
    "PASSWORD+TOTP advised: after enabling MFA, the login works",
    "The advice is visible in the server configuration",
    "--advisory-device-file-protection PASSWORD+TOTP makes MFA mandatory",
];
const PASSWORD_ONLY: [&str; 2] = [
    "A device without MFA logs in with the password alone",
    "A device of the same user without MFA logs in with the password alone",
];

/// `parsec-mfa conformance --target url=… --tags "@advice or @password-only
/// or @DEV-1"` (scenarios giving no advice run on the server as it is);
/// checks the verdicts.
fn run_against(url: &str, token: &str, smtp: &str, reports: &Path) {
    let out = Command::new(BINARY)
        .args(["conformance", "--target", &format!("url={url}"), "--admin-token", token])
        .args([
            "--smtp-listen",
            smtp,
            "--tags",
            "@advice or @password-only",
            "--reports",
        ])
        .arg(reports)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let console = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{console}");
    let folder = std::fs::read_dir(reports)
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with("url-"))
        .unwrap()
        .path();
    let report = TargetReport::load(&folder).unwrap();
    let status_of = |name: &str| {
        report
            .results
            .iter()
            .find(|r| r.scenario == name)
            .unwrap_or_else(|| panic!("no result for {name}\n{console}"))
    };
    for name in PASSWORD_ONLY {
        let result = status_of(name);
        assert_eq!(result.status, Status::Skipped, "{name}\n{console}");
        let why = result.detail.as_deref().unwrap_or_default();
        assert!(
            why.contains("@password-only") && why.contains("PASSWORD+TOTP, PKI"),
            "{why}"
        );
    }
    for name in GUIDE_ADVICE_SCENARIOS {
        assert_eq!(status_of(name).status, Status::Passed, "{name}\n{console}");
    }
    assert!(report.results.iter().all(|r| r.status != Status::Failed), "{console}");
}

/// A folder of its own for `what`'s logs and reports.
fn work_dir(what: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("parsec-mfa-guide-{what}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn guide_options(logs: &Path, smtp_port: u16) -> ServerOptions {
    ServerOptions {
        administration_token: "guide-token".into(),
        smtp_port: Some(smtp_port),
        advisory_device_file_protection: GUIDE_ADVICE.iter().map(|a| a.to_string()).collect(),
        log_dir: logs.to_owned(),
    }
}

/// The official 3.9.3 started with the guide's flags, where its virtualenv
/// is installed (`tests/conformance_targets.rs` installs it); else said and
/// skipped, unless `PARSEC_MFA_REQUIRE_OFFICIAL=1`.
#[test]
fn a_guide_configured_official_server_passes() {
    let target = cargo_target_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    if !official_installed(&target, "3.9.3") {
        assert!(
            std::env::var_os("PARSEC_MFA_REQUIRE_OFFICIAL").is_none(),
            "the official 3.9.3 is not installed in {}",
            target.display()
        );
        println!("skipped: the official 3.9.3 is not installed in {}", target.display());
        return;
    }
    let logs = work_dir("official");
    let smtp_port = free_port();
    let server = start_official(&official_venv(&target, "3.9.3"), &guide_options(&logs, smtp_port)).unwrap();
    run_against(
        &server.http_base(),
        "guide-token",
        &format!("127.0.0.1:{smtp_port}"),
        &logs.join("reports"),
    );
}

#[test]
fn a_guide_configured_reference_server_passes() {
    let logs = work_dir("reference");
    let smtp_port = free_port();
    let options = guide_options(&logs, smtp_port);
    let server = start_reference(Path::new(BINARY), &options, &[]).unwrap();
    run_against(
        &server.http_base(),
        "guide-token",
        &format!("127.0.0.1:{smtp_port}"),
        &logs.join("reports"),
    );
}
