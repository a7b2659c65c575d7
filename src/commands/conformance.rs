//! `parsec-mfa conformance`: the features against one or more targets
//! (side by side, `--jobs`), with their reports in `reports/<target>/`, and
//! `--compare` to put them side by side in `reports/compare.html`
//! (with `official=all`, always: the release matrix);
//! `--expect FILE` judges each target against its expected results (known
//! divergences, expected skips), `--write-expectations FILE` writes them
//! from the run; `--repeat N` reports the scenarios whose outcome varied;
//! `--shard K/N` runs a slice of the scenarios, and `--merge` puts the
//! slices run on several machines back together.

use super::failure::{Failure, exit};
use super::targets::{
    TargetArgs, TargetChoice, check_faults, parse_targets, prepare_in, report_name, target_help, usage,
};
use clap::Args;
use futures::StreamExt as _;
use parsec_mfa_scenarios::client::ClientChoice;
use parsec_mfa_scenarios::expectations::{Expectations, TargetExpectations, expectations_toml, write_atomically};
use parsec_mfa_scenarios::report::merge::merge_reports;
use parsec_mfa_scenarios::report::repeat::{REPEAT_HTML_FILE, REPEAT_JSON_FILE, RepeatReport};
use parsec_mfa_scenarios::report::{COMPARE_FILE, ComparePage, HTML_FILE, TargetReport, compare_page};
use parsec_mfa_scenarios::runner::{RunControls, RunError, RunOptions, check_tags, run_judged_with};
use parsec_mfa_scenarios::shard::Shard;
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
    /// The client that plays the people of the scenarios: `reference` (the
    /// reference client library, in the harness), or `cmd="PROGRAM ARGS…"`,
    /// any client speaking the client contract (docs/porting-a-client.md),
    /// run once per user action with the contract's arguments after ARGS.
    #[arg(long, default_value = "reference", value_name = "CLIENT")]
    client: ClientChoice,
    /// Only the scenarios matching this tag expression, e.g. `not @clock`.
    #[arg(long)]
    tags: Option<String>,
    /// Only the scenarios whose name contains this text.
    #[arg(long)]
    name: Option<String>,
    /// Also write `<reports>/compare.html`, the targets side by side
    /// (without --target: the reports already in the folder, as they were
    /// judged); `--target official=all` always writes it: the release
    /// matrix.
    #[arg(long)]
    compare: bool,
    /// Expected results (TOML, repeatable): per target (`[target.NAME]`,
    /// NAME as its report folder), the scenarios expected to fail (known
    /// divergences) or to be skipped, with the reason; every other scenario
    /// must pass. The run succeeds when every outcome is the one expected;
    /// an expected failure that passes is an unexpected pass and fails it.
    /// Every target run needs a section. See `expectations/`.
    #[arg(long = "expect", value_name = "FILE", num_args = 1..)]
    expect: Vec<PathBuf>,
    /// Write the run's outcomes as an expectation file: per target, each
    /// scenario that failed or was skipped (reasons kept from --expect
    /// where the outcome is the same). Not written if a target could not
    /// be run.
    #[arg(long, value_name = "FILE")]
    write_expectations: Option<PathBuf>,
    /// Run each target N times (each run prepared anew, its reports in
    /// `<reports>/<target>/repeat/run-K/`) and report every scenario whose
    /// outcome varied, with each outcome's messages, on the console and in
    /// `<reports>/<target>/repeat.{html,json}`; fails when one varied or a
    /// run could not be made.
    #[arg(long, value_name = "N", default_value_t = 1)]
    repeat: usize,
    /// Only the K-th of N slices of the scenarios (K from 1 to N): the
    /// scenarios sorted by feature file and line, every K-th from the
    /// K-th; the same on every machine. Merge the shards' runs with --merge.
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,
    /// Targets run side by side (default: one per core); when more than
    /// one, each run's console goes to `<reports>/<target>/console.txt`.
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Merge saved runs instead of running: each FOLDER holds a run's
    /// `results.json`, or a reports folder of several; the shards of each
    /// target (all of them, once each) become one report in `--reports`,
    /// with `compare.html` for several targets and one exit code.
    #[arg(long, value_name = "FOLDER", num_args = 1..)]
    merge: Vec<PathBuf>,
    /// A deliberate defect of the reference server (repeatable; `reference`
    /// and `in-process` targets only), e.g. to replay a scenario that
    /// `explore` wrote. The reports go to `<reports>/<target>-<defect>/`.
    #[arg(long = "inject-fault", value_name = "NAME")]
    faults: Vec<String>,
}

