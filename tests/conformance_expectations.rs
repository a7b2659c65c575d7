//! `parsec-mfa conformance --expect FILE` and `--write-expectations FILE`,
//! driven as a CI job drives them: the run's exit code, its console, and
//! its reports.
//!
//! - strictness: the known divergence of `expectations/official-3.9.3-postgresql.toml`
//!   (the concurrency race, expected to fail) applied to the in-process
//!   reference, which passes it: an unexpected pass, exit 1; the same
//!   expectation applied to the reference binary started as a `cmd=` target
//!   with the deliberate defect `lockout-disabled`, which fails it: a known
//!   divergence, exit 0;
//! - the shipped PostgreSQL file itself against the official server 3.9.3
//!   on MOCKED storage, where the race does not show: an unexpected pass,
//!   exit 1 (where Python 3.12 and libfaketime are here);
//! - `--write-expectations`: a run with a defect written as expectations,
//!   then the same run judged against them: exit 0;
//! - stale expectations (exit 1), expectations left out by `--name`
//!   (not checked), and bad files (exit 2, one `Error:` line).
//!
//! Each run's output goes to `reports/expect/<case>.console.log`.

use parsec_mfa_scenarios::faketime::find_library;
use parsec_mfa_scenarios::report::model::Verdict;
use parsec_mfa_scenarios::report::{Status, TargetReport};
use parsec_mfa_scenarios::servers::find_python312;
use parsec_mfa_scenarios::testing::available;
use parsec_mfa_scenarios::testing::run::Run;
use std::path::{Path, PathBuf};
use std::process::Command;

const BINARY: &str = env!("CARGO_BIN_EXE_parsec-mfa");
const SHIPPED: &str = "expectations/official-3.9.3-postgresql.toml";
const RACE: &str = "Wrong codes sent at the same time are all accounted for";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `reports/expect/`.
fn folder() -> PathBuf {
    root().join("reports").join("expect")
}

/// `parsec-mfa conformance ARGS --reports reports/expect/<case>`.
fn conformance(case: &str, args: &[&str]) -> Run {
    let reports = folder().join(case);
    let _ = std::fs::remove_dir_all(&reports);
    let run = Run::of(
        Command::new(BINARY)
            .arg("conformance")
            .args(args)
            .arg("--reports")
            .arg(&reports)
            .current_dir(root()),
        "",
    );
    let _ = std::fs::create_dir_all(folder());
    let _ = std::fs::write(folder().join(format!("{case}.console.log")), run.console());
    println!("{case}: exit {}: {}", run.code, run.closing_line());
    run
}

fn report(case: &str, target: &str) -> Result<TargetReport, String> {
    TargetReport::load(&folder().join(case).join(target)).map_err(|e| format!("{case}/{target}: {e}"))
}

fn check(what: &str, ok: bool, run: &Run) -> Result<(), String> {
    match ok {
        true => Ok(()),
        false => {
            let lines: Vec<&str> = run.stdout.lines().collect();
            Err(format!(
                "{what}; exit {}\n{}\n{}",
                run.code,
                lines[lines.len().saturating_sub(10)..].join("\n"),
                run.stderr
            ))
        }
    }
}

/// The race's verdict in a report, and what the report files say of it.
fn race_verdict(case: &str, target: &str) -> Result<Verdict, String> {
    let report = report(case, target)?;
    let race = report
        .results
        .iter()
        .find(|r| r.scenario == RACE)
        .ok_or_else(|| format!("{case}/{target}: no `{RACE}`"))?;
    let verdict = race.verdict.ok_or("no verdict in results.json")?;
    let dir = folder().join(case).join(target);
    let read = |file: &str| std::fs::read_to_string(dir.join(file)).map_err(|e| format!("{file}: {e}"));
    let (junit, html) = (read("junit.xml")?, read("index.html")?);
    if !junit.contains(&format!("type=\"{}\"", verdict.as_str())) {
        return Err(format!("{case}/{target}: junit.xml does not say {}", verdict.as_str()));
    }
    if !html.contains(&format!(
        "data-verdict=\"{}\" data-scenario=\"{RACE}\"",
        verdict.as_str()
    )) {
        return Err(format!("{case}/{target}: index.html does not say {}", verdict.as_str()));
    }
    Ok(verdict)
}

