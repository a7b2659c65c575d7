//! The step "an attacker tries N wrong codes …, each as soon as allowed"
//! is bounded by the rule it checks: against a server whose `throttled`
//! replies name a `wait_until` already past (the deliberate defect
//! `throttle-wait-in-the-past`), it fails at once with that reason instead
//! of looping.

use parsec_mfa_scenarios::report::{Status, TargetReport};
use parsec_mfa_scenarios::runner::{RunOptions, reports_dir, run};
use parsec_mfa_scenarios::targets::InProcess;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread")]
async fn a_throttle_naming_a_past_wait_fails_the_step_in_seconds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let reports = reports_dir(root, "bounded-waits-past-wait");
    let options = RunOptions {
        features: root.join("features"),
        reports: reports.clone(),
        concurrency: 16,
        target: Arc::new(InProcess {
            faults: vec!["throttle-wait-in-the-past".to_owned()],
        }),
        tags: Some("@THR-1".to_owned()),
        name: None,
    };
    let started = Instant::now();
    run(options).await.unwrap();
    let elapsed = started.elapsed();
    let report = TargetReport::load(&reports).unwrap();
    let failed: Vec<_> = report.results.iter().filter(|r| r.status == Status::Failed).collect();
    assert!(!failed.is_empty(), "no scenario failed");
    assert!(
        failed.iter().any(|r| r
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("throttled until a time already past"))),
        "{:?}",
        failed.iter().map(|r| &r.detail).collect::<Vec<_>>()
    );
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
}
