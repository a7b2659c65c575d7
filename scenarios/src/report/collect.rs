//! From cucumber's event stream to the report: [`Collector`], a cucumber
//! [`Writer`] that turns each scenario's events into a [`ScenarioResult`],
//! and adds at the end the [`Skips`], the scenarios the runner's filter kept
//! from cucumber (with their reasons; [`super::skips`], which also tells
//! cucumber's own JSON writer of them).
//!
//! Nothing is skipped silently: a step cucumber skipped or could not match
//! makes its scenario *failed* (the runner fails on them), and a scenario the
//! runner left out is *skipped* with the reason shown everywhere.

use super::living::AttachmentSink;
use super::model::{ScenarioResult, Status, StepOutcome, StepRecord, TargetReport};
use super::names::plain;
use super::skips::Skip;
use cucumber::event::{self, Cucumber, Hook, HookType, RetryableScenario, Scenario, StepError};
use cucumber::gherkin;
use cucumber::{Event, World, Writer, parser};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

// Where callers have always found them (the runner imports them from here).
pub use super::names::{feature_file, outline_row_name, row_name};
pub use super::skips::{SKIPPED_TAG, Skips, WithSkips, with_skips};

/// What one step or hook did.
struct Outcome {
    /// `Then the login is refused`, `Before hook`.
    what: String,
    /// The step's line, `None` for a hook.
    line: Option<u32>,
    status: StepStatus,
    message: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum StepStatus {
    Passed,
    Failed,
    Undefined,
    Ambiguous,
    Skipped,
}

/// A scenario cucumber ran, as its events told it.
struct Ran {
    result: ScenarioResult,
    /// cucumber's name for it (a Rule's scenarios: the rule's name first).
    cucumber_name: String,
    outline_row: Option<String>,
}

/// A cucumber [`Writer`] that builds the [`TargetReport`] of the run; put
/// it inside `.normalized()` (it reads each scenario's events in order) and
/// inside `fail_on_skipped()`, like cucumber's own report writers. When the
/// run ends the report (with [`Skips`] added) is in [`Self::report`]'s slot.
pub struct Collector {
    report: Arc<Mutex<TargetReport>>,
    skips: Skips,
    running: HashMap<(String, u32, String), Vec<Outcome>>,
    ran: Vec<Ran>,
    attachments: AttachmentSink,
}

impl Collector {
    pub fn new(target: &str, description: &str, skips: Skips) -> Self {
        Collector {
            report: Arc::new(Mutex::new(TargetReport::new(target, description))),
            skips,
            running: HashMap::new(),
            ran: Vec::new(),
            attachments: AttachmentSink::default(),
        }
    }

    /// Puts beside each step what the steps recorded in `attachments`.
    pub fn with_attachments(mut self, attachments: AttachmentSink) -> Self {
        self.attachments = attachments;
        self
    }

    /// Where the report is once the run has ended (the writer itself goes
    /// into cucumber).
    pub fn report(&self) -> ReportSlot {
        ReportSlot(self.report.clone())
    }

