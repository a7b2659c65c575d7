//! The suite's power, checked at every `cargo test`: `parsec-mfa
//! self-check` runs the real matrix (every deliberate defect of
//! `Faults::NAMES` and of the reference client's `ClientFault::NAMES` × the
//! three profiles, and the faultless reference in each), and this test reads its `matrix.json` back and checks, on its
//! own:
//!
//! - the faultless reference passes every scenario it runs, in every
//!   profile (nothing skipped where the harness controls the clock);
//! - every defect is killed in every profile, or survives exactly where
//!   the unobservable list says it cannot be seen, with a reason; a listed
//!   defect that is killed fails this test (the list must not go stale);
//! - in process, runs go to the end; elsewhere, a run that stopped at the
//!   in-process killers was killed by some of them;
//! - the page shows a row per defect and a column per profile;
//! - the command's exit code agrees (0).
//!
//! And that it can fail: with only `enable_mfa.feature`, nothing sees
//! `lockout-disabled`; the command must say it survived, in the JSON, on
//! the page and by its exit code (1).
//!
//! The commands' output is kept in `reports/self-check.console.log` and
//! `reports/self-check-survivor.console.log`.

use parsec_mfa_reference::client::faults::ClientFault;
use parsec_mfa_reference::server::Faults;
use parsec_mfa_scenarios::self_check::matrix::{Matrix, Outcome, Scope};
use parsec_mfa_scenarios::self_check::unobservable::{reason, stale_entries};
use parsec_mfa_scenarios::self_check::{Profile, UNOBSERVABLE};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Instant;

const BINARY: &str = env!("CARGO_BIN_EXE_parsec-mfa");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn check_baselines(matrix: &Matrix, problems: &mut Vec<String>) {
    for profile in Profile::ALL {
        let Some(baseline) = matrix.baselines.iter().find(|b| b.profile == profile) else {
            problems.push(format!("no faultless run in the {} profile", profile.name()));
            continue;
        };
        let Some(run) = &baseline.run else {
            problems.push(format!(
                "the faultless reference did not run in the {} profile: {:?}",
                profile.name(),
                baseline.error
            ));
            continue;
        };
        println!(
            "faultless reference, {}: {} passed, {} failed, {} skipped",
            profile.name(),
            run.passed,
            run.failed,
            run.skipped
        );
        if run.failed != 0 || run.passed == 0 || run.scope != Scope::Full {
            problems.push(format!(
                "the faultless reference in the {} profile: {} passed, {} failed ({:?})",
                profile.name(),
                run.passed,
                run.failed,
                run.failures
            ));
        }
        // Only a profile without clock control or its own configuration
        // skips scenarios.
        if profile != Profile::Url && run.skipped != 0 {
            problems.push(format!(
                "the faultless reference skipped {} scenario(s) in the {} profile",
                run.skipped,
                profile.name()
            ));
        }
    }
}

/// Every defect, the server's and the client's.
fn all_faults() -> Vec<&'static str> {
    Faults::NAMES.iter().chain(ClientFault::NAMES.iter()).copied().collect()
}

fn check_cells(matrix: &Matrix, problems: &mut Vec<String>) {
    for fault in all_faults() {
        let in_process_killers: BTreeSet<(String, u32)> = matrix
            .cell(fault, Profile::InProcess)
            .and_then(|c| c.run.as_ref())
            .map(|run| run.failures.iter().map(|f| (f.feature_file.clone(), f.line)).collect())
            .unwrap_or_default();
        for profile in Profile::ALL {
            let Some(cell) = matrix.cell(fault, profile) else {
                problems.push(format!("`{fault}` has no cell in the {} profile", profile.name()));
                continue;
            };
            let listed = reason(UNOBSERVABLE, fault, profile);
            let run = cell.run.as_ref();
            let failed = run.map_or(0, |r| r.failed);
            let passed = run.map_or(0, |r| r.passed);
            match (cell.outcome, listed) {
                (Outcome::Killed, None) if failed > 0 && run.is_some_and(|r| r.failures.len() == failed) => {}
                (Outcome::Unobservable, Some(why)) if failed == 0 && passed > 0 && !why.trim().is_empty() => {}
                (Outcome::Killed, Some(why)) => problems.push(format!(
                    "`{fault}` is listed as unobservable in the {} profile (\"{why}\") yet killed by {failed} scenario(s)",
                    profile.name()
                )),
                (outcome, _) => problems.push(format!(
                    "`{fault}` in the {} profile: {outcome:?}, {passed} passed, {failed} failed ({:?})",
                    profile.name(),
                    cell.reason
                )),
            }
            let Some(run) = run else { continue };
            match (profile, run.scope) {
                (_, Scope::Full) => {}
                (Profile::InProcess, Scope::KillersFirst) => {
                    problems.push(format!("`{fault}`: the in-process run stopped before the end"))
                }
                (_, Scope::KillersFirst) => {
                    let strays: Vec<&str> = run
                        .failures
                        .iter()
                        .filter(|f| !in_process_killers.contains(&(f.feature_file.clone(), f.line)))
                        .map(|f| f.scenario.as_str())
                        .collect();
                    if !strays.is_empty() || run.ran() > in_process_killers.len() {
                        problems.push(format!(
                            "`{fault}` in the {} profile: the killers-first run ran {} scenario(s) and failed {strays:?}, outside the {} in-process killers",
                            profile.name(),
                            run.ran(),
                            in_process_killers.len()
                        ));
                    }
                }
            }
        }
    }
}

