//! `parsec-mfa explore`, the CI gate of model-based exploration:
//!
//! - the reference in process against itself, fixed seeds: no divergence;
//! - deliberate defects of the reference server, one per family of rules
//!   (setup, secrets, keys, throttle, reset links, freeze): each found by
//!   exploration alone, shrunk to a few operations, written as a feature
//!   that fails on the defective server and passes on the reference (the
//!   tool's own check, then run again here through `conformance`);
//! - the self-check's `explore` column: a defect found and checked, one
//!   listed as unexplorable not found and not a problem;
//! - the command: exit 1 and `explore.json` with a divergence; its
//!   `divergence.feature` replayed by `conformance`;
//! - the scenario kept in `features/explored.feature` (written by the
//!   explorer): fails on its defect, passes on the reference;
//! - the official server 3.9.3 (MOCKED storage, exact clock under
//!   libfaketime) with `expectations/explore-official-3.9.3.toml`: exit 0
//!   (without Python 3.12 or libfaketime: SKIPPED, unless
//!   `PARSEC_MFA_REQUIRE_OFFICIAL=1` / `PARSEC_MFA_REQUIRE_FAKETIME=1`).
//!
//! Each check prints its wall time; the commands' output goes to
//! `reports/explore-check/`.

use parsec_mfa_scenarios::explore::{Budget, ExploreConfig, ExploreReport, explore};
use parsec_mfa_scenarios::faketime::find_library;
use parsec_mfa_scenarios::lockstep::shrink::ShrinkBudget;
use parsec_mfa_scenarios::servers::find_python312;
use parsec_mfa_scenarios::targets::{InProcess, TargetFactory};
use parsec_mfa_scenarios::testing::available;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::Instant;

const BINARY: &str = env!("CARGO_BIN_EXE_parsec-mfa");
const REPORTS: &str = "reports/explore-check";

