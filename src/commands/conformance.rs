//! `parsec-mfa conformance`: the features against one or more targets,
//! with their reports in `reports/<target>/`, and `--compare` to put them
//! side by side in `reports/compare.html`; `--expect FILE` judges each
//! target against its expected results (known divergences, expected
//! skips), `--write-expectations FILE` writes them from the run.

use super::failure::{Failure, exit};
use clap::{Args, ValueEnum};
use parsec_mfa_scenarios::expectations::{Expectations, expectations_toml, write_atomically};
use parsec_mfa_scenarios::report::{TargetReport, compare_html};
use parsec_mfa_scenarios::runner::{RunOptions, check_tags, run_judged};
use parsec_mfa_scenarios::servers::{
    cargo_target_dir, install_official, migrate_official_db, official_installed, official_takes_advice, official_venv,
};
use parsec_mfa_scenarios::target::launched::{FaketimeMode, Launched, PLACEHOLDERS, ServerKind};
use parsec_mfa_scenarios::target::remote::{Remote, probe};
use parsec_mfa_scenarios::target::{DEFAULT_REAL_TIME_BUDGET, InProcess, TargetFactory};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub const DEFAULT_OFFICIAL_VERSION: &str = "3.9.3";

#[derive(Args)]
#[command(after_help = target_help())]
pub struct ConformanceArgs {
    /// What to run the features against (repeatable): `reference`,
    /// `in-process`, `official[=VERSION[,VERSION…]]`, `url=http://HOST:PORT`
    /// or `cmd=COMMAND`. Default: `reference`.
    #[arg(long = "target", value_name = "TARGET")]
    targets: Vec<String>,
    /// The administration token of a `url=` or `cmd=` target.
    #[arg(long, default_value = "s3cr3t", env = "PARSEC_MFA_ADMIN_TOKEN")]
    admin_token: String,
    /// Where the harness's SMTP sink listens, for a `url=` target (the
    /// address that server sends its email to). Default: a free port on
    /// 127.0.0.1, printed.
    #[arg(long, value_name = "ADDR")]
    smtp_listen: Option<String>,
    /// The official server's database, `postgresql://…`. Default: in memory (MOCKED).
    #[arg(long, value_name = "URL")]
    official_db: Option<String>,
    /// The clock of the servers started for clock scenarios of the official
    /// and `cmd=` targets, under libfaketime: `exact` stops it and moves it
    /// to exact instants, `offset` moves it forward while it flows, `real`
    /// leaves the servers alone (time-dependent scenarios then run in real
    /// time within --real-time-budget). Where libfaketime does not take
    /// hold, the target falls back to real time and its reports say why.
    #[arg(long, value_enum, default_value_t = ClockMode::Exact, alias = "official-clock")]
    clock: ClockMode,
    /// Seconds of real time a scenario may wait for on a target whose clock
    /// cannot be moved (`url=`, `--clock real`); longer ones are skipped
    /// with the time they need.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_REAL_TIME_BUDGET.as_secs())]
    real_time_budget: u64,
    /// The features: a folder of `.feature` files, or one file.
    #[arg(long, default_value = "features")]
    features: PathBuf,
    /// Where the reports go: `<reports>/<target>/`.
    #[arg(long, default_value = "reports")]
    reports: PathBuf,
    /// Scenarios run at the same time.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Seconds a started server has to answer.
    #[arg(long, default_value_t = 60)]
    start_timeout: u64,
    /// Only the scenarios matching this tag expression, e.g. `not @clock`.
    #[arg(long)]
    tags: Option<String>,
    /// Only the scenarios whose name contains this text.
    #[arg(long)]
    name: Option<String>,
    /// Also write `<reports>/compare.html`, the targets side by side
    /// (without --target: the reports already in the folder, as they were
    /// judged).
    #[arg(long)]
    compare: bool,
    /// Expected results (TOML, repeatable): per target (`[target.NAME]`,
    /// NAME as its report folder), the scenarios expected to fail (known
    /// divergences) or to be skipped, with the reason; every other scenario
    /// must pass. The run succeeds when every outcome is the one expected;
    /// an expected failure that passes is an unexpected pass and fails it.
    /// Every target run needs a section. See `expectations/`.
    #[arg(long = "expect", value_name = "FILE")]
    expect: Vec<PathBuf>,
    /// Write the run's outcomes as an expectation file: per target, each
    /// scenario that failed or was skipped (reasons kept from --expect
    /// where the outcome is the same). Not written if a target could not
    /// be run.
    #[arg(long, value_name = "FILE")]
    write_expectations: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ClockMode {
    Exact,
    Offset,
    Real,
}

impl ClockMode {
    fn faketime(self) -> FaketimeMode {
        match self {
            ClockMode::Exact => FaketimeMode::Exact,
            ClockMode::Offset => FaketimeMode::Offset,
            ClockMode::Real => FaketimeMode::Off,
        }
    }
}

fn target_help() -> String {
    let mut text = String::from("Placeholders of a cmd= target:\n");
    for (placeholder, meaning) in PLACEHOLDERS {
        text.push_str(&format!("  {placeholder:<15} {meaning}\n"));
    }
    text
}

/// One `--target` after expanding version lists.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TargetChoice {
    InProcess,
    Reference,
    Official(String),
    Url(String),
    Command(String),
}

