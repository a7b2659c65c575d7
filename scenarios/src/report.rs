//! The conformance report of one run against one target, and its pages.
//!
//! A [`TargetReport`] holds one [`ScenarioResult`] per scenario: those
//! cucumber ran, read from its JSON report ([`TargetReport::from_cucumber_json`]),
//! and those the runner did not give it because the target lacks a
//! capability ([`TargetReport::add_skipped`]), each with its reason. From it:
//! JUnit XML, the cucumber JSON with those skips added, a readable HTML page,
//! `results.json` (read back by [`TargetReport::load`]) and a page comparing
//! targets side by side ([`compare_html`]).
//!
//! Nothing is skipped silently: a step cucumber skipped or could not match
//! makes its scenario *failed* (the runner fails on them), and a scenario the
//! runner left out is *skipped* with the reason shown everywhere.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// `results.json`: what [`TargetReport::save`] writes and [`TargetReport::load`] reads.
pub const RESULTS_FILE: &str = "results.json";
/// The readable page of one target.
pub const HTML_FILE: &str = "index.html";
/// The page comparing targets.
pub const COMPARE_FILE: &str = "compare.html";
/// The tag of the scenarios [`TargetReport::to_cucumber_json`] adds: they
/// were not run, and [`TargetReport::from_cucumber_json`] reads them back as
/// skipped, not failed.
pub const SKIPPED_TAG: &str = "skipped-by-harness";
const RESULTS_FORMAT: &str = "parsec-mfa-report/1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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

    fn parse(word: &str) -> Option<Self> {
        match word {
            "passed" => Some(Status::Passed),
            "failed" => Some(Status::Failed),
            "skipped" => Some(Status::Skipped),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioResult {
    /// The feature's name.
    pub feature: String,
    /// The feature file as cucumber names it, e.g. `features/brute_force.feature`.
    pub feature_file: String,
    /// The scenario's name; the rows of a Scenario Outline (and scenarios
    /// of the same name) get ` (line N)`, their own line, so that a row
    /// keeps its name whichever rows a target runs or skips (see
    /// [`row_name`]); the runner then names outline rows after their
    /// Examples values.
    pub scenario: String,
    /// The scenario's line in the feature file (an outline row's own line).
    pub line: u32,
    pub status: Status,
    /// Failed: `<step keyword and text>: <error message>` of the first step
    /// (or hook) that did not pass; Skipped: the reason; Passed: `None`.
    pub detail: Option<String>,
}

/// The results of one run against one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetReport {
    /// The target's short name, e.g. `reference-in-process`.
    pub target: String,
    /// One line for a reader: what the target is.
    pub description: String,
    pub results: Vec<ScenarioResult>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("the report is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the report does not have the expected shape: {0}")]
    Shape(String),
    #[error("cannot read or write {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn shape(what: impl Into<String>) -> ReportError {
    ReportError::Shape(what.into())
}

impl TargetReport {
    pub fn new(target: impl Into<String>, description: impl Into<String>) -> Self {
        TargetReport {
            target: target.into(),
            description: description.into(),
            results: Vec::new(),
        }
    }

    /// Reads cucumber-rs's JSON report (`writer::Json`): one result per
    /// scenario, an outline's rows apart. A scenario passed when every step,
    /// its background's and its hooks passed; otherwise it failed, and the
    /// first step that did not pass is the detail (an undefined or skipped
    /// step is a failure of the suite). Scenarios tagged [`SKIPPED_TAG`]
    /// (added by [`Self::to_cucumber_json`]) are read back as skipped.
    pub fn from_cucumber_json(
        target: impl Into<String>,
        description: impl Into<String>,
        json: &str,
    ) -> Result<Self, ReportError> {
        let root: Value = serde_json::from_str(json)?;
        let features = root
            .as_array()
            .ok_or_else(|| shape("the top level is not an array of features"))?;
        let mut report = TargetReport::new(target, description);
        for (i, feature) in features.iter().enumerate() {
            report
                .results
                .extend(parse_feature(feature, &format!("feature #{}", i + 1))?);
        }
        Ok(report)
    }

    /// Records a scenario the runner did not give cucumber, with the reason
    /// (e.g. the target cannot control its clock).
    pub fn add_skipped(
        &mut self,
        feature: impl Into<String>,
        feature_file: impl Into<String>,
        scenario: impl Into<String>,
        line: u32,
        reason: impl Into<String>,
    ) {
        self.results.push(ScenarioResult {
            feature: feature.into(),
            feature_file: feature_file.into(),
            scenario: scenario.into(),
            line,
            status: Status::Skipped,
            detail: Some(reason.into()),
        });
    }

    /// (passed, failed, skipped) scenarios.
    pub fn totals(&self) -> (usize, usize, usize) {
        totals_of(self.results.iter())
    }

    /// `N passed, N failed, N skipped`, as the runner prints it.
    pub fn totals_line(&self) -> String {
        let (passed, failed, skipped) = self.totals();
        format!("{passed} passed, {failed} failed, {skipped} skipped")
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

    /// JUnit XML: one `testsuite` per feature, one `testcase` per scenario,
    /// with a `failure` (the failing step and its message) or a `skipped`
    /// (the reason).
    pub fn to_junit_xml(&self) -> String {
        let (passed, failed, skipped) = self.totals();
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            xml,
            "<testsuites name=\"{}\" tests=\"{}\" failures=\"{failed}\" skipped=\"{skipped}\" errors=\"0\">",
            xml_attr(&format!("Parsec MFA conformance: {}", self.target)),
            passed + failed + skipped,
        );
        for feature in self.by_feature() {
            let (passed, failed, skipped) = totals_of(feature.scenarios.iter().copied());
            let _ = writeln!(
                xml,
                "  <testsuite name=\"{}\" file=\"{}\" tests=\"{}\" failures=\"{failed}\" skipped=\"{skipped}\" errors=\"0\">",
                xml_attr(feature.feature),
                xml_attr(feature.feature_file),
                passed + failed + skipped,
            );
            for result in &feature.scenarios {
                let _ = write!(
                    xml,
                    "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\"",
                    xml_attr(&result.scenario),
                    xml_attr(&result.feature),
                    xml_attr(&result.feature_file),
                    result.line,
                );
                let detail = result.detail.as_deref().unwrap_or("");
                match result.status {
                    Status::Passed => xml.push_str("/>\n"),
                    Status::Failed => {
                        let _ = writeln!(
                            xml,
                            ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                            xml_attr(detail),
                            xml_text(detail),
                        );
                    }
                    Status::Skipped => {
                        let _ = writeln!(
                            xml,
                            ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                            xml_attr(detail)
                        );
                    }
                }
            }
            xml.push_str("  </testsuite>\n");
        }
        xml.push_str("</testsuites>\n");
        xml
    }