/// The shipped PostgreSQL expectations, for another target: the same
/// entries (feature, scenario, reason, reference) under `[target."NAME"]`.
fn shipped_expectations_for(targets: &[&str]) -> Result<PathBuf, String> {
    let text = std::fs::read_to_string(root().join(SHIPPED)).map_err(|e| format!("{SHIPPED}: {e}"))?;
    let section = "[target.\"official-3.9.3\"]";
    let entries = "[[target.\"official-3.9.3\".scenario]]";
    if !text.contains(section) || !text.contains(entries) || !text.contains(RACE) {
        return Err(format!("{SHIPPED} no longer expects `{RACE}` of official-3.9.3"));
    }
    let mut copy = String::new();
    for target in targets {
        copy.push_str(
            &text
                .replace(section, &format!("[target.\"{target}\"]"))
                .replace(entries, &format!("[[target.\"{target}\".scenario]]")),
        );
    }
    std::fs::create_dir_all(folder()).map_err(|e| e.to_string())?;
    let path = folder().join("race-expected-to-fail.toml");
    std::fs::write(&path, copy).map_err(|e| e.to_string())?;
    Ok(path)
}

/// The reference binary as a `cmd=` target, with a deliberate defect.
fn faulty_reference_command(fault: &str) -> String {
    format!(
        "cmd={BINARY} serve --db MOCKED --port {{port}} --administration-token {{admin_token}} \
         --server-addr {{server_addr}} --email-host {{smtp_host}} --email-port {{smtp_port}} \
         --email-sender parsec@example.com {{advice_flags}} --inject-fault {fault}"
    )
}

/// Every scenario against the in-process reference, which handles the race:
/// the expected failure passes, and the run fails on it alone.
fn an_expected_failure_that_passes_fails_the_run() -> Result<(), String> {
    let expect = shipped_expectations_for(&["reference-in-process"])?;
    let run = conformance(
        "unexpected-pass",
        &[
            "--target",
            "in-process",
            "--expect",
            expect.to_str().unwrap_or_default(),
        ],
    );
    check("exit 1", run.code == 1, &run)?;
    // Every scenario passes: the race is the only one not as expected.
    let scenarios = report("unexpected-pass", "reference-in-process")?.results.len();
    check(
        "closing line",
        scenarios > 1
            && run.closing_line()
                == format!("{scenarios} passed, 0 failed, 0 skipped; 0 known divergences, 1 unexpected pass"),
        &run,
    )?;
    check(
        "the console names it",
        run.stdout.contains("UNEXPECTED PASS: features/brute_force.feature:")
            && run
                .stdout
                .contains(&format!("\"{RACE}\": Passed; expected to fail: on PostgreSQL")),
        &run,
    )?;
    check(
        "the error line",
        run.stderr.trim() == "Error: outcomes not as expected against reference-in-process (1 unexpected pass)",
        &run,
    )?;
    match race_verdict("unexpected-pass", "reference-in-process")? {
        Verdict::UnexpectedPass => Ok(()),
        other => Err(format!("the race: {other:?}")),
    }
}

/// The same expectation against a server without lockout, which fails the
/// race: a known divergence, and the run passes.
fn an_expected_failure_that_fails_is_a_known_divergence() -> Result<(), String> {
    let expect = shipped_expectations_for(&["cmd"])?;
    let target = faulty_reference_command("lockout-disabled");
    let run = conformance(
        "known-divergence",
        &[
            "--target",
            &target,
            "--name",
            RACE,
            "--expect",
            expect.to_str().unwrap_or_default(),
        ],
    );
    check("exit 0", run.code == 0, &run)?;
    check(
        "closing line",
        run.closing_line() == "0 passed, 1 failed, 0 skipped; 1 known divergence, 0 unexpected passes",
        &run,
    )?;
    check(
        "the console names it",
        run.stdout.contains("known divergence: features/brute_force.feature:")
            && run
                .stdout
                .contains(&format!("\"{RACE}\": expected to fail: on PostgreSQL")),
        &run,
    )?;
    match race_verdict("known-divergence", "cmd")? {
        Verdict::KnownDivergence => Ok(()),
        other => Err(format!("the race: {other:?}")),
    }
}

