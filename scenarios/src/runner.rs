//! Runs the features against one target and writes the reports in
//! `reports/<target>/`: console output, JUnit XML, cucumber JSON, and the
//! HTML page; then the closing line `N passed, N failed, N skipped`
//! (scenarios). A scenario the target cannot run (see
//! [`crate::targets::skip_reason`]) is not given to cucumber: it is reported
//! as skipped, with the reason, in every report. A run given the target's
//! expectations ([`run_judged`], `--expect`) is judged against them before
//! its reports are written: each scenario's verdict, then the known
//! divergences and every outcome not as expected on the console, and the
//! closing line says `; N known divergences, N unexpected passes`.

use crate::expectations::{KnownScenarios, TargetExpectations, console_lines};
use crate::report::collect::{Collector, Skips, feature_file, outline_row_name, row_name, with_skips};
use crate::report::{CUCUMBER_JSON_FILE, ReportError, TargetReport};
use crate::targets::{
    SkipContext, TargetFactory, advice_of_steps, depends_on_time, real_seconds_needed, skip_reason_for, tags,
};
use crate::world::MfaWorld;
use cucumber::gherkin::tagexpr::TagOperation;
use cucumber::tag::Ext as _;
use cucumber::{World as _, WriterExt as _, writer};
use futures::FutureExt as _;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use crate::report::Totals;

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
    /// Only this slice of the scenarios (`--shard K/N`, see [`Shard`]),
    /// with the other filters.
    pub shard: Option<Shard>,
    /// Who plays the people (`--client`): the reference library by default.
    pub client: crate::client::ClientChoice,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// `source`: gherkin's parse error (a type of the `peg` crate, boxed
    /// rather than depended on).
    #[error("bad --tags expression `{expr}`: {source}")]
    Tags {
        expr: String,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("cannot read the features: {0}")]
    Features(#[source] cucumber::parser::Error),
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

/// The texts of the steps a scenario runs: its feature's background, its
/// rule's, then its own (Examples values substituted).
fn all_steps<'a>(
    feature: &'a cucumber::gherkin::Feature,
    rule: Option<&'a cucumber::gherkin::Rule>,
    scenario: &'a cucumber::gherkin::Scenario,
) -> impl Iterator<Item = &'a str> {
    let background = |b: Option<&'a cucumber::gherkin::Background>| b.into_iter().flat_map(|b| b.steps.iter());
    background(feature.background.as_ref())
        .chain(background(rule.and_then(|r| r.background.as_ref())))
        .chain(scenario.steps.iter())
        .map(|step| step.value.as_str())
}

/// As [`all_steps`], each with its docstring.
fn all_steps_with_docstrings<'a>(
    feature: &'a cucumber::gherkin::Feature,
    rule: Option<&'a cucumber::gherkin::Rule>,
    scenario: &'a cucumber::gherkin::Scenario,
) -> impl Iterator<Item = (&'a str, Option<&'a str>)> {
    let background = |b: Option<&'a cucumber::gherkin::Background>| b.into_iter().flat_map(|b| b.steps.iter());
    background(feature.background.as_ref())
        .chain(background(rule.and_then(|r| r.background.as_ref())))
        .chain(scenario.steps.iter())
        .map(|step| (step.value.as_str(), step.docstring.as_deref()))
}

/// Checks a `--tags` expression before anything starts.
pub fn check_tags(expr: &str) -> Result<(), RunError> {
    expr.parse::<TagOperation>().map(|_| ()).map_err(|e| RunError::Tags {
        expr: expr.to_owned(),
        source: e.into(),
    })
}

pub async fn run(options: RunOptions) -> Result<Totals, RunError> {
    run_with(options, RunControls::default()).await
}

pub async fn run_with(options: RunOptions, controls: RunControls) -> Result<Totals, RunError> {
    Ok(run_inner(options, controls, None).await?.totals())
}

