//! `--repeat N`: the same target run N times, and every scenario whose
//! outcome varied from run to run, with the messages of each outcome
//! (`repeat.json`, `repeat.html` in the target's report folder).
//!
//! A scenario's outcome in a run is its status and, in a run judged against
//! expectations, its verdict; a scenario that a run did not report at all
//! (the run could not be made, or left it out) is `missing` there. A
//! scenario varied when its outcomes are not all the same; one that failed
//! in every run with different messages did not vary (its runs' totals say
//! it failed). A run that could not be made at all (the target did not
//! start) is a variation of its own: the run fails.

use super::html::page;
use super::model::{ScenarioResult, TargetReport};
use maud::html;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The `format` of `repeat.json`.
pub const REPEAT_FORMAT: &str = "parsec-mfa-repeat/1";
pub const REPEAT_JSON_FILE: &str = "repeat.json";
pub const REPEAT_HTML_FILE: &str = "repeat.html";

/// N runs of one target, compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepeatReport {
    pub format: String,
    pub target: String,
    pub description: String,
    /// Each run, in order.
    pub runs: Vec<RunLine>,
    /// Distinct scenarios reported by any run.
    pub scenarios: usize,
    /// The scenarios whose outcome varied, by feature file then line.
    pub varying: Vec<Varying>,
}

/// One run: its closing line, or why it could not be made; its folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunLine {
    /// From 1.
    pub run: usize,
    /// Its report's folder, relative to the target's.
    pub folder: String,
    /// The closing line (`N passed, …`), when the run was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closing_line: Option<String>,
    /// Why the run could not be made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A scenario whose outcome varied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Varying {
    pub feature_file: String,
    pub line: u32,
    pub scenario: String,
    /// Each outcome, with the runs that had it and their messages.
    pub outcomes: Vec<OutcomeRuns>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeRuns {
    /// `passed`, `failed`, `skipped`, with the verdict in a judged run
    /// (`failed, known divergence`), or `missing`.
    pub outcome: String,
    pub runs: Vec<usize>,
    /// Each distinct message (a failure's step and error, a skip's reason)
    /// and the runs that gave it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<MessageRuns>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRuns {
    pub message: String,
    pub runs: Vec<usize>,
}

/// What one scenario did in a run.
fn outcome(result: &ScenarioResult) -> String {
    match result.verdict {
        Some(verdict) if verdict.label() != result.status.as_str() => {
            format!("{}, {}", result.status.as_str(), verdict.label())
        }
        _ => result.status.as_str().to_owned(),
    }
}

impl RepeatReport {
    /// The runs compared: `runs[i]` is run `i + 1`, its report or why it
    /// could not be made; `folder(run)` names its report's folder.
    pub fn of<E: std::fmt::Display>(
        target: &str,
        description: &str,
        runs: &[Result<TargetReport, E>],
        folder: impl Fn(usize) -> String,
    ) -> Self {
        type Key = (String, u32);
        // Each scenario's (name, per-run result).
        let mut seen: BTreeMap<Key, (String, Vec<Option<&ScenarioResult>>)> = BTreeMap::new();
        for (i, run) in runs.iter().enumerate() {
            let Ok(report) = run else { continue };
            for result in &report.results {
                let entry = seen
                    .entry((result.feature_file.clone(), result.line))
                    .or_insert_with(|| (result.scenario.clone(), vec![None; runs.len()]));
                entry.1[i].get_or_insert(result);
            }
        }
        let mut varying = Vec::new();
        for ((feature_file, line), (scenario, cells)) in &seen {
            let mut outcomes: Vec<OutcomeRuns> = Vec::new();
            for (i, cell) in cells.iter().enumerate() {
                let name = cell.map(outcome).unwrap_or_else(|| "missing".into());
                let at = match outcomes.iter().position(|o| o.outcome == name) {
                    Some(at) => at,
                    None => {
                        outcomes.push(OutcomeRuns {
                            outcome: name,
                            runs: Vec::new(),
                            messages: Vec::new(),
                        });
                        outcomes.len() - 1
                    }
                };
                let group = &mut outcomes[at];
                group.runs.push(i + 1);
                let message = match cell {
                    Some(result) => result.detail.clone(),
                    None => runs[i]
                        .as_ref()
                        .err()
                        .map(|e| format!("the run could not be made: {e}")),
                };
                if let Some(message) = message {
                    match group.messages.iter_mut().find(|m| m.message == message) {
                        Some(m) => m.runs.push(i + 1),
                        None => group.messages.push(MessageRuns {
                            message,
                            runs: vec![i + 1],
                        }),
                    }
                }
            }
            if outcomes.len() > 1 {
                varying.push(Varying {
                    feature_file: feature_file.clone(),
                    line: *line,
                    scenario: scenario.clone(),
                    outcomes,
                });
            }
        }
        let runs = runs
            .iter()
            .enumerate()
            .map(|(i, run)| RunLine {
                run: i + 1,
                folder: folder(i + 1),
                closing_line: run.as_ref().ok().map(TargetReport::closing_line),
                error: run.as_ref().err().map(E::to_string),
            })
            .collect();
        RepeatReport {
            format: REPEAT_FORMAT.into(),
            target: target.into(),
            description: description.into(),
            runs,
            scenarios: seen.len(),
            varying,
        }
    }

