//! The report of one run against one target, as data: what the runner
//! counts, what every format is written from, and what `results.json`
//! holds (so that `--compare` can read saved runs back).
//!
//! The parts marked *not filled yet* are the places prepared for what comes
//! next (the steps of a scenario as written, what a step recorded, extra
//! sections such as attack figures): they are empty in every run today, are
//! left out of `results.json` while empty, and files written without them
//! read back. So are a run's expectations (`--expect`, see
//! [`crate::expectations`]) when it was not given any.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The `format` of `results.json`.
pub const RESULTS_FORMAT: &str = "parsec-mfa-report/1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Passed,
    Failed,
    Skipped,
}

impl Status {
    /// `passed`, `failed`, `skipped`: CSS classes, `data-status`, `results.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        }
    }

    /// `Passed`, `Failed`, `Skipped`: what a reader sees.
    pub fn label(self) -> &'static str {
        match self {
            Status::Passed => "Passed",
            Status::Failed => "Failed",
            Status::Skipped => "Skipped",
        }
    }
}

/// Scenarios by status: the runner's closing line, every report's totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Totals {
    pub fn of<'a>(results: impl IntoIterator<Item = &'a ScenarioResult>) -> Self {
        let mut totals = Totals::default();
        for result in results {
            match result.status {
                Status::Passed => totals.passed += 1,
                Status::Failed => totals.failed += 1,
                Status::Skipped => totals.skipped += 1,
            }
        }
        totals
    }

    pub fn total(&self) -> usize {
        self.passed + self.failed + self.skipped
    }

    /// `N passed, N failed, N skipped`, as the runner prints it.
    pub fn line(&self) -> String {
        format!(
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}

/// One scenario's result. The fields are in alphabetical order, the order
/// `results.json` has always had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioResult {
    /// Failed: `<step keyword and text>: <error message>` of the first step
    /// (or hook) that did not pass; Skipped: the reason; Passed: `None`.
    pub detail: Option<String>,
    /// How this target is expected to do here (`--expect`): to fail (a
    /// known divergence) or to be skipped, with the reason; `None`: expected
    /// to pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<Expectation>,
    /// The feature's name.
    pub feature: String,
    /// The feature file as cucumber names it, e.g. `features/brute_force.feature`.
    pub feature_file: String,
    /// The scenario's line in the feature file (an outline row's own line).
    pub line: u32,
    /// The scenario's name; a row of a Scenario Outline is named after its
    /// Examples values (`The wait doubles (failures 3, wait 4)`), and
    /// scenarios of the same name get their line (`S (line 9)`), so that
    /// each keeps its name whichever others a target runs or skips.
    pub scenario: String,
    pub status: Status,
    /// The steps as written (the background's first), with their outcome
    /// and what they recorded (living documentation); empty for a scenario
    /// the runner skipped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepRecord>,
    /// In a run judged against expectations (`--expect`): how the status
    /// compares with [`Self::expected`]; `None` when the run was not judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
}

impl ScenarioResult {
    /// A scenario the runner did not give cucumber, with the reason (e.g.
    /// the target cannot control its clock).
    pub fn skipped(
        feature: impl Into<String>,
        feature_file: impl Into<String>,
        scenario: impl Into<String>,
        line: u32,
        reason: impl Into<String>,
    ) -> Self {
        ScenarioResult {
            detail: Some(reason.into()),
            expected: None,
            feature: feature.into(),
            feature_file: feature_file.into(),
            line,
            scenario: scenario.into(),
            status: Status::Skipped,
            steps: Vec::new(),
            verdict: None,
        }
    }
}

/// One step as written in the feature, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    /// `Given`, `When`, `Then`, `And`, or `Before hook` / `After hook`.
    pub keyword: String,
    pub text: String,
    pub line: u32,
    /// The step's doc string (`"""` block), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docstring: Option<String>,
    pub outcome: StepOutcome,
    /// What the step showed or received, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum StepOutcome {
    Passed,
    Failed {
        message: String,
    },
    /// Not run: an earlier step failed.
    NotRun,
}

/// Something a step records for the reader: an email received, a QR code
/// shown, a URL printed, a jump of the clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub kind: AttachmentKind,
    /// One line for the reader, e.g. `the reset email to alice@example.com`.
    pub label: String,
    /// `text/plain`; a QR code's is [`super::living::OTPAUTH_MEDIA_TYPE`].
    pub media_type: String,
    /// The content as text (a QR code: the `otpauth://` URI it encodes,
    /// which the page draws).
    pub content: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentKind {
    Email,
    QrCode,
    Url,
    ClockJump,
    Text,
}

/// How a target is expected to do in a scenario, and why (a known divergence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expectation {
    pub outcome: ExpectedOutcome,
    pub reason: String,
    /// Where the divergence is documented (a file, an issue, a URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

