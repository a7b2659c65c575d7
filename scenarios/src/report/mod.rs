//! The conformance report of one run against one target, and its pages.
//!
//! - [`model`]: the report as typed data ([`TargetReport`], one
//!   [`ScenarioResult`] per scenario, [`Totals`]), which is `results.json`;
//! - [`collect`]: cucumber's event stream into that model (a cucumber
//!   `Writer`), with the scenarios the runner skips added;
//! - [`skips`]: those scenarios ([`Skips`]), which cucumber's own JSON
//!   report is told of too; [`names`]: how both name features and scenarios;
//! - [`junit`], [`html`], [`compare`]: `junit.xml`, `index.html`, and the
//!   page comparing targets side by side, each from the model alone;
//! - [`attack`], [`plot`]: `attack.html` of `parsec-mfa attack` (the
//!   attacker's figures, [`crate::attack`]) and its SVG plot.
//!
//! A run's folder holds `junit.xml`, `cucumber.json` (cucumber's own
//! writer's), `index.html` and `results.json` (read back by
//! [`TargetReport::load`] for `--compare`).

pub mod attack;
pub mod collect;
pub mod compare;
pub mod html;
pub mod junit;
pub mod living;
pub mod merge;
pub mod model;
pub mod names;
pub mod plot;
pub mod repeat;
pub mod skips;

pub use collect::{Collector, SKIPPED_TAG, Skips};
pub use compare::{ComparePage, compare_html, compare_page};
pub use living::{AttachmentSink, Recorder};
pub use model::{ScenarioResult, Status, TargetReport, Totals};
use std::path::{Path, PathBuf};

/// `results.json`: what [`TargetReport::save`] writes and [`TargetReport::load`] reads.
pub const RESULTS_FILE: &str = "results.json";
/// The readable page of one target.
pub const HTML_FILE: &str = "index.html";
/// The page comparing targets.
pub const COMPARE_FILE: &str = "compare.html";
/// cucumber's JSON report, with the scenarios the runner skipped.
pub const CUCUMBER_JSON_FILE: &str = "cucumber.json";
pub const JUNIT_FILE: &str = "junit.xml";

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("the report is not valid: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot read or write {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl TargetReport {
    /// `results.json`: the report itself, for pages built later.
    pub fn to_results_json(&self) -> String {
        // Strings, numbers and plain structs: nothing here fails to serialise.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn from_results_json(json: &str) -> Result<Self, ReportError> {
        Ok(serde_json::from_str(json)?)
    }

    /// Writes `results.json` into `dir`.
    pub fn save(&self, dir: &Path) -> Result<(), ReportError> {
        write_file(&dir.join(RESULTS_FILE), &self.to_results_json())
    }

    /// Reads back the `results.json` of [`Self::save`] in `dir`.
    pub fn load(dir: &Path) -> Result<Self, ReportError> {
        let path = dir.join(RESULTS_FILE);
        let json = std::fs::read_to_string(&path).map_err(|source| ReportError::Io { path, source })?;
        Self::from_results_json(&json)
    }

    pub fn to_junit_xml(&self) -> String {
        junit::to_junit_xml(self)
    }

    pub fn to_html(&self) -> String {
        html::to_html(self)
    }

    /// Writes `junit.xml`, `index.html` and `results.json` into `dir`
    /// (`cucumber.json` is cucumber's, written during the run).
    pub fn write(&self, dir: &Path) -> Result<(), ReportError> {
        write_file(&dir.join(JUNIT_FILE), &self.to_junit_xml())?;
        write_file(&dir.join(HTML_FILE), &self.to_html())?;
        self.save(dir)
    }
}

