//! `parsec-mfa self-check`: the features against the reference server with
//! each deliberate defect, under each profile a user meets; the kill
//! matrix in `reports/self-check/` (`index.html`, `matrix.json`), a summary
//! on the console, and exit code 0 only when the faultless reference passes
//! everywhere and every defect is killed or listed as unobservable.

use super::failure::{Failure, exit};
use clap::Args;
use parsec_mfa_reference::client::faults::ClientFault;
use parsec_mfa_reference::server::Faults;
use parsec_mfa_scenarios::self_check::explored::ExploreBudget;
use parsec_mfa_scenarios::self_check::matrix::{Matrix, Outcome, Scope};
use parsec_mfa_scenarios::self_check::{FaultCase, Profile, SelfCheckError, SelfCheckOptions, run_self_check};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args)]
pub struct SelfCheckArgs {
    /// The profiles (repeatable): `in-process` (exact simulated clock),
    /// `launched` (the reference binary with clock control), `url` (the
    /// reference binary on the system clock, reached by its URL). Default:
    /// all three.
    #[arg(long = "profile", value_name = "PROFILE", value_parser = parse_profile)]
    profiles: Vec<Profile>,
    /// The defects (repeatable): names of `parsec-mfa serve --inject-fault`
    /// (the server's) or of `parsec-mfa --inject-client-fault` (the
    /// reference client's, run with its binary as the client under test).
    /// Default: every one.
    #[arg(long = "fault", value_name = "NAME")]
    faults: Vec<String>,
    /// Every run goes to the end, in every profile (every killing scenario
    /// listed). Default: the other profiles first try the scenarios that
    /// killed the defect in process, and stop at a kill.
    #[arg(long)]
    full: bool,
    /// Runs (a defect in a profile, or a faultless baseline) at the same
    /// time.
    #[arg(long, default_value_t = 6)]
    runs_at_once: usize,
    /// Scenarios at the same time within a run.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// The features: a folder of `.feature` files, or one file.
    #[arg(long, default_value = "features")]
    features: PathBuf,
    /// The matrix goes to `<reports>/self-check/` (emptied first).
    #[arg(long, default_value = "reports")]
    reports: PathBuf,
    /// Seconds a launched server has to answer.
    #[arg(long, default_value_t = 60)]
    start_timeout: u64,
    /// Also the `explore` column: each server defect looked for by
    /// `parsec-mfa explore` alone, against the reference in process, in
    /// --explore-sequences sequences from --explore-seed, for at most this
    /// many seconds each; found ones are shrunk, written and checked as
    /// scenarios, the others listed with their reason or reported as
    /// problems.
    #[arg(long, value_name = "SECONDS")]
    explore: Option<u64>,
    /// Sequences the `explore` column draws per defect.
    #[arg(long, value_name = "N", default_value_t = 600)]
    explore_sequences: usize,
    /// The seed of the `explore` column's sequences.
    #[arg(long, value_name = "SEED", default_value_t = 1)]
    explore_seed: u64,
    /// Runs every defect this many times, as if there were that many times
    /// more (to measure how the run time scales).
    #[arg(long, default_value_t = 1, hide = true)]
    repeat_faults: usize,
}

/// A `--profile` that names none.
#[derive(Debug, thiserror::Error)]
#[error("`{}` is not a profile (known: {})", .0, known_profiles())]
struct UnknownProfile(String);

fn known_profiles() -> String {
    Profile::ALL.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")
}

fn parse_profile(name: &str) -> Result<Profile, UnknownProfile> {
    Profile::parse(name).ok_or_else(|| UnknownProfile(name.to_owned()))
}

fn usage(message: impl Into<String>) -> Failure {
    Failure::new(2, format!("{} (see --help)", message.into()))
}

