//! `junit.xml`: one `testsuite` per feature, one `testcase` per scenario
//! (its feature as `classname`, its file and line as attributes), with a
//! `failure` (the detail's first line in `message`, the whole detail as
//! text) or a `skipped` (the reason). Written by quick-junit (nextest's), which
//! escapes and drops what XML cannot carry. cucumber's own JUnit writer
//! does not fit: it names a test case `Scenario: NAME: FILE:LINE:COLUMN`
//! with the outline's name for every row, gives no reason for a skip, and
//! never sees the scenarios the runner skipped.
//!
//! In a run judged against expectations (`--expect`), as pytest writes its
//! expected failures: a known divergence is `skipped` (`type`
//! `known_divergence`, the expectation as message, the failure as text); an
//! unexpected pass or skip is a `failure` of that `type`, the expectation
//! in its message; an expected skip says its expectation too. Stale
//! expectations are failures of one more suite, `Expectations`.

use super::model::{ScenarioResult, Status, TargetReport, Verdict};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

pub fn to_junit_xml(report: &TargetReport) -> String {
    let mut junit = Report::new(format!("Parsec MFA conformance: {}", report.target));
    for feature in report.by_feature() {
        let mut suite = TestSuite::new(feature.feature);
        suite.extra.insert("file".into(), feature.feature_file.into());
        for result in &feature.scenarios {
            let mut case = TestCase::new(result.scenario.as_str(), status(result));
            case.set_classname(result.feature.as_str());
            case.extra.insert("file".into(), result.feature_file.as_str().into());
            case.extra.insert("line".into(), result.line.to_string().into());
            suite.add_test_case(case);
        }
        junit.add_test_suite(suite);
    }
    if let Some(judged) = report.expectations.as_ref().filter(|j| !j.stale.is_empty()) {
        let mut suite = TestSuite::new("Expectations");
        for stale in &judged.stale {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_type("stale_expectation").set_message(format!(
                "matches no scenario of the features: {}",
                stale.expected.describe()
            ));
            let mut case = TestCase::new(format!("{} \"{}\"", stale.feature, stale.scenario), status);
            case.set_classname(stale.file.as_str());
            suite.add_test_case(case);
        }
        junit.add_test_suite(suite);
    }
    // Only a failing writer fails, and this one writes to memory.
    junit.to_string().unwrap_or_default()
}

fn status(result: &ScenarioResult) -> TestCaseStatus {
    let detail = result.detail.as_deref().unwrap_or("");
    // An attribute cannot keep line breaks: the first line (the step and
    // the start of its error) is the message.
    let first_line = detail.lines().next().unwrap_or_default();
    let expected = result.expected.as_ref().map(|e| e.describe());
    let failure = |kind: Verdict, message: String| {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        status.set_type(kind.as_str()).set_message(message);
        status
    };
    match (result.verdict, result.status) {
        (None, Status::Passed) | (Some(Verdict::Passed), _) => TestCaseStatus::success(),
        (None, Status::Failed) => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(first_line).set_description(detail);
            status
        }
        (None, Status::Skipped) => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(detail);
            status
        }
        (Some(Verdict::KnownDivergence), _) => {
            let mut status = TestCaseStatus::skipped();
            status
                .set_type(Verdict::KnownDivergence.as_str())
                .set_message(format!("known divergence: {}", expected.unwrap_or_default()))
                .set_description(detail);
            status
        }
        (Some(Verdict::ExpectedSkip), _) => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(format!("{detail} ({})", expected.unwrap_or_default()));
            status
        }
        (Some(Verdict::UnexpectedFailure), _) => {
            let mut status = failure(Verdict::UnexpectedFailure, first_line.to_owned());
            let said = expected
                .map(|e| format!("{detail}\n({e})"))
                .unwrap_or(detail.to_owned());
            status.set_description(said);
            status
        }
        (Some(Verdict::UnexpectedPass), _) => failure(
            Verdict::UnexpectedPass,
            format!("unexpected pass: {}", expected.unwrap_or_default()),
        ),
        (Some(Verdict::UnexpectedSkip), _) => {
            let mut status = failure(
                Verdict::UnexpectedSkip,
                format!(
                    "unexpected skip ({}): {first_line}",
                    expected.unwrap_or_else(|| "expected to pass".into())
                ),
            );
            status.set_description(detail);
            status
        }
    }
}