/// Defects found within these few sequences from seed 1 (the column of
/// `docs/explore.md` has them all).
const DEFECTS: &[&str] = &[
    "confirm-ignores-code",
    "secret-shared-in-organization",
    "fetch-key-of-any-user",
    "lockout-disabled",
    "reset-token-of-any-user",
    "frozen-user-uses-reset-link",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn reports() -> PathBuf {
    root().join(REPORTS)
}

fn ensure(condition: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if condition { Ok(()) } else { Err(what()) }
}

fn config(name: &str, sequences: usize) -> ExploreConfig {
    ExploreConfig {
        seed: 1,
        budget: Budget {
            sequences: Some(sequences),
            ..Budget::default()
        },
        length: 40,
        users: 3,
        concurrency: 4,
        max_advance: 600,
        shrink: ShrinkBudget::default(),
        expected: Vec::new(),
        target_name: name.to_owned(),
        target_flags: format!("--target {name}"),
        command: "tests/explore.rs".into(),
        reports: reports().join(name),
        shard: None,
    }
}

fn in_process(faults: &[&str]) -> Arc<dyn TargetFactory> {
    Arc::new(InProcess {
        faults: faults.iter().map(|f| f.to_string()).collect(),
    })
}

async fn reference_against_itself() -> Result<String, String> {
    let report = explore(in_process(&[]), in_process(&[]), &config("reference-itself", 100))
        .await
        .map_err(|e| e.to_string())?;
    ensure(report.passed(), || format!("a divergence: {:?}", report.found))?;
    ensure(report.operations > 2_000, || {
        format!("only {} operations in 100 sequences", report.operations)
    })?;
    Ok(format!(
        "{} operations, {:.0} operations/s",
        report.operations, report.operations_per_second
    ))
}

async fn defect_found(fault: &str) -> Result<String, String> {
    let report: ExploreReport = explore(in_process(&[]), in_process(&[fault]), &config(fault, 400))
        .await
        .map_err(|e| e.to_string())?;
    let found = report
        .found
        .ok_or_else(|| format!("{fault}: not found in 400 sequences"))?;
    let check = found
        .check
        .as_ref()
        .ok_or_else(|| format!("{fault}: the scenario was not checked: {:?}", found.check_error))?;
    ensure(check.fails_on_target && check.passes_on_reference, || {
        format!("{fault}: the written scenario's check: {check:?}\n{}", found.feature)
    })?;
    ensure(found.operations.len() <= 8 && !found.shrink_exhausted, || {
        format!(
            "{fault}: shrunk to {} operations only: {:?}",
            found.operations.len(),
            found.operations
        )
    })?;
    // The written file, run again through the command as a user would.
    let feature = found.feature_file.display().to_string();
    let on_defect = conformance(
        &[
            "--target",
            "in-process",
            "--inject-fault",
            fault,
            "--features",
            &feature,
        ],
        fault,
    )?;
    ensure(on_defect == Some(1), || {
        format!("{fault}: conformance on the defect exited {on_defect:?}")
    })?;
    let on_reference = conformance(
        &["--target", "in-process", "--features", &feature],
        &format!("{fault}-reference"),
    )?;
    ensure(on_reference == Some(0), || {
        format!("{fault}: conformance on the reference exited {on_reference:?}")
    })?;
    Ok(format!(
        "sequence {}, {} → {} operations in {} runs",
        found.sequence_seed,
        found.drawn,
        found.operations.len(),
        found.shrink_runs
    ))
}

/// Runs the binary; its output goes to `<reports>/<log>.console.log`.
fn run(args: &[&str], log: &str) -> Result<Option<i32>, String> {
    std::fs::create_dir_all(reports()).map_err(|e| e.to_string())?;
    let output = Command::new(BINARY)
        .args(args)
        .current_dir(root())
        .output()
        .map_err(|e| format!("{BINARY}: {e}"))?;
    let mut console = output.stdout.clone();
    console.extend_from_slice(&output.stderr);
    std::fs::write(reports().join(format!("{log}.console.log")), console).map_err(|e| e.to_string())?;
    Ok(output.status.code())
}

fn conformance(args: &[&str], log: &str) -> Result<Option<i32>, String> {
    let folder = reports().join("conformance").display().to_string();
    let mut all = vec!["conformance", "--reports", &folder];
    all.extend_from_slice(args);
    run(&all, log)
}

fn command_finds_and_writes() -> Result<String, String> {
    let folder = reports().join("command");
    let _ = std::fs::remove_dir_all(&folder);
    let shown = folder.display().to_string();
    let args = [
        "explore",
        "--target",
        "in-process",
        "--inject-fault",
        "reset-link-reusable",
        "--seed",
        "1",
        "--sequences",
        "200",
        "--reports",
        &shown,
    ];
    let code = run(&args, "command")?;
    ensure(code == Some(1), || format!("explore on a defect exited {code:?}"))?;
    let dir = folder.join("reference-in-process-reset-link-reusable").join("explore");
    let json = std::fs::read_to_string(dir.join("explore.json")).map_err(|e| e.to_string())?;
    let report: ExploreReport = serde_json::from_str(&json).map_err(|e| e.to_string())?;
    let found = report.found.ok_or("explore.json has no divergence")?;
    ensure(found.replay.contains("--inject-fault reset-link-reusable"), || {
        format!("the replay command: {}", found.replay)
    })?;
    let page = std::fs::read_to_string(dir.join("explore.html")).map_err(|e| e.to_string())?;
    ensure(
        page.contains("The divergence") && page.contains("Checked: it fails on the target"),
        || "explore.html does not show the checked divergence".to_owned(),
    )?;
    let feature = std::fs::read_to_string(dir.join("divergence.feature")).map_err(|e| e.to_string())?;
    ensure(
        feature.contains("# Replay: parsec-mfa conformance --target in-process --inject-fault reset-link-reusable"),
        || format!("the feature's replay line:\n{feature}"),
    )?;
    // The unshrunk sequence alone, by its seed: the same divergence.
    let replay_folder = folder.join("replay").display().to_string();
    let seed = found.sequence_seed.to_string();
    let replay = [
        "explore",
        "--target",
        "in-process",
        "--inject-fault",
        "reset-link-reusable",
        "--seed",
        &seed,
        "--sequences",
        "1",
        "--reports",
        &replay_folder,
    ];
    let code = run(&replay, "replay")?;
    ensure(code == Some(1), || format!("the replay exited {code:?}"))?;
    // Without the defect: green.
    let clean = [
        "explore",
        "--target",
        "in-process",
        "--seed",
        "1",
        "--sequences",
        "50",
        "--reports",
        &shown,
    ];
    let code = run(&clean, "clean")?;
    ensure(code == Some(0), || format!("explore on the reference exited {code:?}"))?;
    Ok(format!(
        "{} operations shrunk to {}",
        found.drawn,
        found.operations.len()
    ))
}

/// Two shards of a run, merged: the same sequences, operations and
/// divergence as the run unsharded; a missing shard refused.
fn shards_merged() -> Result<String, String> {
    let folder = reports().join("shards");
    let _ = std::fs::remove_dir_all(&folder);
    let read = |dir: &Path| -> Result<ExploreReport, String> {
        let path = dir
            .join("reference-in-process-lockout-disabled")
            .join("explore")
            .join("explore.json");
        let json = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&json).map_err(|e| e.to_string())
    };
    let explore = |extra: &[&str], out: &Path, log: &str| {
        let shown = out.display().to_string();
        let mut args = vec![
            "explore",
            "--target",
            "in-process",
            "--inject-fault",
            "lockout-disabled",
            "--seed",
            "1",
            "--sequences",
            "12",
            "--reports",
            &shown,
        ];
        args.extend_from_slice(extra);
        run(&args, log)
    };
    let whole = folder.join("whole");
    let code = explore(&[], &whole, "shards-whole")?;
    ensure(code == Some(1), || format!("the unsharded run exited {code:?}"))?;
    for k in ["1/2", "2/2"] {
        let out = folder.join(k.replace('/', "-of-"));
        let code = explore(&["--shard", k], &out, &format!("shard-{}", k.replace('/', "-of-")))?;
        ensure(code.is_some_and(|c| c <= 1), || format!("shard {k} exited {code:?}"))?;
    }
    let merged = folder.join("merged");
    let (one, two, to) = (
        folder.join("1-of-2").display().to_string(),
        folder.join("2-of-2").display().to_string(),
        merged.display().to_string(),
    );
    let code = run(&["explore", "--merge", &one, &two, "--reports", &to], "shards-merge")?;
    ensure(code == Some(1), || format!("the merge exited {code:?}"))?;
    let (whole, merged) = (read(&whole)?, read(&merged)?);
    let seeds = |r: &ExploreReport| r.found.as_ref().map(|f| f.sequence_seed);
    ensure(merged.merged.len() == 2 && seeds(&merged) == seeds(&whole), || {
        format!(
            "merged: {} shards, divergence at sequence {:?}; unsharded: {:?}",
            merged.merged.len(),
            seeds(&merged),
            seeds(&whole)
        )
    })?;
    let code = run(&["explore", "--merge", &one, "--reports", &to], "shards-merge-missing")?;
    let console =
        std::fs::read_to_string(reports().join("shards-merge-missing.console.log")).map_err(|e| e.to_string())?;
    // Exit 1 is also a divergence's: the refusal must be the reason.
    ensure(code == Some(1) && console.contains("shards missing: 2/2"), || {
        format!("merging one shard of two exited {code:?}: {console}")
    })?;
    Ok(format!(
        "2 shards merged: {} sequences, the divergence at sequence {:?} as unsharded",
        merged.sequences,
        seeds(&merged)
    ))
}