    /// `original` (cucumber's JSON report of this run) with the scenarios of
    /// [`Self::add_skipped`] added: each one step, status `skipped`, whose
    /// text and `error_message` are the reason, tagged [`SKIPPED_TAG`].
    /// Scenarios already there are not added twice.
    pub fn to_cucumber_json(&self, original: &str) -> Result<String, ReportError> {
        let mut root: Value = serde_json::from_str(original)?;
        let features = root
            .as_array_mut()
            .ok_or_else(|| shape("the top level is not an array of features"))?;
        for result in self.results.iter().filter(|r| r.status == Status::Skipped) {
            let index = match features
                .iter()
                .position(|f| f.get("uri").and_then(Value::as_str) == Some(result.feature_file.as_str()))
            {
                Some(index) => index,
                None => {
                    features.push(json!({
                        "uri": result.feature_file,
                        "keyword": "Feature",
                        "name": result.feature,
                        "tags": [],
                        "elements": [],
                    }));
                    features.len() - 1
                }
            };
            let elements = features[index]
                .as_object_mut()
                .ok_or_else(|| shape(format!("feature `{}` is not an object", result.feature_file)))?
                .entry("elements")
                .or_insert_with(|| json!([]))
                .as_array_mut()
                .ok_or_else(|| shape(format!("the elements of `{}` are not an array", result.feature_file)))?;
            let there = elements.iter().any(|e| {
                e.get("type").and_then(Value::as_str) == Some("scenario")
                    && e.get("name").and_then(Value::as_str) == Some(result.scenario.as_str())
                    && e.get("line").and_then(Value::as_u64) == Some(u64::from(result.line))
            });
            if there {
                continue;
            }
            let reason = result.detail.as_deref().unwrap_or("no reason given");
            let element = json!({
                "keyword": "Scenario",
                "type": "scenario",
                "id": format!("{}/{}", kebab(&result.feature), kebab(&result.scenario)),
                "line": result.line,
                "name": result.scenario,
                "tags": [{ "name": SKIPPED_TAG, "line": result.line }],
                "steps": [{
                    "keyword": "* ",
                    "line": result.line,
                    "name": format!("not run against this target: {reason}"),
                    "result": { "status": "skipped", "duration": 0, "error_message": reason },
                }],
            });
            let at = elements
                .iter()
                .position(|e| {
                    e.get("line")
                        .and_then(Value::as_u64)
                        .is_some_and(|l| l > u64::from(result.line))
                })
                .unwrap_or(elements.len());
            elements.insert(at, element);
        }
        Ok(serde_json::to_string(&root)?)
    }

    /// The readable page: the target, its totals, then each feature's
    /// scenarios with their status and, when not passed, why.
    pub fn to_html(&self) -> String {
        let title = format!("Parsec MFA conformance: {}", self.target);
        let (passed, failed, skipped) = self.totals();
        let mut html = page_start(&title);
        let _ = writeln!(
            html,
            "<header>\n<h1>Parsec MFA conformance report: <span class=\"target\">{}</span></h1>",
            escape(&self.target)
        );
        let _ = writeln!(html, "<p class=\"description\">{}</p>", escape(&self.description));
        let _ = writeln!(
            html,
            "<p class=\"totals\" data-passed=\"{passed}\" data-failed=\"{failed}\" data-skipped=\"{skipped}\">{}</p>",
            escape(&self.totals_line())
        );
        html.push_str(LEGEND);
        html.push_str("</header>\n");

        let features = self.by_feature();
        html.push_str("<nav>\n<h2>Features</h2>\n<table class=\"features\">\n");
        html.push_str(
            "<thead><tr><th scope=\"col\">Feature</th><th scope=\"col\">File</th>\
             <th scope=\"col\">Passed</th><th scope=\"col\">Failed</th><th scope=\"col\">Skipped</th></tr></thead>\n<tbody>\n",
        );
        for (i, feature) in features.iter().enumerate() {
            let (passed, failed, skipped) = totals_of(feature.scenarios.iter().copied());
            let _ = writeln!(
                html,
                "<tr><td><a href=\"#feature-{}\">{}</a></td><td><code>{}</code></td>\
                 <td class=\"count\">{passed}</td><td class=\"count{}\">{failed}</td><td class=\"count\">{skipped}</td></tr>",
                i + 1,
                escape(feature.feature),
                escape(feature.feature_file),
                if failed > 0 { " has-failures" } else { "" },
            );
        }
        html.push_str("</tbody>\n</table>\n</nav>\n");

        for (i, feature) in features.iter().enumerate() {
            let (passed, failed, skipped) = totals_of(feature.scenarios.iter().copied());
            let _ = writeln!(
                html,
                "<section class=\"feature\" id=\"feature-{}\" data-feature-file=\"{}\">\n<h2>{}</h2>\n\
                 <p class=\"file\">File <code>{}</code>: {passed} passed, {failed} failed, {skipped} skipped</p>",
                i + 1,
                escape(feature.feature_file),
                escape(feature.feature),
                escape(feature.feature_file),
            );
            html.push_str(
                "<table class=\"scenarios\">\n<thead><tr><th scope=\"col\" class=\"status\">Result</th>\
                 <th scope=\"col\">Scenario</th><th scope=\"col\">Details</th></tr></thead>\n<tbody>\n",
            );
            for result in &feature.scenarios {
                let status = result.status.as_str();
                let _ = writeln!(
                    html,
                    "<tr class=\"scenario {status}\" data-status=\"{status}\" data-scenario=\"{}\" data-line=\"{}\">\
                     <td class=\"status\">{}</td><td class=\"name\">{}<br><span class=\"line\">line {}</span></td>\
                     <td class=\"detail\">{}</td></tr>",
                    escape(&result.scenario),
                    result.line,
                    result.status.label(),
                    escape(&result.scenario),
                    result.line,
                    result
                        .detail
                        .as_deref()
                        .map(|d| format!("<pre>{}</pre>", escape(d)))
                        .unwrap_or_default(),
                );
            }
            html.push_str("</tbody>\n</table>\n</section>\n");
        }
        html.push_str("</body>\n</html>\n");
        html
    }

