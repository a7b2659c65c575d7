//! Mutation testing of the features. Every deliberate defect of the
//! reference server (`Fault::ALL`) breaks one rule of the behaviour
//! catalogue (`docs/spec.md`); the scenarios tagged with that rule run in
//! process against a server with the defect, and at least one of them must
//! fail. The faultless run of every scenario is `features_in_process`.
//!
//! First, the catalogue and its uses are checked against each other: every
//! rule tag of the features and every fault's rule is defined in
//! `docs/spec.md`, and the catalogue names every fault.

use futures::StreamExt as _;
use parsec_mfa_reference::client::faults::ClientFault;
use parsec_mfa_reference::server::Fault;
use parsec_mfa_scenarios::catalogue::{defined_rules, tagged_scenarios};
use parsec_mfa_scenarios::report::{Status, TargetReport};
use parsec_mfa_scenarios::runner::{RunOptions, Totals, reports_dir, run};
use parsec_mfa_scenarios::targets::InProcess;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

/// Defects checked at the same time (each run has 16 scenarios at most in
/// flight, each on its own in-process server).
const CONCURRENT_RUNS: usize = 4;

fn catalogue_problems(root: &Path) -> Vec<String> {
    let spec_path = root.join("docs/spec.md");
    let spec = match std::fs::read_to_string(&spec_path) {
        Ok(text) => text,
        Err(e) => return vec![format!("{}: {e}", spec_path.display())],
    };
    let defined: BTreeSet<String> = defined_rules(&spec).into_iter().collect();
    let mut problems = Vec::new();
    match tagged_scenarios(&root.join("features")) {
        Ok(scenarios) => {
            for scenario in &scenarios {
                for rule in scenario.rules.difference(&defined) {
                    problems.push(format!(
                        "{}.feature: the tag @{rule} is not a rule of docs/spec.md",
                        scenario.feature
                    ));
                }
            }
            let tagged: BTreeSet<&String> = scenarios.iter().flat_map(|s| &s.rules).collect();
            for fault in Fault::ALL {
                if !tagged.contains(&fault.rule().to_owned()) {
                    problems.push(format!("{}: no scenario is tagged @{}", fault.name(), fault.rule()));
                }
            }
        }
        Err(e) => problems.push(e.to_string()),
    }
    for fault in Fault::ALL {
        if !defined.contains(fault.rule()) {
            problems.push(format!(
                "{}: its rule {} is not in docs/spec.md",
                fault.name(),
                fault.rule()
            ));
        }
        if !spec.contains(&format!("`{}`", fault.name())) {
            problems.push(format!("{}: docs/spec.md does not name it", fault.name()));
        }
    }
    // The reference client's defects break client rules, checked by the
    // self-check (tests/self_check.rs) through the client contract.
    let tagged: BTreeSet<String> = tagged_scenarios(&root.join("features"))
        .map(|scenarios| scenarios.into_iter().flat_map(|s| s.rules).collect())
        .unwrap_or_default();
    for fault in ClientFault::ALL {
        if !defined.contains(fault.rule()) || !tagged.contains(fault.rule()) {
            problems.push(format!(
                "client fault {}: its rule {} is not in docs/spec.md or tags no scenario",
                fault.name(),
                fault.rule()
            ));
        }
        if !spec.contains(&format!("`{}`", fault.name())) {
            problems.push(format!("client fault {}: docs/spec.md does not name it", fault.name()));
        }
    }
    problems
}

/// The run's totals and the names of the scenarios that failed.
type Outcome = Result<(Totals, Vec<String>), String>;

/// Runs the scenarios of the fault's rule against a server with the fault.
async fn run_with(root: &Path, fault: Fault) -> Outcome {
    let reports = reports_dir(root, &format!("fault-{}", fault.name()));
    let options = RunOptions {
        features: root.join("features"),
        reports: reports.clone(),
        concurrency: 16,
        target: Arc::new(InProcess {
            faults: vec![fault.name().to_owned()],
        }),
        tags: Some(format!("@{}", fault.rule())),
        name: None,
    };
    let totals = run(options).await.map_err(|e| e.to_string())?;
    let report = TargetReport::load(&reports).map_err(|e| e.to_string())?;
    let failed = report
        .results
        .into_iter()
        .filter(|r| r.status == Status::Failed)
        .map(|r| r.scenario)
        .collect();
    Ok((totals, failed))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut problems = catalogue_problems(root);
    let started = std::time::Instant::now();
    let outcomes: Vec<(Fault, Outcome)> = futures::stream::iter(Fault::ALL)
        .map(|&fault| async move { (fault, run_with(root, fault).await) })
        .buffer_unordered(CONCURRENT_RUNS)
        .collect()
        .await;
    let mut caught = Vec::new();
    for (fault, outcome) in outcomes {
        match outcome {
            Err(e) => problems.push(format!("{}: {e}", fault.name())),
            Ok((totals, failed)) if failed.is_empty() => problems.push(format!(
                "{} ({}): none of the scenarios tagged @{} failed ({})",
                fault.name(),
                fault.description(),
                fault.rule(),
                totals.line()
            )),
            Ok((_, failed)) => caught.push(format!(
                "{:<42} @{:<16} {} failed: {}",
                fault.name(),
                fault.rule(),
                failed.len(),
                failed.join("; ")
            )),
        }
    }
    caught.sort();
    println!("=== each defect, and the scenarios of its rule it made fail (failures above were expected) ===");
    for line in &caught {
        println!("{line}");
    }
    println!(
        "{} of {} defects caught in {:.1} s",
        caught.len(),
        Fault::ALL.len(),
        started.elapsed().as_secs_f64()
    );
    if problems.is_empty() {
        std::process::ExitCode::SUCCESS
    } else {
        for p in &problems {
            println!("NOT CAUGHT: {p}");
        }
        std::process::ExitCode::FAILURE
    }
}
