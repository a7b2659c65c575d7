//! `parsec-mfa conformance`: the features against one or more targets,
//! with their reports in `reports/<target>/`, and `--compare` to put them
//! side by side in `reports/compare.html`; `--expect FILE` judges each
//! target against its expected results (known divergences, expected
//! skips), `--write-expectations FILE` writes them from the run.

use super::failure::{Failure, exit};
use super::targets::{TargetArgs, TargetChoice, parse_targets, prepare, target_help, usage};
use clap::Args;
use parsec_mfa_scenarios::expectations::{Expectations, expectations_toml, write_atomically};
use parsec_mfa_scenarios::report::{TargetReport, compare_html};
use parsec_mfa_scenarios::runner::{RunOptions, check_tags, run_judged};
use std::path::{Path, PathBuf};

#[derive(Args)]
#[command(after_help = target_help())]
pub struct ConformanceArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// The features: a folder of `.feature` files, or one file.
    #[arg(long, default_value = "features")]
    features: PathBuf,
    /// Scenarios run at the same time.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
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

pub async fn run_conformance(args: ConformanceArgs) -> Result<(), Failure> {
    let given = if args.target.targets.is_empty() && !args.compare {
        vec!["reference".to_owned()]
    } else {
        args.target.targets.clone()
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
    if args.concurrency == 0 || args.target.start_timeout == 0 {
        return Err(usage("--concurrency and --start-timeout must be at least 1"));
    }
    let expectations = expectations_for(&args, &choices)?;
    let mut outcomes: Vec<(String, Result<TargetReport, String>)> = Vec::new();
    for choice in &choices {
        let name = choice.report_name();
        println!("=== conformance: {name} ===");
        let prepared = tokio::select! {
            prepared = prepare(choice, &name, &args.target, &[]) => prepared,
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
            reports: args.target.reports.join(&name),
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
                println!(
                    "Report: {}",
                    args.target.reports.join(&name).join("index.html").display()
                );
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
            earlier_reports(&args.target.reports)
        } else {
            outcomes
                .iter()
                .filter(|(_, o)| o.is_ok())
                .map(|(n, _)| n.clone())
                .collect()
        };
        write_compare(&args.target.reports, &names)?;
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
