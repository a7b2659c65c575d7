//! `parsec-mfa conformance`, the README's main command, against every kind
//! of target, as a user runs it:
//!
//! - `--target reference`: the reference binary as processes, shared
//!   servers on real time and clock scenarios on `--test-clock` servers;
//!   every scenario must pass, none skipped;
//! - `--target official` (3.9.3): the official parsec-cloud server, clock
//!   scenarios on servers of their own under libfaketime, their time stopped
//!   and moved to exact instants: every scenario must pass, as
//!   `expectations/official-3.9.3.toml` (`--expect`) says, and at most
//!   `CLOCK_SERVERS` clock servers are started for them all;
//! - `--target official --clock offset`: the same with libfaketime's
//!   flowing offset (what the Python launcher of earlier versions did):
//!   every scenario passes but the one that needs an exact instant;
//! - `--target official --clock real`: the unmodified official server in
//!   real time: time-dependent scenarios within the real-time budget run,
//!   the others are skipped with the real time they need;
//! - `--target cmd=…`: the reference binary started as any command, its
//!   clock scenarios under libfaketime (every scenario passes; with the
//!   lockout disabled, the six-day lockout fails), and the same command
//!   clearing `LD_PRELOAD` (as a statically linked server
//!   would ignore libfaketime): the check sees it, the target falls back to
//!   real time and its reports say why;
//! - `--target url=…`: a reference server this test starts on the system
//!   clock with a fixed configuration, its email sent to `--smtp-listen`:
//!   real time within the budget, the `@advice` scenarios that need advice
//!   skipped (the one that needs none runs);
//! - `--compare`: two targets side by side, then the same page rebuilt from
//!   their saved results.
//!
//! Each run's full output goes to `reports/<target>/console.log`; this test
//! prints the closing lines. Without Python 3.12 the official runs are
//! reported as skipped with the reason, and without libfaketime the runs
//! that need it, unless `PARSEC_MFA_REQUIRE_OFFICIAL=1` and
//! `PARSEC_MFA_REQUIRE_FAKETIME=1` (as `.ci/run` sets) make that a failure.