impl Expectation {
    /// `expected to fail: REASON (see REFERENCE)`.
    pub fn describe(&self) -> String {
        let see = self
            .reference
            .as_deref()
            .map(|r| format!(" (see {r})"))
            .unwrap_or_default();
        format!("expected to {}: {}{see}", self.outcome.as_str(), self.reason)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpectedOutcome {
    Fail,
    Skip,
}

impl ExpectedOutcome {
    /// `fail`, `skip`: as expectation files write it.
    pub fn as_str(self) -> &'static str {
        match self {
            ExpectedOutcome::Fail => "fail",
            ExpectedOutcome::Skip => "skip",
        }
    }
}

/// A scenario's status against its expectation, in a run judged against
/// expectations. Every scenario an expectation does not name is expected to
/// pass; a run matches its expectations when no verdict is `unexpected_…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Passed, as every scenario not named is expected to.
    Passed,
    /// Skipped, as expected.
    ExpectedSkip,
    /// Failed, as expected: a known divergence.
    KnownDivergence,
    /// Failed where it was expected to pass, or to be skipped: a new
    /// divergence.
    UnexpectedFailure,
    /// Passed where it was expected to fail (the divergence is gone, or the
    /// expectation is stale) or to be skipped (the expectation is stale).
    UnexpectedPass,
    /// Skipped where it was expected to pass or fail: not checked.
    UnexpectedSkip,
}

impl Verdict {
    /// How `status` compares with `expected` (`None`: expected to pass).
    pub fn of(status: Status, expected: Option<&Expectation>) -> Self {
        match (status, expected.map(|e| e.outcome)) {
            (Status::Passed, None) => Verdict::Passed,
            (Status::Passed, Some(_)) => Verdict::UnexpectedPass,
            (Status::Failed, Some(ExpectedOutcome::Fail)) => Verdict::KnownDivergence,
            (Status::Failed, _) => Verdict::UnexpectedFailure,
            (Status::Skipped, Some(ExpectedOutcome::Skip)) => Verdict::ExpectedSkip,
            (Status::Skipped, _) => Verdict::UnexpectedSkip,
        }
    }

    /// Whether the outcome is the one expected.
    pub fn as_expected(self) -> bool {
        matches!(self, Verdict::Passed | Verdict::ExpectedSkip | Verdict::KnownDivergence)
    }

    /// `known_divergence`…: `results.json`, `data-verdict`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::ExpectedSkip => "expected_skip",
            Verdict::KnownDivergence => "known_divergence",
            Verdict::UnexpectedFailure => "unexpected_failure",
            Verdict::UnexpectedPass => "unexpected_pass",
            Verdict::UnexpectedSkip => "unexpected_skip",
        }
    }

    /// `known-divergence`…: a CSS class.
    pub fn css_class(self) -> String {
        self.as_str().replace('_', "-")
    }

    /// `known divergence`…: what a reader sees.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::ExpectedSkip => "expected skip",
            Verdict::KnownDivergence => "known divergence",
            Verdict::UnexpectedFailure => "unexpected failure",
            Verdict::UnexpectedPass => "unexpected pass",
            Verdict::UnexpectedSkip => "unexpected skip",
        }
    }
}

/// What a run was judged against (`--expect`): the files that hold its
/// target's expectations, and what in them did not apply.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Judged {
    /// The expectation files, as given.
    pub files: Vec<String>,
    /// Expectations that name no scenario of the features (a stale file):
    /// each makes the run fail.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stale: Vec<StaleExpectation>,
    /// Expectations whose scenarios the run left out (`--tags`, `--name`):
    /// not checked.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub left_out: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// An expectation that names no scenario of the features.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleExpectation {
    /// The expectation file.
    pub file: String,
    pub feature: String,
    pub scenario: String,
    pub expected: Expectation,
}

impl StaleExpectation {
    /// One line for a reader.
    pub fn describe(&self) -> String {
        format!(
            "{}: {} \"{}\" ({}) matches no scenario of the features",
            self.file,
            self.feature,
            self.scenario,
            self.expected.describe()
        )
    }
}

/// The verdicts of a judged run, counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Judgement {
    pub known_divergences: usize,
    pub expected_skips: usize,
    pub unexpected_failures: usize,
    pub unexpected_passes: usize,
    pub unexpected_skips: usize,
    pub stale: usize,
}

impl Judgement {
    /// Outcomes that are not the ones expected, and stale expectations:
    /// each fails the run.
    pub fn mismatches(&self) -> usize {
        self.unexpected_failures + self.unexpected_passes + self.unexpected_skips + self.stale
    }

    /// `1 known divergence, 0 unexpected passes`, then the unexpected skips
    /// and stale expectations when there are any: what the runner's closing
    /// line adds after the totals.
    pub fn line(&self) -> String {
        let mut parts = vec![
            count(self.known_divergences, "known divergence", "known divergences"),
            count(self.unexpected_passes, "unexpected pass", "unexpected passes"),
        ];
        if self.unexpected_skips > 0 {
            parts.push(count(self.unexpected_skips, "unexpected skip", "unexpected skips"));
        }
        if self.stale > 0 {
            parts.push(count(self.stale, "stale expectation", "stale expectations"));
        }
        parts.join(", ")
    }

