//! `parsec-mfa explore`: random sequences of the MFA lifecycle's
//! operations run against each target and the reference model in
//! lockstep (the same targets and flags as `conformance`); the first
//! divergence nobody expected is shrunk and written as a scenario, checked
//! against both servers. Per target, `<reports>/<target>/explore/`:
//! `explore.json`, `explore.html` and `divergence.feature`.

use super::failure::{Failure, exit};
use super::targets::{TargetArgs, TargetChoice, check_faults, parse_targets, prepare, report_name, target_help, usage};
use clap::Args;
use parsec_mfa_scenarios::explore::{Budget, ExploreConfig, ExploreReport, expected, explore, merge, write_report};
use parsec_mfa_scenarios::lockstep::shrink::ShrinkBudget;
use parsec_mfa_scenarios::shard::Shard;
use parsec_mfa_scenarios::targets::{ClockControl, InProcess, TargetFactory};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Args)]
#[command(after_help = target_help())]
pub struct ExploreArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// The first sequence's seed (sequence i has seed + i). Default: drawn
    /// from the time, and printed.
    #[arg(long)]
    seed: Option<u64>,
    /// Stop after this many operations (both sides count once).
    #[arg(long, value_name = "N")]
    steps: Option<usize>,
    /// Stop drawing sequences after this many seconds.
    #[arg(long, value_name = "SECONDS")]
    time: Option<u64>,
    /// Stop after this many sequences (`--seed S --sequences 1` replays
    /// sequence S alone). Default, with neither --steps nor --time: 100.
    #[arg(long, value_name = "N")]
    sequences: Option<usize>,
    /// Operations per sequence.
    #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    length: u32,
    /// Users the operations name (organizations' administrators included).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=32))]
    users: u8,
    /// Sequences run at once. Default: four per core.
    #[arg(long, value_name = "N")]
    concurrency: Option<usize>,
    /// The longest clock move drawn, in seconds (0: none). Targets without
    /// clock control draw none beyond --real-time-budget.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    max_advance: u32,
    /// Candidate runs the shrinking of a divergence may make.
    #[arg(long, value_name = "N", default_value_t = 400)]
    shrink_runs: usize,
    /// Known divergences (TOML, repeatable): `[[divergence]]` with the
    /// target's report name, the operation, the kinds seen, the reason.
    /// See `expectations/explore-*.toml`.
    #[arg(long = "expect", value_name = "FILE", num_args = 1..)]
    expect: Vec<PathBuf>,
    /// A deliberate defect of the reference server (repeatable; `reference`
    /// and `in-process` targets only): what exploration finds of it.
    #[arg(long = "inject-fault", value_name = "NAME")]
    faults: Vec<String>,
    /// Run the K-th of N slices of the sequences (sequence i when i mod N
    /// is K - 1), the same on every machine; --seed is required and
    /// --sequences counts all the shards' together. Merge the shards'
    /// explore.json with --merge.
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,
    /// Merge the explore.json of shard runs (each folder a run's, or a
    /// reports folder of several) into one report per target under
    /// --reports, judged as one run. Runs nothing.
    #[arg(long, value_name = "FOLDER", num_args = 1..)]
    merge: Vec<PathBuf>,
}

pub async fn run(args: ExploreArgs) -> Result<(), Failure> {
    if !args.merge.is_empty() {
        return run_merge(&args);
    }
    if args.shard.is_some() && args.seed.is_none() {
        return Err(usage(
            "--shard needs --seed: every shard draws its sequences from the same one",
        ));
    }
    let given = if args.target.targets.is_empty() {
        vec!["reference".to_owned()]
    } else {
        args.target.targets.clone()
    };
    let choices = parse_targets(&given).map_err(usage)?;
    check_faults(&choices, &args.faults)?;
    if args.concurrency == Some(0) {
        return Err(usage("--concurrency must be at least 1"));
    }
    let expected = expected::read(&args.expect).map_err(|e| usage(e.to_string()))?;
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default()
    });
    let mut diverged = false;
    let mut unusable = false;
    for choice in &choices {
        let name = report_name(choice, &args.faults);
        println!("=== explore: {name} (seed {seed}) ===");
        let explored = tokio::select! {
            explored = explore_one(choice, &name, &args, seed, &expected) => explored,
            _ = tokio::signal::ctrl_c() => return Err(Failure::new(exit::INTERRUPTED, "interrupted")),
        };
        match explored {
            Ok(report) => {
                print_report(&report);
                let folder = args.target.reports.join(&name).join("explore");
                println!("Report: {} (and explore.json)", folder.join("explore.html").display());
                diverged |= !report.passed();
            }
            Err(failure) => {
                eprintln!("Error: {name}: {}", failure.message);
                unusable = true;
            }
        }
    }
    if unusable {
        return Err(Failure::new(exit::TARGET_UNUSABLE, ""));
    }
    if diverged {
        return Err(Failure::new(exit::GENERAL, ""));
    }
    Ok(())
}

