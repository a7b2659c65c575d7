//! Expected results as data: `parsec-mfa conformance --expect FILE`.
//!
//! An expectation file (TOML) holds, per target (the name of its report
//! folder: `official-3.9.3`, `reference-in-process`, `cmd`…), the scenarios
//! expected to fail (known divergences) or to be skipped, each with the
//! reason and, optionally, a reference to where it is documented. Every
//! scenario a file does not name is expected to pass:
//!
//! ```toml
//! [target."official-3.9.3"]
//!
//! [[target."official-3.9.3".scenario]]
//! feature = "features/brute_force.feature"
//! scenario = "Wrong codes sent at the same time are all accounted for"
//! outcome = "fail"
//! reason = "concurrent wrong codes are not all counted on PostgreSQL"
//! reference = "features/README.md"
//! ```
//!
//! A scenario is named by its feature file and its name as the reports
//! give it (an outline row after its Examples values). The feature file is
//! compared from its end, a path component at a time, so
//! `brute_force.feature` names that file in any folder and
//! `features/brute_force.feature` in any folder named `features`.
//!
//! The judgement ([`TargetExpectations::judge`]) gives every scenario of a
//! run a [`Verdict`]: a failure expected is a *known divergence*; a pass
//! where a failure or a skip was expected is an *unexpected pass* (strict,
//! as pytest's strict xfail: the divergence is gone or the file is stale);
//! a failure where a pass or a skip was expected is an *unexpected
//! failure*; a skip where a pass or a failure was expected is an
//! *unexpected skip* (that scenario was not checked). An expectation that
//! names no scenario of the features is *stale*, unless the run left its
//! scenario out (`--tags`, `--name`). A run matches its expectations when it
//! has none of these.

use crate::report::model::{Expectation, ExpectedOutcome, Judged, StaleExpectation, Status, TargetReport, Verdict};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ExpectationError {
    #[error("cannot read the expectation file {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

// ----- the file as written -----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    #[serde(default)]
    target: BTreeMap<String, TargetDoc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetDoc {
    #[serde(default)]
    scenario: Vec<EntryDoc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryDoc {
    feature: String,
    scenario: String,
    outcome: ExpectedOutcome,
    reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reference: Option<String>,
}

// ----- the expectations read -----

/// One scenario's expectation, and the file it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedScenario {
    /// The expectation file, as given.
    pub file: String,
    /// The feature file, compared from its end (see the module's comment).
    pub feature: String,
    /// The scenario's name as the reports give it.
    pub scenario: String,
    pub expected: Expectation,
}

impl ExpectedScenario {
    fn names(&self, feature_file: &str, scenario: &str) -> bool {
        self.scenario == scenario && same_feature(&self.feature, feature_file)
    }
}

/// What one target is expected to do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetExpectations {
    /// The files that hold this target's section, as given.
    pub files: Vec<String>,
    pub scenarios: Vec<ExpectedScenario>,
}

/// The expectations of every target the files name (`--expect`, repeatable).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expectations {
    targets: BTreeMap<String, TargetExpectations>,
}

impl Expectations {
    /// Reads the files, in order; a target may appear in several, a
    /// scenario only once per target.
    pub fn load(paths: &[PathBuf]) -> Result<Self, ExpectationError> {
        let mut all = Expectations::default();
        for path in paths {
            let text = std::fs::read_to_string(path).map_err(|source| ExpectationError::Read {
                path: path.clone(),
                source,
            })?;
            all.add(&text, &path.display().to_string())?;
        }
        Ok(all)
    }

