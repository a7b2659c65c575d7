//! `parsec-mfa conformance`, the README's main command, against every kind
//! of target, as a user runs it:
//!
//! - `--target reference`: the reference binary as processes, shared
//!   servers on real time and clock scenarios on `--test-clock` servers;
//!   every scenario must pass, none skipped;
//! - `--target official` (3.9.3): the official parsec-cloud server, clock
//!   scenarios through the time-offset launcher; every scenario must pass
//!   but the ones that need a clock stopped at exact instants, which are
//!   skipped with the reason;
//! - `--target official --official-clock real`: the unmodified official
//!   server in real time; the clock scenarios are skipped with the reason;
//! - `--target url=…`: a reference server this test starts on the system
//!   clock with a fixed configuration, its email sent to `--smtp-listen`;
//! - `--compare`: two targets side by side, then the same page rebuilt from
//!   their saved results.
//!
//! Each run's full output goes to `reports/<target>/console.log`; this test
//! prints the closing lines. Without Python 3.12 the official runs are
//! reported as skipped with the reason, unless `PARSEC_MFA_REQUIRE_OFFICIAL=1`
//! (as `.ci/run` sets) makes that a failure.

use parsec_mfa_scenarios::report::{Status, TargetReport};
use parsec_mfa_scenarios::servers::{ServerOptions, find_python312, free_port, start_reference};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const BINARY: &str = env!("CARGO_BIN_EXE_parsec-mfa");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

struct Run {
    code: i32,
    console: String,
    seconds: f64,
}

/// `parsec-mfa conformance ARGS` from the project root; its output saved
/// in `reports/<log_name>.console.log`.
fn conformance(args: &[&str], log_name: &str) -> Run {
    let started = Instant::now();
    let out = Command::new(BINARY)
        .arg("conformance")
        .args(args)
        .current_dir(root())
        .output()
        .expect("parsec-mfa runs");
    let console = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let log = root().join("reports").join(format!("{log_name}.console.log"));
    let _ = std::fs::create_dir_all(root().join("reports"));
    let _ = std::fs::write(&log, &console);
    Run {
        code: out.status.code().unwrap_or(-1),
        console,
        seconds: started.elapsed().as_secs_f64(),
    }
}

fn report(name: &str) -> Result<TargetReport, String> {
    TargetReport::load(&root().join("reports").join(name)).map_err(|e| format!("{name}: {e}"))
}

/// The last lines of a run's console, where the totals and errors are.
fn tail(console: &str) -> String {
    let lines: Vec<&str> = console.lines().collect();
    lines[lines.len().saturating_sub(12)..].join("\n")
}

/// A run that must exit 0 with no failed scenario, and skip exactly the
/// scenarios (or outline rows of the scenarios) `expected_skips`, each with
/// its reason.
fn expect_clean(name: &str, run: &Run, expected_skips: &[&str]) -> Result<(), String> {
    let report = report(name)?;
    let (passed, failed, skipped) = report.totals();
    println!(
        "{name}: {passed} passed, {failed} failed, {skipped} skipped in {:.1} s (exit {})",
        run.seconds, run.code
    );
    if run.code != 0 || failed != 0 || passed == 0 {
        let failures: Vec<String> = report
            .results
            .iter()
            .filter(|r| r.status == Status::Failed)
            .map(|r| {
                format!(
                    "{} (line {}): {}",
                    r.scenario,
                    r.line,
                    r.detail.as_deref().unwrap_or("")
                )
            })
            .collect();
        return Err(format!(
            "{name}: exit {}, failed:\n{}\n{}",
            run.code,
            failures.join("\n"),
            tail(&run.console)
        ));
    }
    let skipped_rows: Vec<_> = report.results.iter().filter(|r| r.status == Status::Skipped).collect();
    // Outline rows are named `<outline> (<their Examples values>)`.
    let skipped: BTreeSet<&str> = skipped_rows
        .iter()
        .map(|r| r.scenario.split(" (").next().unwrap_or(&r.scenario))
        .collect();
    let expected: BTreeSet<&str> = expected_skips.iter().copied().collect();
    if skipped != expected {
        return Err(format!("{name}: skipped {skipped:?}, expected {expected:?}"));
    }
    for r in skipped_rows {
        if r.detail.as_deref().is_none_or(|d| !d.contains("needs")) {
            return Err(format!("{name}: `{}` skipped without its reason", r.scenario));
        }
    }
    Ok(())
}