pub async fn run(args: SelfCheckArgs) -> Result<(), Failure> {
    let mut profiles = if args.profiles.is_empty() {
        Profile::ALL.to_vec()
    } else {
        args.profiles.clone()
    };
    profiles.sort();
    profiles.dedup();
    let mut faults: Vec<String> = if args.faults.is_empty() {
        Faults::NAMES
            .iter()
            .chain(ClientFault::NAMES.iter())
            .map(|f| f.to_string())
            .collect()
    } else {
        args.faults.clone()
    };
    faults.dedup();
    let is_client = |name: &str| ClientFault::NAMES.contains(&name);
    if let Some(unknown) = faults
        .iter()
        .find(|f| !Faults::NAMES.contains(&f.as_str()) && !is_client(f))
    {
        return Err(usage(format!(
            "--fault {unknown}: not a fault of the reference server (known: {}) nor of its client (known: {})",
            Faults::NAMES.join(", "),
            ClientFault::NAMES.join(", ")
        )));
    }
    let (client_faults, server_faults): (Vec<String>, Vec<String>) = faults.into_iter().partition(|f| is_client(f));
    if !args.features.exists() {
        return Err(usage(format!(
            "{}: no such features folder or file",
            args.features.display()
        )));
    }
    if args.runs_at_once == 0 || args.concurrency == 0 || args.start_timeout == 0 || args.repeat_faults == 0 {
        return Err(usage(
            "--runs-at-once, --concurrency, --start-timeout and --repeat-faults must be at least 1",
        ));
    }
    let binary = std::env::current_exe().map_err(|e| Failure::general(format!("cannot find this program: {e}")))?;
    let options = SelfCheckOptions {
        features: args.features.clone(),
        reports: args.reports.join("self-check"),
        binary,
        profiles,
        faults: FaultCase::list(&server_faults, args.repeat_faults)
            .into_iter()
            .chain(FaultCase::client_faults(&client_faults))
            .collect(),
        scope: if args.full { Scope::Full } else { Scope::KillersFirst },
        runs_at_once: args.runs_at_once,
        concurrency: args.concurrency,
        start_timeout: Duration::from_secs(args.start_timeout),
        explore: args.explore.map(|seconds| ExploreBudget {
            seed: args.explore_seed,
            sequences: args.explore_sequences,
            seconds,
        }),
    };
    let dir = options.reports.clone();
    println!(
        "=== self-check: {} defect run(s) × {} profile(s), and the faultless reference in each ===",
        options.faults.len(),
        options.profiles.len()
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let check = run_self_check(options, stopped);
    tokio::pin!(check);
    // Ctrl-C stops every run (and the servers they started), then returns.
    let outcome = tokio::select! {
        outcome = &mut check => outcome,
        _ = tokio::signal::ctrl_c() => {
            let _ = stop.send(true);
            let _ = check.await;
            return Err(Failure::new(exit::INTERRUPTED, "interrupted"));
        }
    };
    let matrix = match outcome {
        Ok(matrix) => matrix,
        Err(SelfCheckError::Interrupted) => return Err(Failure::new(exit::INTERRUPTED, "interrupted")),
        Err(e @ SelfCheckError::Io { .. }) => return Err(Failure::general(e.to_string())),
    };
    print_summary(&matrix);
    println!("Matrix: {} (and matrix.json)", dir.join("index.html").display());
    let problems = matrix.problems();
    if problems.is_empty() {
        return Ok(());
    }
    for problem in &problems {
        println!("PROBLEM: {problem}");
    }
    // A profile whose faultless server cannot be used says nothing of the
    // defects: the target error (9), as `conformance` reports it.
    if matrix.baselines.iter().any(|b| b.error.is_some()) {
        return Err(Failure::new(
            exit::TARGET_UNUSABLE,
            "the faultless reference could not run in every profile",
        ));
    }
    Err(Failure::general(format!(
        "{} problem(s): the matrix is not clean",
        problems.len()
    )))
}

/// The matrix on the console: a line per defect, a column per profile.
fn print_summary(matrix: &Matrix) {
    let width = matrix
        .faults
        .iter()
        .map(|row| Matrix::shown_label(row).len())
        .chain([20])
        .max()
        .unwrap_or(20);
    let mut header = format!("{:<width$}", "");
    for info in &matrix.profiles {
        header.push_str(&format!("  {:<22}", info.profile.name()));
    }
    if matrix.explore.is_some() {
        header.push_str("  explore");
    }
    println!("{header}");
    let mut baseline = format!("{:<width$}", "faultless reference");
    for info in &matrix.profiles {
        let text = match matrix.baselines.iter().find(|b| b.profile == info.profile) {
            Some(b) if b.problem().is_none() => b
                .run
                .as_ref()
                .map(|r| format!("{} passed, {} skipped", r.passed, r.skipped))
                .unwrap_or_default(),
            Some(b) => match &b.run {
                Some(r) => format!("FAILED {}", r.failed),
                None => "ERROR".into(),
            },
            None => "not run".into(),
        };
        baseline.push_str(&format!("  {text:<22}"));
    }
    println!("{baseline}");
    for row in &matrix.faults {
        let mut line = format!("{:<width$}", Matrix::shown_label(row));
        for info in &matrix.profiles {
            let text = match row.cells.iter().find(|c| c.profile == info.profile) {
                Some(cell) => match (cell.outcome, &cell.run) {
                    (Outcome::Killed, Some(run)) => {
                        format!("killed by {}/{}", run.failed, run.ran())
                    }
                    (Outcome::Survived, _) => "SURVIVED".into(),
                    (Outcome::Unobservable, _) => "not observable".into(),
                    _ => "ERROR".into(),
                },
                None => "not run".into(),
            };
            line.push_str(&format!("  {text:<22}"));
        }
        if let Some(cell) = &row.explore {
            let text = match (cell.shrunk_to, &cell.reason) {
                (Some(length), _) => format!("found, {length} op(s), {:.1} s", cell.seconds),
                (None, Some(_)) => "not explorable".into(),
                (None, None) => "NOT FOUND".into(),
            };
            line.push_str(&format!("  {text}"));
        }
        println!("{line}");
    }
    let settings = &matrix.settings;
    println!(
        "{:.1} s wall time{}; {} run(s) at once, {} scenario(s) at once per run; scope: {}",
        settings.wall_seconds,
        settings
            .cpu_seconds
            .map(|cpu| format!(", {cpu:.1} s CPU"))
            .unwrap_or_default(),
        settings.runs_at_once,
        settings.concurrency,
        match settings.scope {
            Scope::Full => "full (every run to the end)",
            Scope::KillersFirst => "killers first (in-process runs to the end; the others stop at a kill)",
        }
    );
}
