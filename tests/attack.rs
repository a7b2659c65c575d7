//! `parsec-mfa attack`: the attacker's figures against real targets, and
//! that they change when the protection does.
//!
//! - the reference in process (exact simulated clock): every parallelism
//!   plays a whole year, each round lets exactly one code be checked, the
//!   lockout after the n-th failure is 2^(n-1) s to the microsecond, 3
//!   codes are accepted at one instant and a code twice: the figures are
//!   the rule's;
//! - the same with the deliberate defect `lockout-disabled`: no lockout
//!   ever, every code checked, the device opened within a day;
//! - with `wide-clock-window`: 7 codes accepted at one instant, the odds
//!   above the rule's although the throttle holds;
//! - the command: `--target reference --target in-process` (the reference
//!   binary with its `--test-clock`; both targets' `attack.json` and
//!   `attack.html`, and the page of both), `--inject-fault
//!   lockout-disabled` on the reference binary (a report folder of its
//!   own), a usage error for a defect on another target, `--compare` (every
//!   target measured in the folder on one page);
//! - a `url=` target (the reference binary on the system clock): the
//!   lockouts waited for in real time until the budget, the rest
//!   extrapolated, and still the rule's figures;
//! - the official server 3.9.3 on MOCKED storage under libfaketime's exact
//!   clock: the rule's figures (without Python 3.12 or libfaketime: SKIPPED,
//!   unless `PARSEC_MFA_REQUIRE_OFFICIAL=1` / `PARSEC_MFA_REQUIRE_FAKETIME=1`).
//!
//! Each check prints its wall time; the command's output goes to
//! `reports/attack-check/<name>.console.log`.

use parsec_mfa_scenarios::attack::model::{AttackReport, ClockUsed, Horizon, Stop};
use parsec_mfa_scenarios::attack::odds::{rule_figures, rule_lockout_seconds};
use parsec_mfa_scenarios::attack::{DEFAULT_PARALLELISMS, run_attack};
use parsec_mfa_scenarios::faketime::find_library;
use parsec_mfa_scenarios::report::attack::{ATTACK_HTML_FILE, ATTACK_JSON_FILE};
use parsec_mfa_scenarios::servers::{ServerOptions, find_python312, free_port, start_reference};
use parsec_mfa_scenarios::targets::InProcess;
use parsec_mfa_scenarios::testing::available;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

const BINARY: &str = env!("CARGO_BIN_EXE_parsec-mfa");
const REPORTS: &str = "reports/attack-check";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn reports() -> PathBuf {
    root().join(REPORTS)
}

fn ensure(condition: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if condition { Ok(()) } else { Err(what()) }
}

async fn in_process(faults: &[&str]) -> Result<AttackReport, String> {
    let target = InProcess {
        faults: faults.iter().map(|f| f.to_string()).collect(),
    };
    run_attack(&target, &DEFAULT_PARALLELISMS, &|_| {})
        .await
        .map_err(|e| e.to_string())
}

/// Every parallelism played a year on the exact clock: one code checked
/// per round, the others throttled, the lockouts the rule's to the
/// microsecond; 3 codes accepted at one instant, and a code twice.
fn holds_as_the_rule_says(report: &AttackReport) -> Result<(), String> {
    let name = &report.target;
    let accepted: Vec<i32> = report
        .window
        .probes
        .iter()
        .filter(|p| p.accepted)
        .map(|p| p.step_offset)
        .collect();
    ensure(accepted == [-1, 0, 1] && report.window.accepted_codes == 3, || {
        format!("{name}: codes of steps {accepted:?} accepted at one instant")
    })?;
    ensure(report.window.replay_accepted == Some(true), || {
        format!("{name}: a code sent twice: {:?}", report.window.replay_accepted)
    })?;
    let rule = rule_figures();
    ensure(report.measurements.len() == DEFAULT_PARALLELISMS.len(), || {
        format!("{name}: {} measurements", report.measurements.len())
    })?;
    for m in &report.measurements {
        let p = m.parallelism;
        ensure(m.stop == Stop::YearPlayed && m.rounds.len() == 25, || {
            format!("{name}, {p} at once: {} rounds, {:?}", m.rounds.len(), m.stop)
        })?;
        for (n, round) in m.rounds.iter().enumerate() {
            let expected = rule_lockout_seconds(n as u64 + 1);
            ensure(
                round.invalid == 1
                    && round.throttled == p - 1
                    && !round.probe_checked
                    && round.lockout_seconds == Some(expected),
                || {
                    format!(
                        "{name}, {p} at once, round {}: {round:?}, the rule's lockout {expected} s",
                        n + 1
                    )
                },
            )?;
        }
        ensure(m.figures == rule && m.matches_rule, || {
            format!("{name}, {p} at once: {:?}, the rule {:?}", m.figures, rule)
        })?;
    }
    ensure(report.matches_rule, || format!("{name}: not as the rule"))
}