    /// `1 unexpected failure, 2 unexpected passes`: the mismatches there are.
    pub fn mismatches_line(&self) -> String {
        [
            (self.unexpected_failures, "unexpected failure", "unexpected failures"),
            (self.unexpected_passes, "unexpected pass", "unexpected passes"),
            (self.unexpected_skips, "unexpected skip", "unexpected skips"),
            (self.stale, "stale expectation", "stale expectations"),
        ]
        .into_iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(n, one, many)| count(n, one, many))
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// `1 known divergence`, `2 known divergences`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A part of the page that a run adds after the features (attack figures,
/// for one): a title, paragraphs, and a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    /// The HTML anchor, e.g. `attack-figures`.
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paragraphs: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<Table>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The results of one run against one target: `results.json`. The fields
/// are in alphabetical order, the order `results.json` has always had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetReport {
    /// The client that played the people (`--client`), when it was not the
    /// reference library (whose reports name no client).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// One line for a reader: what the target is.
    pub description: String,
    /// What the run was judged against (`--expect`); `None`: not judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expectations: Option<Judged>,
    format: Format,
    /// The runner's order: the scenarios cucumber ran, then those it skipped.
    pub results: Vec<ScenarioResult>,
    /// *Not filled yet*: extra parts of the page, after the features.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<Section>,
    /// The slice of the scenarios the run was given (`--shard K/N`);
    /// `None`: all of them (a merge of every shard too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::shard::Shard>,
    /// The target's short name, e.g. `reference-in-process`.
    pub target: String,
}

/// [`RESULTS_FORMAT`], checked when a file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Format;

impl Serialize for Format {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(RESULTS_FORMAT)
    }
}

impl<'de> Deserialize<'de> for Format {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let format = String::deserialize(deserializer)?;
        if format == RESULTS_FORMAT {
            Ok(Format)
        } else {
            Err(serde::de::Error::custom(format!(
                "format `{format}`, expected `{RESULTS_FORMAT}`"
            )))
        }
    }
}

impl TargetReport {
    pub fn new(target: impl Into<String>, description: impl Into<String>) -> Self {
        TargetReport {
            client: None,
            description: description.into(),
            expectations: None,
            format: Format,
            results: Vec::new(),
            sections: Vec::new(),
            shard: None,
            target: target.into(),
        }
    }

    pub fn totals(&self) -> Totals {
        Totals::of(&self.results)
    }

    /// The verdicts counted, when the run was judged against expectations.
    pub fn judgement(&self) -> Option<Judgement> {
        let judged = self.expectations.as_ref()?;
        let mut judgement = Judgement {
            stale: judged.stale.len(),
            ..Judgement::default()
        };
        for verdict in self.results.iter().filter_map(|r| r.verdict) {
            match verdict {
                Verdict::Passed => {}
                Verdict::ExpectedSkip => judgement.expected_skips += 1,
                Verdict::KnownDivergence => judgement.known_divergences += 1,
                Verdict::UnexpectedFailure => judgement.unexpected_failures += 1,
                Verdict::UnexpectedPass => judgement.unexpected_passes += 1,
                Verdict::UnexpectedSkip => judgement.unexpected_skips += 1,
            }
        }
        Some(judgement)
    }

    /// The runner's closing line: `N passed, N failed, N skipped`, and in a
    /// judged run `; N known divergences, N unexpected passes` (then the
    /// unexpected skips and stale expectations, if any).
    pub fn closing_line(&self) -> String {
        match self.judgement() {
            Some(judgement) => format!("{}; {}", self.totals().line(), judgement.line()),
            None => self.totals().line(),
        }
    }

    /// Whether the run is a success: judged, every outcome as expected, no
    /// stale expectation, and something checked (a scenario passed or
    /// failed as expected); not judged, no failure and a scenario passed.
    pub fn succeeded(&self) -> bool {
        let totals = self.totals();
        match self.judgement() {
            Some(judgement) => judgement.mismatches() == 0 && totals.passed + judgement.known_divergences > 0,
            None => totals.failed == 0 && totals.passed > 0,
        }
    }

    /// The results by feature file, each feature's scenarios by line.
    pub fn by_feature(&self) -> Vec<FeatureResults<'_>> {
        let mut files: BTreeMap<&str, FeatureResults<'_>> = BTreeMap::new();
        for result in &self.results {
            files
                .entry(&result.feature_file)
                .or_insert_with(|| FeatureResults {
                    feature: &result.feature,
                    feature_file: &result.feature_file,
                    scenarios: Vec::new(),
                })
                .scenarios
                .push(result);
        }
        let mut features: Vec<_> = files.into_values().collect();
        for feature in &mut features {
            feature
                .scenarios
                .sort_by(|a, b| (a.line, &a.scenario).cmp(&(b.line, &b.scenario)));
        }
        features
    }
}

/// One feature's results, its scenarios by line.
#[derive(Debug, Clone)]
pub struct FeatureResults<'a> {
    pub feature: &'a str,
    pub feature_file: &'a str,
    pub scenarios: Vec<&'a ScenarioResult>,
}

impl FeatureResults<'_> {
    pub fn totals(&self) -> Totals {
        Totals::of(self.scenarios.iter().copied())
    }
}
