//! The official server 3.9.3 on PostgreSQL, on a throwaway cluster the
//! harness makes itself (`--official-db postgresql`), judged against
//! `expectations/official-3.9.3-postgresql.toml`, as a CI job runs it:
//!
//! - every scenario: exit 0, the concurrency race reported as a known
//!   divergence (console, `results.json`, JUnit, HTML); the cluster's log
//!   in the report, its folder deleted;
//! - the race scenario alone with its bursts sent one after another (the
//!   test-only `PARSEC_MFA_TEST_SEQUENTIAL_BURSTS=1`: no two requests
//!   interleave, so no increment can be lost): it passes, an unexpected
//!   pass, and the run fails (exit 1);
//! - without PostgreSQL's programs (`PARSEC_MFA_POSTGRESQL_BIN` pointing
//!   nowhere): one `Error:` line, exit 9, before anything is installed.
//!
//! The runs on PostgreSQL need PostgreSQL, Python 3.12 and libfaketime:
//! without one of them they say SKIPPED, unless `PARSEC_MFA_REQUIRE_POSTGRESQL=1`
//! (with `PARSEC_MFA_REQUIRE_OFFICIAL=1`, `PARSEC_MFA_REQUIRE_FAKETIME=1`, as
//! `.ci/run` sets them) makes that a failure. Each run's output goes to
//! `reports/postgresql/<case>.console.log`.

use parsec_mfa_scenarios::faketime::find_library;
use parsec_mfa_scenarios::report::TargetReport;
use parsec_mfa_scenarios::report::model::Verdict;
use parsec_mfa_scenarios::servers::find_python312;
use parsec_mfa_scenarios::servers::postgresql::{BIN_ENV, binaries};
use parsec_mfa_scenarios::steps::attacker::SEQUENTIAL_BURSTS_ENV;
use parsec_mfa_scenarios::testing::available;
use parsec_mfa_scenarios::testing::run::Run;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const BINARY: &str = env!("CARGO_BIN_EXE_parsec-mfa");
const EXPECT: &str = "expectations/official-3.9.3-postgresql.toml";
const RACE: &str = "Wrong codes sent at the same time are all accounted for";
const TARGET: &str = "official-3.9.3";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `reports/postgresql/`.
fn folder() -> PathBuf {
    root().join("reports").join("postgresql")
}

/// `parsec-mfa conformance --target official=3.9.3 --official-db postgresql
/// ARGS --reports reports/postgresql/<case>`, with `env` set.
fn conformance(case: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let reports = folder().join(case);
    let _ = std::fs::remove_dir_all(&reports);
    let run = Run::of(
        Command::new(BINARY)
            .args([
                "conformance",
                "--target",
                "official=3.9.3",
                "--official-db",
                "postgresql",
            ])
            .args(args)
            .arg("--reports")
            .arg(&reports)
            .envs(env.iter().copied())
            .current_dir(root()),
        "",
    );
    let _ = std::fs::create_dir_all(folder());
    let _ = std::fs::write(folder().join(format!("{case}.console.log")), run.console());
    println!(
        "{case}: exit {} in {:.0} s: {}",
        run.code,
        run.seconds,
        run.closing_line()
    );
    run
}

fn report(case: &str) -> Result<TargetReport, String> {
    TargetReport::load(&folder().join(case).join(TARGET)).map_err(|e| format!("{case}: {e}"))
}

/// The race's verdict in `results.json`, also written in the JUnit file.
fn race_verdict(case: &str) -> Result<Verdict, String> {
    let report = report(case)?;
    let race = report
        .results
        .iter()
        .find(|r| r.scenario == RACE)
        .ok_or_else(|| format!("{case}: no `{RACE}` in results.json"))?;
    let verdict = race.verdict.ok_or_else(|| format!("{case}: the race has no verdict"))?;
    let junit = std::fs::read_to_string(folder().join(case).join(TARGET).join("junit.xml"))
        .map_err(|e| format!("{case}: junit.xml: {e}"))?;
    match junit.contains(&format!("type=\"{}\"", verdict.as_str())) {
        true => Ok(verdict),
        false => Err(format!("{case}: junit.xml does not say {}", verdict.as_str())),
    }
}