fn kept_scenario() -> Result<String, String> {
    let feature = "features/explored.feature";
    let on_defect = conformance(
        &[
            "--target",
            "in-process",
            "--inject-fault",
            "reset-token-of-any-user",
            "--features",
            feature,
        ],
        "kept-defect",
    )?;
    ensure(on_defect == Some(1), || format!("on its defect: exit {on_defect:?}"))?;
    let on_reference = conformance(&["--target", "in-process", "--features", feature], "kept-reference")?;
    ensure(on_reference == Some(0), || {
        format!("on the reference: exit {on_reference:?}")
    })?;
    Ok("fails on reset-token-of-any-user, passes on the reference".into())
}

async fn self_check_column() -> Result<String, String> {
    use parsec_mfa_scenarios::self_check::explored::{ExploreBudget, explore_fault};
    let budget = ExploreBudget {
        seed: 1,
        sequences: 40,
        seconds: 120,
    };
    let folder = reports().join("self-check-column");
    let found = explore_fault("confirm-ignores-code", budget, &folder).await;
    ensure(found.found && found.checked && found.problem.is_none(), || {
        format!("confirm-ignores-code: {found:?}")
    })?;
    let listed = explore_fault("signature-unchecked", budget, &folder).await;
    ensure(
        !listed.found && listed.reason.is_some() && listed.problem.is_none(),
        || format!("signature-unchecked: {listed:?}"),
    )?;
    Ok(format!(
        "found in {} operations; signature-unchecked not explorable: {}",
        found.operations,
        listed.reason.unwrap_or_default()
    ))
}

