//! The client axis (`--client`, docs/porting-a-client.md), as a client's
//! authors run it:
//!
//! - `--client cmd=<the reference binary>` against the reference in
//!   process and against the official 3.9.3 (libfaketime's exact clock):
//!   no scenario fails; every scenario passes that passes with the
//!   reference library, or is skipped with the step the contract cannot
//!   drive; the reports name the client;
//! - the second client, in Python on the official wheel's protocol types
//!   (`clients/python/`), against the same two servers; with a defect of
//!   its own switched on, the run fails and names the rule it breaks;
//! - a client that answers every command with exit 89 ("unimplemented"):
//!   every scenario is skipped with that reason (or, for the one no client
//!   plays a part in, with that), the run exits 1 (none passed), and the
//!   report says why.
//!
//! Without Python 3.12 the official run says SKIPPED (unless
//! `PARSEC_MFA_REQUIRE_OFFICIAL=1`), and without libfaketime the whole
//! test (unless `PARSEC_MFA_REQUIRE_FAKETIME=1`): a client follows a
//! simulated clock under libfaketime only.

use parsec_mfa_scenarios::client::NOT_RUN;
use parsec_mfa_scenarios::faketime::find_library;
use parsec_mfa_scenarios::report::{Status, TargetReport};
use parsec_mfa_scenarios::servers::find_python312;
use parsec_mfa_scenarios::testing::available;
use parsec_mfa_scenarios::testing::run::Run;
use std::collections::BTreeMap;

use std::path::{Path, PathBuf};
use std::process::Command;

const BINARY: &str = env!("CARGO_BIN_EXE_parsec-mfa");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn reports() -> PathBuf {
    root().join("reports").join("client-axis")
}

fn conformance(args: &[&str]) -> Run {
    let mut command = Command::new(BINARY);
    command
        .arg("conformance")
        .args(["--reports", &reports().display().to_string()])
        .args(args)
        .current_dir(root());
    Run::of(&mut command, "")
}

fn load(name: &str) -> Result<TargetReport, String> {
    TargetReport::load(&reports().join(name)).map_err(|e| format!("{name}: {e}"))
}

fn outcomes(report: &TargetReport) -> BTreeMap<(String, u32), (Status, String)> {
    report
        .results
        .iter()
        .map(|r| {
            (
                (r.feature_file.clone(), r.line),
                (r.status, r.detail.clone().unwrap_or_default()),
            )
        })
        .collect()
}

/// Nothing failed; every scenario passed or was skipped with a reason:
/// a client's (a step the contract cannot drive) or the target's
/// (capabilities, as with the reference library). The reference library's
/// own runs of the same targets are `features_in_process` and
/// `conformance_targets`.
fn passed_or_skipped_with_reason(client: &TargetReport) -> Result<usize, String> {
    let mut passed = 0;
    for ((file, line), (status, detail)) in outcomes(client) {
        match status {
            Status::Passed => passed += 1,
            Status::Skipped if detail.contains(NOT_RUN) || detail.contains("needs ") => {}
            _ => return Err(format!("{}: {file}:{line} {status:?} ({detail})", client.target)),
        }
    }
    Ok(passed)
}

fn the_report_names_the_client(report: &TargetReport) -> Result<(), String> {
    let named = report.target.ends_with("+client-parsec-mfa")
        && report.client.as_deref() == Some(&format!("cmd={BINARY}") as &str)
        && report.description.contains("client: `");
    match named {
        true => Ok(()),
        false => Err(format!(
            "the report does not name the client: {} / {:?} / {}",
            report.target, report.client, report.description
        )),
    }
}

fn reference_binary_as_a_client(target: &str, name: &str) -> Result<(), String> {
    let client = format!("cmd={BINARY}");
    let run = conformance(&["--target", target, "--client", &client]);
    println!(
        "{name}+client-parsec-mfa: {} in {:.1} s",
        run.closing_line(),
        run.seconds
    );
    run.check(&format!("{target} with --client {client}"), run.code == 0)?;
    let report = load(&format!("{name}+client-parsec-mfa"))?;
    the_report_names_the_client(&report)?;
    let passed = passed_or_skipped_with_reason(&report)?;
    // The five features' lifecycle, at the least, through the contract.
    if passed < 60 {
        return Err(format!("{name}: only {passed} scenarios passed through the client"));
    }
    Ok(())
}

/// The second client (`clients/python/`), on the official wheel's protocol
/// types: the official server's virtualenv's Python (installed by the
/// official run before it).
/// Its one package beyond the wheel's (segno, to draw the QR code) goes
/// to `target/python-client/` with that virtualenv's pip, once.
fn python_client() -> Result<String, String> {
    let python = root().join("target/parsec-official/3.9.3/bin/python");
    let script = root().join("clients/python/parsec_client.py");
    let packages = root().join("target/python-client");
    if !python.is_file() || !script.is_file() {
        return Err(format!("no {} or no {}", python.display(), script.display()));
    }
    if !packages.join("segno").is_dir() {
        let install = Run::of(
            Command::new(&python)
                .args(["-m", "pip", "install", "--quiet", "--target"])
                .arg(&packages)
                .args([
                    "-r",
                    &root().join("clients/python/requirements.txt").display().to_string(),
                ]),
            "",
        );
        install.check("the Python client's requirements install", install.code == 0)?;
    }
    Ok(format!(
        "env PYTHONPATH={} {} {}",
        packages.display(),
        python.display(),
        script.display()
    ))
}