/// The clusters' folders under `target/postgresql/` now.
fn clusters() -> BTreeSet<PathBuf> {
    std::fs::read_dir(root().join("target").join("postgresql"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect()
}

/// Every scenario, judged: exit 0, the race a known divergence, every
/// other scenario passed; the cluster's log kept, its folder gone.
fn every_scenario_with_the_race_known() -> Result<(), String> {
    let before = clusters();
    let run = conformance("every-scenario", &["--expect", EXPECT], &[]);
    if run.code != 0 {
        return Err(run.failure("exit 0 expected"));
    }
    let report = report("every-scenario")?;
    let totals = report.totals();
    let expected = format!(
        "{} passed, 1 failed, 0 skipped; 1 known divergence, 0 unexpected passes",
        totals.passed
    );
    if run.closing_line() != expected || totals.passed < 50 {
        return Err(run.failure(&format!("closing line `{expected}` expected")));
    }
    if !run.stdout.contains("known divergence: features/brute_force.feature:")
        || !run
            .stdout
            .contains(&format!("\"{RACE}\": expected to fail: on PostgreSQL"))
    {
        return Err(run.failure("the console does not name the known divergence"));
    }
    match race_verdict("every-scenario")? {
        Verdict::KnownDivergence => {}
        other => return Err(format!("the race: {other:?}, a known divergence expected")),
    }
    if !report.description.contains("a throwaway cluster the harness made") {
        return Err(format!("the description: {}", report.description));
    }
    let log = folder()
        .join("every-scenario")
        .join(TARGET)
        .join("servers")
        .join("postgresql.log");
    let text = std::fs::read_to_string(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    if !text.contains("database system is shut down") {
        return Err(format!(
            "{}: the cluster's log does not end with its stop",
            log.display()
        ));
    }
    let left: Vec<_> = clusters().difference(&before).cloned().collect();
    match left.is_empty() {
        true => Ok(()),
        false => Err(format!("clusters left behind: {left:?}")),
    }
}

/// The race alone, its bursts sent one after another: it passes, and the
/// same expectation file makes that an unexpected pass that fails the run.
fn the_race_forced_to_pass_is_an_unexpected_pass() -> Result<(), String> {
    let run = conformance(
        "race-forced-to-pass",
        &["--name", RACE, "--expect", EXPECT],
        &[(SEQUENTIAL_BURSTS_ENV, "1")],
    );
    if run.code != 1 {
        return Err(run.failure("exit 1 expected"));
    }
    if run.closing_line() != "1 passed, 0 failed, 0 skipped; 0 known divergences, 1 unexpected pass" {
        return Err(run.failure("one unexpected pass expected"));
    }
    if !run.stdout.contains("UNEXPECTED PASS: features/brute_force.feature:") {
        return Err(run.failure("the console does not name the unexpected pass"));
    }
    match race_verdict("race-forced-to-pass")? {
        Verdict::UnexpectedPass => Ok(()),
        other => Err(format!("the race: {other:?}, an unexpected pass expected")),
    }
}

/// No PostgreSQL programs where they are looked for: one `Error:` line
/// that says what to install, exit 9 (a target that cannot be used).
fn without_postgresql_one_error_line() -> Result<(), String> {
    let run = conformance("no-postgresql", &[], &[(BIN_ENV, "/nonexistent")]);
    let stderr: Vec<&str> = run.stderr.lines().collect();
    match (run.code, stderr.as_slice()) {
        (9, [line]) if line.starts_with("Error: official-3.9.3: PostgreSQL's initdb") => Ok(()),
        _ => Err(run.failure("exit 9 and one `Error:` line expected")),
    }
}

fn main() -> std::process::ExitCode {
    let mut results: Vec<(&str, Result<(), String>)> = vec![(
        "without PostgreSQL, one error line",
        without_postgresql_one_error_line(),
    )];
    let needs = [
        available(
            "PostgreSQL",
            binaries().map(|_| ()).map_err(|e| e.to_string()),
            "PARSEC_MFA_REQUIRE_POSTGRESQL",
        ),
        available(
            "the official server",
            find_python312().map(|_| ()).map_err(|e| e.to_string()),
            "PARSEC_MFA_REQUIRE_OFFICIAL",
        ),
        available("libfaketime", find_library().map(|_| ()), "PARSEC_MFA_REQUIRE_FAKETIME"),
    ];
    let mut all_here = true;
    for need in needs {
        match need {
            Ok(here) => all_here &= here,
            Err(e) => {
                all_here = false;
                results.push(("prerequisites", Err(e)));
            }
        }
    }
    if all_here {
        results.push((
            "official 3.9.3 on PostgreSQL, the race a known divergence",
            every_scenario_with_the_race_known(),
        ));
        results.push((
            "the race forced to pass, an unexpected pass",
            the_race_forced_to_pass_is_an_unexpected_pass(),
        ));
    }
    let failed = results.iter().filter(|(_, r)| r.is_err()).count();
    for (what, result) in &results {
        match result {
            Ok(()) => println!("ok: {what}"),
            Err(e) => println!("FAILED: {what}: {e}"),
        }
    }
    println!("{} passed, {failed} failed", results.len() - failed);
    match failed {
        0 => std::process::ExitCode::SUCCESS,
        _ => std::process::ExitCode::FAILURE,
    }
}