fn official() -> Result<String, String> {
    let folder = reports().join("official").display().to_string();
    let args = [
        "explore",
        "--target",
        "official",
        "--seed",
        "1",
        "--time",
        "20",
        "--expect",
        "expectations/explore-official-3.9.3.toml",
        "--reports",
        &folder,
    ];
    let code = run(&args, "official")?;
    let json = std::fs::read_to_string(reports().join("official/official-3.9.3/explore/explore.json"))
        .map_err(|e| format!("no explore.json ({e}); exit {code:?}"))?;
    let report: ExploreReport = serde_json::from_str(&json).map_err(|e| e.to_string())?;
    ensure(code == Some(0), || format!("exit {code:?}: {:?}", report.found))?;
    ensure(report.operations > 100, || {
        format!("only {} operations", report.operations)
    })?;
    Ok(format!(
        "{} operations, {:.0} operations/s, {} expected divergences",
        report.operations,
        report.operations_per_second,
        report.expected.len()
    ))
}

fn main() -> ExitCode {
    parsec_mfa_reference::client::tls::install_crypto_provider();
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let mut results: Vec<(String, f64, Result<String, String>)> = Vec::new();
    let mut timed = |name: String, check: &mut dyn FnMut() -> Result<String, String>| {
        let started = Instant::now();
        let outcome = check();
        results.push((name, started.elapsed().as_secs_f64(), outcome));
    };
    timed("the reference against itself".into(), &mut || {
        runtime.block_on(reference_against_itself())
    });
    for fault in DEFECTS {
        timed(format!("found: {fault}"), &mut || runtime.block_on(defect_found(fault)));
    }
    timed("the self-check's explore column".into(), &mut || {
        runtime.block_on(self_check_column())
    });
    timed("the command".into(), &mut command_finds_and_writes);
    timed("shards merged".into(), &mut shards_merged);
    timed("features/explored.feature".into(), &mut kept_scenario);
    let official_here = available(
        "the official server",
        find_python312().map(|_| ()).map_err(|e| e.to_string()),
        "PARSEC_MFA_REQUIRE_OFFICIAL",
    )
    .and_then(|python| {
        let faketime = available("libfaketime", find_library().map(|_| ()), "PARSEC_MFA_REQUIRE_FAKETIME")?;
        Ok(python && faketime)
    });
    match official_here {
        Ok(true) => timed("official 3.9.3, MOCKED, exact clock".into(), &mut official),
        Ok(false) => {}
        Err(e) => timed("official 3.9.3 available".into(), &mut || Err(e.clone())),
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
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