/// The scenarios the official server cannot run with a time source that is
/// only offset (the launcher's one change keeps its time flowing).
const NEEDS_EXACT_CLOCK: &[&str] = &["The end of the wait is included"];

/// The scenarios tagged `@clock` (and `@exact-clock`): skipped in real time.
const NEEDS_CLOCK: &[&str] = &[
    "The end of the wait is included",
    "Twenty wrong codes lock the device for about six days",
    "A right code clears the count",
    "A reset lifts a lockout",
    "The key stays the same until MFA is confirmed",
    "The wait doubles with each wrong code",
];

/// The `@advice` scenarios: skipped where the configuration is fixed.
const NEEDS_ADVICE: &[&str] = &[
    "PASSWORD+TOTP advised: a password-only login is refused",
    "PASSWORD+TOTP advised: after enabling MFA, the login works",
    "PASSWORD advised: MFA is optional",
    "Only other methods advised: passwords are not allowed",
    "The advice is visible in the server configuration",
    "Without advice the configuration advises nothing and MFA is optional",
    "--advisory-device-file-protection PASSWORD+TOTP makes MFA mandatory",
];

fn reference_process() -> Result<(), String> {
    let run = conformance(&["--target", "reference"], "reference");
    expect_clean("reference", &run, &[])
}

fn official_available() -> Result<bool, String> {
    match find_python312() {
        Ok(_) => Ok(true),
        Err(e) if std::env::var("PARSEC_MFA_REQUIRE_OFFICIAL").as_deref() == Ok("1") => {
            Err(format!("the official server is required here: {e}"))
        }
        Err(e) => {
            println!("SKIPPED: the official server runs: {e}");
            Ok(false)
        }
    }
}

fn official_with_offset_clock() -> Result<(), String> {
    let run = conformance(&["--target", "official=3.9.3"], "official-3.9.3");
    expect_clean("official-3.9.3", &run, NEEDS_EXACT_CLOCK)?;
    // The @clock scenarios ran on the launcher's offset clock.
    let report = report("official-3.9.3")?;
    let six_days = report
        .results
        .iter()
        .find(|r| r.scenario == "Twenty wrong codes lock the device for about six days");
    match six_days.map(|r| r.status) {
        Some(Status::Passed) => Ok(()),
        other => Err(format!("the six-day lockout on the official server: {other:?}")),
    }
}

fn official_in_real_time() -> Result<(), String> {
    let run = conformance(
        &[
            "--target",
            "official=3.9.3",
            "--official-clock",
            "real",
            "--reports",
            "reports/real-time",
        ],
        "real-time/official-3.9.3",
    );
    let report_dir = "real-time/official-3.9.3";
    let skips = NEEDS_CLOCK;
    expect_clean(report_dir, &run, skips)?;
    // Rows of a Scenario Outline: the 1 s and 2 s waits ran for real.
    let report = report(report_dir)?;
    let outline_rows = report
        .results
        .iter()
        .filter(|r| r.scenario.starts_with("The wait doubles with each wrong code"))
        .map(|r| r.status)
        .collect::<Vec<_>>();
    let real = outline_rows.iter().filter(|s| **s == Status::Passed).count();
    if real != 2 {
        return Err(format!("the 1 s and 2 s waits in real time: {outline_rows:?}"));
    }
    Ok(())
}