    /// The expectations of one file's text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Self, ExpectationError> {
        let mut all = Expectations::default();
        all.add(text, file)?;
        Ok(all)
    }

    fn add(&mut self, text: &str, file: &str) -> Result<(), ExpectationError> {
        let invalid = |message: String| ExpectationError::Invalid {
            file: file.to_owned(),
            message,
        };
        let doc: FileDoc = toml::from_str(text).map_err(|e| invalid(one_line(text, &e)))?;
        if doc.target.is_empty() {
            return Err(invalid(
                "names no target: expected a [target.NAME] section per target (NAME: its report folder's name, e.g. \"official-3.9.3\")".into(),
            ));
        }
        for (target, section) in doc.target {
            if target.trim().is_empty() {
                return Err(invalid("a [target.NAME] section with an empty NAME".into()));
            }
            let expectations = self.targets.entry(target.clone()).or_default();
            if !expectations.files.iter().any(|f| f == file) {
                expectations.files.push(file.to_owned());
            }
            for entry in section.scenario {
                let at = format!("[target.\"{target}\"], scenario \"{}\"", entry.scenario);
                for (field, value) in [
                    ("feature", &entry.feature),
                    ("scenario", &entry.scenario),
                    ("reason", &entry.reason),
                ] {
                    if value.trim().is_empty() {
                        return Err(invalid(format!("{at}: `{field}` is empty")));
                    }
                }
                let entry = ExpectedScenario {
                    file: file.to_owned(),
                    feature: entry.feature,
                    scenario: entry.scenario,
                    expected: Expectation {
                        outcome: entry.outcome,
                        reason: entry.reason,
                        reference: entry.reference.filter(|r| !r.trim().is_empty()),
                    },
                };
                if let Some(earlier) = expectations.scenarios.iter().find(|e| {
                    e.scenario == entry.scenario
                        && (same_feature(&e.feature, &entry.feature) || same_feature(&entry.feature, &e.feature))
                }) {
                    return Err(invalid(format!(
                        "{at} ({}) is expected twice (also in {})",
                        entry.feature, earlier.file
                    )));
                }
                expectations.scenarios.push(entry);
            }
        }
        Ok(())
    }

    /// The targets the files name.
    pub fn targets(&self) -> impl Iterator<Item = &str> {
        self.targets.keys().map(String::as_str)
    }

    pub fn for_target(&self, target: &str) -> Option<&TargetExpectations> {
        self.targets.get(target)
    }
}

/// A TOML error on one line: its message and where (toml's own display
/// spans several lines, with the text quoted).
fn one_line(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim().replace('\n', "; ");
    match error.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    }
}

/// Whether `expected` names the feature file `actual`: the same path
/// components, compared from the end (`brute_force.feature` names
/// `features/brute_force.feature`; `features/x.feature` does not name
/// `other/x.feature`).
pub fn same_feature(expected: &str, actual: &str) -> bool {
    let parts = |path: &str| -> Vec<String> {
        path.split(['/', '\\'])
            .filter(|p| !p.is_empty() && *p != ".")
            .map(str::to_owned)
            .collect()
    };
    let (expected, actual) = (parts(expected), parts(actual));
    !expected.is_empty() && actual.ends_with(&expected)
}

/// Every scenario of the features a run was given (those it ran, skipped,
/// or left out with `--tags` or `--name`), by feature file and name: what
/// tells a stale expectation from one whose scenario was left out.
#[derive(Debug, Clone, Default)]
pub struct KnownScenarios(BTreeSet<(String, String)>);

impl KnownScenarios {
    pub fn add(&mut self, feature_file: String, scenario: String) {
        self.0.insert((feature_file, scenario));
    }

    fn contains(&self, expected: &ExpectedScenario) -> bool {
        self.0.iter().any(|(file, name)| expected.names(file, name))
    }
}

impl TargetExpectations {
    /// Gives every result of `report` its expectation and verdict, and
    /// records what was judged: the files, the stale expectations, the
    /// number left out. `known`: every scenario of the features.
    pub fn judge(&self, report: &mut TargetReport, known: &KnownScenarios) {
        let mut matched = vec![false; self.scenarios.len()];
        for result in &mut report.results {
            let found = self
                .scenarios
                .iter()
                .position(|e| e.names(&result.feature_file, &result.scenario));
            if let Some(i) = found {
                matched[i] = true;
            }
            result.expected = found.map(|i| self.scenarios[i].expected.clone());
            result.verdict = Some(Verdict::of(result.status, result.expected.as_ref()));
        }
        let mut judged = Judged {
            files: self.files.clone(),
            ..Judged::default()
        };
        for (entry, _) in self.scenarios.iter().zip(matched).filter(|(_, m)| !m) {
            if known.contains(entry) {
                judged.left_out += 1;
            } else {
                judged.stale.push(StaleExpectation {
                    file: entry.file.clone(),
                    feature: entry.feature.clone(),
                    scenario: entry.scenario.clone(),
                    expected: entry.expected.clone(),
                });
            }
        }
        report.expectations = Some(judged);
    }
}