/// A run judged against its target's expectations (`None`: not judged, as
/// [`run`]); the report as written.
pub async fn run_judged(
    options: RunOptions,
    expectations: Option<TargetExpectations>,
) -> Result<TargetReport, RunError> {
    run_inner(options, RunControls::default(), expectations).await
}

/// [`run_judged`] with [`RunControls`] (its console elsewhere, a shard).
pub async fn run_judged_with(
    options: RunOptions,
    controls: RunControls,
    expectations: Option<TargetExpectations>,
) -> Result<TargetReport, RunError> {
    run_inner(options, controls, expectations).await
}

use crate::shard::Shard;

/// Every scenario of the features (each Scenario Outline row on its own),
/// as cucumber's parser reads them for the run, by feature file and line.
pub async fn all_scenarios(features: &Path) -> Result<BTreeSet<ScenarioAt>, RunError> {
    use cucumber::Parser as _;
    use futures::StreamExt as _;
    let parsed: Vec<_> = cucumber::parser::Basic::new()
        .parse(features, Default::default())
        .collect()
        .await;
    let mut all = BTreeSet::new();
    for feature in parsed {
        let feature = feature.map_err(RunError::Features)?;
        let file = feature_file(feature.path.as_deref());
        let scenarios = feature
            .scenarios
            .iter()
            .chain(feature.rules.iter().flat_map(|r| r.scenarios.iter()));
        for scenario in scenarios {
            all.insert((file.clone(), scenario.position.line as u32));
        }
    }
    Ok(all)
}

/// The names the reports may give a scenario (see [`crate::report::collect`]):
/// its own (a Rule's scenarios after the rule's), an outline row's after its
/// Examples values, and with its line where names repeat.
fn report_names(rule: Option<&cucumber::gherkin::Rule>, scenario: &cucumber::gherkin::Scenario) -> [String; 2] {
    let name = match rule {
        Some(rule) => format!("{} {}", rule.name, scenario.name),
        None => scenario.name.clone(),
    };
    let line = scenario.position.line as u32;
    let plain = |text: &str| strip_ansi_escapes::strip_str(text);
    [
        plain(&outline_row_name(scenario).unwrap_or_else(|| name.clone())),
        plain(&row_name(&name, line)),
    ]
}