fn lockout_gone(report: &AttackReport) -> Result<(), String> {
    let name = &report.target;
    ensure(!report.matches_rule, || format!("{name}: matches the rule"))?;
    for m in &report.measurements {
        let p = m.parallelism;
        ensure(matches!(m.stop, Stop::RoundCap { .. }), || {
            format!("{name}, {p} at once: {:?}", m.stop)
        })?;
        for round in &m.rounds {
            ensure(
                round.invalid == p && round.probe_checked && round.lockout_seconds.is_none(),
                || format!("{name}, {p} at once: {round:?}"),
            )?;
        }
        let day = m.figures.at(Horizon::Day).expect("a day");
        ensure(
            day.guesses > 100_000 && day.probability > 0.25 && !m.matches_rule,
            || format!("{name}, {p} at once, within a day: {day:?}"),
        )?;
        let year = m.figures.at(Horizon::Year).expect("a year");
        ensure(year.probability > 0.9999, || {
            format!("{name}, {p} at once, within a year: {year:?}")
        })?;
    }
    Ok(())
}

async fn reference_in_process() -> Result<String, String> {
    let report = in_process(&[]).await?;
    holds_as_the_rule_says(&report)?;
    Ok(format!(
        "{:.1} s of real time for 4 simulated years",
        report.wall_seconds
    ))
}

async fn reference_in_process_without_lockout() -> Result<String, String> {
    let report = in_process(&["lockout-disabled"]).await?;
    lockout_gone(&report)?;
    let best = report.best().expect("measured");
    let day = best.figures.at(Horizon::Day).expect("a day");
    Ok(format!(
        "{} guesses a day with {} at once (the rule: 17)",
        day.guesses, best.parallelism
    ))
}

async fn reference_in_process_with_a_wide_window() -> Result<String, String> {
    let report = in_process(&["wide-clock-window"]).await?;
    let accepted = report.window.accepted_codes;
    ensure(accepted == 7 && !report.matches_rule, || {
        format!(
            "{accepted} codes accepted at one instant; matches the rule: {}",
            report.matches_rule
        )
    })?;
    let rule = rule_figures();
    for m in &report.measurements {
        for h in Horizon::ALL {
            let (f, r) = (m.figures.at(h).expect("horizon"), rule.at(h).expect("horizon"));
            ensure(f.guesses == r.guesses && f.probability > 2.0 * r.probability, || {
                format!("{} at once, {h:?}: {f:?} against the rule's {r:?}", m.parallelism)
            })?;
        }
    }
    Ok(format!("{accepted} codes accepted at one instant"))
}

struct Run {
    code: i32,
    console: String,
}

fn attack(args: &[&str], log_name: &str) -> Run {
    let out = Command::new(BINARY)
        .arg("attack")
        .args(args)
        .args(["--reports", REPORTS])
        .current_dir(root())
        .output()
        .expect("parsec-mfa runs");
    let console = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::create_dir_all(reports());
    let _ = std::fs::write(reports().join(format!("{log_name}.console.log")), &console);
    Run {
        code: out.status.code().unwrap_or(-1),
        console,
    }
}