impl TargetChoice {
    /// The report folder's name.
    fn report_name(&self) -> String {
        match self {
            TargetChoice::InProcess => "reference-in-process".into(),
            TargetChoice::Reference => "reference".into(),
            TargetChoice::Official(version) => format!("official-{version}"),
            TargetChoice::Url(url) => {
                let host: String = url
                    .trim_start_matches("http://")
                    .trim_end_matches('/')
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '-' })
                    .collect();
                format!("url-{host}")
            }
            TargetChoice::Command(_) => "cmd".into(),
        }
    }
}

fn parse_targets(given: &[String]) -> Result<Vec<TargetChoice>, String> {
    let mut choices = Vec::new();
    for target in given {
        let (kind, value) = match target.split_once('=') {
            Some((kind, value)) => (kind, Some(value)),
            None => (target.as_str(), None),
        };
        match (kind, value) {
            ("reference", None) => choices.push(TargetChoice::Reference),
            ("in-process", None) => choices.push(TargetChoice::InProcess),
            ("official", None) => choices.push(TargetChoice::Official(DEFAULT_OFFICIAL_VERSION.into())),
            ("official", Some(versions)) => {
                for version in versions.split(',').map(str::trim) {
                    if version.is_empty() || !version.chars().all(|c| c.is_ascii_alphanumeric() || c == '.') {
                        return Err(format!("--target official={versions}: `{version}` is not a version"));
                    }
                    choices.push(TargetChoice::Official(version.into()));
                }
            }
            ("url", Some(url)) if url.starts_with("http://") || url.starts_with("https://") => {
                choices.push(TargetChoice::Url(url.into()))
            }
            ("cmd", Some(command)) if !command.trim().is_empty() => {
                if !command.contains("{port}") {
                    return Err("--target cmd=…: the command must contain {port} (see --help)".into());
                }
                choices.push(TargetChoice::Command(command.into()));
            }
            _ => {
                return Err(format!(
                    "--target {target}: expected reference, in-process, official[=VERSION,…], url=http://HOST:PORT or cmd=COMMAND"
                ));
            }
        }
    }
    let mut names: Vec<String> = choices.iter().map(TargetChoice::report_name).collect();
    names.sort();
    names.dedup();
    if names.len() != choices.len() {
        return Err("the same target is given twice".into());
    }
    Ok(choices)
}

fn usage(message: impl Into<String>) -> Failure {
    Failure::new(2, format!("{} (see --help)", message.into()))
}

fn unusable(message: impl Into<String>) -> Failure {
    Failure::new(exit::TARGET_UNUSABLE, message)
}