async fn explore_one(
    choice: &TargetChoice,
    name: &str,
    args: &ExploreArgs,
    seed: u64,
    expected: &[expected::ExpectedDivergence],
) -> Result<ExploreReport, Failure> {
    let target = prepare(choice, name, &args.target, &args.faults).await?;
    println!("{}", target.description());
    let max_advance = match target.capabilities().clock {
        ClockControl::Exact | ClockControl::Offset => args.max_advance,
        ClockControl::None => args.max_advance.min(args.target.real_time_budget as u32),
    };
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let config = ExploreConfig {
        seed,
        budget: Budget {
            operations: args.steps,
            time: args.time.map(Duration::from_secs),
            sequences: args.sequences,
        },
        length: args.length as usize,
        users: args.users,
        concurrency: args.concurrency.unwrap_or(4 * cores),
        max_advance,
        shrink: ShrinkBudget {
            runs: args.shrink_runs,
            ..ShrinkBudget::default()
        },
        expected: expected.to_vec(),
        target_name: name.to_owned(),
        target_flags: choice.flags(&args.faults),
        command: std::iter::once("parsec-mfa".to_owned())
            .chain(std::env::args().skip(1))
            .collect::<Vec<_>>()
            .join(" "),
        reports: args.target.reports.join(name).join("explore"),
        shard: args.shard,
    };
    let reference: Arc<dyn TargetFactory> = Arc::new(InProcess::default());
    explore(reference, target, &config)
        .await
        .map_err(|e| Failure::new(exit::TARGET_UNUSABLE, e.to_string()))
}

fn print_report(report: &ExploreReport) {
    println!(
        "{} operations in {} sequences, {:.1} s ({:.0} operations/s)",
        report.operations, report.sequences, report.seconds, report.operations_per_second
    );
    if let Some(shard) = report.shard {
        println!("Shard {shard} of the sequences: merge the shards' explore.json with --merge.");
    }
    if !report.merged.is_empty() {
        println!("Merged from {} shards.", report.merged.len());
    }
    // One line per known divergence met, however often: its count, the
    // first sequences (each replays alone with --seed S --sequences 1), the
    // operations it followed, its reason.
    let mut by_reason: Vec<(&str, Vec<u64>, std::collections::BTreeSet<&str>)> = Vec::new();
    for seen in &report.expected {
        let at = match by_reason.iter().position(|(reason, ..)| *reason == seen.reason) {
            Some(at) => at,
            None => {
                by_reason.push((&seen.reason, Vec::new(), Default::default()));
                by_reason.len() - 1
            }
        };
        by_reason[at].1.push(seen.sequence_seed);
        by_reason[at].2.insert(seen.divergence.operation.kind());
    }
    for (reason, mut sequences, operations) in by_reason {
        sequences.sort_unstable();
        let count = sequences.len();
        let shown: Vec<String> = sequences.iter().take(5).map(u64::to_string).collect();
        let more = if count > 5 { ", …" } else { "" };
        println!(
            "expected divergence, {count} time{} (sequence {}{more}; {}): {reason}",
            if count == 1 { "" } else { "s" },
            shown.join(", "),
            operations.into_iter().collect::<Vec<_>>().join(", "),
        );
    }
    match &report.found {
        None => println!("No unexpected divergence."),
        Some(found) => {
            let json = |o| serde_json::to_string(o).unwrap_or_default();
            println!(
                "DIVERGENCE in sequence {} at `{}`: the reference model sees {}, the target {}",
                found.sequence_seed,
                found.divergence.operation,
                json(&found.divergence.reference),
                json(&found.divergence.target)
            );
            println!(
                "Shrunk from {} to {} operations in {} runs{}:",
                found.drawn,
                found.operations.len(),
                found.shrink_runs,
                if found.shrink_exhausted {
                    " (budget spent: may not be minimal)"
                } else {
                    ""
                }
            );
            print!("{}", found.feature);
            match (&found.check, &found.check_error) {
                (Some(check), _) => println!(
                    "Checked as a scenario: {} on the target, {} on the reference.",
                    if check.fails_on_target {
                        "fails"
                    } else {
                        "does NOT fail"
                    },
                    if check.passes_on_reference {
                        "passes"
                    } else {
                        "does NOT pass"
                    }
                ),
                (None, Some(e)) => println!("The scenario could not be checked: {e}"),
                (None, None) => {}
            }
            println!("Scenario: {}", found.feature_file.display());
            println!("Replay the sequence: {}", found.replay);
        }
    }
}

/// `--merge`: the shards' `explore.json` merged, one report per target,
/// written under `--reports`; exit 1 if any holds an unexpected divergence.
fn run_merge(args: &ExploreArgs) -> Result<(), Failure> {
    if !args.target.targets.is_empty()
        || args.seed.is_some()
        || args.shard.is_some()
        || args.steps.is_some()
        || args.time.is_some()
        || args.sequences.is_some()
        || !args.expect.is_empty()
        || !args.faults.is_empty()
    {
        return Err(usage(
            "--merge reads saved runs: it takes no --target, --seed, --shard, --steps, --time, --sequences, --expect or --inject-fault",
        ));
    }
    let mut reports = Vec::new();
    for folder in &args.merge {
        for file in merge::find(folder).map_err(|e| usage(format!("--merge {e}")))? {
            reports.push(merge::read(&file).map_err(|e| Failure::general(format!("--merge: {e}")))?);
        }
    }
    let merged = merge::merge(reports).map_err(|e| Failure::general(format!("--merge: {e}")))?;
    let mut diverged = false;
    for report in &merged {
        println!("=== explore: {} (seed {}), merged ===", report.target, report.seed);
        print_report(report);
        let folder = args.target.reports.join(&report.target).join("explore");
        write_report(report, &folder).map_err(|e| Failure::general(format!("--merge: {e}")))?;
        println!("Report: {} (and explore.json)", folder.join("explore.html").display());
        diverged |= !report.passed();
    }
    if diverged {
        return Err(Failure::new(exit::GENERAL, ""));
    }
    Ok(())
}