fn load(name: &str) -> Result<AttackReport, String> {
    let path = reports().join(name).join(ATTACK_JSON_FILE);
    let json = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    AttackReport::from_json(&json).map_err(|e| format!("{}: {e}", path.display()))
}

fn clean_exit(run: &Run) -> Result<(), String> {
    ensure(run.code == 0, || format!("exit {}:\n{}", run.code, run.console))
}

fn command_on_two_targets() -> Result<String, String> {
    for name in ["reference", "reference-in-process"] {
        let _ = std::fs::remove_dir_all(reports().join(name));
    }
    let run = attack(&["--target", "reference", "--target", "in-process"], "two-targets");
    clean_exit(&run)?;
    for name in ["reference", "reference-in-process"] {
        let report = load(name)?;
        ensure(report.target == name && report.clock == ClockUsed::Exact, || {
            format!("{name}: {} on a {:?} clock", report.target, report.clock)
        })?;
        holds_as_the_rule_says(&report)?;
        let page = reports().join(name).join(ATTACK_HTML_FILE);
        ensure(page.is_file(), || format!("no {}", page.display()))?;
    }
    let both = std::fs::read_to_string(reports().join(ATTACK_HTML_FILE)).map_err(|e| e.to_string())?;
    ensure(
        both.contains("data-target=\"reference\"") && both.contains("data-target=\"reference-in-process\""),
        || "reports/attack-check/attack.html does not show both targets".into(),
    )?;
    ensure(
        run.console
            .contains("the best attacker (1 at once) opens the device with probability 0.0075 %"),
        || format!("the summary is missing:\n{}", run.console),
    )?;
    Ok("both as the rule, page of both written".into())
}

fn command_with_a_defect() -> Result<String, String> {
    let run = attack(
        &["--target", "reference", "--inject-fault", "lockout-disabled"],
        "reference-lockout-disabled",
    );
    clean_exit(&run)?;
    let report = load("reference-lockout-disabled")?;
    lockout_gone(&report)?;
    ensure(report.description.contains("lockout-disabled"), || {
        report.description.clone()
    })?;
    let refused = attack(
        &["--target", "official", "--inject-fault", "lockout-disabled"],
        "refused",
    );
    ensure(
        refused.code == 2 && refused.console.contains("is not the reference server"),
        || {
            format!(
                "a defect on the official server: exit {}: {}",
                refused.code, refused.console
            )
        },
    )?;
    Ok("the protection gone; a defect on another target refused".into())
}

/// `--compare` alone: every target measured so far in the folder on one
/// page (the two targets and the defect of the checks above at least).
fn command_compare() -> Result<String, String> {
    let page = reports().join(ATTACK_HTML_FILE);
    let _ = std::fs::remove_file(&page);
    let run = attack(&["--compare"], "compare");
    clean_exit(&run)?;
    let html = std::fs::read_to_string(&page).map_err(|e| format!("{}: {e}", page.display()))?;
    let shown: Vec<&str> = ["reference", "reference-in-process", "reference-lockout-disabled"]
        .into_iter()
        .filter(|t| html.contains(&format!("<p class=\"summary\" data-target=\"{t}\"")))
        .collect();
    ensure(shown.len() == 3, || format!("the page shows {shown:?}"))?;
    Ok(format!(
        "{} targets on one page",
        html.matches("<p class=\"summary\"").count()
    ))
}

