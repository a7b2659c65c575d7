//! The features (`features/*.feature`) against the reference server running
//! in this process, each scenario on its own server and simulated clock.
//! Any failed, undefined or unexplained skipped step fails the run.

use parsec_mfa_scenarios::runner::{RunOptions, reports_dir, run};
use parsec_mfa_scenarios::targets::InProcess;
use std::path::Path;
use std::sync::Arc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let options = RunOptions {
        features: root.join("features"),
        reports: reports_dir(root, "reference-in-process"),
        concurrency: 16,
        target: Arc::new(InProcess::default()),
        tags: None,
        name: None,
    };
    match run(options).await {
        Ok(totals) if totals.failed == 0 && totals.passed > 0 => std::process::ExitCode::SUCCESS,
        Ok(_) => std::process::ExitCode::FAILURE,
        Err(e) => {
            eprintln!("Error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
