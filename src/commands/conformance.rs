//! `parsec-mfa conformance`: the features against one or more targets,
//! with their reports in `reports/<target>/`, and `--compare` to put them
//! side by side in `reports/compare.html`.

use super::failure::{Failure, exit};
use super::targets::{TargetArgs, parse_targets, prepare, target_help, usage};
use clap::Args;
use parsec_mfa_scenarios::report::{TargetReport, compare_html};
use parsec_mfa_scenarios::runner::{RunOptions, Totals, check_tags, run};
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
    /// (without --target: the reports already in the folder).
    #[arg(long)]
    compare: bool,
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
    let mut outcomes: Vec<(String, Result<Totals, String>)> = Vec::new();
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
        // Ctrl-C drops the run, and with it every server the harness
        // started (some run in process groups of their own, out of the
        // terminal's reach).
        let outcome = tokio::select! {
            outcome = run(options) => outcome,
            _ = tokio::signal::ctrl_c() => return Err(Failure::new(exit::INTERRUPTED, "interrupted")),
        };
        match outcome {
            Ok(totals) => {
                println!(
                    "Report: {}",
                    args.target.reports.join(&name).join("index.html").display()
                );
                outcomes.push((name, Ok(totals)));
            }
            Err(e) => {
                eprintln!("Error: {name}: {e}");
                outcomes.push((name, Err(e.to_string())));
            }
        }
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
/// used, 1 when a scenario failed.
fn summarize(outcomes: &[(String, Result<Totals, String>)]) -> Result<(), Failure> {
    if outcomes.len() > 1 {
        println!("=== summary ===");
        for (name, outcome) in outcomes {
            match outcome {
                Ok(totals) => println!("{name}: {}", totals.line()),
                Err(e) => println!("{name}: not run: {e}"),
            }
        }
    }
    let unusable_targets: Vec<&str> = outcomes
        .iter()
        .filter(|(_, o)| o.is_err())
        .map(|(n, _)| n.as_str())
        .collect();
    let failing: Vec<&str> = outcomes
        .iter()
        .filter(|(_, o)| matches!(o, Ok(t) if t.failed > 0 || t.passed == 0))
        .map(|(n, _)| n.as_str())
        .collect();
    if !unusable_targets.is_empty() {
        // Each has had its one error line already.
        return Err(Failure::new(exit::TARGET_UNUSABLE, ""));
    }
    if !failing.is_empty() {
        return Err(Failure::general(format!(
            "scenarios failed (or none passed) against {}",
            failing.join(", ")
        )));
    }
    Ok(())
}
