//! The unit tests of the expectation files: reading, judging, writing.

use super::*;
use crate::report::ScenarioResult;

const FILE: &str = r#"
[target."official-3.9.3"]

[[target."official-3.9.3".scenario]]
feature = "features/brute_force.feature"
scenario = "Wrong codes sent at the same time are all accounted for"
outcome = "fail"
reason = "lost increments"
reference = "features/README.md"

[[target."official-3.9.3".scenario]]
feature = "brute_force.feature"
scenario = "The wait doubles with each wrong code (failures 10, wait 512)"
outcome = "skip"
reason = "too long"

[[target."official-3.9.3".scenario]]
feature = "features/brute_force.feature"
scenario = "Left out by --name"
outcome = "fail"
reason = "x"

[[target."official-3.9.3".scenario]]
feature = "features/brute_force.feature"
scenario = "Renamed long ago"
outcome = "fail"
reason = "x"

[target.reference]
"#;

fn result(scenario: &str, status: Status) -> ScenarioResult {
    let mut result = ScenarioResult::skipped("Guessing codes", "features/brute_force.feature", scenario, 7, "why");
    result.status = status;
    result
}

#[test]
fn a_file_is_read_per_target() {
    let all = Expectations::parse(FILE, "x.toml").expect("valid");
    assert_eq!(all.targets().collect::<Vec<_>>(), ["official-3.9.3", "reference"]);
    let official = all.for_target("official-3.9.3").unwrap();
    assert_eq!(official.files, ["x.toml"]);
    assert_eq!(official.scenarios.len(), 4);
    assert_eq!(
        official.scenarios[0].expected.describe(),
        "expected to fail: lost increments (see features/README.md)"
    );
    assert_eq!(official.scenarios[1].expected.reference, None);
    assert_eq!(all.for_target("reference").unwrap().scenarios, []);
    assert!(all.for_target("official-3.8.0").is_none());
}

#[test]
fn bad_files_say_where_on_one_line() {
    let cases = [
        (
            "outcome = \"fail\"",
            "outcome = \"flaky\"",
            "line 7, column 11: unknown variant `flaky`",
        ),
        ("reason = \"too long\"", "reasn = \"too long\"", "unknown field `reasn`"),
        ("reason = \"too long\"", "reason = \"  \"", "`reason` is empty"),
        (
            "[target.reference]",
            "[target.reference",
            "line 29, column 18: unclosed table",
        ),
        (
            "scenario = \"Renamed long ago\"",
            "scenario = \"Left out by --name\"",
            "is expected twice (also in x.toml)",
        ),
    ];
    for (from, to, says) in cases {
        let text = FILE.replacen(from, to, 1);
        let error = Expectations::parse(&text, "x.toml").unwrap_err().to_string();
        assert!(error.starts_with("x.toml: "), "{error}");
        assert!(error.contains(says), "{to}: {error}");
        assert!(!error.contains('\n'), "{error}");
    }
    let none = Expectations::parse("# nothing\n", "y.toml").unwrap_err().to_string();
    assert!(none.contains("names no target"), "{none}");
    let missing = Expectations::load(&[PathBuf::from("/nonexistent/e.toml")]).unwrap_err();
    assert!(
        missing
            .to_string()
            .starts_with("cannot read the expectation file /nonexistent/e.toml")
    );
}

#[test]
fn feature_files_are_compared_from_their_end() {
    assert!(same_feature("features/a.feature", "features/a.feature"));
    assert!(same_feature("a.feature", "/tmp/x/features/a.feature"));
    assert!(same_feature("./features/a.feature", "/p/features/a.feature"));
    assert!(!same_feature("features/a.feature", "/tmp/x/a.feature"));
    assert!(!same_feature("features/a.feature", "features/b.feature"));
    assert!(!same_feature("", "features/a.feature"));
    assert!(!same_feature("ba.feature", "features/a.feature"));
}

#[test]
fn every_result_gets_a_verdict() {
    let all = Expectations::parse(FILE, "x.toml").unwrap();
    let mut report = TargetReport::new("official-3.9.3", "d");
    report.results = vec![
        result(
            "Wrong codes sent at the same time are all accounted for",
            Status::Failed,
        ),
        result(
            "The wait doubles with each wrong code (failures 10, wait 512)",
            Status::Passed,
        ),
        result("A right code clears the count", Status::Passed),
        result("A reset lifts a lockout", Status::Skipped),
        result("Throttled answers do not count", Status::Failed),
    ];
    let mut known = KnownScenarios::default();
    known.add("features/brute_force.feature".into(), "Left out by --name".into());
    all.for_target("official-3.9.3").unwrap().judge(&mut report, &known);
    let verdicts: Vec<Verdict> = report.results.iter().map(|r| r.verdict.unwrap()).collect();
    assert_eq!(
        verdicts,
        [
            Verdict::KnownDivergence,
            Verdict::UnexpectedPass,
            Verdict::Passed,
            Verdict::UnexpectedSkip,
            Verdict::UnexpectedFailure
        ]
    );
    let judged = report.expectations.as_ref().unwrap();
    assert_eq!(judged.left_out, 1);
    assert_eq!(judged.stale.len(), 1);
    assert_eq!(
        judged.stale[0].describe(),
        "x.toml: features/brute_force.feature \"Renamed long ago\" (expected to fail: x) matches no scenario of the features"
    );
    let judgement = report.judgement().unwrap();
    assert_eq!(judgement.mismatches(), 4);
    let race = "features/brute_force.feature:7 \"Wrong codes sent at the same time are all accounted for\"";
    assert_eq!(
        console_lines(&report),
        [
            format!("known divergence: {race}: expected to fail: lost increments (see features/README.md)"),
            "UNEXPECTED PASS: features/brute_force.feature:7 \"The wait doubles with each wrong code (failures 10, wait 512)\": Passed; expected to skip: too long".into(),
            "UNEXPECTED SKIP: features/brute_force.feature:7 \"A reset lifts a lockout\": Skipped (expected to pass): why".into(),
            "UNEXPECTED FAILURE: features/brute_force.feature:7 \"Throttled answers do not count\": Failed (expected to pass): why".into(),
            "STALE EXPECTATION: x.toml: features/brute_force.feature \"Renamed long ago\" (expected to fail: x) matches no scenario of the features".into(),
            "1 expectation(s) not checked: their scenarios were left out of this run (--tags, --name)".into(),
        ]
    );
    assert_eq!(
        report.closing_line(),
        "2 passed, 2 failed, 1 skipped; 1 known divergence, 1 unexpected pass, 1 unexpected skip, 1 stale expectation"
    );
    assert!(!report.succeeded());
}