    /// Runs that could not be made.
    pub fn errors(&self) -> usize {
        self.runs.iter().filter(|r| r.error.is_some()).count()
    }

    /// Whether every run was made and no scenario varied.
    pub fn steady(&self) -> bool {
        self.errors() == 0 && self.varying.is_empty()
    }

    /// `0 of 109 scenarios varied in 20 runs` (and the runs not made).
    pub fn summary_line(&self) -> String {
        let mut line = format!(
            "{} of {} scenarios varied in {} runs",
            self.varying.len(),
            self.scenarios,
            self.runs.len()
        );
        if self.errors() > 0 {
            line.push_str(&format!("; {} runs could not be made", self.errors()));
        }
        line
    }

    /// The console's lines: the summary, then each varying scenario and
    /// its outcomes, with the first line of each message.
    pub fn console_lines(&self) -> Vec<String> {
        let mut lines = vec![format!("{}: {}", self.target, self.summary_line())];
        for run in self.runs.iter().filter(|r| r.error.is_some()) {
            lines.push(format!(
                "  run {} could not be made: {}",
                run.run,
                run.error.as_deref().unwrap_or_default()
            ));
        }
        for varying in &self.varying {
            lines.push(format!(
                "  VARIED {}:{} {}",
                varying.feature_file, varying.line, varying.scenario
            ));
            for outcome in &varying.outcomes {
                lines.push(format!(
                    "    {} in {} runs ({})",
                    outcome.outcome,
                    outcome.runs.len(),
                    run_list(&outcome.runs)
                ));
                for message in &outcome.messages {
                    lines.push(format!(
                        "      [{}] {}",
                        run_list(&message.runs),
                        message.message.lines().next().unwrap_or_default()
                    ));
                }
            }
        }
        lines
    }

    pub fn to_json(&self) -> String {
        // Strings, numbers and plain structs: nothing here fails to serialise.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        let report: RepeatReport = serde_json::from_str(json)?;
        if report.format != REPEAT_FORMAT {
            return Err(serde::de::Error::custom(format!(
                "format `{}`, expected `{REPEAT_FORMAT}`",
                report.format
            )));
        }
        Ok(report)
    }

    /// `repeat.html`: the summary, each run (linking to its report), and
    /// each varying scenario with its outcomes and messages.
    pub fn to_html(&self) -> String {
        let body = html! {
            header { "\n"
                h1 { "Parsec MFA conformance, repeated: " (self.target) } "\n"
                p class="description" { (self.description) } "\n"
                p class="summary" data-runs=(self.runs.len()) data-scenarios=(self.scenarios)
                    data-varying=(self.varying.len()) data-errors=(self.errors()) {
                    (self.summary_line()) "."
                } "\n"
                p class="legend" {
                    "A scenario varied when its outcome (status, and verdict in a run judged against expected results) "
                    "was not the same in every run; its outcomes are listed with the runs that had them and their messages."
                } "\n"
            } "\n"
            section class="runs" { "\n"
                h2 { "Runs" } "\n"
                table class="runs" { "\n"
                    thead { tr { th scope="col" { "Run" } th scope="col" { "Outcome" } } } "\n"
                    tbody { "\n"
                        @for run in &self.runs {
                            tr class=(if run.error.is_some() { "run error" } else { "run" }) data-run=(run.run) {
                                th scope="row" { a href=(format!("{}/index.html", run.folder)) { "run " (run.run) } }
                                td {
                                    @if let Some(line) = &run.closing_line { (line) }
                                    @if let Some(error) = &run.error { "could not be made: " (error) }
                                }
                            } "\n"
                        }
                    }
                } "\n"
            } "\n"
            section class="varying" { "\n"
                h2 { "Scenarios whose outcome varied" } "\n"
                @if self.varying.is_empty() {
                    p class="none" { "None." } "\n"
                }
                @for varying in &self.varying {
                    article class="varying" data-feature-file=(varying.feature_file) data-line=(varying.line)
                        data-scenario=(varying.scenario) { "\n"
                        h3 { (varying.scenario) " " span class="file" { (varying.feature_file) ":" (varying.line) } } "\n"
                        ul { "\n"
                            @for outcome in &varying.outcomes {
                                li data-outcome=(outcome.outcome) data-runs=(outcome.runs.len()) {
                                    strong { (outcome.outcome) } " in " (outcome.runs.len()) " runs (" (run_list(&outcome.runs)) ")"
                                    @for message in &outcome.messages {
                                        details { summary { "runs " (run_list(&message.runs)) } pre { (message.message) } }
                                    }
                                } "\n"
                            }
                        } "\n"
                    } "\n"
                }
            } "\n"
        };
        page(&format!("Parsec MFA conformance, repeated: {}", self.target), body)
    }
}