/// What a judged run says on the console before its closing line: each
/// known divergence and each outcome not as expected (in capitals), one
/// line each, then the stale expectations and how many were left out.
pub fn console_lines(report: &TargetReport) -> Vec<String> {
    let mut lines = Vec::new();
    for result in &report.results {
        let Some(verdict) = result
            .verdict
            .filter(|v| !matches!(v, Verdict::Passed | Verdict::ExpectedSkip))
        else {
            continue;
        };
        let what = match (verdict, &result.expected) {
            (Verdict::KnownDivergence, Some(expected)) => expected.describe(),
            (_, Some(expected)) => format!("{}; {}", result.status.label(), expected.describe()),
            (_, None) => {
                let detail = result.detail.as_deref().and_then(|d| d.lines().next());
                format!(
                    "{} (expected to pass){}",
                    result.status.label(),
                    detail.map(|d| format!(": {d}")).unwrap_or_default()
                )
            }
        };
        let label = match verdict.as_expected() {
            true => verdict.label().to_owned(),
            false => verdict.label().to_uppercase(),
        };
        lines.push(format!(
            "{label}: {}:{} \"{}\": {what}",
            result.feature_file, result.line, result.scenario
        ));
    }
    if let Some(judged) = &report.expectations {
        for stale in &judged.stale {
            lines.push(format!("STALE EXPECTATION: {}", stale.describe()));
        }
        if judged.left_out > 0 {
            lines.push(format!(
                "{} expectation(s) not checked: their scenarios were left out of this run (--tags, --name)",
                judged.left_out
            ));
        }
    }
    lines
}

// ----- writing one from a run -----

const HEADER: &str = "\
# Expected outcomes for `parsec-mfa conformance --expect FILE`, written by
# --write-expectations from a run. Each [target.NAME] is a target (its report
# folder's name); each [[target.NAME.scenario]] a scenario of its features
# expected to fail (a known divergence) or to be skipped. Every other
# scenario must pass. Say in `reason` why, and in `reference` where it is
# documented; a reason copied from the run starts with \"observed:\".
";

/// An expectation file from reports: per report, a section with each
/// scenario that failed (expected to fail) or was skipped (expected to be
/// skipped). Where `previous` expected the same outcome, its reason and
/// reference are kept; otherwise the reason is what the run said
/// (`observed: …`).
pub fn expectations_toml(reports: &[&TargetReport], previous: Option<&Expectations>) -> String {
    let mut text = HEADER.to_owned();
    for report in reports {
        // Values and keys quoted by toml itself; the layout (a comment per
        // target, its section, its scenarios) is this function's.
        let key = toml::Value::String(report.target.clone()).to_string();
        text.push_str(&format!(
            "\n# {}\n[target.{key}]\n",
            report.description.replace('\n', " ")
        ));
        let earlier = previous.and_then(|p| p.for_target(&report.target));
        let mut results: Vec<_> = report.results.iter().filter(|r| r.status != Status::Passed).collect();
        results.sort_by(|a, b| (&a.feature_file, a.line, &a.scenario).cmp(&(&b.feature_file, b.line, &b.scenario)));
        for result in results {
            let outcome = match result.status {
                Status::Failed => ExpectedOutcome::Fail,
                _ => ExpectedOutcome::Skip,
            };
            let kept = earlier.and_then(|t| {
                t.scenarios
                    .iter()
                    .find(|e| e.names(&result.feature_file, &result.scenario) && e.expected.outcome == outcome)
            });
            let (reason, reference) = match kept {
                Some(kept) => (kept.expected.reason.clone(), kept.expected.reference.clone()),
                None => {
                    let observed = result.detail.as_deref().and_then(|d| d.lines().next()).unwrap_or("");
                    (format!("observed: {observed}"), None)
                }
            };
            let entry = EntryDoc {
                feature: result.feature_file.clone(),
                scenario: result.scenario.clone(),
                outcome,
                reason,
                reference,
            };
            // Strings and an enum: nothing here fails to serialise.
            let fields = toml::to_string(&entry).unwrap_or_default();
            text.push_str(&format!("\n[[target.{key}.scenario]]\n{fields}"));
        }
    }
    text
}

/// Writes `text` to `path` whole or not at all (a file beside it, renamed).
pub fn write_atomically(path: &Path, text: &str) -> Result<(), ExpectationError> {
    let error = |source| ExpectationError::Write {
        path: path.to_owned(),
        source,
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&temporary, text).map_err(error)?;
    std::fs::rename(&temporary, path).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        error(e)
    })
}

// In a file of their own: they are a third of the module.
#[cfg(test)]
mod tests;