fn check_page(dir: &Path, problems: &mut Vec<String>) {
    let path = dir.join("index.html");
    let page = match std::fs::read_to_string(&path) {
        Ok(page) => page,
        Err(e) => {
            problems.push(format!("{}: {e}", path.display()));
            return;
        }
    };
    for fault in all_faults() {
        if !page.contains(&format!("data-fault=\"{fault}\"")) {
            problems.push(format!("the page has no row for `{fault}`"));
        }
    }
    let expected_cells = all_faults().len() * Profile::ALL.len();
    let cells = page.matches("data-outcome=\"").count();
    if cells != expected_cells {
        problems.push(format!("the page has {cells} defect cells, expected {expected_cells}"));
    }
}

/// `parsec-mfa self-check ARGS`: its exit code; its output printed and
/// kept in `reports/<log>.console.log`.
fn self_check(args: &[&str], log: &str) -> i32 {
    let out = Command::new(BINARY)
        .arg("self-check")
        .args(args)
        .current_dir(root())
        .output()
        .expect("parsec-mfa runs");
    let console = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::create_dir_all(root().join("reports"));
    let _ = std::fs::write(root().join("reports").join(format!("{log}.console.log")), &console);
    print!("{console}");
    out.status.code().unwrap_or(-1)
}

/// A defect no scenario of the features given sees: a survivor, shown as
/// such and failing the command.
fn check_survivor(problems: &mut Vec<String>) {
    let fault = "lockout-disabled";
    println!("=== `{fault}` against enable_mfa.feature alone: the survivors and problems below are expected ===");
    let code = self_check(
        &[
            "--features",
            "features/enable_mfa.feature",
            "--fault",
            fault,
            "--profile",
            "in-process",
            "--profile",
            "url",
            "--reports",
            "reports/self-check-survivor",
        ],
        "self-check-survivor",
    );
    let dir = root().join("reports/self-check-survivor/self-check");
    let matrix = match Matrix::load(&dir) {
        Ok(matrix) => matrix,
        Err(e) => return problems.push(format!("the survivor's matrix: {e}")),
    };
    for profile in [Profile::InProcess, Profile::Url] {
        let cell = matrix.cell(fault, profile);
        if cell.is_none_or(|c| c.outcome != Outcome::Survived || c.problem.is_none()) {
            problems.push(format!(
                "`{fault}` with enable_mfa.feature alone, {}: {:?}, expected a survivor",
                profile.name(),
                cell.map(|c| c.outcome)
            ));
        }
    }
    let page = std::fs::read_to_string(dir.join("index.html")).unwrap_or_default();
    let survivors_shown = page.matches("data-outcome=\"survived\"").count();
    if code != 1 || matrix.ok || survivors_shown != 2 {
        problems.push(format!(
            "a survivor: exit {code} (expected 1), matrix ok: {}, {survivors_shown} survivor cells on the page (expected 2)",
            matrix.ok
        ));
    }
}

fn main() -> ExitCode {
    let started = Instant::now();
    let code = self_check(&["--reports", "reports"], "self-check");
    let seconds = started.elapsed().as_secs_f64();
    let dir = root().join("reports/self-check");
    let mut problems = Vec::new();
    match Matrix::load(&dir) {
        Ok(matrix) => {
            check_baselines(&matrix, &mut problems);
            check_cells(&matrix, &mut problems);
            problems.extend(stale_entries(UNOBSERVABLE, &all_faults()));
            if !matrix.ok {
                problems.push("matrix.json says the self-check failed".into());
            }
        }
        Err(e) => problems.push(e.to_string()),
    }
    check_page(&dir, &mut problems);
    if code != 0 {
        problems.push(format!("`parsec-mfa self-check` exited {code}"));
    }
    println!(
        "self-check: {} defects × {} profiles in {seconds:.1} s",
        all_faults().len(),
        Profile::ALL.len()
    );
    check_survivor(&mut problems);
    if problems.is_empty() {
        println!(
            "ok: the faultless reference passes everywhere; every defect is killed in every profile or listed as unobservable; a survivor fails the check"
        );
        ExitCode::SUCCESS
    } else {
        for problem in &problems {
            println!("FAILED: {problem}");
        }
        ExitCode::FAILURE
    }
}
