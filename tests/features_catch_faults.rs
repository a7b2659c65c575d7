//! Mutation testing of the features: the reference server is started with
//! one deliberate defect at a time (`--inject-fault`), and the scenarios
//! that cover that behaviour must fail, while the faultless run passes.

use parsec_mfa_scenarios::report::{Status, TargetReport};
use parsec_mfa_scenarios::runner::{RunOptions, reports_dir, run};
use parsec_mfa_scenarios::target::InProcess;
use std::path::Path;
use std::sync::Arc;

/// Each fault, and scenarios that must fail because of it.
const FAULTS: &[(&str, &[&str])] = &[
    (
        "lockout-disabled",
        &[
            "The wait doubles with each wrong code",
            "Throttled answers do not count",
            "A right code during the wait is refused too",
        ],
    ),
    ("wide-clock-window", &["The phone's clock off by two steps is refused"]),
    (
        "reset-keeps-old-secret",
        &["The old authenticator's codes are refused after a reset"],
    ),
    (
        "reset-deletes-opaque-keys",
        &["Alice sets MFA up again and logs in on the same device, files intact"],
    ),
];

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut problems = Vec::new();
    for (fault, expected) in FAULTS {
        println!("=== the features against a server with the fault `{fault}`: failures below are expected ===");
        let name = format!("fault-{fault}");
        let reports = reports_dir(root, &name);
        let options = RunOptions {
            features: root.join("features"),
            reports: reports.clone(),
            concurrency: 16,
            target: Arc::new(InProcess {
                faults: vec![fault.to_string()],
            }),
            tags: None,
            name: None,
        };
        let totals = match run(options).await {
            Ok(totals) => totals,
            Err(e) => {
                problems.push(format!("{fault}: {e}"));
                continue;
            }
        };
        let failed: Vec<String> = match TargetReport::load(&reports) {
            Ok(report) => report
                .results
                .into_iter()
                .filter(|r| r.status == Status::Failed)
                .map(|r| r.scenario)
                .collect(),
            Err(e) => {
                problems.push(format!("{fault}: {e}"));
                continue;
            }
        };
        for scenario in *expected {
            if !failed.iter().any(|f| f.contains(scenario)) {
                problems.push(format!("{fault}: `{scenario}` did not fail"));
            }
        }
        println!(
            "fault {fault}: {} scenarios failed, as expected: {failed:?}",
            totals.failed
        );
    }
    if problems.is_empty() {
        println!("{} faults, each caught by the features", FAULTS.len());
        std::process::ExitCode::SUCCESS
    } else {
        for p in &problems {
            println!("NOT CAUGHT: {p}");
        }
        std::process::ExitCode::FAILURE
    }
}