#[test]
fn expected_skips_and_the_strict_rules() {
    let skip = Expectation {
        outcome: ExpectedOutcome::Skip,
        reason: "r".into(),
        reference: None,
    };
    let fail = Expectation {
        outcome: ExpectedOutcome::Fail,
        ..skip.clone()
    };
    assert_eq!(Verdict::of(Status::Skipped, Some(&skip)), Verdict::ExpectedSkip);
    assert_eq!(Verdict::of(Status::Passed, Some(&skip)), Verdict::UnexpectedPass);
    assert_eq!(Verdict::of(Status::Failed, Some(&skip)), Verdict::UnexpectedFailure);
    assert_eq!(Verdict::of(Status::Skipped, Some(&fail)), Verdict::UnexpectedSkip);
    assert_eq!(Verdict::of(Status::Skipped, None), Verdict::UnexpectedSkip);
    assert_eq!(Verdict::of(Status::Failed, None), Verdict::UnexpectedFailure);

    // Only known divergences and expected skips: a success, which the
    // closing line says.
    let all = Expectations::parse(FILE, "x.toml").unwrap();
    let mut report = TargetReport::new("official-3.9.3", "d");
    report.results = vec![
        result(
            "Wrong codes sent at the same time are all accounted for",
            Status::Failed,
        ),
        result(
            "The wait doubles with each wrong code (failures 10, wait 512)",
            Status::Skipped,
        ),
    ];
    let mut known = KnownScenarios::default();
    for name in ["Left out by --name", "Renamed long ago"] {
        known.add("/elsewhere/features/brute_force.feature".into(), name.into());
    }
    all.for_target("official-3.9.3").unwrap().judge(&mut report, &known);
    assert_eq!(
        report.closing_line(),
        "0 passed, 1 failed, 1 skipped; 1 known divergence, 0 unexpected passes"
    );
    assert!(report.succeeded(), "a known divergence checked");
    // Nothing checked at all is not a success.
    report.results.remove(0);
    assert!(!report.succeeded());
}

#[test]
fn a_written_file_reads_back_keeping_reasons() {
    let previous = Expectations::parse(FILE, "x.toml").unwrap();
    let mut report = TargetReport::new("official-3.9.3", "the official server");
    let mut failed = result(
        "Wrong codes sent at the same time are all accounted for",
        Status::Failed,
    );
    failed.detail = Some("Then 1 attempt: left 3\nright 1".into());
    failed.line = 77;
    let mut new_failure = result("Throttled \"answers\" do not count", Status::Failed);
    new_failure.detail = Some("Then it fails: \\ because".into());
    new_failure.line = 45;
    let mut skipped = result("A reset lifts a lockout", Status::Skipped);
    skipped.line = 60;
    report.results = vec![failed, new_failure, skipped, result("A", Status::Passed)];
    let mut other = TargetReport::new("cmd", "a command");
    other.results = vec![result("B", Status::Passed)];
    let text = expectations_toml(&[&report, &other], Some(&previous));
    assert!(text.starts_with("# Expected outcomes"), "{text}");
    assert!(
        text.contains(
            "\n# the official server\n[target.\"official-3.9.3\"]\n\n[[target.\"official-3.9.3\".scenario]]\n"
        ),
        "{text}"
    );
    let read = Expectations::parse(&text, "w.toml").unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(read.targets().collect::<Vec<_>>(), ["cmd", "official-3.9.3"]);
    assert_eq!(read.for_target("cmd").unwrap().scenarios, []);
    let official = &read.for_target("official-3.9.3").unwrap().scenarios;
    let summary: Vec<(&str, ExpectedOutcome, &str, Option<&str>)> = official
        .iter()
        .map(|e| {
            (
                e.scenario.as_str(),
                e.expected.outcome,
                e.expected.reason.as_str(),
                e.expected.reference.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "Throttled \"answers\" do not count",
                ExpectedOutcome::Fail,
                "observed: Then it fails: \\ because",
                None
            ),
            ("A reset lifts a lockout", ExpectedOutcome::Skip, "observed: why", None),
            (
                "Wrong codes sent at the same time are all accounted for",
                ExpectedOutcome::Fail,
                "lost increments",
                Some("features/README.md")
            ),
        ],
        "by line"
    );
    // Written whole, over what was there.
    let dir = std::env::temp_dir().join(format!("parsec-mfa-expectations-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("e.toml");
    std::fs::write(&path, "old").unwrap();
    write_atomically(&path, &text).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no temporary file left");
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(write_atomically(&dir.join("e.toml"), &text).is_err());
}