/// The shipped file as it is, against the official server on MOCKED
/// storage, where the race does not show.
fn the_postgresql_expectations_on_mocked_storage() -> Result<(), String> {
    let run = conformance(
        "official-mocked",
        &["--target", "official=3.9.3", "--name", RACE, "--expect", SHIPPED],
    );
    check("exit 1", run.code == 1, &run)?;
    check(
        "closing line",
        run.closing_line() == "1 passed, 0 failed, 0 skipped; 0 known divergences, 1 unexpected pass",
        &run,
    )?;
    match race_verdict("official-mocked", "official-3.9.3")? {
        Verdict::UnexpectedPass => Ok(()),
        other => Err(format!("the race: {other:?}")),
    }
}

/// A run with a defect, written as expectations; the same run judged
/// against them passes, each failure a known divergence.
fn written_expectations_make_the_same_run_pass() -> Result<(), String> {
    let target = faulty_reference_command("lockout-disabled");
    let written = folder().join("written.toml");
    let _ = std::fs::remove_file(&written);
    let written_arg = written.to_str().unwrap_or_default();
    let first = conformance(
        "write",
        &[
            "--target",
            &target,
            "--name",
            "wrong code",
            "--write-expectations",
            written_arg,
        ],
    );
    check("the defect fails scenarios (exit 1)", first.code == 1, &first)?;
    let text = std::fs::read_to_string(&written).map_err(|e| format!("{}: {e}", written.display()))?;
    let failed = report("write", "cmd")?
        .results
        .iter()
        .filter(|r| r.status == Status::Failed)
        .count();
    let entries = text.matches("[[target.\"cmd\".scenario]]").count();
    let failures = text.matches("outcome = \"fail\"").count();
    if failed == 0 || failures != failed {
        return Err(format!(
            "{failed} failed, {failures} written as expected failures:\n{text}"
        ));
    }
    let second = conformance(
        "written",
        &["--target", &target, "--name", "wrong code", "--expect", written_arg],
    );
    check("exit 0", second.code == 0, &second)?;
    let expected_line = format!("{failed} known divergences, 0 unexpected passes");
    check(
        &format!("closing line ends `{expected_line}`"),
        second.closing_line().ends_with(&expected_line),
        &second,
    )?;
    println!("written: {entries} expectations, {failures} of them failures");
    Ok(())
}

/// An expectation naming no scenario fails the run; one whose scenario
/// `--name` left out is not checked.
fn stale_and_left_out_expectations() -> Result<(), String> {
    let path = folder().join("stale.toml");
    let entry = |scenario: &str| {
        format!(
            "\n[[target.\"reference-in-process\".scenario]]\nfeature = \"features/brute_force.feature\"\n\
             scenario = \"{scenario}\"\noutcome = \"fail\"\nreason = \"x\"\n"
        )
    };
    let section = "[target.\"reference-in-process\"]\n";
    std::fs::create_dir_all(folder()).map_err(|e| e.to_string())?;
    let path_arg = path.to_str().unwrap_or_default();
    let args = [
        "--target",
        "in-process",
        "--name",
        "A wrong code is refused",
        "--expect",
        path_arg,
    ];

    std::fs::write(&path, format!("{section}{}{}", entry("Renamed long ago"), entry(RACE)))
        .map_err(|e| e.to_string())?;
    let run = conformance("stale", &args);
    check("exit 1", run.code == 1, &run)?;
    check(
        "closing line",
        run.closing_line()
            == "1 passed, 0 failed, 0 skipped; 0 known divergences, 0 unexpected passes, 1 stale expectation",
        &run,
    )?;
    check(
        "the console names it",
        run.stdout.contains(&format!(
            "STALE EXPECTATION: {path_arg}: features/brute_force.feature \"Renamed long ago\" (expected to fail: x) matches no scenario of the features"
        )) && run.stdout.contains("1 expectation(s) not checked"),
        &run,
    )?;
    let judged = report("stale", "reference-in-process")?
        .expectations
        .ok_or("not judged")?;
    if judged.stale.len() != 1 || judged.left_out != 1 {
        return Err(format!("results.json: {judged:?}"));
    }

    std::fs::write(&path, format!("{section}{}", entry(RACE))).map_err(|e| e.to_string())?;
    let run = conformance("left-out", &args);
    check("exit 0", run.code == 0, &run)?;
    check(
        "closing line",
        run.closing_line() == "1 passed, 0 failed, 0 skipped; 0 known divergences, 0 unexpected passes",
        &run,
    )
}