    fn on_scenario<W>(
        &mut self,
        feature: &gherkin::Feature,
        rule: Option<&gherkin::Rule>,
        scenario: &gherkin::Scenario,
        event: Scenario<W>,
    ) {
        let cucumber_name = match rule {
            Some(rule) => format!("{} {}", rule.name, scenario.name),
            None => scenario.name.clone(),
        };
        let file = feature_file(feature.path.as_deref());
        let key = (file.clone(), scenario.position.line as u32, cucumber_name.clone());
        let outcome = match event {
            Scenario::Started => {
                self.running.insert(key, Vec::new());
                return;
            }
            Scenario::Hook(which, hook) => {
                let what = match which {
                    HookType::Before => "Before hook",
                    HookType::After => "After hook",
                };
                match hook {
                    Hook::Started => return,
                    Hook::Passed => outcome(what, StepStatus::Passed, None),
                    Hook::Failed(_, info) => outcome(what, StepStatus::Failed, Some(plain(&panic_text(&info)))),
                }
            }
            Scenario::Background(step, event) | Scenario::Step(step, event) => {
                let keyword = step.keyword.trim();
                let what = if keyword.is_empty() {
                    step.value.clone()
                } else {
                    format!("{keyword} {}", step.value)
                };
                let line = Some(step.position.line as u32);
                match event {
                    event::Step::Started => return,
                    event::Step::Passed(..) => Outcome {
                        line,
                        ..outcome(&what, StepStatus::Passed, None)
                    },
                    event::Step::Skipped => Outcome {
                        line,
                        ..outcome(&what, StepStatus::Skipped, None)
                    },
                    event::Step::Failed(_, location, _, error) => {
                        let status = match error {
                            StepError::NotFound => StepStatus::Undefined,
                            StepError::AmbiguousMatch(_) => StepStatus::Ambiguous,
                            StepError::Panic(_) => StepStatus::Failed,
                        };
                        let mut message = plain(&error.to_string());
                        if let Some(l) = location {
                            message.push_str(&format!("\n(step definition: {}:{}:{})", l.path, l.line, l.column));
                        }
                        Outcome {
                            line,
                            ..outcome(&what, status, Some(message))
                        }
                    }
                }
            }
            Scenario::Log(_) => return,
            Scenario::Finished => {
                let outcomes = self.running.remove(&key).unwrap_or_default();
                let (status, detail) = verdict(&outcomes);
                let attachments = self.attachments.take(&(key.0.clone(), key.1));
                let steps = step_records(feature, rule, scenario, &outcomes, attachments);
                self.ran.push(Ran {
                    result: ScenarioResult {
                        detail,
                        expected: None,
                        feature: feature_name(&feature.name, &file),
                        feature_file: file,
                        line: scenario.position.line as u32,
                        scenario: String::new(),
                        status,
                        steps,
                        verdict: None,
                    },
                    cucumber_name,
                    outline_row: outline_row_name(scenario),
                });
                return;
            }
        };
        self.running.entry(key).or_default().push(outcome);
    }

    /// A feature file cucumber could not read, parse or expand: failed.
    fn on_parser_error(&mut self, error: &parser::Error) {
        let (path, message) = match error {
            parser::Error::Parsing(e) => {
                let path = match e.as_ref() {
                    gherkin::ParseFileError::Reading { path, .. } | gherkin::ParseFileError::Parsing { path, .. } => {
                        path.clone()
                    }
                };
                (Some(path), e.to_string())
            }
            parser::Error::ExampleExpansion(e) => (e.path.clone(), e.to_string()),
        };
        let file = feature_file(path.as_deref());
        self.ran.push(Ran {
            result: ScenarioResult {
                detail: Some(format!("scenario: {}", plain(&message))),
                expected: None,
                feature: feature_name("", &file),
                feature_file: file,
                line: 0,
                scenario: String::new(),
                status: Status::Failed,
                steps: Vec::new(),
                verdict: None,
            },
            cucumber_name: String::new(),
            outline_row: None,
        });
    }