use parsec_mfa_scenarios::faketime::find_library;
use parsec_mfa_scenarios::report::{Status, TargetReport};
use parsec_mfa_scenarios::servers::{ServerOptions, find_python312, free_port, start_reference};
use parsec_mfa_scenarios::targets::launched::CLOCK_SERVERS;
use parsec_mfa_scenarios::testing::available;
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
    let totals = report.totals();
    println!("{name}: {} in {:.1} s (exit {})", totals.line(), run.seconds, run.code);
    if run.code != 0 || totals.failed != 0 || totals.passed == 0 {
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
/// only offset (libfaketime's offset keeps its time flowing).
const NEEDS_EXACT_CLOCK: &[&str] = &[
    "The end of the wait is included",
    "A wrong code is sent once, and the wait shown is the server's",
];

/// What a target without clock control skips with the default real-time
/// budget (30 s): an exact instant, and waits of 511 s (the 10th row of
/// "The wait doubles…", and the ten bursts of simultaneous wrong codes),
/// about 6 days and an hour. The 4 s, 8 s and 16 s
/// lockouts, "A right code clears the count" and "A reset lifts a lockout"
/// run in real time.
const OVER_THE_BUDGET: &[&str] = &[
    "The end of the wait is included",
    "A wrong code is sent once, and the wait shown is the server's",
    "Twenty wrong codes lock the device for about six days",
    "The key stays the same until MFA is confirmed",
    "The wait doubles with each wrong code",
    "Wrong codes sent at the same time are all accounted for",
];

/// The scenarios that run in real time within the budget where the clock
/// cannot be moved: each must have passed.
const WITHIN_THE_BUDGET: &[&str] = &[
    "The wait doubles with each wrong code (failures 3, wait 4)",
    "The wait doubles with each wrong code (failures 4, wait 8)",
    "The wait doubles with each wrong code (failures 5, wait 16)",
    "A right code clears the count",
    "A reset lifts a lockout",
];

/// The `@advice` scenarios that need advice: skipped on a fixed-configuration
/// target that advises nothing.
const NEEDS_ADVICE: &[&str] = &[
    "PASSWORD+TOTP advised: a password-only login is refused",
    "PASSWORD+TOTP advised: after enabling MFA, the login works",
    "PASSWORD advised: MFA is optional",
    "Only other methods advised: passwords are not allowed",
    "The advice is visible in the server configuration",
    "--advisory-device-file-protection PASSWORD+TOTP makes MFA mandatory",
];

fn reference_process() -> Result<(), String> {
    let run = conformance(&["--target", "reference"], "reference");
    expect_clean("reference", &run, &[])?;
    expect_clock_servers_reused("reference", "reference")
}

fn official_available() -> Result<bool, String> {
    available(
        "the official server",
        find_python312().map(|_| ()).map_err(|e| e.to_string()),
        "PARSEC_MFA_REQUIRE_OFFICIAL",
    )
}

fn faketime_available() -> Result<bool, String> {
    available("libfaketime", find_library().map(|_| ()), "PARSEC_MFA_REQUIRE_FAKETIME")
}

/// Every named scenario (or outline row) passed.
fn expect_passed(name: &str, scenarios: &[&str]) -> Result<(), String> {
    let report = report(name)?;
    for scenario in scenarios {
        let status = report
            .results
            .iter()
            .find(|r| r.scenario == *scenario)
            .map(|r| r.status);
        if status != Some(Status::Passed) {
            return Err(format!("{name}: `{scenario}`: {status:?}"));
        }
    }
    Ok(())
}

/// The target's description (in every report) says `text`.
fn expect_description(name: &str, text: &str) -> Result<(), String> {
    let report = report(name)?;
    match report.description.contains(text) {
        true => Ok(()),
        false => Err(format!(
            "{name}: the description does not say `{text}`: {}",
            report.description
        )),
    }
}

/// Judged against the shipped expectations of 3.9.3 on MOCKED storage
/// (every scenario passes), so that they cannot go stale unseen.
fn official_with_exact_clock() -> Result<(), String> {
    let run = conformance(
        &[
            "--target",
            "official=3.9.3",
            "--expect",
            "expectations/official-3.9.3.toml",
        ],
        "official-3.9.3",
    );
    expect_clean("official-3.9.3", &run, &[])?;
    let judgement = report("official-3.9.3")?.judgement();
    if judgement.is_none_or(|j| j.mismatches() != 0) {
        return Err(format!("official-3.9.3: judged {judgement:?}\n{}", tail(&run.console)));
    }
    expect_description("official-3.9.3", "under libfaketime")?;
    expect_passed(
        "official-3.9.3",
        &[
            "Twenty wrong codes lock the device for about six days",
            "The end of the wait is included",
        ],
    )?;
    expect_clock_servers_reused("official-3.9.3", "official")
}

/// The clock scenarios (a dozen and more) shared a few servers in turns:
/// at most [`CLOCK_SERVERS`] were started, each its log
/// `servers/<kind>-clock-<port>.log`.
fn expect_clock_servers_reused(name: &str, kind: &str) -> Result<(), String> {
    let servers = root().join("reports").join(name).join("servers");
    let entries = std::fs::read_dir(&servers).map_err(|e| format!("{}: {e}", servers.display()))?;
    let prefix = format!("{kind}-clock-");
    let started = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .count();
    match started {
        1..=CLOCK_SERVERS => Ok(()),
        _ => Err(format!(
            "{name}: {started} clock servers started (their logs {prefix}*.log in {}), expected 1 to {CLOCK_SERVERS}",
            servers.display()
        )),
    }
}

fn official_with_offset_clock() -> Result<(), String> {
    let reports = "reports/offset-clock";
    let run = conformance(
        &["--target", "official=3.9.3", "--clock", "offset", "--reports", reports],
        "offset-clock/official-3.9.3",
    );
    let name = "offset-clock/official-3.9.3";
    expect_clean(name, &run, NEEDS_EXACT_CLOCK)?;
    expect_passed(name, &["Twenty wrong codes lock the device for about six days"])
}

fn official_in_real_time() -> Result<(), String> {
    let run = conformance(
        &[
            "--target",
            "official=3.9.3",
            "--clock",
            "real",
            "--reports",
            "reports/real-time",
        ],
        "real-time/official-3.9.3",
    );
    let name = "real-time/official-3.9.3";
    expect_clean(name, &run, OVER_THE_BUDGET)?;
    expect_passed(name, WITHIN_THE_BUDGET)
}

/// The reference binary as a `cmd=` target; `prefix` goes before it.
fn reference_command(prefix: &str) -> String {
    format!(
        "{prefix}{BINARY} serve --db MOCKED --port {{port}} --administration-token {{admin_token}} \
         --server-addr {{server_addr}} --email-host {{smtp_host}} --email-port {{smtp_port}} \
         --email-sender parsec@example.com {{advice_flags}}"
    )
}

fn command_under_libfaketime() -> Result<(), String> {
    let target = format!("cmd={}", reference_command(""));
    let run = conformance(
        &["--target", &target, "--reports", "reports/cmd-faketime"],
        "cmd-faketime/cmd",
    );
    let name = "cmd-faketime/cmd";
    expect_clean(name, &run, &[])?;
    expect_description(name, "checked: the server's time stood still at the instants set")?;
    expect_passed(
        name,
        &[
            "Twenty wrong codes lock the device for about six days",
            "The end of the wait is included",
            "The key stays the same until MFA is confirmed",
        ],
    )
}

/// The same command with a deliberate defect (no lockout): the six-day
/// lockout, which only a controlled clock can reach, fails under libfaketime.
fn command_under_libfaketime_catches_a_defect() -> Result<(), String> {
    let target = format!("cmd={} --inject-fault lockout-disabled", reference_command(""));
    let run = conformance(
        &[
            "--target",
            &target,
            "--name",
            "Twenty wrong codes",
            "--reports",
            "reports/cmd-faketime-defect",
        ],
        "cmd-faketime-defect/cmd",
    );
    let report = report("cmd-faketime-defect/cmd")?;
    let statuses: Vec<(String, Status)> = report.results.iter().map(|r| (r.scenario.clone(), r.status)).collect();
    println!("cmd-faketime-defect/cmd: {statuses:?} (exit {})", run.code);
    match (run.code, statuses.as_slice()) {
        (1, [(_, Status::Failed)]) => Ok(()),
        _ => Err(format!(
            "the six-day lockout against a server without lockout: exit {}, {statuses:?}",
            run.code
        )),
    }
}

/// `env -u LD_PRELOAD`: the server ignores libfaketime, as a statically
/// linked binary would. The check sees the real time; the run goes on in
/// real time and every report says why.
fn command_ignoring_libfaketime() -> Result<(), String> {
    let target = format!("cmd={}", reference_command("env -u LD_PRELOAD "));
    let run = conformance(
        &["--target", &target, "--reports", "reports/cmd-static"],
        "cmd-static/cmd",
    );
    let name = "cmd-static/cmd";
    expect_clean(name, &run, OVER_THE_BUDGET)?;
    expect_passed(name, WITHIN_THE_BUDGET)?;
    let why = "libfaketime did not take hold";
    expect_description(name, why)?;
    if !run.console.contains(why) {
        return Err(format!("{name}: the console does not say `{why}`"));
    }
    let report = report(name)?;
    let unexplained: Vec<&str> = report
        .results
        .iter()
        .filter(|r| r.status == Status::Skipped && !r.detail.as_deref().is_some_and(|d| d.contains(why)))
        .map(|r| r.scenario.as_str())
        .collect();
    match unexplained.is_empty() {
        true => Ok(()),
        false => Err(format!("{name}: skipped without saying `{why}`: {unexplained:?}")),
    }
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
    let mut skips: Vec<&str> = OVER_THE_BUDGET.to_vec();
    skips.extend(NEEDS_ADVICE);
    expect_clean(&name, &run, &skips)?;
    expect_passed(&name, WITHIN_THE_BUDGET)
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
    let faketime = faketime_available();
    match &faketime {
        Ok(true) => {
            results.push(("cmd= target under libfaketime", command_under_libfaketime()));
            results.push((
                "cmd= target under libfaketime, with a defect",
                command_under_libfaketime_catches_a_defect(),
            ));
            results.push(("cmd= target ignoring libfaketime", command_ignoring_libfaketime()));
        }
        Ok(false) => {}
        Err(e) => results.push(("libfaketime available", Err(e.clone()))),
    }
    match official_available() {
        Ok(true) => {
            if faketime == Ok(true) {
                results.push(("official 3.9.3, exact clock", official_with_exact_clock()));
                results.push(("official 3.9.3, offset clock", official_with_offset_clock()));
            }
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