/// Bad files and missing sections: one `Error:` line, exit 2, nothing run.
fn bad_expectation_files() -> Result<(), String> {
    let dir = folder();
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let cases = [
        (
            "[target.\"reference-in-process\"]\n[[target.\"reference-in-process\".scenario]]\nfeature = \"f\"\nscenario = \"s\"\noutcome = \"flaky\"\nreason = \"r\"\n",
            "line 5, column 11: unknown variant `flaky`, expected `fail` or `skip`",
        ),
        ("[target.\"reference-in-process\"\n", "line 1"),
        (
            "[target.\"official-3.9.3\"]\n",
            "no [target.\"reference-in-process\"] section",
        ),
        ("title = \"x\"\n", "unknown field `title`"),
    ];
    let run = conformance(
        "bad-write",
        &["--target", "in-process", "--write-expectations", "/nonexistent/e.toml"],
    );
    check(
        "--write-expectations into a missing folder: exit 2 before anything runs",
        run.code == 2 && run.stderr.contains("no such folder /nonexistent") && !run.stdout.contains("Scenario"),
        &run,
    )?;
    for (i, (text, says)) in cases.iter().enumerate() {
        let path = dir.join(format!("bad-{i}.toml"));
        std::fs::write(&path, text).map_err(|e| e.to_string())?;
        let run = conformance(
            &format!("bad-{i}"),
            &["--target", "in-process", "--expect", path.to_str().unwrap_or_default()],
        );
        let errors: Vec<&str> = run.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        let ok = run.code == 2
            && errors.len() == 1
            && errors[0].starts_with("Error: ")
            && errors[0].contains(says)
            && !run.stdout.contains("Scenario");
        check(
            &format!("bad file {i}: one `Error:` line saying `{says}`, exit 2"),
            ok,
            &run,
        )?;
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let mut results: Vec<(&str, Result<(), String>)> = vec![
        (
            "an expected failure that passes fails the run",
            an_expected_failure_that_passes_fails_the_run(),
        ),
        (
            "an expected failure that fails is a known divergence",
            an_expected_failure_that_fails_is_a_known_divergence(),
        ),
        (
            "written expectations make the same run pass",
            written_expectations_make_the_same_run_pass(),
        ),
        ("stale and left-out expectations", stale_and_left_out_expectations()),
        ("bad expectation files", bad_expectation_files()),
    ];
    let official = available(
        "the official server",
        find_python312().map(|_| ()).map_err(|e| e.to_string()),
        "PARSEC_MFA_REQUIRE_OFFICIAL",
    );
    let faketime = available("libfaketime", find_library().map(|_| ()), "PARSEC_MFA_REQUIRE_FAKETIME");
    match (official, faketime) {
        // The race's check races a 1 s lockout: on a controlled clock only.
        (Ok(true), Ok(true)) => results.push((
            "the PostgreSQL expectations on MOCKED storage: an unexpected pass",
            the_postgresql_expectations_on_mocked_storage(),
        )),
        (Err(e), _) | (_, Err(e)) => results.push(("prerequisites", Err(e))),
        _ => {}
    }
    let failed = results.iter().filter(|(_, r)| r.is_err()).count();
    for (what, result) in &results {
        match result {
            Ok(()) => println!("ok: {what}"),
            Err(e) => println!("FAILED: {what}: {e}"),
        }
    }
    println!("{} passed, {failed} failed", results.len() - failed);
    if failed == 0 {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