    /// The run has ended: names the scenarios, adds the skipped ones.
    fn finish(&mut self) {
        // cucumber's name, per feature file: how many scenarios carry it,
        // and whether outline rows do.
        let mut groups: BTreeMap<(&str, &str), (usize, bool)> = BTreeMap::new();
        for ran in &self.ran {
            let group = groups
                .entry((&ran.result.feature_file, &ran.cucumber_name))
                .or_default();
            group.0 += 1;
            group.1 |= ran.outline_row.is_some();
        }
        let mut results = Vec::with_capacity(self.ran.len());
        for ran in &self.ran {
            let (count, outline) = groups[&(ran.result.feature_file.as_str(), ran.cucumber_name.as_str())];
            let name = if ran.cucumber_name.trim().is_empty() {
                "(unnamed scenario)".to_owned()
            } else {
                plain(&ran.cucumber_name)
            };
            let mut result = ran.result.clone();
            result.scenario = match &ran.outline_row {
                Some(row) => plain(row),
                None if outline || count > 1 => row_name(&name, result.line),
                None => name,
            };
            results.push(result);
        }
        results.extend(self.skips.all().iter().map(Skip::result));
        self.report.lock().unwrap_or_else(PoisonError::into_inner).results = results;
    }
}

fn outcome(what: &str, status: StepStatus, message: Option<String>) -> Outcome {
    Outcome {
        line: None,
        what: plain(what),
        status,
        message,
    }
}

/// The steps of a scenario as written: the feature's background, the
/// rule's, then its own; each with what became of it and what it recorded.
/// A step with no outcome was not run (an earlier step failed).
fn step_records(
    feature: &gherkin::Feature,
    rule: Option<&gherkin::Rule>,
    scenario: &gherkin::Scenario,
    outcomes: &[Outcome],
    attachments: Vec<(u32, super::model::Attachment)>,
) -> Vec<StepRecord> {
    let backgrounds = [feature.background.as_ref(), rule.and_then(|r| r.background.as_ref())];
    let steps = backgrounds
        .into_iter()
        .flatten()
        .flat_map(|b| &b.steps)
        .chain(&scenario.steps);
    steps
        .map(|step| {
            let line = step.position.line as u32;
            let outcome = match outcomes.iter().find(|o| o.line == Some(line)) {
                None => StepOutcome::NotRun,
                Some(o) if o.status == StepStatus::Passed => StepOutcome::Passed,
                Some(o) => StepOutcome::Failed {
                    message: o.message.clone().unwrap_or_else(|| match o.status {
                        StepStatus::Skipped => "skipped by cucumber".to_owned(),
                        _ => "failed (no message)".to_owned(),
                    }),
                },
            };
            StepRecord {
                keyword: plain(step.keyword.trim()),
                text: plain(&step.value),
                line,
                docstring: step.docstring.as_deref().map(|d| plain(d.trim_matches('\n'))),
                outcome,
                attachments: attachments
                    .iter()
                    .filter(|(at, _)| *at == line)
                    .map(|(_, a)| a.clone())
                    .collect(),
            }
        })
        .collect()
}

/// cucumber names a file it could not parse with an empty feature.
fn feature_name(name: &str, file: &str) -> String {
    if name.trim().is_empty() {
        file.to_owned()
    } else {
        plain(name)
    }
}

/// A panic's message (cucumber's own reading of one is private).
fn panic_text(info: &event::Info) -> String {
    info.downcast_ref::<String>()
        .cloned()
        .or_else(|| info.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "(Could not resolve panic payload)".into())
}

/// Passed when every step, the background's and the hooks passed;
/// otherwise failed, and the first that did not pass is the detail (an
/// undefined or skipped step is a failure of the suite).
fn verdict(outcomes: &[Outcome]) -> (Status, Option<String>) {
    let Some(first) = outcomes.iter().find(|o| o.status != StepStatus::Passed) else {
        return (Status::Passed, None);
    };
    let message = first.message.as_deref();
    // A step that cannot run with the client under test (see `client::not_run`).
    if let Some((_, reason)) = message.and_then(|m| m.split_once(crate::client::NOT_RUN)) {
        let reason = reason.lines().next().unwrap_or_default().trim();
        return (
            Status::Skipped,
            Some(format!("{}: {}{reason}", first.what, crate::client::NOT_RUN)),
        );
    }
    let why = match (first.status, message) {
        (StepStatus::Failed, Some(message)) => message.to_owned(),
        (StepStatus::Failed, None) => "failed (no message)".to_owned(),
        (StepStatus::Undefined, _) => {
            "undefined step: no step definition matches it, and an undefined step fails the suite".to_owned()
        }
        (StepStatus::Skipped, _) => "skipped by cucumber, and a skipped step fails the suite".to_owned(),
        (StepStatus::Ambiguous, message) => format!(
            "ambiguous step: more than one step definition matches it{}",
            message.map(|m| format!("\n{m}")).unwrap_or_default()
        ),
        (StepStatus::Passed, _) => unreachable!("found as not passed"),
    };
    (Status::Failed, Some(format!("{}: {why}", first.what)))
}

/// The report a [`Collector`] builds, read once the run has ended.
#[derive(Debug, Clone)]
pub struct ReportSlot(Arc<Mutex<TargetReport>>);

impl ReportSlot {
    pub fn take(&self) -> TargetReport {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl<W: World> Writer<W> for Collector {
    type Cli = cucumber::cli::Empty;

    async fn handle_event(&mut self, event: parser::Result<Event<Cucumber<W>>>, _: &Self::Cli) {
        match event.map(Event::into_inner) {
            Err(error) => self.on_parser_error(&error),
            Ok(Cucumber::Feature(feature, event::Feature::Scenario(scenario, RetryableScenario { event, .. }))) => {
                self.on_scenario(&feature, None, &scenario, event);
            }
            Ok(Cucumber::Feature(
                feature,
                event::Feature::Rule(rule, event::Rule::Scenario(scenario, RetryableScenario { event, .. })),
            )) => {
                self.on_scenario(&feature, Some(&rule), &scenario, event);
            }
            Ok(Cucumber::Finished) => self.finish(),
            Ok(_) => {}
        }
    }
}

impl cucumber::writer::NonTransforming for Collector {}

#[cfg(test)]
mod tests {
    use super::super::skips::tests::feature;
    use super::*;
    use crate::world::MfaWorld;
    use cucumber::event::Source;
    use cucumber::step::Location;

    /// What a test step does.
    enum Does {
        Pass,
        Panic(&'static str),
        Undefined,
        HookFails(&'static str),
    }

    fn send(collector: &mut Collector, event: Cucumber<MfaWorld>) {
        futures::executor::block_on(collector.handle_event(Ok(Event::new(event)), &cucumber::cli::Empty));
    }

    /// The events of one scenario: its background's steps pass, then its
    /// own steps do what `does` says, in order.
    fn run(collector: &mut Collector, feature: &Source<gherkin::Feature>, index: usize, does: &[Does]) {
        let (rule, scenario) = match feature.scenarios.get(index) {
            Some(scenario) => (None, Source::new(scenario.clone())),
            None => {
                let rule = feature.rules[0].clone();
                let scenario = rule.scenarios[index - feature.scenarios.len()].clone();
                (Some(Source::new(rule)), Source::new(scenario))
            }
        };
        let event = |e: Scenario<MfaWorld>| {
            Cucumber::scenario(feature.clone(), rule.clone(), scenario.clone(), e.with_retries(None))
        };
        send(collector, event(Scenario::Started));
        let no_captures = cucumber::codegen::Regex::new("").unwrap().capture_locations();
        for step in feature.background.iter().flat_map(|b| &b.steps) {
            let step = Source::new(step.clone());
            let captures = no_captures.clone();
            send(
                collector,
                event(Scenario::Background(step, event::Step::Passed(captures, None))),
            );
        }
        for (i, does) in does.iter().enumerate() {
            // A hook after the steps has no step of its own.
            let step = Source::new(scenario.steps[i.min(scenario.steps.len() - 1)].clone());
            let captures = no_captures.clone();
            let location = Location {
                path: "scenarios/src/steps/user.rs",
                line: 7,
                column: 1,
            };
            let e = match does {
                Does::Pass => Scenario::Step(step, event::Step::Passed(captures, None)),
                Does::Panic(message) => Scenario::Step(
                    step,
                    event::Step::Failed(
                        None,
                        Some(location),
                        None,
                        StepError::Panic(Arc::new(message.to_string())),
                    ),
                ),
                Does::Undefined => Scenario::Step(step, event::Step::Failed(None, None, None, StepError::NotFound)),
                Does::HookFails(message) => {
                    Scenario::Hook(HookType::After, Hook::Failed(None, Arc::new(message.to_string())))
                }
            };
            send(collector, event(e));
        }
        send(collector, event(Scenario::Finished));
    }

    fn collected() -> TargetReport {
        let feature = feature();
        let skips = Skips::default();
        // The outline's second row needs what the target lacks.
        skips.add(&feature, &feature.scenarios[1], "needs <clock> control".into());
        skips.add(&feature, &feature.scenarios[1], "asked twice".into());
        let mut collector = Collector::new("reference", "The reference server", skips);
        let slot = collector.report();
        run(
            &mut collector,
            &feature,
            0,
            &[Does::Panic("not throttled: \u{1b}[31mErr\u{1b}[0m")],
        );
        run(&mut collector, &feature, 2, &[Does::Undefined]);
        run(&mut collector, &feature, 3, &[Does::Pass]);
        run(
            &mut collector,
            &feature,
            4,
            &[Does::Pass, Does::HookFails("the mailbox was not empty")],
        );
        run(&mut collector, &feature, 5, &[Does::Pass]);
        send(&mut collector, Cucumber::Finished);
        slot.take()
    }

    fn find<'a>(report: &'a TargetReport, scenario: &str) -> &'a ScenarioResult {
        report
            .results
            .iter()
            .find(|r| r.scenario == scenario)
            .unwrap_or_else(|| panic!("no `{scenario}` in {:#?}", report.results))
    }

    #[test]
    fn scenarios_from_their_events() {
        let report = collected();
        let names: Vec<&str> = report.results.iter().map(|r| r.scenario.as_str()).collect();
        assert_eq!(
            names,
            [
                "The wait doubles (n 1)",
                "A step nobody wrote",
                "Same name (line 17)",
                "Same name (line 20)",
                "Bob's rules Bob's scenario",
                "The wait doubles (n 2)",
            ],
            "the runner's order, skips last"
        );
        let row = find(&report, "The wait doubles (n 1)");
        assert_eq!((row.status, row.line), (Status::Failed, 11));
        assert_eq!(
            (row.feature.as_str(), row.feature_file.as_str()),
            ("Guessing codes", "features/f.feature")
        );
        assert_eq!(
            row.detail.as_deref(),
            Some(
                "Then 1 waits: Step panicked. Captured output: not throttled: Err\n\
                 (step definition: scenarios/src/steps/user.rs:7:1)"
            ),
            "the error first, without terminal colours"
        );
        let undefined = find(&report, "A step nobody wrote").detail.as_deref().unwrap();
        assert_eq!(
            undefined,
            "When Alice dances: undefined step: no step definition matches it, and an undefined step fails the suite"
        );
        assert_eq!(find(&report, "Same name (line 17)").status, Status::Passed);
        let hook = find(&report, "Same name (line 20)");
        assert_eq!(hook.status, Status::Failed);
        assert_eq!(hook.detail.as_deref(), Some("After hook: the mailbox was not empty"));
        let skipped = find(&report, "The wait doubles (n 2)");
        assert_eq!((skipped.status, skipped.line), (Status::Skipped, 12));
        assert_eq!(
            skipped.detail.as_deref(),
            Some("needs <clock> control"),
            "the first reason"
        );
        assert_eq!(report.totals().line(), "2 passed, 3 failed, 1 skipped");
    }

    #[test]
    fn an_unparsable_file_is_a_failed_scenario() {
        let mut collector = Collector::new("t", "d", Skips::default());
        let slot = collector.report();
        let error = gherkin::Feature::parse_path("/nonexistent/x.feature", gherkin::GherkinEnv::default()).unwrap_err();
        futures::executor::block_on(Writer::<MfaWorld>::handle_event(
            &mut collector,
            Err(parser::Error::Parsing(Arc::new(error))),
            &cucumber::cli::Empty,
        ));
        send(&mut collector, Cucumber::Finished);
        let report = slot.take();
        let result = &report.results[0];
        assert_eq!(
            (result.status, result.scenario.as_str()),
            (Status::Failed, "(unnamed scenario)")
        );
        assert!(
            result.detail.as_deref().unwrap().starts_with("scenario: "),
            "{result:?}"
        );
    }
}
