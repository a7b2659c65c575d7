//! `junit.xml`: one `testsuite` per feature, one `testcase` per scenario
//! (its feature as `classname`, its file and line as attributes), with a
//! `failure` (the detail's first line in `message`, the whole detail as
//! text) or a `skipped` (the reason). Written by quick-junit (nextest's), which
//! escapes and drops what XML cannot carry. cucumber's own JUnit writer
//! does not fit: it names a test case `Scenario: NAME: FILE:LINE:COLUMN`
//! with the outline's name for every row, gives no reason for a skip, and
//! never sees the scenarios the runner skipped.

use super::model::{Status, TargetReport};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

pub fn to_junit_xml(report: &TargetReport) -> String {
    let mut junit = Report::new(format!("Parsec MFA conformance: {}", report.target));
    for feature in report.by_feature() {
        let mut suite = TestSuite::new(feature.feature);
        suite.extra.insert("file".into(), feature.feature_file.into());
        for result in &feature.scenarios {
            let detail = result.detail.as_deref().unwrap_or("");
            let status = match result.status {
                Status::Passed => TestCaseStatus::success(),
                Status::Failed => {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    // An attribute cannot keep line breaks: the first line
                    // (the step and the start of its error) is the message.
                    let first_line = detail.lines().next().unwrap_or_default();
                    status.set_message(first_line).set_description(detail);
                    status
                }
                Status::Skipped => {
                    let mut status = TestCaseStatus::skipped();
                    status.set_message(detail);
                    status
                }
            };
            let mut case = TestCase::new(result.scenario.as_str(), status);
            case.set_classname(result.feature.as_str());
            case.extra.insert("file".into(), result.feature_file.as_str().into());
            case.extra.insert("line".into(), result.line.to_string().into());
            suite.add_test_case(case);
        }
        junit.add_test_suite(suite);
    }
    // Only a failing writer fails, and this one writes to memory.
    junit.to_string().unwrap_or_default()
}