    /// `results.json`: the report itself, for pages built later.
    pub fn to_results_json(&self) -> String {
        let results: Vec<Value> = self
            .results
            .iter()
            .map(|r| {
                json!({
                    "feature": r.feature,
                    "feature_file": r.feature_file,
                    "scenario": r.scenario,
                    "line": r.line,
                    "status": r.status.as_str(),
                    "detail": r.detail,
                })
            })
            .collect();
        let root = json!({
            "format": RESULTS_FORMAT,
            "target": self.target,
            "description": self.description,
            "results": results,
        });
        // A `Value` always serialises.
        serde_json::to_string_pretty(&root).unwrap_or_default()
    }

    pub fn from_results_json(json: &str) -> Result<Self, ReportError> {
        let root: Value = serde_json::from_str(json)?;
        let at = "results.json";
        let format = str_field(&root, "format", at)?;
        if format != RESULTS_FORMAT {
            return Err(shape(format!("{at}: format `{format}`, expected `{RESULTS_FORMAT}`")));
        }
        let mut report = TargetReport::new(str_field(&root, "target", at)?, str_field(&root, "description", at)?);
        for (i, r) in array_field(&root, "results", at)?.iter().enumerate() {
            let at = format!("{at}, result #{}", i + 1);
            let status = str_field(r, "status", &at)?;
            let detail = match r.get("detail") {
                None | Some(Value::Null) => None,
                Some(Value::String(detail)) => Some(detail.clone()),
                Some(_) => return Err(shape(format!("{at}: `detail` is not a string"))),
            };
            report.results.push(ScenarioResult {
                feature: str_field(r, "feature", &at)?.to_owned(),
                feature_file: str_field(r, "feature_file", &at)?.to_owned(),
                scenario: str_field(r, "scenario", &at)?.to_owned(),
                line: line_field(r, &at)?,
                status: Status::parse(status).ok_or_else(|| shape(format!("{at}: unknown status `{status}`")))?,
                detail,
            });
        }
        Ok(report)
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

    /// Writes every form of the report into `dir`: `junit.xml` and
    /// `cucumber.json` (both replacing cucumber's, now with the skipped
    /// scenarios), `index.html` and `results.json`. `cucumber_json` is
    /// cucumber's own report of the run.
    pub fn write(&self, dir: &Path, cucumber_json: &str) -> Result<(), ReportError> {
        let json = self.to_cucumber_json(cucumber_json)?;
        write_file(&dir.join("junit.xml"), &self.to_junit_xml())?;
        write_file(&dir.join("cucumber.json"), &json)?;
        write_file(&dir.join(HTML_FILE), &self.to_html())?;
        self.save(dir)
    }
}

/// One feature's results, its scenarios by line.
#[derive(Debug, Clone)]
pub struct FeatureResults<'a> {
    pub feature: &'a str,
    pub feature_file: &'a str,
    pub scenarios: Vec<&'a ScenarioResult>,
}

/// The targets side by side: one row per scenario (by feature, then line),
/// one column per target; rows where the targets disagree have the class
/// `differs`.
pub fn compare_html(reports: &[TargetReport]) -> String {
    // (feature file, line) -> (feature, scenario, the result of each target).
    type Row<'a> = (&'a str, &'a str, Vec<Option<&'a ScenarioResult>>);
    let mut rows: BTreeMap<(&str, u32), Row<'_>> = BTreeMap::new();
    for (t, report) in reports.iter().enumerate() {
        for result in &report.results {
            let row = rows
                .entry((&result.feature_file, result.line))
                .or_insert_with(|| (&result.feature, &result.scenario, vec![None; reports.len()]));
            row.2[t].get_or_insert(result);
        }
    }
    let differs = |cells: &[Option<&ScenarioResult>]| {
        cells
            .windows(2)
            .any(|pair| pair[0].map(|r| r.status) != pair[1].map(|r| r.status))
    };
    let disagreements = rows.values().filter(|row| differs(&row.2)).count();
    let names: Vec<&str> = reports.iter().map(|r| r.target.as_str()).collect();

    let mut html = page_start("Parsec MFA conformance: targets compared");
    let _ = writeln!(
        html,
        "<header>\n<h1>Parsec MFA conformance: {}</h1>",
        escape(&names.join(" / "))
    );
    let _ = writeln!(
        html,
        "<p class=\"summary\" data-scenarios=\"{}\" data-differs=\"{disagreements}\">{} scenarios; \
         the targets disagree on {disagreements} of them (highlighted, marked \u{201c}targets disagree\u{201d}).</p>",
        rows.len(),
        rows.len(),
    );
    html.push_str(LEGEND);
    html.push_str("</header>\n<table class=\"compare\">\n<thead>\n<tr><th scope=\"col\">Scenario</th>");
    for report in reports {
        let _ = write!(
            html,
            "<th scope=\"col\" data-target=\"{}\">{}<br><span class=\"description\">{}</span></th>",
            escape(&report.target),
            escape(&report.target),
            escape(&report.description),
        );
    }
    html.push_str("</tr>\n<tr class=\"totals\"><th scope=\"row\">Totals</th>");
    for report in reports {
        let (passed, failed, skipped) = report.totals();
        let _ = write!(
            html,
            "<td class=\"totals\" data-target=\"{}\" data-passed=\"{passed}\" data-failed=\"{failed}\" \
             data-skipped=\"{skipped}\">{}</td>",
            escape(&report.target),
            escape(&report.totals_line()),
        );
    }
    html.push_str("</tr>\n</thead>\n<tbody>\n");

    let mut current_file = None;
    for ((file, line), (feature, scenario, cells)) in &rows {
        if current_file != Some(*file) {
            current_file = Some(*file);
            let _ = writeln!(
                html,
                "<tr class=\"feature\" data-feature-file=\"{}\"><th colspan=\"{}\" scope=\"colgroup\">{} \
                 <span class=\"file\">{}</span></th></tr>",
                escape(file),
                reports.len() + 1,
                escape(feature),
                escape(file),
            );
        }
        let differ = differs(cells);
        let _ = write!(
            html,
            "<tr class=\"scenario{}\" data-scenario=\"{}\" data-feature-file=\"{}\" data-line=\"{line}\">\
             <th scope=\"row\" class=\"name\">{}<br><span class=\"line\">line {line}</span>{}</th>",
            if differ { " differs" } else { "" },
            escape(scenario),
            escape(file),
            escape(scenario),
            if differ {
                " <span class=\"differs-note\">targets disagree</span>"
            } else {
                ""
            },
        );
        for (report, cell) in reports.iter().zip(cells) {
            let target = escape(&report.target);
            match cell {
                None => {
                    let _ = write!(
                        html,
                        "<td class=\"status missing\" data-target=\"{target}\" data-status=\"missing\">Not in this report</td>"
                    );
                }
                Some(result) => {
                    let status = result.status.as_str();
                    match result.detail.as_deref() {
                        None => {
                            let _ = write!(
                                html,
                                "<td class=\"status {status}\" data-target=\"{target}\" data-status=\"{status}\">{}</td>",
                                result.status.label()
                            );
                        }
                        Some(detail) => {
                            let detail = escape(detail);
                            let _ = write!(
                                html,
                                "<td class=\"status {status}\" data-target=\"{target}\" data-status=\"{status}\" \
                                 title=\"{detail}\"><details><summary>{}</summary><pre>{detail}</pre></details></td>",
                                result.status.label()
                            );
                        }
                    }
                }
            }
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody>\n</table>\n</body>\n</html>\n");
    html
}

fn totals_of<'a>(results: impl Iterator<Item = &'a ScenarioResult>) -> (usize, usize, usize) {
    results.fold((0, 0, 0), |(p, f, s), r| match r.status {
        Status::Passed => (p + 1, f, s),
        Status::Failed => (p, f + 1, s),
        Status::Skipped => (p, f, s + 1),
    })
}

