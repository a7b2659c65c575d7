//! Mutation testing of the features: the reference server is started with
//! one deliberate defect at a time (`--inject-fault`), and the scenarios
//! that cover that behaviour must fail, while the faultless run passes.

use parsec_mfa_scenarios::runner::{RunOptions, reports_dir, run};
use parsec_mfa_scenarios::target::InProcess;
use parsec_mfa_scenarios::world::use_target;
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

/// Names of the failed scenarios in a JUnit report.
fn failed_scenarios(junit: &str) -> Vec<String> {
    junit
        .split("<testcase")
        .skip(1)
        .filter(|case| {
            let body = case.split("</testcase>").next().unwrap_or(case);
            body.contains("<failure") || body.contains("<error")
        })
        .filter_map(|case| {
            let name = case.split("name=\"").nth(1)?;
            Some(name.split('"').next()?.replace("&apos;", "'").replace("&quot;", "\""))
        })
        .collect()
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut problems = Vec::new();
    for (fault, expected) in FAULTS {
        use_target(Arc::new(InProcess {
            faults: vec![fault.to_string()],
        }));
        println!("=== the features against a server with the fault `{fault}`: failures below are expected ===");
        let name = format!("fault-{fault}");
        let reports = reports_dir(root, &name);
        let options = RunOptions {
            features: root.join("features"),
            reports: reports.clone(),
            concurrency: 16,
        };
        let totals = match run(options).await {
            Ok(totals) => totals,
            Err(e) => {
                problems.push(format!("{fault}: {e}"));
                continue;
            }
        };
        let junit = std::fs::read_to_string(reports.join("junit.xml")).unwrap_or_default();
        let failed = failed_scenarios(&junit);
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