fn url_target() -> Result<(), String> {
    let logs = root().join("reports").join("url-server");
    std::fs::create_dir_all(&logs).map_err(|e| e.to_string())?;
    let smtp = format!("127.0.0.1:{}", free_port());
    let smtp_port: u16 = smtp.rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let options = ServerOptions {
        administration_token: "another-token".into(),
        smtp_port: Some(smtp_port),
        advisory_device_file_protection: vec![],
        log_dir: logs,
    };
    let server = start_reference(Path::new(BINARY), &options, &[]).map_err(|e| e.to_string())?;
    let url = server.http_base();
    let run = conformance(
        &[
            "--target",
            &format!("url={url}"),
            "--admin-token",
            "another-token",
            "--smtp-listen",
            &smtp,
            "--reports",
            "reports/url",
        ],
        "url/console",
    );
    let name = format!("url/url-127.0.0.1-{}", server.port);
    let mut skips: Vec<&str> = NEEDS_CLOCK.to_vec();
    skips.extend(NEEDS_ADVICE);
    expect_clean(&name, &run, &skips)
}

/// `--compare` with two targets run now, then without `--target`: the
/// page rebuilt from the saved results (columns in name order, as given to
/// the first run), both times with a column each and no row where they
/// disagree (both pass everything).
fn compare() -> Result<(), String> {
    let folder = "reports/compare-check";
    let page_path = root().join(folder).join("compare.html");
    let mut pages = Vec::new();
    for (args, log) in [
        (
            vec![
                "--compare",
                "--target",
                "reference",
                "--target",
                "in-process",
                "--reports",
                folder,
            ],
            "compare-check/run",
        ),
        (vec!["--compare", "--reports", folder], "compare-check/rebuild"),
    ] {
        let _ = std::fs::remove_file(&page_path);
        let run = conformance(&args, log);
        let page = std::fs::read_to_string(&page_path).map_err(|e| format!("{}: {e}", page_path.display()))?;
        let columns = ["reference-in-process", "reference"]
            .iter()
            .all(|t| page.contains(&format!("data-target=\"{t}\"")));
        let differing = page.matches("<span class=\"differs-note\">").count();
        println!(
            "compare ({log}): exit {}, {} bytes, {differing} rows where the targets disagree",
            run.code,
            page.len()
        );
        // One row per scenario: as many as the in-process run had results.
        let scenarios = report("compare-check/reference-in-process")?.results.len();
        if run.code != 0 || !columns || page.matches("<tr class=\"scenario").count() != scenarios {
            return Err(format!("--compare ({log}): exit {}\n{}", run.code, tail(&run.console)));
        }
        if differing != 0 {
            return Err(format!("--compare ({log}): {differing} rows disagree, none expected"));
        }
        pages.push(page);
    }
    if pages[0] != pages[1] {
        let first_difference = pages[0]
            .char_indices()
            .zip(pages[1].chars())
            .find(|((_, a), b)| a != b)
            .map(|((i, _), _)| i)
            .unwrap_or(0);
        let around = |page: &str| {
            page.get(first_difference.saturating_sub(80)..first_difference + 80)
                .unwrap_or("")
                .to_owned()
        };
        return Err(format!(
            "the page rebuilt from results.json differs from the run's:\n{}\n---\n{}",
            around(&pages[0]),
            around(&pages[1])
        ));
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let mut results: Vec<(&str, Result<(), String>)> = vec![
        ("reference as a process", reference_process()),
        ("url= target in real time", url_target()),
    ];
    match official_available() {
        Ok(true) => {
            results.push(("official 3.9.3, offset clock", official_with_offset_clock()));
            results.push(("official 3.9.3, real time", official_in_real_time()));
        }
        Ok(false) => {}
        Err(e) => results.push(("official server available", Err(e))),
    }
    results.push(("--compare", compare()));
    let failed: Vec<_> = results.iter().filter(|(_, r)| r.is_err()).collect();
    for (what, result) in &results {
        match result {
            Ok(()) => println!("ok: {what}"),
            Err(e) => println!("FAILED: {what}: {e}"),
        }
    }
    println!("{} passed, {} failed", results.len() - failed.len(), failed.len());
    if failed.is_empty() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