// ----- reading cucumber's JSON -----

/// What one step or hook did.
struct Outcome {
    /// `Then the login is refused`, `Before hook`.
    what: String,
    status: String,
    message: Option<String>,
}

/// The elements of one scenario: cucumber-rs writes the background's steps
/// as an element of their own (same name and line) before the scenario's.
#[derive(Default)]
struct Collected {
    name: String,
    line: u32,
    keyword: String,
    tags: Vec<String>,
    before: Vec<Outcome>,
    background: Vec<Outcome>,
    steps: Vec<Outcome>,
    after: Vec<Outcome>,
}

fn parse_feature(feature: &Value, at: &str) -> Result<Vec<ScenarioResult>, ReportError> {
    let feature_file = match feature.get("uri") {
        None | Some(Value::Null) => "(unknown file)".to_owned(),
        Some(Value::String(uri)) => uri.clone(),
        Some(_) => return Err(shape(format!("{at}: `uri` is not a string"))),
    };
    let at = format!("{at} ({feature_file})");
    let name = str_field(feature, "name", &at)?;
    // cucumber names a file it could not parse with an empty feature.
    let feature_name = if name.trim().is_empty() {
        feature_file.clone()
    } else {
        name.to_owned()
    };

    let mut scenarios: Vec<Collected> = Vec::new();
    for (j, element) in array_field(feature, "elements", &at)?.iter().enumerate() {
        let at = format!("{at}, element #{}", j + 1);
        let kind = str_field(element, "type", &at)?;
        let name = str_field(element, "name", &at)?;
        let line = line_field(element, &at)?;
        let steps = array_field(element, "steps", &at)?
            .iter()
            .enumerate()
            .map(|(k, step)| parse_step(step, &format!("{at}, step #{}", k + 1)))
            .collect::<Result<Vec<_>, _>>()?;
        let index = match scenarios.iter().position(|c| c.name == name && c.line == line) {
            Some(index) => index,
            None => {
                scenarios.push(Collected {
                    name: name.to_owned(),
                    line,
                    ..Collected::default()
                });
                scenarios.len() - 1
            }
        };
        let collected = &mut scenarios[index];
        if kind == "background" {
            collected.background.extend(steps);
            continue;
        }
        collected.keyword = element.get("keyword").and_then(Value::as_str).unwrap_or("").to_owned();
        collected.tags = match element.get("tags") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(tags)) => tags
                .iter()
                .filter_map(|t| t.get("name").and_then(Value::as_str).or(t.as_str()))
                .map(|t| t.trim_start_matches('@').to_owned())
                .collect(),
            Some(_) => return Err(shape(format!("{at}: `tags` is not an array"))),
        };
        collected
            .before
            .extend(parse_hooks(element, "before", "Before hook", &at)?);
        collected.steps.extend(steps);
        collected
            .after
            .extend(parse_hooks(element, "after", "After hook", &at)?);
    }

    // Outline rows share their name: number them.
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, c) in scenarios.iter().enumerate() {
        groups.entry(&c.name).or_default().push(i);
    }
    let mut names: Vec<String> = scenarios
        .iter()
        .map(|c| {
            if c.name.trim().is_empty() {
                "(unnamed scenario)".to_owned()
            } else {
                c.name.clone()
            }
        })
        .collect();
    for members in groups.values() {
        let outline = members.iter().any(|&i| {
            let keyword = &scenarios[i].keyword;
            keyword.contains("Outline") || keyword.contains("Template")
        });
        if !outline && members.len() < 2 {
            continue;
        }
        let mut by_line = members.clone();
        by_line.sort_by_key(|&i| scenarios[i].line);
        for &i in &by_line {
            names[i] = row_name(&names[i], scenarios[i].line);
        }
    }

    Ok(scenarios
        .iter()
        .zip(names)
        .map(|(c, scenario)| {
            let (status, detail) = verdict(c);
            ScenarioResult {
                feature: feature_name.clone(),
                feature_file: feature_file.clone(),
                scenario,
                line: c.line,
                status,
                detail,
            }
        })
        .collect())
}

/// The name of one row of a Scenario Outline: the outline's name and the
/// row's line.
pub fn row_name(outline: &str, line: u32) -> String {
    format!("{outline} (line {line})")
}

fn parse_step(step: &Value, at: &str) -> Result<Outcome, ReportError> {
    let keyword = str_field(step, "keyword", at)?.trim();
    let name = str_field(step, "name", at)?;
    let result = step.get("result").ok_or_else(|| shape(format!("{at}: no `result`")))?;
    Ok(Outcome {
        what: if keyword.is_empty() {
            name.to_owned()
        } else {
            format!("{keyword} {name}")
        },
        status: str_field(result, "status", &format!("{at}, result"))?.to_owned(),
        message: result.get("error_message").and_then(Value::as_str).map(tidy_message),
    })
}

