//! The report of one run against one target, as data: what the runner
//! counts, what every format is written from, and what `results.json`
//! holds (so that `--compare` can read saved runs back).
//!
//! The parts marked *not filled yet* are the places prepared for what comes
//! next (the steps of a scenario as written, what a step recorded, known
//! divergences, extra sections such as attack figures): they are empty in
//! every run today, are left out of `results.json` while empty, and files
//! written without them read back.

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
    /// *Not filled yet*: how this target is expected to do here, for a
    /// known divergence (expected to fail, or to be skipped, with the
    /// reason); `None`: expected to pass.
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
    /// *Not filled yet*: the steps as written, with their outcome and what
    /// they recorded (living documentation).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepRecord>,
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
    /// `text/plain`, `message/rfc822`, `image/svg+xml`...
    pub media_type: String,
    /// The content as text (an image as SVG or base64).
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpectedOutcome {
    Fail,
    Skip,
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
    /// One line for a reader: what the target is.
    pub description: String,
    format: Format,
    /// The runner's order: the scenarios cucumber ran, then those it skipped.
    pub results: Vec<ScenarioResult>,
    /// *Not filled yet*: extra parts of the page, after the features.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<Section>,
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
            description: description.into(),
            format: Format,
            results: Vec::new(),
            sections: Vec::new(),
            target: target.into(),
        }
    }

    pub fn totals(&self) -> Totals {
        Totals::of(&self.results)
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