async fn run_inner(
    options: RunOptions,
    controls: RunControls,
    expectations: Option<TargetExpectations>,
) -> Result<TargetReport, RunError> {
    crate::steps::link();
    let tags_filter = match &options.tags {
        Some(expr) => Some(expr.parse::<TagOperation>().map_err(|e| RunError::Tags {
            expr: expr.clone(),
            source: e.into(),
        })?),
        None => None,
    };
    let name_filter = options.name.clone();
    let reports = &options.reports;
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| ReportError::Io { path, source }
    };
    std::fs::create_dir_all(reports).map_err(io(reports))?;
    let cucumber_json_path = reports.join(CUCUMBER_JSON_FILE);
    let cucumber_json = std::fs::File::create(&cucumber_json_path).map_err(io(&cucumber_json_path))?;

    let context = SkipContext {
        capabilities: options.target.capabilities(),
        real_time_budget: options.target.real_time_budget(),
        clock_note: options.target.clock_note(),
        advertised_advice: options.target.advertised_advice(),
    };
    let skips = Skips::default();
    // What the steps show (emails, QR codes, output, clock jumps), for the report.
    let attachments = crate::report::AttachmentSink::default();
    // A client other than the reference library is named with the target:
    // its own report folder, and its description beside the server's.
    let client = controls.client.clone();
    let (name, description) = match client.report_suffix() {
        None => (options.target.name().to_owned(), options.target.description()),
        Some(suffix) => (
            format!("{}+{suffix}", options.target.name()),
            format!("{}; client: {}", options.target.description(), client.description()),
        ),
    };
    let collector = Collector::new(&name, &description, skips.clone()).with_attachments(attachments.clone());
    let report = collector.report();
    let recorded = skips.clone();
    let known = Arc::new(Mutex::new(KnownScenarios::default()));
    let seen = known.clone();
    // The rules each scenario checks, for the console's line on a failure.
    let rules: Arc<Mutex<BTreeMap<ScenarioAt, Vec<String>>>> = Arc::default();
    let rules_seen = rules.clone();
    let only = match controls.shard {
        None => controls.only,
        Some(shard) => {
            let slice = shard.select(&all_scenarios(&options.features).await?);
            Some(match controls.only {
                Some(only) => only.intersection(&slice).cloned().collect(),
                None => slice,
            })
        }
    };
    let filter = move |feature: &cucumber::gherkin::Feature,
                       rule: Option<&cucumber::gherkin::Rule>,
                       scenario: &cucumber::gherkin::Scenario| {
        let line = scenario.position.line as u32;
        if let Ok(mut seen) = seen.lock() {
            for name in report_names(rule, scenario) {
                seen.add(feature_file(feature.path.as_deref()), name);
            }
        }
        if let Ok(mut rules) = rules_seen.lock() {
            let ids = all_tags(feature, rule, scenario)
                .into_iter()
                .filter(|t| crate::catalogue::is_rule_id(t))
                .collect();
            rules.insert((feature_file(feature.path.as_deref()), line), ids);
        }
        let chosen = name_filter.as_ref().is_none_or(|n| scenario.name.contains(n.as_str()))
            && only
                .as_ref()
                .is_none_or(|set| set.contains(&(feature_file(feature.path.as_deref()), line)))
            && tags_filter
                .as_ref()
                .is_none_or(|t| t.eval(&all_tags(feature, rule, scenario)));
        if !chosen {
            return false;
        }
        let real_seconds = real_seconds_needed(all_steps(feature, rule, scenario));
        let needs = advice_of_steps(all_steps_with_docstrings(feature, rule, scenario));
        match skip_reason_for(&all_tags(feature, rule, scenario), real_seconds, &needs, &context) {
            None => true,
            Some(reason) => {
                recorded.add(feature, scenario, reason);
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
                // cucumber's own JSON report, told of the skipped scenarios too.
                .tee::<MfaWorld, _>(
                    with_skips(writer::Json::raw(cucumber_json), skips)
                        .discard_stats_writes()
                        .discard_arbitrary_writes(),
                )
                .tee::<MfaWorld, _>(collector.discard_stats_writes().discard_arbitrary_writes())
                .normalized(),
        )
        // An undefined or skipped step fails the run.
        .fail_on_skipped()
        .max_concurrent_scenarios(options.concurrency)
        .before(move |feature, rule, scenario, world| {
            let factory = factory.clone();
            // A client rule's scenario (`@client`) always goes through a
            // command client: with the reference library chosen, the
            // reference client's binary.
            let client = match &client {
                crate::client::ClientChoice::Reference
                    if all_tags(feature, rule, scenario).iter().any(|t| t == tags::CLIENT) =>
                {
                    crate::client::ClientChoice::reference_binary(crate::steps::command_line::binary())
                }
                other => other.clone(),
            };
            let moves_clock = all_tags(feature, rule, scenario)
                .iter()
                .any(|t| t == tags::CLOCK || t == tags::EXACT_CLOCK)
                || depends_on_time(all_steps(feature, rule, scenario));
            let recorder = attachments.recorder((feature_file(feature.path.as_deref()), scenario.position.line as u32));
            async move {
                world.recorder = recorder;
                world.factory = Some(factory);
                world.client = client;
                world.spec.moves_clock = moves_clock;
            }
            .boxed_local()
        })
        // The scenario's environment ends with it, failed or not: a failed
        // scenario's World lives on in the events the writers keep, and its
        // server (a clock scenario's, given back for the next one) and its
        // turn must not.
        .after(|_, _, _, _, world| {
            let mut unused_client = false;
            if let Some(world) = world {
                world.end_env();
                unused_client =
                    world.client.command().is_some() && !world.client_used.load(std::sync::atomic::Ordering::Relaxed);
            }
            async move {
                // A scenario the client under test plays no part in
                // (the server's configuration alone) says nothing of it.
                if unused_client {
                    crate::client::not_run("no step of this scenario goes through the client");
                }
            }
            .boxed_local()
        })
        .with_cli(cli)
        .filter_run(options.features.clone(), filter)
        .await;

    let mut report = report.take();
    report.shard = controls.shard;
    report.client = controls.client.command().map(|c| format!("cmd={}", c.command));
    if let Some(expectations) = &expectations {
        let known = known.lock().map(|k| k.clone()).unwrap_or_default();
        expectations.judge(&mut report, &known);
    }
    report.write(reports)?;
    let mut console = console.clone();
    let closing = match report.shard {
        Some(shard) => format!("{} (shard {shard})", report.closing_line()),
        None => report.closing_line(),
    };
    // An unjudged run names each failure with the rules it breaks (a
    // judged one says it with its verdicts).
    let failures = match report.expectations {
        Some(_) => Vec::new(),
        None => failure_lines(&report, &rules.lock().map(|r| r.clone()).unwrap_or_default()),
    };
    for line in failures.into_iter().chain(console_lines(&report)).chain([closing]) {
        writeln!(console, "{line}").map_err(io(Path::new("the console")))?;
    }
    Ok(report)
}

/// `failed: FILE:LINE "NAME" (RULE, …): the first line of why`, for each
/// failed scenario.
fn failure_lines(report: &TargetReport, rules: &BTreeMap<ScenarioAt, Vec<String>>) -> Vec<String> {
    report
        .results
        .iter()
        .filter(|r| r.status == crate::report::Status::Failed)
        .map(|r| {
            let ids = rules
                .get(&(r.feature_file.clone(), r.line))
                .filter(|ids| !ids.is_empty())
                .map(|ids| format!(" ({})", ids.join(", ")))
                .unwrap_or_default();
            let why = r.detail.as_deref().and_then(|d| d.lines().next()).unwrap_or_default();
            format!("failed: {}:{} \"{}\"{ids}: {why}", r.feature_file, r.line, r.scenario)
        })
        .collect()
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

/// `reports/<name>` under the workspace root.
pub fn reports_dir(root: &Path, name: &str) -> PathBuf {
    root.join("reports").join(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::TargetReport;

    /// The in-process reference presented without clock control: the
    /// runner skips the scenarios that would wait longer than the real-time
    /// budget.
    struct WithoutClock(crate::targets::InProcess);

    impl TargetFactory for WithoutClock {
        fn name(&self) -> &str {
            "without-clock"
        }

        fn description(&self) -> String {
            "the in-process reference, its clock control hidden".into()
        }

        fn capabilities(&self) -> crate::targets::Capabilities {
            crate::targets::Capabilities {
                clock: crate::targets::ClockControl::None,
                ..self.0.capabilities()
            }
        }

        fn start(
            &self,
            spec: crate::targets::TargetSpec,
        ) -> crate::targets::BoxFuture<'_, Result<Box<dyn crate::targets::Target>, crate::targets::TargetError>>
        {
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
            target: Arc::new(WithoutClock(crate::targets::InProcess::default())),
            tags: None,
            name: Some("The wait doubles".into()),
        })
        .await
        .expect("the run ends");
        // Rows of 0 to 15 s of real waiting fit the budget; 511 s does not.
        assert_eq!(
            totals,
            Totals {
                passed: 5,
                failed: 0,
                skipped: 1
            }
        );
        let report = TargetReport::load(&outside.join("reports")).expect("the report");
        let skipped: Vec<&str> = report
            .results
            .iter()
            .filter_map(|r| {
                r.detail
                    .as_deref()
                    .filter(|_| r.status == crate::report::Status::Skipped)
            })
            .collect();
        assert_eq!(
            skipped,
            [
                "needs 511 s of real time, over the real-time budget of 30 s (--real-time-budget); this target has no clock control"
            ]
        );
        let files: BTreeSet<&str> = report.results.iter().map(|r| r.feature_file.as_str()).collect();
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