/// The error first: cucumber's `Matched: <file:line:column>` (the step
/// definition) goes after it, and terminal colours go.
fn tidy_message(message: &str) -> String {
    let message = strip_ansi(message);
    match message.strip_prefix("Matched: ").and_then(|rest| rest.split_once('\n')) {
        Some((location, error)) => format!("{error}\n(step definition: {location})"),
        None => message,
    }
}

fn parse_hooks(element: &Value, key: &str, what: &str, at: &str) -> Result<Vec<Outcome>, ReportError> {
    let hooks = match element.get(key) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(hooks)) => hooks,
        Some(_) => return Err(shape(format!("{at}: `{key}` is not an array"))),
    };
    hooks
        .iter()
        .enumerate()
        .map(|(k, hook)| {
            let at = format!("{at}, {key} hook #{}", k + 1);
            let result = hook.get("result").ok_or_else(|| shape(format!("{at}: no `result`")))?;
            Ok(Outcome {
                what: what.to_owned(),
                status: str_field(result, "status", &at)?.to_owned(),
                message: result.get("error_message").and_then(Value::as_str).map(tidy_message),
            })
        })
        .collect()
}

fn verdict(c: &Collected) -> (Status, Option<String>) {
    let all: Vec<&Outcome> = c
        .before
        .iter()
        .chain(&c.background)
        .chain(&c.steps)
        .chain(&c.after)
        .collect();
    if c.tags.iter().any(|t| t == SKIPPED_TAG) && !all.is_empty() && all.iter().all(|o| o.status == "skipped") {
        let reason = all[0].message.clone().unwrap_or_else(|| all[0].what.clone());
        return (Status::Skipped, Some(reason));
    }
    let Some(first) = all.iter().find(|o| o.status != "passed") else {
        return (Status::Passed, None);
    };
    let message = first.message.as_deref();
    let why = match (first.status.as_str(), message) {
        ("failed", Some(message)) => message.to_owned(),
        ("failed", None) => "failed (no message)".to_owned(),
        ("undefined", _) => {
            "undefined step: no step definition matches it, and an undefined step fails the suite".to_owned()
        }
        ("skipped", _) => "skipped by cucumber, and a skipped step fails the suite".to_owned(),
        ("ambiguous", message) => format!(
            "ambiguous step: more than one step definition matches it{}",
            message.map(|m| format!("\n{m}")).unwrap_or_default()
        ),
        ("pending", _) => "pending step: not implemented yet, which fails the suite".to_owned(),
        (other, message) => format!(
            "unexpected status `{other}`{}",
            message.map(|m| format!("\n{m}")).unwrap_or_default()
        ),
    };
    (Status::Failed, Some(format!("{}: {why}", first.what)))
}

fn str_field<'a>(value: &'a Value, key: &str, at: &str) -> Result<&'a str, ReportError> {
    value
        .get(key)
        .ok_or_else(|| shape(format!("{at}: no `{key}`")))?
        .as_str()
        .ok_or_else(|| shape(format!("{at}: `{key}` is not a string")))
}

fn array_field<'a>(value: &'a Value, key: &str, at: &str) -> Result<&'a Vec<Value>, ReportError> {
    value
        .get(key)
        .ok_or_else(|| shape(format!("{at}: no `{key}`")))?
        .as_array()
        .ok_or_else(|| shape(format!("{at}: `{key}` is not an array")))
}

fn line_field(value: &Value, at: &str) -> Result<u32, ReportError> {
    value
        .get("line")
        .ok_or_else(|| shape(format!("{at}: no `line`")))?
        .as_u64()
        .and_then(|line| u32::try_from(line).ok())
        .ok_or_else(|| shape(format!("{at}: `line` is not a line number")))
}