fn write_file(path: &Path, contents: &str) -> Result<(), ReportError> {
    std::fs::write(path, contents).map_err(|source| ReportError::Io {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(file: &str, scenario: &str, line: u32, status: Status, detail: Option<&str>) -> ScenarioResult {
        ScenarioResult {
            detail: detail.map(str::to_owned),
            expected: None,
            feature: if file.contains("brute") {
                "Guessing codes is slowed down"
            } else {
                "A lost phone"
            }
            .into(),
            feature_file: format!("features/{file}.feature"),
            line,
            scenario: scenario.into(),
            status,
            steps: Vec::new(),
            verdict: None,
        }
    }

    /// Two features, results out of line order.
    fn sample() -> TargetReport {
        let mut report = TargetReport::new("reference", "The reference server");
        report.results = vec![
            result(
                "lost_phone",
                "Alice's MFA is reset",
                9,
                Status::Failed,
                Some("After hook: the mailbox was not empty"),
            ),
            result(
                "brute_force",
                "The wait doubles (n 2)",
                18,
                Status::Failed,
                Some("Then it waits: Step panicked. Captured output: not throttled\n(step definition: a.rs:1:1)"),
            ),
            result("brute_force", "The wait doubles (n 1)", 17, Status::Passed, None),
            result(
                "lost_phone",
                "The background fails",
                5,
                Status::Failed,
                Some("Given an organization: cannot start"),
            ),
            result(
                "brute_force",
                "Throttled answers do not count",
                45,
                Status::Failed,
                Some("Then 1 attempt: left: 3\n right: 1"),
            ),
            result(
                "brute_force",
                "A step nobody wrote",
                60,
                Status::Failed,
                Some("When Alice dances: undefined step"),
            ),
        ];
        report
    }

    const HOSTILE: &str = "<script>alert('x')</script> & \"quoted\"";

    fn hostile() -> TargetReport {
        let mut report = TargetReport::new("<target & co>", "A \"server\" <b>bold</b>");
        let mut failed = result("<evil>", &format!("Scenario {HOSTILE}"), 3, Status::Failed, None);
        failed.feature = format!("Feature {HOSTILE}");
        failed.detail = Some(format!("Then {HOSTILE}: panicked: left <1> & right \"2\"\nsecond line"));
        report.results.push(failed);
        let mut skipped = ScenarioResult::skipped(
            "x",
            "features/<evil>.feature",
            "Skipped 'one'",
            9,
            "needs <clock> & \"control\"",
        );
        skipped.feature = format!("Feature {HOSTILE}");
        report.results.push(skipped);
        report
    }

    #[test]
    fn totals_count_each_status() {
        let mut report = sample();
        assert_eq!(
            report.totals(),
            Totals {
                passed: 1,
                failed: 5,
                skipped: 0
            }
        );
        report
            .results
            .push(ScenarioResult::skipped("F", "features/f.feature", "S", 2, "why"));
        assert_eq!(report.totals().line(), "1 passed, 5 failed, 1 skipped");
        assert_eq!(report.totals().total(), 7);
    }

    #[test]
    fn html_escapes_everything() {
        let html = hostile().to_html();
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"));
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(!html.contains("<evil>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert('x')&lt;/script&gt; &amp; &quot;quoted&quot;"));
        assert!(html.contains("<title>Parsec MFA conformance: &lt;target &amp; co&gt;</title>"));
        assert!(
            html.contains(
                "<tr class=\"scenario failed\" data-status=\"failed\" data-scenario=\"Scenario &lt;script&gt;"
            )
        );
        assert!(html.contains(
            "<tr class=\"scenario skipped\" data-status=\"skipped\" data-scenario=\"Skipped 'one'\" data-line=\"9\">"
        ));
        assert!(html.contains("<pre>needs &lt;clock&gt; &amp; &quot;control&quot;</pre>"));
        assert!(html.contains("left &lt;1&gt; &amp; right &quot;2&quot;\nsecond line</pre>"));
        assert!(html.contains(">0 passed, 1 failed, 1 skipped</p>"));
        assert!(html.contains("<td class=\"status\">Failed</td>"));
        assert!(html.contains("<td class=\"status\">Skipped</td>"));
        assert!(!html.contains("http"), "no external resources");
    }

    #[test]
    fn junit_escapes_everything() {
        let xml = hostile().to_junit_xml();
        assert!(!xml.contains("<script"), "{xml}");
        assert!(!xml.contains("<evil>"), "{xml}");
        assert!(xml.contains(
            "<testcase name=\"Skipped &apos;one&apos;\" classname=\"Feature &lt;script&gt;alert(&apos;x&apos;)"
        ));
        assert!(xml.contains("<skipped message=\"needs &lt;clock&gt; &amp; &quot;control&quot;\"/>"));
        // The first line in the attribute, the whole detail as text.
        assert!(
            xml.contains("left &lt;1&gt; &amp; right &quot;2&quot;\">Then &lt;script&gt;"),
            "{xml}"
        );
        assert!(xml.contains("right &quot;2&quot;\nsecond line</failure>"), "{xml}");
        assert!(xml.contains("<testsuites name=\"Parsec MFA conformance: &lt;target &amp; co&gt;\" tests=\"2\" skipped=\"1\" failures=\"1\""));
    }

    #[test]
    fn junit_has_a_suite_per_feature_and_a_case_per_scenario() {
        let xml = sample().to_junit_xml();
        assert_eq!(xml.matches("<testsuite ").count(), 2);
        assert_eq!(xml.matches("<testcase ").count(), 6);
        assert_eq!(xml.matches("<failure ").count(), 5);
        assert!(xml.contains(
            "<testsuite name=\"A lost phone\" tests=\"2\" skipped=\"0\" errors=\"0\" failures=\"2\" file=\"features/lost_phone.feature\">"
        ));
        assert!(xml.contains("<testcase name=\"The wait doubles (n 1)\" classname=\"Guessing codes is slowed down\" file=\"features/brute_force.feature\" line=\"17\"/>"));
    }

    #[test]
    fn results_json_round_trip_and_older_files() {
        let report = hostile();
        assert_eq!(
            TargetReport::from_results_json(&report.to_results_json()).unwrap(),
            report
        );
        // The fields not filled yet stay out of the file, and so do
        // expectations when the run had none.
        for field in ["steps", "sections", "expected", "verdict", "expectations"] {
            assert!(!report.to_results_json().contains(field), "{field}");
        }
        // A judged run reads back with its expectations and verdicts.
        let mut judged = sample();
        judged.results[0].expected = Some(model::Expectation {
            outcome: model::ExpectedOutcome::Fail,
            reason: "a <reason>".into(),
            reference: Some("features/README.md".into()),
        });
        for result in &mut judged.results {
            result.verdict = Some(model::Verdict::of(result.status, result.expected.as_ref()));
        }
        judged.expectations = Some(model::Judged {
            files: vec!["e.toml".into()],
            ..Default::default()
        });
        let json = judged.to_results_json();
        assert!(json.contains("\"verdict\": \"known_divergence\""), "{json}");
        assert!(json.contains("\"verdict\": \"unexpected_failure\""), "{json}");
        assert!(json.contains("\"outcome\": \"fail\""), "{json}");
        let read = TargetReport::from_results_json(&json).unwrap();
        assert_eq!(read, judged);
        assert_eq!(
            read.closing_line(),
            "1 passed, 5 failed, 0 skipped; 1 known divergence, 0 unexpected passes"
        );
        assert!(!read.succeeded(), "4 unexpected failures");
        let older = r#"{"description":"d","format":"parsec-mfa-report/1","results":[{"detail":null,"feature":"F",
            "feature_file":"f","line":3,"scenario":"S","status":"passed"}],"target":"t"}"#;
        assert_eq!(TargetReport::from_results_json(older).unwrap().totals().passed, 1);
        for bad in [
            "[]",
            "{}",
            &older.replace("report/1", "report/2"),
            &older.replace("passed", "won"),
        ] {
            assert!(TargetReport::from_results_json(bad).is_err(), "{bad}");
        }

        let dir = std::env::temp_dir().join(format!("parsec-mfa-report-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let report = sample();
        report.write(&dir).unwrap();
        assert_eq!(TargetReport::load(&dir).unwrap(), report);
        for file in [JUNIT_FILE, HTML_FILE] {
            assert!(dir.join(file).exists(), "{file}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(TargetReport::load(&dir), Err(ReportError::Io { .. })));
    }

    #[test]
    fn html_groups_by_feature_and_orders_by_line() {
        let html = sample().to_html();
        assert_eq!(html.matches("<section class=\"feature\"").count(), 2);
        let brute = html.find("data-feature-file=\"features/brute_force.feature\"").unwrap();
        let lost = html.find("data-feature-file=\"features/lost_phone.feature\"").unwrap();
        assert!(brute < lost);
        let lines: Vec<u32> = html
            .split("data-line=\"")
            .skip(1)
            .map(|s| s.split('"').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(lines, [17, 18, 45, 60, 5, 9]);
        assert_eq!(html.matches("data-status=\"passed\"").count(), 1);
        assert_eq!(html.matches("data-status=\"failed\"").count(), 5);
    }

    #[test]
    fn sections_come_after_the_features() {
        let mut report = sample();
        report.sections.push(model::Section {
            id: "attack-figures".into(),
            title: "Attack <figures>".into(),
            paragraphs: vec!["Codes tried per hour.".into()],
            table: Some(model::Table {
                columns: vec!["target".into(), "codes".into()],
                rows: vec![vec!["reference".into(), "12".into()]],
            }),
        });
        let html = report.to_html();
        let section = html
            .find("<section class=\"extra\" id=\"attack-figures\">")
            .expect("the section");
        assert!(section > html.rfind("<section class=\"feature\"").unwrap());
        assert!(html.contains("<h2>Attack &lt;figures&gt;</h2>"));
        assert!(html.contains("<tr><td>reference</td><td>12</td></tr>"));
    }

    #[test]
    fn compare_highlights_disagreements() {
        let reference = sample();
        let mut official = sample();
        official.target = "official".into();
        official.description = "The official server".into();
        // The official server passes where the reference failed...
        let row = official.results.iter_mut().find(|r| r.line == 18).unwrap();
        row.status = Status::Passed;
        row.detail = None;
        // ...skips what it cannot run, and has one scenario the reference lacks.
        official.results.retain(|r| r.line != 45);
        let mut throttled = ScenarioResult::skipped(
            "x",
            "features/brute_force.feature",
            "Throttled answers do not count",
            45,
            "no clock <control>",
        );
        throttled.feature = "Guessing codes is slowed down".into();
        official.results.push(throttled);
        official.results.push(ScenarioResult::skipped(
            "Guessing codes is slowed down",
            "features/brute_force.feature",
            "Extra",
            99,
            "x",
        ));

        let html = compare_html(&[reference, official]);
        assert!(html.starts_with("<!DOCTYPE html>"));
        let rows: Vec<&str> = html.split("<tr class=\"scenario").skip(1).collect();
        assert_eq!(rows.len(), 7);
        let row = |name: &str| {
            *rows
                .iter()
                .find(|r| r.contains(&format!("data-scenario=\"{name}\"")))
                .unwrap_or_else(|| panic!("no row {name}"))
        };
        assert!(
            row("The wait doubles (n 1)").starts_with("\" "),
            "same status: not highlighted"
        );
        assert!(row("The wait doubles (n 2)").starts_with(" differs\""));
        assert!(row("The wait doubles (n 2)").contains("targets disagree"));
        assert!(row("Throttled answers do not count").starts_with(" differs\""));
        assert!(row("Throttled answers do not count").contains("title=\"no clock &lt;control&gt;\""));
        assert!(row("Extra").starts_with(" differs\""));
        assert!(row("Extra").contains("data-status=\"missing\">Not in this report</td>"));
        assert!(row("A step nobody wrote").starts_with("\" "));
        assert!(html.contains("data-differs=\"3\""));
        // Each column headed by its target's name, linking to its
        // description below the table; the descriptions only there.
        let (head, rest) = html.split_once("</thead>").unwrap();
        assert!(head.contains("<th scope=\"col\" data-target=\"official\">official <a class=\"about\" href=\"#about-official\" title=\"what this target is\">about</a></th>"), "{head}");
        assert!(
            !head.contains("The reference server") && !head.contains("The official server"),
            "{head}"
        );
        let targets = rest.split_once("</table>").unwrap().1;
        assert!(targets.contains("<dt id=\"about-reference\" data-target=\"reference\">reference</dt><dd class=\"description\">The reference server</dd>"), "{targets}");
        assert!(targets.contains("<dt id=\"about-official\" data-target=\"official\">official</dt><dd class=\"description\">The official server</dd>"), "{targets}");
        // Each target's totals in the header.
        assert!(html.contains("data-target=\"reference\" data-passed=\"1\" data-failed=\"5\" data-skipped=\"0\">1 passed, 5 failed, 0 skipped</td>"));
        assert!(html.contains("data-target=\"official\" data-passed=\"2\" data-failed=\"3\" data-skipped=\"2\">2 passed, 3 failed, 2 skipped</td>"));
        // By feature, then line.
        let lines: Vec<&str> = html
            .split("data-line=\"")
            .skip(1)
            .map(|s| s.split('"').next().unwrap())
            .collect();
        assert_eq!(lines, ["17", "18", "45", "60", "99", "5", "9"]);
        assert_eq!(html.matches("<tr class=\"feature\"").count(), 2);
    }
}