/// Builds the target, starts what must run before any scenario, and checks
/// that it answers as a Parsec server.
async fn prepare(choice: &TargetChoice, args: &ConformanceArgs) -> Result<Arc<dyn TargetFactory>, Failure> {
    let name = choice.report_name();
    let work_dir = args.reports.join(&name).join("servers");
    let timeout = Duration::from_secs(args.start_timeout);
    let budget = Duration::from_secs(args.real_time_budget);
    let launch = |kind| {
        Launched::new(&name, kind, &args.admin_token, work_dir.clone(), timeout)
            .with_faketime(args.clock.faketime())
            .with_real_time_budget(budget)
    };
    let launched = match choice {
        TargetChoice::InProcess => return Ok(Arc::new(InProcess::default())),
        TargetChoice::Reference => {
            let binary = std::env::current_exe().map_err(|e| unusable(format!("cannot find this program: {e}")))?;
            launch(ServerKind::Reference { binary })
        }
        TargetChoice::Official(version) => {
            let target_dir = cargo_target_dir(PathBuf::from("target"));
            if !official_installed(&target_dir, version) {
                println!(
                    "Installing parsec-cloud=={version} from the Python package registry into {} (once)…",
                    official_venv(&target_dir, version).display()
                );
            }
            let version_owned = version.clone();
            let db = args.official_db.clone();
            let (venv, takes_advice) = tokio::task::spawn_blocking(move || {
                let venv = install_official(&target_dir, &version_owned).map_err(|e| e.to_string())?;
                let takes_advice = official_takes_advice(&venv)?;
                if let Some(db) = &db {
                    migrate_official_db(&venv, db)?;
                }
                Ok::<_, String>((venv, takes_advice))
            })
            .await
            .map_err(|e| unusable(e.to_string()))?
            .map_err(unusable)?;
            launch(ServerKind::Official {
                venv,
                version: version.clone(),
                db: args.official_db.clone(),
                takes_advice,
            })
        }
        TargetChoice::Command(template) => launch(ServerKind::Command {
            template: template.clone(),
        }),
        TargetChoice::Url(url) => {
            let listen = args.smtp_listen.as_deref().unwrap_or("127.0.0.1:0");
            let remote = Remote::new(&name, url, &args.admin_token, listen)
                .await
                .map_err(unusable)?
                .with_real_time_budget(budget);
            println!(
                "The harness's SMTP sink listens on {}: the server must send its email there.",
                remote.smtp_addr()
            );
            let facts = probe(remote.addr(), &args.admin_token).await.map_err(unusable)?;
            if !facts.advice.is_empty() {
                println!(
                    "Note: {url} advises {}: scenarios that log in with a password alone expect no advice and may fail.",
                    facts.advice.join(", ")
                );
            }
            return Ok(Arc::new(remote));
        }
    };
    let addr = launched.start_default().await.map_err(unusable)?;
    probe(addr, &args.admin_token).await.map_err(unusable)?;
    Ok(Arc::new(launched))
}