/// `1, 3, 7`.
fn run_list(runs: &[usize]) -> String {
    runs.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{Expectation, ExpectedOutcome, Status, Verdict};

    fn result(line: u32, status: Status, detail: Option<&str>) -> ScenarioResult {
        ScenarioResult {
            detail: detail.map(str::to_owned),
            expected: None,
            feature: "F".into(),
            feature_file: "features/f.feature".into(),
            line,
            scenario: format!("S{line}"),
            status,
            steps: Vec::new(),
            verdict: None,
        }
    }

    fn run(results: Vec<ScenarioResult>) -> Result<TargetReport, &'static str> {
        let mut report = TargetReport::new("t", "d");
        report.results = results;
        Ok(report)
    }

    #[test]
    fn steady_runs_vary_nowhere_even_when_messages_differ() {
        let runs = vec![
            run(vec![
                result(3, Status::Passed, None),
                result(5, Status::Failed, Some("at 10:00")),
            ]),
            run(vec![
                result(3, Status::Passed, None),
                result(5, Status::Failed, Some("at 10:01")),
            ]),
        ];
        let report = RepeatReport::of("t", "d", &runs, |i| format!("repeat/run-{i}"));
        assert!(report.steady());
        assert_eq!(report.scenarios, 2);
        assert_eq!(report.summary_line(), "0 of 2 scenarios varied in 2 runs");
        assert_eq!(
            report.runs[1].closing_line.as_deref(),
            Some("1 passed, 1 failed, 0 skipped")
        );
    }

    #[test]
    fn a_varying_scenario_has_each_outcome_with_its_runs_and_messages() {
        let runs = vec![
            run(vec![result(3, Status::Passed, None), result(5, Status::Passed, None)]),
            run(vec![
                result(3, Status::Failed, Some("Then refused: answered ok\nmore")),
                result(5, Status::Passed, None),
            ]),
            Err("the official server did not answer"),
            run(vec![
                result(3, Status::Failed, Some("Then refused: answered ok\nmore")),
                result(5, Status::Passed, None),
            ]),
            run(vec![
                result(3, Status::Failed, Some("Then refused: timed out")),
                result(5, Status::Passed, None),
            ]),
        ];
        let report = RepeatReport::of("t", "d", &runs, |i| format!("repeat/run-{i}"));
        assert!(!report.steady());
        assert_eq!(report.errors(), 1);
        // Both scenarios are missing from run 3; S3 also failed in three.
        assert_eq!(report.varying.len(), 2);
        let s3 = &report.varying[0];
        assert_eq!((s3.line, s3.scenario.as_str()), (3, "S3"));
        let outcomes: Vec<(&str, &[usize])> = s3
            .outcomes
            .iter()
            .map(|o| (o.outcome.as_str(), o.runs.as_slice()))
            .collect();
        assert_eq!(
            outcomes,
            [("passed", &[1][..]), ("failed", &[2, 4, 5][..]), ("missing", &[3][..])]
        );
        let failed = &s3.outcomes[1].messages;
        assert_eq!(failed.len(), 2);
        assert_eq!(failed[0].runs, [2, 4]);
        assert_eq!(failed[1].message, "Then refused: timed out");
        assert_eq!(
            s3.outcomes[2].messages[0].message,
            "the run could not be made: the official server did not answer"
        );
        let console = report.console_lines().join("\n");
        assert!(
            console.starts_with("t: 2 of 2 scenarios varied in 5 runs; 1 runs could not be made"),
            "{console}"
        );
        assert!(console.contains("  VARIED features/f.feature:3 S3\n    passed in 1 runs (1)\n"));
        assert!(
            console.contains("      [2, 4] Then refused: answered ok\n"),
            "{console}"
        );
        let json = report.to_json();
        assert_eq!(RepeatReport::from_json(&json).unwrap(), report);
        assert!(RepeatReport::from_json(&json.replace("repeat/1", "repeat/2")).is_err());
        let html = report.to_html();
        assert!(html.contains("data-varying=\"2\" data-errors=\"1\""), "{html}");
        assert!(html.contains("<a href=\"repeat/run-5/index.html\">run 5</a>"));
        assert!(html.contains("<li data-outcome=\"failed\" data-runs=\"3\">"));
    }

    #[test]
    fn judged_outcomes_include_the_verdict() {
        let mut known = result(3, Status::Failed, Some("race"));
        known.expected = Some(Expectation {
            outcome: ExpectedOutcome::Fail,
            reason: "r".into(),
            reference: None,
        });
        known.verdict = Some(Verdict::KnownDivergence);
        let mut unexpected = result(3, Status::Passed, None);
        unexpected.expected = known.expected.clone();
        unexpected.verdict = Some(Verdict::UnexpectedPass);
        let mut passed = result(4, Status::Passed, None);
        passed.verdict = Some(Verdict::Passed);
        let runs = vec![run(vec![known, passed.clone()]), run(vec![unexpected, passed])];
        let report = RepeatReport::of("t", "d", &runs, |i| i.to_string());
        let outcomes: Vec<&str> = report.varying[0].outcomes.iter().map(|o| o.outcome.as_str()).collect();
        assert_eq!(outcomes, ["failed, known divergence", "passed, unexpected pass"]);
        assert_eq!(report.varying.len(), 1);
    }
}
