//! Runs the features against one target and writes the reports in
//! `reports/<target>/`: console output, JUnit XML, cucumber JSON, and the
//! HTML page; then the closing line `N passed, N failed, N skipped`
//! (scenarios). A scenario the target cannot run (see
//! [`crate::target::skip_reason`]) is not given to cucumber: it is reported
//! as skipped, with the reason, in every report.

use crate::report::{ReportError, TargetReport, row_name};
use crate::target::{TargetFactory, skip_reason, tags};
use crate::world::MfaWorld;
use cucumber::gherkin::tagexpr::TagOperation;
use cucumber::tag::Ext as _;
use cucumber::{World as _, WriterExt as _, writer};
use futures::FutureExt as _;
use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub struct RunOptions {
    /// A folder of `.feature` files, or one file.
    pub features: PathBuf,
    /// `reports/<target>/`.
    pub reports: PathBuf,
    pub concurrency: usize,
    pub target: Arc<dyn TargetFactory>,
    /// Only the scenarios matching this tag expression (cucumber's syntax).
    pub tags: Option<String>,
    /// Only the scenarios whose name contains this text.
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Totals {
    pub fn line(&self) -> String {
        format!(
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}

/// A scenario by where it is written: its feature file (as the reports
/// name it, see [`ScenarioResult::feature_file`](crate::report::ScenarioResult))
/// and its line (an outline row's own line).
pub type ScenarioAt = (String, u32);

/// What a run needs beyond [`RunOptions`] when it is one of many in a
/// process (the self-check's runs).
#[derive(Default)]
pub struct RunControls {
    /// Where cucumber's console output and the closing line go: stdout when
    /// `None`.
    pub console: Option<Box<dyn std::io::Write + Send>>,
    /// Only these scenarios, when set (with the other filters); the others
    /// are left out of the reports, as `--name` leaves them.
    pub only: Option<BTreeSet<ScenarioAt>>,
}

/// A scenario left out because the target lacks a capability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub feature: String,
    pub feature_file: String,
    pub scenario: String,
    pub line: u32,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("bad --tags expression `{0}`: {1}")]
    Tags(String, String),
    #[error(transparent)]
    Report(#[from] ReportError),
}

/// A scenario's tags with its feature's and rule's.
fn all_tags(
    feature: &cucumber::gherkin::Feature,
    rule: Option<&cucumber::gherkin::Rule>,
    scenario: &cucumber::gherkin::Scenario,
) -> Vec<String> {
    let rule_tags = rule.map(|r| r.tags.as_slice()).unwrap_or_default();
    [feature.tags.as_slice(), rule_tags, scenario.tags.as_slice()].concat()
}

/// Names of Scenario Outline rows by (feature file, line).
type RowLabels = std::collections::HashMap<(String, u32), String>;

/// `The wait doubles (failures 3, wait 4)`: a row of a Scenario Outline
/// named by its Examples values (cucumber gives every row the outline's
/// name); `None` for a plain scenario.
fn outline_row_label(scenario: &cucumber::gherkin::Scenario) -> Option<String> {
    if !(scenario.keyword.contains("Outline") || scenario.keyword.contains("Template")) {
        return None;
    }
    // cucumber leaves each expanded row its Examples' header and its own values.
    let values = scenario.examples.first().and_then(|examples| {
        let table = examples.table.as_ref()?;
        let [header, row] = table.rows.as_slice() else {
            return None;
        };
        Some(
            header
                .iter()
                .zip(row)
                .map(|(h, v)| format!("{h} {v}"))
                .collect::<Vec<_>>()
                .join(", "),
        )
    });
    Some(match values {
        Some(values) => format!("{} ({values})", scenario.name),
        None => row_name(&scenario.name, scenario.position.line as u32),
    })
}

/// The file a feature came from, named as cucumber's own reports name it
/// (its path less the project directory, by cucumber's rule), so that the
/// scenarios the runner skips join the same feature as those it ran.
fn feature_file(feature: &cucumber::gherkin::Feature) -> String {
    let path = feature
        .path
        .as_ref()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let project = std::env::var("CARGO_WORKSPACE_DIR")
        .or_else(|_| std::env::var("CARGO_MANIFEST_DIR"))
        .unwrap_or_else(|_| {
            std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default()
        });
    path.trim_start_matches(project.as_str())
        .trim_start_matches(['/', '\\'])
        .to_owned()
}

/// Checks a `--tags` expression before anything starts.
pub fn check_tags(expr: &str) -> Result<(), RunError> {
    expr.parse::<TagOperation>()
        .map(|_| ())
        .map_err(|e| RunError::Tags(expr.to_owned(), e.to_string()))
}

pub async fn run(options: RunOptions) -> Result<Totals, RunError> {
    run_with(options, RunControls::default()).await
}

pub async fn run_with(options: RunOptions, controls: RunControls) -> Result<Totals, RunError> {
    crate::steps::link();
    let tags_filter = match &options.tags {
        Some(expr) => Some(
            expr.parse::<TagOperation>()
                .map_err(|e| RunError::Tags(expr.clone(), e.to_string()))?,
        ),
        None => None,
    };
    let name_filter = options.name.clone();
    let reports = &options.reports;
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| ReportError::Io { path, source }
    };
    std::fs::create_dir_all(reports).map_err(io(reports))?;
    let raw_json_path = reports.join("cucumber-run.json");
    let raw_json = std::fs::File::create(&raw_json_path).map_err(io(&raw_json_path))?;

    let capabilities = options.target.capabilities();
    let skipped: Arc<Mutex<Vec<Skipped>>> = Arc::default();
    let row_labels: Arc<Mutex<RowLabels>> = Arc::default();
    let (recorded, labelled) = (skipped.clone(), row_labels.clone());
    let only = controls.only;
    let filter = move |feature: &cucumber::gherkin::Feature,
                       rule: Option<&cucumber::gherkin::Rule>,
                       scenario: &cucumber::gherkin::Scenario| {
        let line = scenario.position.line as u32;
        let chosen = name_filter.as_ref().is_none_or(|n| scenario.name.contains(n.as_str()))
            && only
                .as_ref()
                .is_none_or(|set| set.contains(&(feature_file(feature), line)))
            && tags_filter
                .as_ref()
                .is_none_or(|t| t.eval(&all_tags(feature, rule, scenario)));
        if !chosen {
            return false;
        }
        let label = outline_row_label(scenario);
        if let (Some(label), Ok(mut labels)) = (&label, labelled.lock()) {
            labels.insert((feature_file(feature), line), label.clone());
        }
        match skip_reason(&all_tags(feature, rule, scenario), &capabilities) {
            None => true,
            Some(reason) => {
                let entry = Skipped {
                    feature: feature.name.clone(),
                    feature_file: feature_file(feature),
                    scenario: label.unwrap_or_else(|| scenario.name.clone()),
                    line,
                    reason,
                };
                if let Ok(mut list) = recorded.lock()
                    && !list.contains(&entry)
                {
                    list.push(entry);
                }
                false
            }
        }
    };

    let factory = options.target.clone();
    let cli = cucumber::cli::Opts::<_, _, _, cucumber::cli::Empty>::default();
    let console = SharedConsole(Arc::new(Mutex::new(
        controls.console.unwrap_or_else(|| Box::new(std::io::stdout())),
    )));
    MfaWorld::cucumber()
        .with_writer(
            writer::Basic::raw(console.clone(), writer::Coloring::Never, 0)
                .summarized()
                .tee::<MfaWorld, _>(writer::Json::for_tee(raw_json))
                .normalized(),
        )
        // An undefined or skipped step fails the run.
        .fail_on_skipped()
        .max_concurrent_scenarios(options.concurrency)
        .before(move |feature, rule, scenario, world| {
            let factory = factory.clone();
            let moves_clock = all_tags(feature, rule, scenario)
                .iter()
                .any(|t| t == tags::CLOCK || t == tags::EXACT_CLOCK);
            async move {
                world.factory = Some(factory);
                world.spec.moves_clock = moves_clock;
            }
            .boxed_local()
        })
        .with_cli(cli)
        .filter_run(options.features.clone(), filter)
        .await;

    let skipped = skipped.lock().map(|l| l.clone()).unwrap_or_default();
    let row_labels = row_labels.lock().map(|l| l.clone()).unwrap_or_default();
    let totals = write_reports(reports, options.target.as_ref(), &raw_json_path, &skipped, &row_labels)?;
    writeln!(console.clone(), "{}", totals.line()).map_err(io(Path::new("the console")))?;
    Ok(totals)
}

/// The run's console, written by cucumber's writer and then by the runner
/// (the writer keeps its own handle until the run ends).
#[derive(Clone)]
struct SharedConsole(Arc<Mutex<Box<dyn std::io::Write + Send>>>);

impl std::io::Write for SharedConsole {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.0.lock() {
            Ok(mut out) => out.write(buf),
            Err(_) => Err(std::io::Error::other("the console's lock is poisoned")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.0.lock() {
            Ok(mut out) => out.flush(),
            Err(_) => Err(std::io::Error::other("the console's lock is poisoned")),
        }
    }
}

/// The run's results, with the skipped scenarios and their reasons, in
/// every format (see [`TargetReport::write`]).
fn write_reports(
    dir: &Path,
    target: &dyn TargetFactory,
    raw_json_path: &Path,
    skipped: &[Skipped],
    row_labels: &RowLabels,
) -> Result<Totals, ReportError> {
    let raw = std::fs::read_to_string(raw_json_path).map_err(|source| ReportError::Io {
        path: raw_json_path.to_owned(),
        source,
    })?;
    let mut report = TargetReport::from_cucumber_json(target.name(), target.description(), &raw)?;
    for result in &mut report.results {
        if let Some(label) = row_labels.get(&(result.feature_file.clone(), result.line)) {
            result.scenario = label.clone();
        }
    }
    for s in skipped {
        report.add_skipped(&s.feature, &s.feature_file, &s.scenario, s.line, &s.reason);
    }
    report.write(dir, &raw)?;
    // cucumber's own report is now inside `cucumber.json`.
    let _ = std::fs::remove_file(raw_json_path);
    let (passed, failed, skipped) = report.totals();
    Ok(Totals {
        passed,
        failed,
        skipped,
    })
}

/// `reports/<name>` under the workspace root.
pub fn reports_dir(root: &Path, name: &str) -> PathBuf {
    root.join("reports").join(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cucumber::feature::Ext as _;

    #[test]
    fn outline_rows_are_named_after_their_examples_values() {
        let text = "Feature: F\n\n  Scenario Outline: Waits\n    Then <n> and <m>\n\n    Examples:\n      | n | m |\n      | 1 | one |\n\n    @clock\n    Examples: more\n      | n | m |\n      | 3 | three |\n      | 4 | four |\n\n  Scenario: Plain\n    Then 5 and five\n";
        let feature = cucumber::gherkin::Feature::parse(text, cucumber::gherkin::GherkinEnv::default())
            .expect("the feature parses")
            .expand_examples()
            .expect("the outline expands");
        let names: Vec<Option<String>> = feature.scenarios.iter().map(outline_row_label).collect();
        assert_eq!(
            names,
            [
                Some("Waits (n 1, m one)".to_owned()),
                Some("Waits (n 3, m three)".to_owned()),
                Some("Waits (n 4, m four)".to_owned()),
                None,
            ]
        );
        let tags: Vec<Vec<String>> = feature.scenarios.iter().map(|s| s.tags.clone()).collect();
        assert_eq!(tags[0], Vec::<String>::new());
        assert_eq!(tags[1], ["clock"], "an Examples' tags reach its rows");
    }

    /// The in-process reference presented without clock control: the
    /// runner skips the `@clock` scenarios.
    struct WithoutClock(crate::target::InProcess);

    impl TargetFactory for WithoutClock {
        fn name(&self) -> &str {
            "without-clock"
        }

        fn description(&self) -> String {
            "the in-process reference, its clock control hidden".into()
        }

        fn capabilities(&self) -> crate::target::Capabilities {
            crate::target::Capabilities {
                clock: crate::target::ClockControl::None,
                ..self.0.capabilities()
            }
        }

        fn start(
            &self,
            spec: crate::target::TargetSpec,
        ) -> crate::target::BoxFuture<'_, Result<Box<dyn crate::target::Target>, String>> {
            self.0.start(spec)
        }
    }

    #[tokio::test]
    async fn skipped_scenarios_join_the_feature_of_those_that_ran_wherever_the_file_is() {
        let outside = std::env::temp_dir().join(format!("parsec-mfa-runner-{}", std::process::id()));
        std::fs::create_dir_all(&outside).expect("a temp dir");
        let project = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        std::fs::copy(
            project.join("features/brute_force.feature"),
            outside.join("brute_force.feature"),
        )
        .expect("the feature is copied");
        let totals = run(RunOptions {
            features: outside.clone(),
            reports: outside.join("reports"),
            concurrency: 16,
            target: Arc::new(WithoutClock(crate::target::InProcess::default())),
            tags: None,
            name: Some("The wait doubles".into()),
        })
        .await
        .expect("the run ends");
        assert_eq!((totals.passed, totals.failed, totals.skipped), (2, 0, 4));
        let report = TargetReport::load(&outside.join("reports")).expect("the report");
        let files: std::collections::BTreeSet<&str> = report.results.iter().map(|r| r.feature_file.as_str()).collect();
        assert_eq!(files.len(), 1, "one feature file: {files:?}");
        assert!(
            report
                .results
                .iter()
                .any(|r| r.scenario == "The wait doubles with each wrong code (failures 10, wait 512)"),
            "{:?}",
            report.results
        );
    }
}