/// The five features of the guides' lifecycle (enable, login, lost phone,
/// administrator's reset, offline after login) and the client rules: what
/// a client is for. (The Python client is about 0.2 s of CPU an action;
/// every feature, twice, would double the test's time.)
const CLIENT_FEATURES: &[&str] = &[
    "enable_mfa",
    "login_with_mfa",
    "lost_phone",
    "admin_reset",
    "offline_after_login",
    "client_rules",
];

fn client_features() -> Result<PathBuf, String> {
    let dir = reports().join("client-features");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    for name in CLIENT_FEATURES {
        let file = format!("{name}.feature");
        std::fs::copy(root().join("features").join(&file), dir.join(&file)).map_err(|e| format!("{file}: {e}"))?;
    }
    Ok(dir)
}

fn second_client(target: &str, name: &str, command: &str) -> Result<(), String> {
    let features = client_features()?;
    let run = conformance(&[
        "--target",
        target,
        "--features",
        &features.display().to_string(),
        "--client",
        &format!("cmd={command}"),
    ]);
    println!(
        "{name}+client-parsec-client: {} in {:.1} s",
        run.closing_line(),
        run.seconds
    );
    run.check(&format!("{target} with the Python client"), run.code == 0)?;
    let report = load(&format!("{name}+client-parsec-client"))?;
    let passed = passed_or_skipped_with_reason(&report)?;
    if passed < 40 {
        return Err(format!(
            "{name}: only {passed} scenarios passed through the Python client"
        ));
    }
    Ok(())
}

/// A defect of the second client's own (`PARSEC_PY_CLIENT_FAULT`) fails
/// the run, and the console names the rule it breaks.
fn second_client_defect(command: &str) -> Result<(), String> {
    let client = format!("cmd=env PARSEC_PY_CLIENT_FAULT=password-first {command}");
    let run = conformance(&[
        "--target",
        "in-process",
        "--features",
        "features/client_rules.feature",
        "--client",
        &client,
    ]);
    println!("the Python client asking the password first: {}", run.closing_line());
    run.check("a defective client fails the run", run.code == 1)?;
    let named = run
        .stdout
        .lines()
        .any(|l| l.starts_with("failed: features/client_rules.feature:") && l.contains("(CLIENT-1)"));
    run.check("the failure names the rule CLIENT-1", named)
}

/// A client that implements nothing: BoGo's exit 89 on every command.
fn unimplemented_client() -> Result<(), String> {
    let script = reports().join("unimplemented-client.sh");
    std::fs::create_dir_all(reports()).map_err(|e| e.to_string())?;
    std::fs::write(&script, "echo \"this client does not implement $1 $2\" >&2\nexit 89\n")
        .map_err(|e| e.to_string())?;
    let client = format!("cmd=sh {}", script.display());
    let run = conformance(&["--target", "in-process", "--client", &client]);
    println!("an unimplemented client: {} (exit {})", run.closing_line(), run.code);
    run.check("a client that implements nothing: exit 1", run.code == 1)?;
    let report = load("reference-in-process+client-unimplemented-client")?;
    let totals = report.totals();
    run.check(
        "every scenario skipped",
        totals.passed == 0 && totals.failed == 0 && totals.skipped == report.results.len(),
    )?;
    let not_said = report.results.iter().find(|r| {
        r.detail
            .as_deref()
            .is_none_or(|d| !d.contains("(exit 89)") && !d.contains("no step of this scenario goes through the client"))
    });
    match not_said {
        None => Ok(()),
        Some(r) => Err(format!(
            "`{}` skipped without the exit 89 reason: {:?}",
            r.scenario, r.detail
        )),
    }
}

fn main() {
    let mut failures = Vec::new();
    let mut passed = 0;
    let mut check = |name: &str, result: Result<(), String>| match result {
        Ok(()) => passed += 1,
        Err(e) => failures.push(format!("{name}: {e}")),
    };
    match available("libfaketime", find_library().map(|_| ()), "PARSEC_MFA_REQUIRE_FAKETIME") {
        Err(e) => check("libfaketime", Err(e)),
        Ok(false) => {}
        Ok(true) => {
            check(
                "the reference binary as a client, in process",
                reference_binary_as_a_client("in-process", "reference-in-process"),
            );
            check("a client that implements nothing", unimplemented_client());
            let official = available(
                "the official server",
                find_python312().map(|_| ()).map_err(|e| e.to_string()),
                "PARSEC_MFA_REQUIRE_OFFICIAL",
            );
            match official {
                Err(e) => check("the official server", Err(e)),
                Ok(false) => {}
                Ok(true) => {
                    check(
                        "the reference binary as a client, against the official 3.9.3",
                        reference_binary_as_a_client("official", "official-3.9.3"),
                    );
                    match python_client() {
                        Err(e) => check("the Python client", Err(e)),
                        Ok(command) => {
                            check(
                                "the Python client, in process",
                                second_client("in-process", "reference-in-process", &command),
                            );
                            check(
                                "the Python client, against the official 3.9.3",
                                second_client("official", "official-3.9.3", &command),
                            );
                            check("the Python client's own defect", second_client_defect(&command));
                        }
                    }
                }
            }
        }
    }
    for failure in &failures {
        println!("FAILED: {failure}");
    }
    println!("{passed} passed, {} failed", failures.len());
    if !failures.is_empty() {
        std::process::exit(1);
    }
}