pub async fn run_conformance(args: ConformanceArgs) -> Result<(), Failure> {
    let given = if args.targets.is_empty() && !args.compare {
        vec!["reference".to_owned()]
    } else {
        args.targets.clone()
    };
    let choices = parse_targets(&given).map_err(usage)?;
    if !args.features.exists() {
        return Err(usage(format!(
            "{}: no such features folder or file",
            args.features.display()
        )));
    }
    if let Some(tags) = &args.tags {
        check_tags(tags).map_err(|e| usage(e.to_string()))?;
    }
    if args.concurrency == 0 || args.start_timeout == 0 {
        return Err(usage("--concurrency and --start-timeout must be at least 1"));
    }
    let expectations = expectations_for(&args, &choices)?;
    let mut outcomes: Vec<(String, Result<TargetReport, String>)> = Vec::new();
    for choice in &choices {
        let name = choice.report_name();
        println!("=== conformance: {name} ===");
        let prepared = tokio::select! {
            prepared = prepare(choice, &args) => prepared,
            _ = tokio::signal::ctrl_c() => return Err(Failure::new(exit::INTERRUPTED, "interrupted")),
        };
        let factory = match prepared {
            Ok(factory) => factory,
            Err(failure) => {
                eprintln!("Error: {name}: {}", failure.message);
                outcomes.push((name, Err(failure.message)));
                continue;
            }
        };
        println!("{}", factory.description());
        let options = RunOptions {
            features: args.features.clone(),
            reports: args.reports.join(&name),
            concurrency: args.concurrency,
            target: factory,
            tags: args.tags.clone(),
            name: args.name.clone(),
        };
        let expected = expectations.as_ref().and_then(|e| e.for_target(&name)).cloned();
        // Ctrl-C drops the run, and with it every server the harness
        // started (some run in process groups of their own, out of the
        // terminal's reach).
        let outcome = tokio::select! {
            outcome = run_judged(options, expected) => outcome,
            _ = tokio::signal::ctrl_c() => return Err(Failure::new(exit::INTERRUPTED, "interrupted")),
        };
        match outcome {
            Ok(report) => {
                println!("Report: {}", args.reports.join(&name).join("index.html").display());
                outcomes.push((name, Ok(report)));
            }
            Err(e) => {
                eprintln!("Error: {name}: {e}");
                outcomes.push((name, Err(e.to_string())));
            }
        }
    }
    if let Some(path) = &args.write_expectations {
        write_expectations(path, &outcomes, expectations.as_ref())?;
    }
    if args.compare {
        let names: Vec<String> = if choices.is_empty() {
            earlier_reports(&args.reports)
        } else {
            outcomes
                .iter()
                .filter(|(_, o)| o.is_ok())
                .map(|(n, _)| n.clone())
                .collect()
        };
        write_compare(&args.reports, &names)?;
    }
    summarize(&outcomes)
}