pub async fn run_conformance(args: ConformanceArgs) -> Result<(), Failure> {
    if !args.merge.is_empty() {
        return run_merge(&args);
    }
    let given = if args.target.targets.is_empty() && !args.compare {
        vec!["reference".to_owned()]
    } else {
        args.target.targets.clone()
    };
    let choices = parse_targets(&given).map_err(usage)?;
    check_faults(&choices, &args.faults)?;
    if !args.features.exists() {
        return Err(usage(format!(
            "{}: no such features folder or file",
            args.features.display()
        )));
    }
    if let Some(tags) = &args.tags {
        check_tags(tags).map_err(usage)?;
    }
    if args.concurrency == 0 || args.target.start_timeout == 0 || args.repeat == 0 || args.jobs == Some(0) {
        return Err(usage(
            "--concurrency, --start-timeout, --repeat and --jobs must be at least 1",
        ));
    }
    if args.repeat > 1 && (args.compare || args.write_expectations.is_some()) {
        return Err(usage(
            "--repeat compares the runs of each target; --compare and --write-expectations need a single run",
        ));
    }
    if args.shard.is_some() && args.write_expectations.is_some() {
        return Err(usage(
            "--write-expectations needs every scenario: write it from an unsharded run",
        ));
    }
    let expectations = expectations_for(&args, &choices)?;
    // Targets side by side: as many as --jobs, one per core by default
    // (the servers' starts share the cores in turns, see `launched`).
    let jobs = args.jobs.unwrap_or_else(cores).min(choices.len()).max(1);
    let quiet = jobs > 1 || args.repeat > 1;
    let runs = futures::stream::iter(&choices)
        .map(|choice| run_target(choice, &args, expectations.as_ref(), quiet))
        .buffered(jobs)
        .collect::<Vec<_>>();
    // Ctrl-C drops the runs, and with them every server the harness
    // started (some run in process groups of their own, out of the
    // terminal's reach).
    let done: Vec<TargetRun> = tokio::select! {
        done = runs => done,
        _ = tokio::signal::ctrl_c() => return Err(Failure::new(exit::INTERRUPTED, "interrupted")),
    };
    let (outcomes, repeats): (Vec<Outcome>, Vec<Option<RepeatReport>>) =
        done.into_iter().map(|run| ((run.name, run.report), run.repeat)).unzip();
    if let Some(path) = &args.write_expectations {
        write_expectations(path, &outcomes, expectations.as_ref())?;
    }
    let ran: Vec<String> = outcomes
        .iter()
        .filter(|(_, o)| o.is_ok())
        .map(|(n, _)| n.clone())
        .collect();
    // `official=all` is a release matrix: its releases side by side.
    let matrix = args.target.targets.iter().any(|t| t == "official=all");
    if args.compare || (matrix && args.repeat == 1) {
        let names: Vec<String> = if choices.is_empty() {
            earlier_reports(&args.target.reports)
        } else {
            ran.clone()
        };
        write_compare(&args.target.reports, &names)?;
    }
    let repeats: Vec<&RepeatReport> = repeats.iter().flatten().collect();
    summarize(&outcomes, &repeats)
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Why a target's run could not be made: it has had its one `Error:`
/// line, and the run exits with 9 (the target could not be used).
#[derive(Debug, thiserror::Error)]
enum NotRun {
    /// The target could not be prepared (started, reached, probed).
    #[error("{}", .0.message)]
    Prepare(Failure),
    #[error("cannot write {}: {source}", path.display())]
    Console { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Run(#[from] RunError),
    #[error("no run")]
    NoRun,
}

/// A target's name, and its report or why it has none.
type Outcome = (String, Result<TargetReport, NotRun>);

/// What became of one target: its report (with --repeat, the first
/// error, else the last run's), and the comparison of its runs.
struct TargetRun {
    name: String,
    report: Result<TargetReport, NotRun>,
    repeat: Option<RepeatReport>,
}

/// One target: prepared, run (N times with --repeat), its reports written.
/// `quiet`: cucumber's console goes to `console.txt` in the run's folder,
/// and only the closing line is printed (targets side by side, repeats).
async fn run_target(
    choice: &TargetChoice,
    args: &ConformanceArgs,
    expectations: Option<&Expectations>,
    quiet: bool,
) -> TargetRun {
    let name = match args.client.report_suffix() {
        None => report_name(choice, &args.faults),
        Some(suffix) => format!("{}+{suffix}", report_name(choice, &args.faults)),
    };
    let target_folder = args.target.reports.join(&name);
    let expected = expectations.and_then(|e| e.for_target(&name)).cloned();
    if args.repeat == 1 {
        let report = run_once(choice, &name, args, &target_folder, expected, quiet).await;
        if let Ok(report) = &report {
            if quiet {
                println!("{name}: {}", report.closing_line());
            }
            println!("Report: {}", target_folder.join("index.html").display());
        }
        return TargetRun {
            name,
            report,
            repeat: None,
        };
    }
    let repeat_folder = target_folder.join("repeat");
    // Runs of an earlier --repeat would read as this one's.
    let _ = std::fs::remove_dir_all(&repeat_folder);
    let mut runs = Vec::new();
    let mut description = String::new();
    for run in 1..=args.repeat {
        let folder = repeat_folder.join(format!("run-{run}"));
        let report = run_once(choice, &name, args, &folder, expected.clone(), quiet).await;
        match &report {
            Ok(report) => {
                println!("{name}: run {run}/{}: {}", args.repeat, report.closing_line());
                description.clone_from(&report.description);
            }
            Err(e) => println!("{name}: run {run}/{}: could not be made: {e}", args.repeat),
        }
        runs.push(report);
    }
    let repeat = RepeatReport::of(&name, &description, &runs, |run| format!("repeat/run-{run}"));
    for line in repeat.console_lines() {
        println!("{line}");
    }
    let written = std::fs::create_dir_all(&target_folder)
        .and_then(|()| std::fs::write(target_folder.join(REPEAT_JSON_FILE), repeat.to_json()))
        .and_then(|()| std::fs::write(target_folder.join(REPEAT_HTML_FILE), repeat.to_html()));
    match written {
        Ok(()) => println!("Repeat report: {}", target_folder.join(REPEAT_HTML_FILE).display()),
        Err(e) => eprintln!("Error: {name}: cannot write {}: {e}", target_folder.display()),
    }
    let report = match runs.iter().position(Result::is_err) {
        Some(first_error) => runs.swap_remove(first_error),
        None => runs.pop().unwrap_or(Err(NotRun::NoRun)),
    };
    TargetRun {
        name,
        report,
        repeat: Some(repeat),
    }
}

/// One run of one target, its reports in `folder`.
async fn run_once(
    choice: &TargetChoice,
    name: &str,
    args: &ConformanceArgs,
    folder: &Path,
    expected: Option<TargetExpectations>,
    quiet: bool,
) -> Result<TargetReport, NotRun> {
    if !quiet {
        println!("=== conformance: {name} ===");
    }
    let factory = match prepare_in(
        choice,
        &report_name(choice, &args.faults),
        &args.target,
        &args.faults,
        folder,
    )
    .await
    {
        Ok(factory) => factory,
        Err(failure) => {
            eprintln!("Error: {name}: {}", failure.message);
            return Err(NotRun::Prepare(failure));
        }
    };
    if let Some(client) = args.client.command()
        && client.faketime.is_none()
        && factory.capabilities().clock != parsec_mfa_scenarios::targets::ClockControl::None
    {
        let failure = Failure::new(
            exit::TARGET_UNUSABLE,
            format!(
                "the client under test signs its requests with the target's time, which it follows under libfaketime: {} (or run against a target in real time, --clock real)",
                parsec_mfa_scenarios::faketime::FaketimeError::NotInstalled
            ),
        );
        eprintln!("Error: {name}: {}", failure.message);
        return Err(NotRun::Prepare(failure));
    }
    let controls = RunControls {
        console: None,
        only: None,
        shard: args.shard,
        client: args.client.clone(),
    };
    let controls = match quiet {
        false => {
            println!("{}", factory.description());
            controls
        }
        true => {
            let path = folder.join("console.txt");
            let file = std::fs::create_dir_all(folder).and_then(|()| std::fs::File::create(&path));
            match file {
                Ok(file) => RunControls {
                    console: Some(Box::new(file)),
                    ..controls
                },
                Err(source) => {
                    let not_run = NotRun::Console { path, source };
                    eprintln!("Error: {name}: {not_run}");
                    return Err(not_run);
                }
            }
        }
    };
    let options = RunOptions {
        features: args.features.clone(),
        reports: folder.to_owned(),
        concurrency: args.concurrency,
        target: factory,
        tags: args.tags.clone(),
        name: args.name.clone(),
    };
    run_judged_with(options, controls, expected).await.map_err(|e| {
        eprintln!("Error: {name}: {e}");
        NotRun::Run(e)
    })
}

/// `--merge`: the `results.json` of shard runs (each folder a run's, or a
/// reports folder holding several targets' runs) merged into one report
/// per target in `--reports`, their comparison when there are several, and
/// one exit code.
fn run_merge(args: &ConformanceArgs) -> Result<(), Failure> {
    if !args.target.targets.is_empty()
        || args.repeat > 1
        || args.shard.is_some()
        || !args.expect.is_empty()
        || args.write_expectations.is_some()
    {
        return Err(usage(
            "--merge reads saved runs: it takes no --target, --repeat, --shard, --expect or --write-expectations",
        ));
    }
    let mut loaded = Vec::new();
    for folder in &args.merge {
        let found = match TargetReport::load(folder) {
            Ok(report) => vec![report],
            Err(_) => {
                let names = earlier_reports(folder);
                if names.is_empty() {
                    return Err(usage(format!(
                        "--merge {}: no results.json there nor in its folders",
                        folder.display()
                    )));
                }
                names
                    .iter()
                    .map(|n| TargetReport::load(&folder.join(n)).map_err(|e| Failure::general(format!("{n}: {e}"))))
                    .collect::<Result<Vec<_>, _>>()?
            }
        };
        loaded.extend(found);
    }
    let merged = merge_reports(loaded).map_err(|e| Failure::general(format!("--merge: {e}")))?;
    let mut outcomes = Vec::new();
    for report in merged {
        let folder = args.target.reports.join(&report.target);
        std::fs::create_dir_all(&folder).map_err(|e| Failure::general(format!("{}: {e}", folder.display())))?;
        report
            .write(&folder)
            .map_err(|e| Failure::general(format!("{}: {e}", folder.display())))?;
        println!("{}: {}", report.target, report.closing_line());
        println!("Report: {}", folder.join("index.html").display());
        outcomes.push((report.target.clone(), Ok(report)));
    }
    if outcomes.len() > 1 {
        let names: Vec<String> = outcomes.iter().map(|(n, _)| n.clone()).collect();
        write_compare(&args.target.reports, &names)?;
    }
    summarize(&outcomes, &[])
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
    let expectations = Expectations::load(&args.expect).map_err(usage)?;
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
fn write_expectations(path: &Path, outcomes: &[Outcome], previous: Option<&Expectations>) -> Result<(), Failure> {
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

/// `compare.html`: the targets side by side, each column linking to its
/// report; titled as the release matrix when they are all official
/// releases.
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
    let releases: Vec<&str> = names.iter().filter_map(|n| n.strip_prefix("official-")).collect();
    let title = (releases.len() == names.len())
        .then(|| format!("Parsec MFA conformance: the official releases {}", releases.join(", ")));
    let page = ComparePage {
        title,
        links: names.iter().map(|n| format!("{n}/{HTML_FILE}")).collect(),
    };
    let path = reports.join(COMPARE_FILE);
    std::fs::write(&path, compare_page(&loaded, &page))
        .map_err(|e| Failure::general(format!("{}: {e}", path.display())))?;
    println!("Comparison of {}: {}", names.join(", "), path.display());
    Ok(())
}

/// One line per target, and the exit code: 9 when a target could not be
/// used; 1 when a scenario failed (or none passed), or, in a run judged
/// against expectations, when an outcome is not the one expected.
fn summarize(outcomes: &[Outcome], repeats: &[&RepeatReport]) -> Result<(), Failure> {
    let varied: Vec<String> = repeats
        .iter()
        .filter(|r| !r.steady())
        .map(|r| format!("{} ({})", r.target, r.summary_line()))
        .collect();
    if !varied.is_empty() {
        return Err(Failure::general(format!(
            "outcomes varied across runs against {}",
            varied.join(", ")
        )));
    }
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