/// The reference binary on the system clock, reached by its URL: each
/// lockout waited for until the next would pass an 8 s budget (1 + 2 + 4
/// s), the rest extrapolated, to the rule's figures.
fn url_target_in_real_time() -> Result<String, String> {
    let logs = reports().join("url-server");
    std::fs::create_dir_all(&logs).map_err(|e| e.to_string())?;
    let options = ServerOptions {
        administration_token: parsec_mfa_scenarios::testing::ADMIN_TOKEN.into(),
        smtp_port: None,
        advisory_device_file_protection: vec![],
        log_dir: logs,
    };
    let server = start_reference(Path::new(BINARY), &options, &[]).map_err(|e| e.to_string())?;
    let url = server.http_base();
    let run = attack(
        &[
            "--target",
            &format!("url={url}"),
            "--real-time-budget",
            "8",
            "--parallelism",
            "1",
            "--smtp-listen",
            &format!("127.0.0.1:{}", free_port()),
        ],
        "url",
    );
    clean_exit(&run)?;
    let report = load(&format!("url-127.0.0.1-{}", server.port))?;
    ensure(
        report.clock == ClockUsed::Real && report.window.accepted_codes == 3,
        || format!("{:?} clock, {} codes", report.clock, report.window.accepted_codes),
    )?;
    let m = &report.measurements[0];
    let lockouts: Vec<f64> = m.rounds.iter().filter_map(|r| r.lockout_seconds).collect();
    ensure(
        matches!(m.stop, Stop::RealTimeBudget { budget_seconds: 8, .. })
            && lockouts.len() == 4
            && lockouts
                .iter()
                .zip([1.0, 2.0, 4.0, 8.0])
                .all(|(seen, rule)| (seen - rule).abs() < 0.5),
        || format!("{:?}, lockouts {lockouts:?}", m.stop),
    )?;
    ensure(
        m.matches_rule && m.figures.horizons.iter().all(|h| h.extrapolated),
        || format!("{:?}", m.figures),
    )?;
    Ok(format!(
        "lockouts {lockouts:?} s waited for, the rest extrapolated: the rule's figures"
    ))
}

fn official_on_mocked_storage() -> Result<String, String> {
    let _ = std::fs::remove_dir_all(reports().join("official-3.9.3"));
    let run = attack(&["--target", "official=3.9.3"], "official-3.9.3");
    clean_exit(&run)?;
    let report = load("official-3.9.3")?;
    ensure(report.clock == ClockUsed::Exact, || format!("{:?} clock", report.clock))?;
    holds_as_the_rule_says(&report)?;
    Ok(format!(
        "the rule's figures; the measurement took {:.1} s",
        report.wall_seconds
    ))
}

fn main() -> ExitCode {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let mut results: Vec<(&str, f64, Result<String, String>)> = Vec::new();
    let mut timed = |name: &'static str, check: &mut dyn FnMut() -> Result<String, String>| {
        let started = Instant::now();
        let outcome = check();
        results.push((name, started.elapsed().as_secs_f64(), outcome));
    };
    timed("reference in process", &mut || runtime.block_on(reference_in_process()));
    timed("reference in process, lockout-disabled", &mut || {
        runtime.block_on(reference_in_process_without_lockout())
    });
    timed("reference in process, wide-clock-window", &mut || {
        runtime.block_on(reference_in_process_with_a_wide_window())
    });
    timed("the command, two targets", &mut command_on_two_targets);
    timed("the command, a defect", &mut command_with_a_defect);
    timed("the command, --compare", &mut command_compare);
    timed("url= target in real time", &mut url_target_in_real_time);
    let official = available(
        "the official server",
        find_python312().map(|_| ()).map_err(|e| e.to_string()),
        "PARSEC_MFA_REQUIRE_OFFICIAL",
    )
    .and_then(|python| {
        let faketime = available("libfaketime", find_library().map(|_| ()), "PARSEC_MFA_REQUIRE_FAKETIME")?;
        Ok(python && faketime)
    });
    match official {
        Ok(true) => timed("official 3.9.3, MOCKED, exact clock", &mut official_on_mocked_storage),
        Ok(false) => {}
        Err(e) => timed("official 3.9.3 available", &mut || Err(e.clone())),
    }
    let mut failed = false;
    for (name, seconds, outcome) in &results {
        match outcome {
            Ok(summary) => println!("ok: {name} ({seconds:.1} s): {summary}"),
            Err(why) => {
                failed = true;
                eprintln!("FAILED: {name} ({seconds:.1} s): {why}");
            }
        }
    }
    let total: f64 = results.iter().map(|(_, s, _)| s).sum();
    println!(
        "{} checks, {} failed, {total:.1} s",
        results.len(),
        results.iter().filter(|r| r.2.is_err()).count()
    );
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