fn write_file(path: &Path, contents: &str) -> Result<(), ReportError> {
    std::fs::write(path, contents).map_err(|source| ReportError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Terminal colour sequences (`ESC [ ... letter`) out of an error message.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `id`s as cucumber-rs writes them: lower case words joined by `-`.
fn kebab(text: &str) -> String {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

// ----- escaping -----

/// Characters XML 1.0 forbids and HTML calls errors: control characters
/// other than tab, newline and carriage return, and the non-characters.
fn forbidden(c: char) -> bool {
    (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}' || matches!(c, '\u{fffe}' | '\u{ffff}')
}

fn escape_with(text: &str, apostrophe: &str, in_attribute: bool) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str(apostrophe),
            '\n' if in_attribute => out.push_str("&#10;"),
            '\r' if in_attribute => out.push_str("&#13;"),
            '\t' if in_attribute => out.push_str("&#9;"),
            c if forbidden(c) => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// HTML text and attribute values (double-quoted).
fn escape(text: &str) -> String {
    escape_with(text, "&#39;", false)
}

fn xml_text(text: &str) -> String {
    escape_with(text, "&apos;", false)
}

/// XML attribute values keep their line breaks (a parser would make them spaces).
fn xml_attr(text: &str) -> String {
    escape_with(text, "&apos;", true)
}

// ----- page parts -----

fn page_start(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        escape(title)
    )
}

const LEGEND: &str = "<p class=\"legend\"><strong>Passed</strong>: the server behaves as the specification \
says. <strong>Failed</strong>: it does not; the step that failed and its message are shown. \
<strong>Skipped</strong>: the scenario was not run against this server; the reason is shown.</p>\n";

const STYLE: &str = "\
body { font-family: system-ui, \"DejaVu Sans\", \"Liberation Sans\", Arial, sans-serif; color: #1b1b1b;
  background: #fff; max-width: 1200px; margin: 1.5rem auto; padding: 0 1rem; line-height: 1.4; }
h1 { font-size: 1.6rem; margin: 0 0 .3rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .2rem; }
.description { color: #444; margin: 0 0 .6rem; }
th .description { font-weight: normal; }
tr.totals th { font-size: 1rem; }
.totals { font-size: 1.25rem; font-weight: bold; margin: .4rem 0; }
.legend, .file, .summary { color: #444; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { border: 1px solid #c8c8c8; padding: .35rem .6rem; text-align: left; vertical-align: top; }
thead th { background: #eef0f3; }
td.count { text-align: right; width: 6em; }
td.has-failures { color: #a31515; font-weight: bold; }
td.status { white-space: nowrap; font-weight: bold; width: 7em; }
tr.passed td.status, td.status.passed { background: #e3f4e1; color: #1a5e20; }
tr.failed td.status, td.status.failed { background: #fde3e1; color: #a31515; }
tr.skipped td.status, td.status.skipped { background: #fff3d1; color: #6b4a00; }
td.status.missing { background: #eee; color: #555; }
td.name, th.name { width: 30%; font-weight: normal; }
.line { color: #666; font-size: .85rem; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0;
  font-family: ui-monospace, \"DejaVu Sans Mono\", \"Liberation Mono\", monospace; font-size: .85rem; }
details summary { cursor: pointer; }
tr.feature th { background: #dfe6ee; font-size: 1.05rem; }
tr.feature .file { font-weight: normal; color: #444; font-size: .85rem; margin-left: .5rem; }
tr.differs th.name { background: #fff1a8; border-left: .4rem solid #d49b00; }
.differs-note { display: inline-block; margin-top: .2rem; font-size: .8rem; font-weight: bold; color: #6b4a00; }
@media print { details { display: block; } }
";

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of cucumber-rs 0.23's JSON: a background as its own element
    /// before its scenario, outline rows with the outline's name and their
    /// own line, steps after a failure left out, an undefined step.
    const SAMPLE: &str = r#"[
      {"uri":"features/brute_force.feature","keyword":"Feature","name":"Guessing codes is slowed down","tags":[],
       "elements":[
        {"keyword":"Background","type":"background","id":"g/the-wait","line":17,"name":"The wait doubles","tags":[],
         "steps":[{"keyword":"Given ","line":8,"name":"an organization whose administrator is Alice",
                   "result":{"status":"passed","duration":1}}]},
        {"keyword":"Scenario Outline","type":"scenario","id":"g/the-wait","line":17,"name":"The wait doubles","tags":[],
         "steps":[{"keyword":"When ","line":12,"name":"an attacker tries 1 wrong codes","result":{"status":"passed","duration":1}},
                  {"keyword":"Then ","line":13,"name":"the next attempt must wait 1 seconds","result":{"status":"passed","duration":1}}]},
        {"keyword":"Background","type":"background","id":"g/the-wait","line":18,"name":"The wait doubles","tags":[],
         "steps":[{"keyword":"Given ","line":8,"name":"an organization whose administrator is Alice",
                   "result":{"status":"passed","duration":1}}]},
        {"keyword":"Scenario Outline","type":"scenario","id":"g/the-wait","line":18,"name":"The wait doubles","tags":[],
         "steps":[{"keyword":"When ","line":12,"name":"an attacker tries 2 wrong codes","result":{"status":"passed","duration":1}},
                  {"keyword":"Then ","line":13,"name":"the next attempt must wait 2 seconds",
                   "result":{"status":"failed","duration":1,
                   "error_message":"Matched: scenarios/src/steps/attacker.rs:97:1\nStep panicked. Captured output: not throttled: Err(InvalidOneTimePassword)"}}]},
        {"keyword":"Scenario","type":"scenario","id":"g/throttled","line":45,"name":"Throttled answers do not count","tags":[{"name":"clock","line":45}],
         "steps":[{"keyword":"Then ","line":49,"name":"1 attempt was answered \"invalid_one_time_password\"",
                   "result":{"status":"failed","duration":1,
                   "error_message":"Step panicked. Captured output: assertion `left == right` failed\n  left: 3\n right: 1"}}]},
        {"keyword":"Scenario","type":"scenario","id":"g/undefined","line":60,"name":"A step nobody wrote","tags":[],
         "steps":[{"keyword":"Given ","line":61,"name":"Alice has enabled MFA","result":{"status":"passed","duration":1}},
                  {"keyword":"When ","line":62,"name":"Alice dances","result":{"status":"undefined","duration":0,
                   "error_message":"Step doesn't match any function"}}]}
       ]},
      {"uri":"features/lost_phone.feature","keyword":"Feature","name":"A lost phone","tags":[],
       "elements":[
        {"keyword":"Scenario","type":"scenario","id":"l/reset","line":5,"name":"Alice's MFA is reset","tags":[],
         "before":[{"result":{"status":"passed","duration":1}}],
         "steps":[{"keyword":"Given ","line":6,"name":"Alice has enabled MFA","result":{"status":"passed","duration":1}}],
         "after":[{"result":{"status":"failed","duration":1,"error_message":"the mailbox was not empty"}}]},
        {"keyword":"Background","type":"background","id":"l/bg","line":9,"name":"The background fails","tags":[],
         "steps":[{"keyword":"Given ","line":2,"name":"an organization","result":{"status":"failed","duration":1,
                   "error_message":"cannot start the server"}}]}
       ]}
    ]"#;

    fn sample() -> TargetReport {
        TargetReport::from_cucumber_json("reference", "The reference server", SAMPLE).unwrap()
    }

    fn find<'a>(report: &'a TargetReport, scenario: &str) -> &'a ScenarioResult {
        report
            .results
            .iter()
            .find(|r| r.scenario == scenario)
            .unwrap_or_else(|| panic!("no `{scenario}` in {:#?}", report.results))
    }

    #[test]
    fn reads_cucumber_json() {
        let report = sample();
        assert_eq!(report.results.len(), 6, "{:#?}", report.results);

        let row1 = find(&report, "The wait doubles (line 17)");
        assert_eq!(
            (row1.status, row1.line, row1.detail.as_deref()),
            (Status::Passed, 17, None)
        );
        assert_eq!(row1.feature, "Guessing codes is slowed down");
        assert_eq!(row1.feature_file, "features/brute_force.feature");

        let row2 = find(&report, "The wait doubles (line 18)");
        assert_eq!((row2.status, row2.line), (Status::Failed, 18));
        assert_eq!(
            row2.detail.as_deref(),
            Some(
                "Then the next attempt must wait 2 seconds: \
                 Step panicked. Captured output: not throttled: Err(InvalidOneTimePassword)\n\
                 (step definition: scenarios/src/steps/attacker.rs:97:1)"
            )
        );

        let throttled = find(&report, "Throttled answers do not count");
        assert_eq!(throttled.status, Status::Failed);
        assert!(
            throttled
                .detail
                .as_deref()
                .unwrap()
                .starts_with("Then 1 attempt was answered \"invalid_one_time_password\": Step panicked.")
        );

        let undefined = find(&report, "A step nobody wrote");
        assert_eq!(undefined.status, Status::Failed);
        let detail = undefined.detail.as_deref().unwrap();
        assert!(detail.starts_with("When Alice dances: undefined step"), "{detail}");
        assert!(detail.contains("fails the suite"), "{detail}");

        let hook = find(&report, "Alice's MFA is reset");
        assert_eq!(hook.status, Status::Failed);
        assert_eq!(hook.detail.as_deref(), Some("After hook: the mailbox was not empty"));

        // The background failed, so cucumber never wrote the scenario's own element.
        let background = find(&report, "The background fails");
        assert_eq!(background.status, Status::Failed);
        assert_eq!(
            background.detail.as_deref(),
            Some("Given an organization: cannot start the server")
        );
    }

    #[test]
    fn skipped_and_undefined_steps_fail_the_scenario() {
        let json = r#"[{"uri":"f.feature","keyword":"Feature","name":"F","tags":[],"elements":[
            {"keyword":"Scenario","type":"scenario","id":"x","line":3,"name":"S","tags":[],
             "steps":[{"keyword":"Given ","line":4,"name":"a step cucumber skipped","result":{"status":"skipped","duration":0}}]}]}]"#;
        let report = TargetReport::from_cucumber_json("t", "d", json).unwrap();
        assert_eq!(report.results[0].status, Status::Failed);
        assert_eq!(
            report.results[0].detail.as_deref(),
            Some("Given a step cucumber skipped: skipped by cucumber, and a skipped step fails the suite")
        );
    }

    #[test]
    fn messages_lose_terminal_colours() {
        let json = r#"[{"uri":"f.feature","keyword":"Feature","name":"F","tags":[],"elements":[
            {"keyword":"Scenario","type":"scenario","id":"x","line":3,"name":"S","tags":[],
             "steps":[{"keyword":"Then ","line":4,"name":"it works","result":{"status":"failed","duration":0,
              "error_message":"Matched: a.rs:1:1\nStep panicked. Captured output: \u001b[31mred\u001b[0m"}}]}]}]"#;
        let report = TargetReport::from_cucumber_json("t", "d", json).unwrap();
        assert_eq!(
            report.results[0].detail.as_deref(),
            Some("Then it works: Step panicked. Captured output: red\n(step definition: a.rs:1:1)")
        );
    }

    #[test]
    fn same_names_outside_outlines_get_their_line() {
        let json = r#"[{"uri":"f.feature","keyword":"Feature","name":"F","tags":[],"elements":[
            {"keyword":"Scenario","type":"scenario","id":"x","line":3,"name":"S","tags":[],"steps":[]},
            {"keyword":"Scenario","type":"scenario","id":"x","line":9,"name":"S","tags":[],"steps":[]}]}]"#;
        let report = TargetReport::from_cucumber_json("t", "d", json).unwrap();
        let names: Vec<_> = report.results.iter().map(|r| r.scenario.as_str()).collect();
        assert_eq!(names, ["S (line 3)", "S (line 9)"]);
    }

    #[test]
    fn totals_count_capability_skips() {
        let mut report = sample();
        assert_eq!(report.totals(), (1, 5, 0));
        report.add_skipped(
            "Guessing codes is slowed down",
            "features/brute_force.feature",
            "Twenty wrong codes lock the device for about six days",
            25,
            "the target cannot move its clock forward (no clock control)",
        );
        assert_eq!(report.totals(), (1, 5, 1));
        assert_eq!(report.totals_line(), "1 passed, 5 failed, 1 skipped");
    }

    #[test]
    fn malformed_json_is_an_error() {
        for bad in [
            "",
            "not json",
            "{\"uri\": 1}",
            "[{\"uri\":\"f\",\"name\":\"F\"}]",
            "[{\"uri\":\"f\",\"name\":\"F\",\"elements\":[{\"type\":\"scenario\",\"name\":\"S\",\"line\":-1,\"steps\":[]}]}]",
            "[{\"uri\":\"f\",\"name\":\"F\",\"elements\":[{\"type\":\"scenario\",\"name\":\"S\",\"line\":1,\
             \"steps\":[{\"keyword\":\"Given \",\"name\":\"x\"}]}]}]",
            "[{\"uri\":\"f\",\"name\":\"F\",\"elements\":[{\"type\":\"scenario\",\"name\":\"S\",\"line\":1,\
             \"steps\":[],\"before\":{}}]}]",
        ] {
            let error = TargetReport::from_cucumber_json("t", "d", bad).unwrap_err();
            assert!(
                matches!(error, ReportError::Json(_) | ReportError::Shape(_)),
                "{bad}: {error}"
            );
            assert!(!error.to_string().is_empty());
        }
        let error = TargetReport::from_cucumber_json("t", "d", "[{\"name\":\"F\",\"uri\":\"f\"}]").unwrap_err();
        assert_eq!(
            error.to_string(),
            "the report does not have the expected shape: feature #1 (f): no `elements`"
        );
        assert!(sample().to_cucumber_json("{}").is_err());
        assert!(TargetReport::from_results_json("[]").is_err());
    }

    const HOSTILE: &str = "<script>alert('x')</script> & \"quoted\" \u{1b}[31m";

    fn hostile() -> TargetReport {
        let mut report = TargetReport::new("<target & co>", "A \"server\" <b>bold</b>");
        report.results.push(ScenarioResult {
            feature: format!("Feature {HOSTILE}"),
            feature_file: "features/<evil>.feature".into(),
            scenario: format!("Scenario {HOSTILE}"),
            line: 3,
            status: Status::Failed,
            detail: Some(format!("Then {HOSTILE}: panicked: left <1> & right \"2\"\nsecond line")),
        });
        report.add_skipped(
            format!("Feature {HOSTILE}"),
            "features/<evil>.feature",
            "Skipped 'one'",
            9,
            "needs <clock> & \"control\"",
        );
        report
    }

    #[test]
    fn html_escapes_everything() {
        let html = hostile().to_html();
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"));
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(!html.contains("<evil>"), "{html}");
        assert!(!html.contains('\u{1b}'));
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;"));
        assert!(html.contains("<title>Parsec MFA conformance: &lt;target &amp; co&gt;</title>"));
        assert!(
            html.contains(
                "<tr class=\"scenario failed\" data-status=\"failed\" data-scenario=\"Scenario &lt;script&gt;"
            )
        );
        assert!(html.contains(
            "<tr class=\"scenario skipped\" data-status=\"skipped\" data-scenario=\"Skipped &#39;one&#39;\" data-line=\"9\">"
        ));
        assert!(html.contains("<pre>needs &lt;clock&gt; &amp; &quot;control&quot;</pre>"));
        assert!(html.contains("left &lt;1&gt; &amp; right &quot;2&quot;\nsecond line</pre>"));
        assert!(html.contains(">0 passed, 1 failed, 1 skipped</p>"));
        assert!(html.contains("<td class=\"status\">Failed</td>"));
        assert!(html.contains("<td class=\"status\">Skipped</td>"));
        assert!(!html.contains("http"), "no external resources");
        assert!(!html.contains("<script"), "no JavaScript");
    }

    #[test]
    fn junit_escapes_everything() {
        let xml = hostile().to_junit_xml();
        assert!(!xml.contains("<script"), "{xml}");
        assert!(!xml.contains("<evil>"), "{xml}");
        assert!(!xml.contains('\u{1b}'), "control characters are not XML");
        assert!(xml.contains(
            "<testcase name=\"Skipped &apos;one&apos;\" classname=\"Feature &lt;script&gt;alert(&apos;x&apos;)"
        ));
        assert!(xml.contains("<skipped message=\"needs &lt;clock&gt; &amp; &quot;control&quot;\"/>"));
        assert!(xml.contains("right &quot;2&quot;&#10;second line\">Then &lt;script&gt;"));
        assert!(xml.contains("<testsuites name=\"Parsec MFA conformance: &lt;target &amp; co&gt;\" tests=\"2\" failures=\"1\" skipped=\"1\""));
    }

    #[test]
    fn junit_has_a_suite_per_feature() {
        let xml = sample().to_junit_xml();
        assert_eq!(xml.matches("<testsuite ").count(), 2);
        assert_eq!(xml.matches("<testcase ").count(), 6);
        assert_eq!(xml.matches("<failure ").count(), 5);
        assert!(xml.contains(
            "<testsuite name=\"A lost phone\" file=\"features/lost_phone.feature\" tests=\"2\" failures=\"2\""
        ));
        assert!(xml.contains("<testcase name=\"The wait doubles (line 17)\" classname=\"Guessing codes is slowed down\" file=\"features/brute_force.feature\" line=\"17\"/>"));
    }

    #[test]
    fn cucumber_json_gets_the_skipped_scenarios() {
        let mut report = sample();
        report.add_skipped(
            "Guessing codes is slowed down",
            "features/brute_force.feature",
            "Twenty wrong codes lock the device for about six days",
            25,
            "the target has no clock control",
        );
        report.add_skipped(
            "Advice",
            "features/advice.feature",
            "Advice <is> shown",
            4,
            "no per-scenario config",
        );
        let json = report.to_cucumber_json(SAMPLE).unwrap();
        let root: Value = serde_json::from_str(&json).unwrap();
        let features = root.as_array().unwrap();
        assert_eq!(features.len(), 3);
        let brute = &features[0]["elements"];
        let skipped = brute
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["line"] == 25)
            .expect("the skipped scenario is in its feature");
        assert_eq!(skipped["name"], "Twenty wrong codes lock the device for about six days");
        assert_eq!(skipped["steps"][0]["result"]["status"], "skipped");
        assert_eq!(
            skipped["steps"][0]["result"]["error_message"],
            "the target has no clock control"
        );
        assert_eq!(features[2]["uri"], "features/advice.feature");

        // Read back: the same results, the skips still skips.
        let again = TargetReport::from_cucumber_json("reference", "The reference server", &json).unwrap();
        assert_eq!(again.totals(), (1, 5, 2));
        let twenty = find(&again, "Twenty wrong codes lock the device for about six days");
        assert_eq!(twenty.status, Status::Skipped);
        assert_eq!(twenty.detail.as_deref(), Some("the target has no clock control"));
        // Not added twice.
        assert_eq!(report.to_cucumber_json(&json).unwrap(), json);
    }

    #[test]
    fn results_json_round_trip() {
        let report = hostile();
        assert_eq!(
            TargetReport::from_results_json(&report.to_results_json()).unwrap(),
            report
        );

        let dir = std::env::temp_dir().join(format!("parsec-mfa-report-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut report = sample();
        report.add_skipped("F", "features/f.feature", "S", 2, "why");
        report.write(&dir, SAMPLE).unwrap();
        assert_eq!(TargetReport::load(&dir).unwrap(), report);
        for file in ["junit.xml", "cucumber.json", HTML_FILE] {
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
    fn compare_highlights_disagreements() {
        let reference = sample();
        let mut official = sample();
        official.target = "official".into();
        official.description = "The official server".into();
        // The official server passes where the reference failed...
        let row = official
            .results
            .iter_mut()
            .find(|r| r.scenario == "The wait doubles (line 18)")
            .unwrap();
        row.status = Status::Passed;
        row.detail = None;
        // ...skips what it cannot run, and has one scenario the reference lacks.
        official
            .results
            .retain(|r| r.scenario != "Throttled answers do not count");
        official.add_skipped(
            "Guessing codes is slowed down",
            "features/brute_force.feature",
            "Throttled answers do not count",
            45,
            "no clock <control>",
        );
        official.add_skipped(
            "Guessing codes is slowed down",
            "features/brute_force.feature",
            "Extra",
            99,
            "x",
        );

        let html = compare_html(&[reference.clone(), official.clone()]);
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
            row("The wait doubles (line 17)").starts_with("\" "),
            "same status: not highlighted"
        );
        assert!(row("The wait doubles (line 18)").starts_with(" differs\""));
        assert!(row("The wait doubles (line 18)").contains("targets disagree"));
        assert!(row("Throttled answers do not count").starts_with(" differs\""));
        assert!(row("Throttled answers do not count").contains("title=\"no clock &lt;control&gt;\""));
        assert!(row("Extra").starts_with(" differs\""));
        assert!(row("Extra").contains("data-status=\"missing\">Not in this report</td>"));
        assert!(row("A step nobody wrote").starts_with("\" "));
        assert!(html.contains("data-differs=\"3\""));
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