/// The expectations of `--expect`, checked before anything runs: files
/// that read (else a usage error), a section for every target run, and
/// targets to judge (not `--compare` alone, which shows saved reports as
/// they were judged).
fn expectations_for(args: &ConformanceArgs, choices: &[TargetChoice]) -> Result<Option<Expectations>, Failure> {
    if choices.is_empty() {
        if !args.expect.is_empty() || args.write_expectations.is_some() {
            return Err(usage(
                "--expect and --write-expectations need targets to run (--compare alone shows the saved reports as they were judged)",
            ));
        }
        return Ok(None);
    }
    if let Some(path) = &args.write_expectations {
        let folder = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if !folder.is_dir() {
            return Err(usage(format!(
                "--write-expectations {}: no such folder {}",
                path.display(),
                folder.display()
            )));
        }
    }
    if args.expect.is_empty() {
        return Ok(None);
    }
    let expectations = Expectations::load(&args.expect).map_err(|e| usage(e.to_string()))?;
    let missing: Vec<String> = choices
        .iter()
        .map(TargetChoice::report_name)
        .filter(|name| expectations.for_target(name).is_none())
        .collect();
    if !missing.is_empty() {
        let files: Vec<String> = args.expect.iter().map(|p| p.display().to_string()).collect();
        return Err(usage(format!(
            "--expect: {} hold(s) no [target.\"{}\"] section (an empty section means every scenario must pass; sections found: {})",
            files.join(", "),
            missing.join("\"], [target.\""),
            expectations.targets().collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(Some(expectations))
}

/// `--write-expectations`: the outcomes of every target run, or nothing
/// when one could not be run (its section would be lost).
fn write_expectations(
    path: &Path,
    outcomes: &[(String, Result<TargetReport, String>)],
    previous: Option<&Expectations>,
) -> Result<(), Failure> {
    let not_run: Vec<&str> = outcomes
        .iter()
        .filter(|(_, o)| o.is_err())
        .map(|(n, _)| n.as_str())
        .collect();
    if !not_run.is_empty() {
        eprintln!(
            "Error: {} not written: {} could not be run",
            path.display(),
            not_run.join(", ")
        );
        return Ok(());
    }
    let reports: Vec<&TargetReport> = outcomes.iter().filter_map(|(_, o)| o.as_ref().ok()).collect();
    write_atomically(path, &expectations_toml(&reports, previous)).map_err(|e| Failure::general(e.to_string()))?;
    println!("Expectations written: {}", path.display());
    Ok(())
}

/// Folders of `reports/` that hold a finished run.
fn earlier_reports(reports: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(reports)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| TargetReport::load(&entry.path()).is_ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn write_compare(reports: &Path, names: &[String]) -> Result<(), Failure> {
    if names.len() < 2 {
        return Err(Failure::general(format!(
            "--compare needs the reports of at least two targets in {} (found: {})",
            reports.display(),
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        )));
    }
    let loaded = names
        .iter()
        .map(|n| TargetReport::load(&reports.join(n)).map_err(|e| Failure::general(format!("{n}: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let path = reports.join("compare.html");
    std::fs::write(&path, compare_html(&loaded)).map_err(|e| Failure::general(format!("{}: {e}", path.display())))?;
    println!("Comparison of {}: {}", names.join(", "), path.display());
    Ok(())
}

/// One line per target, and the exit code: 9 when a target could not be
/// used; 1 when a scenario failed (or none passed), or, in a run judged
/// against expectations, when an outcome is not the one expected.
fn summarize(outcomes: &[(String, Result<TargetReport, String>)]) -> Result<(), Failure> {
    if outcomes.len() > 1 {
        println!("=== summary ===");
        for (name, outcome) in outcomes {
            match outcome {
                Ok(report) => println!("{name}: {}", report.closing_line()),
                Err(e) => println!("{name}: not run: {e}"),
            }
        }
    }
    let unusable_targets: Vec<&str> = outcomes
        .iter()
        .filter(|(_, o)| o.is_err())
        .map(|(n, _)| n.as_str())
        .collect();
    if !unusable_targets.is_empty() {
        // Each has had its one error line already.
        return Err(Failure::new(exit::TARGET_UNUSABLE, ""));
    }
    let (mut failing, mut unexpected) = (Vec::new(), Vec::new());
    for (name, report) in outcomes.iter().filter_map(|(n, o)| Some((n, o.as_ref().ok()?))) {
        if report.succeeded() {
            continue;
        }
        match report.judgement() {
            Some(judgement) if judgement.mismatches() > 0 => {
                unexpected.push(format!("{name} ({})", judgement.mismatches_line()))
            }
            _ => failing.push(name.as_str()),
        }
    }
    let mut problems = Vec::new();
    if !unexpected.is_empty() {
        problems.push(format!("outcomes not as expected against {}", unexpected.join(", ")));
    }
    if !failing.is_empty() {
        problems.push(format!(
            "scenarios failed (or none passed) against {}",
            failing.join(", ")
        ));
    }
    match problems.is_empty() {
        true => Ok(()),
        false => Err(Failure::general(problems.join("; "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(list: &[&str]) -> Result<Vec<TargetChoice>, String> {
        parse_targets(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn official_versions_expand_into_a_matrix() {
        assert_eq!(
            parse(&["official=3.8.0,3.9.3"]).unwrap(),
            vec![
                TargetChoice::Official("3.8.0".into()),
                TargetChoice::Official("3.9.3".into())
            ]
        );
        assert_eq!(
            parse(&["official"]).unwrap(),
            vec![TargetChoice::Official(DEFAULT_OFFICIAL_VERSION.into())]
        );
    }

    #[test]
    fn bad_targets_are_usage_errors() {
        for bad in [
            "nonsense",
            "official=",
            "official=3.9.3;rm",
            "url=",
            "url=ftp://example.com",
            "cmd=",
            "cmd=server --no-port",
            "reference=x",
        ] {
            assert!(parse(&[bad]).is_err(), "{bad}");
        }
        assert!(parse(&["reference", "reference"]).unwrap_err().contains("twice"));
    }

    #[test]
    fn report_folders_are_named_after_targets() {
        let names: Vec<String> = parse(&["reference", "in-process", "official=3.8.0", "url=http://10.0.0.5:6777/"])
            .unwrap()
            .iter()
            .map(TargetChoice::report_name)
            .collect();
        assert_eq!(
            names,
            [
                "reference",
                "reference-in-process",
                "official-3.8.0",
                "url-10.0.0.5-6777"
            ]
        );
    }
}
