//! The scenarios the runner's filter kept from cucumber, with their
//! reasons ([`Skips`]): the collector adds them to the report, and
//! [`with_skips`] tells cucumber's own JSON writer of them as events, so
//! that its report lists them too.

use super::model::ScenarioResult;
use super::names::{feature_file, outline_row_name, plain};
use cucumber::event::{self, Cucumber, RetryableScenario, Scenario, Source};
use cucumber::gherkin;
use cucumber::{Event, World, Writer, parser};
use std::sync::{Arc, Mutex, PoisonError};

/// The tag of the scenarios [`with_skips`] gives cucumber's JSON writer:
/// they were not run.
pub const SKIPPED_TAG: &str = "skipped-by-harness";

/// A scenario the runner's filter kept from cucumber, and why.
#[derive(Debug, Clone)]
pub struct Skip {
    feature: Source<gherkin::Feature>,
    scenario: gherkin::Scenario,
    /// As the reports name it: an outline row after its values.
    name: String,
    reason: String,
}

impl Skip {
    fn line(&self) -> u32 {
        self.scenario.position.line as u32
    }

    fn feature_file(&self) -> String {
        feature_file(self.feature.path.as_deref())
    }

    /// Its row in the report (the collector adds it when the run ends).
    pub(super) fn result(&self) -> ScenarioResult {
        let feature = &self.feature;
        ScenarioResult::skipped(
            plain(&feature.name),
            self.feature_file(),
            plain(&self.name),
            self.line(),
            plain(&self.reason),
        )
    }

    /// The scenario as cucumber's writers see it: one step, skipped, that
    /// says why; tagged [`SKIPPED_TAG`].
    fn as_cucumber_scenario(&self) -> (Source<gherkin::Scenario>, Source<gherkin::Step>) {
        let position = self.scenario.position;
        let step = gherkin::Step {
            keyword: "* ".into(),
            ty: gherkin::StepType::Given,
            value: format!("not run against this target: {}", self.reason),
            docstring: None,
            table: None,
            span: self.scenario.span,
            position,
        };
        let scenario = gherkin::Scenario {
            keyword: "Scenario".into(),
            name: self.name.clone(),
            tags: vec![SKIPPED_TAG.into()],
            steps: vec![step.clone()],
            examples: Vec::new(),
            ..self.scenario.clone()
        };
        (Source::new(scenario), Source::new(step))
    }
}

/// The scenarios the runner's filter kept from cucumber, in the order it
/// met them. Shared between the filter, which adds to it, and the writers,
/// which read it.
#[derive(Debug, Clone, Default)]
pub struct Skips(Arc<Mutex<Vec<Skip>>>);

impl Skips {
    /// Records that `scenario` is not run, and why (once, however often the
    /// filter is asked).
    pub fn add(&self, feature: &gherkin::Feature, scenario: &gherkin::Scenario, reason: String) {
        let mut skips = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let line = scenario.position.line;
        let path = feature.path.as_deref();
        if skips
            .iter()
            .any(|s| s.feature.path.as_deref() == path && s.scenario.position.line == line)
        {
            return;
        }
        // One copy of each feature, shared by its skipped scenarios.
        let feature = skips
            .iter()
            .find(|s| s.feature.path.as_deref() == path && s.feature.name == feature.name)
            .map(|s| s.feature.clone())
            .unwrap_or_else(|| Source::new(feature.clone()));
        skips.push(Skip {
            feature,
            scenario: scenario.clone(),
            name: outline_row_name(scenario).unwrap_or_else(|| scenario.name.clone()),
            reason,
        });
    }

    pub(super) fn all(&self) -> Vec<Skip> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// A cucumber writer (its JSON writer) that is also told, as events, of
/// the scenarios the runner skipped: each where it belongs (before the
/// first scenario of its feature with a later line, or at the feature's
/// end), so that cucumber's own report lists them with their reason.
pub struct WithSkips<Wr> {
    inner: Wr,
    skips: Skips,
    /// The skips already told, by (feature file, line).
    told: Vec<(String, u32)>,
}

/// `inner` told of the [`Skips`] too.
pub fn with_skips<Wr>(inner: Wr, skips: Skips) -> WithSkips<Wr> {
    WithSkips {
        inner,
        skips,
        told: Vec::new(),
    }
}

impl<Wr> WithSkips<Wr> {
    /// The skips of `file` not told yet whose line is before `before`.
    fn due(&mut self, file: Option<&str>, before: u32) -> Vec<Skip> {
        let mut due: Vec<Skip> = self
            .skips
            .all()
            .into_iter()
            .filter(|s| file.is_none_or(|f| s.feature_file() == f) && s.line() < before)
            .filter(|s| !self.told.contains(&(s.feature_file(), s.line())))
            .collect();
        due.sort_by_key(|s| (s.feature_file(), s.line()));
        self.told.extend(due.iter().map(|s| (s.feature_file(), s.line())));
        due
    }
}

impl<W: World, Wr: Writer<W>> Writer<W> for WithSkips<Wr> {
    type Cli = Wr::Cli;

    async fn handle_event(&mut self, event: parser::Result<Event<Cucumber<W>>>, cli: &Self::Cli) {
        let due = match event.as_ref().map(|e| &e.value) {
            Ok(Cucumber::Feature(feature, event::Feature::Scenario(scenario, RetryableScenario { event, .. })))
            | Ok(Cucumber::Feature(
                feature,
                event::Feature::Rule(_, event::Rule::Scenario(scenario, RetryableScenario { event, .. })),
            )) if matches!(event, Scenario::Started) => {
                let file = feature_file(feature.path.as_deref());
                self.due(Some(&file), scenario.position.line as u32)
            }
            Ok(Cucumber::Feature(feature, event::Feature::Finished)) => {
                let file = feature_file(feature.path.as_deref());
                self.due(Some(&file), u32::MAX)
            }
            Ok(Cucumber::Finished) => self.due(None, u32::MAX),
            _ => Vec::new(),
        };
        for skip in due {
            let (scenario, step) = skip.as_cucumber_scenario();
            let told = |event: Scenario<W>| {
                Ok(Event::new(Cucumber::scenario(
                    skip.feature.clone(),
                    None::<Source<gherkin::Rule>>,
                    scenario.clone(),
                    event.with_retries(None),
                )))
            };
            self.inner.handle_event(told(Scenario::Started), cli).await;
            self.inner
                .handle_event(told(Scenario::Step(step.clone(), event::Step::Started)), cli)
                .await;
            self.inner
                .handle_event(told(Scenario::Step(step.clone(), event::Step::Skipped)), cli)
                .await;
            self.inner.handle_event(told(Scenario::Finished), cli).await;
        }
        self.inner.handle_event(event, cli).await;
    }
}

impl<Wr: cucumber::writer::NonTransforming> cucumber::writer::NonTransforming for WithSkips<Wr> {}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::world::MfaWorld;
    use cucumber::event::StepError;
    use cucumber::feature::Ext as _;

    /// Scenarios of every kind, for the collector's tests too.
    const FEATURE: &str = "\
Feature: Guessing codes

  Background:
    Given an organization

  Scenario Outline: The wait doubles
    Then <n> waits

    Examples:
      | n |
      | 1 |
      | 2 |

  Scenario: A step nobody wrote
    When Alice dances

  Scenario: Same name
    Then it works

  Scenario: Same name
    Then it works

  Rule: Bob's rules
    Scenario: Bob's scenario
      Then it works
";

    pub(crate) fn feature() -> Source<gherkin::Feature> {
        let mut feature = gherkin::Feature::parse(FEATURE, gherkin::GherkinEnv::default())
            .expect("the feature parses")
            .expand_examples()
            .expect("the outline expands");
        feature.path = Some("features/f.feature".into());
        Source::new(feature)
    }

    /// A file both the JSON writer and the test can reach.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Shared {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn cucumber_json_is_told_of_the_skipped_scenarios_in_their_place() {
        let feature = feature();
        let skips = Skips::default();
        skips.add(&feature, &feature.scenarios[1], "needs <clock> control".into());
        skips.add(&feature, &feature.scenarios[4], "no advice".into());
        let out = Shared::default();
        let mut json = with_skips(cucumber::writer::Json::raw(out.clone()), skips);
        for index in [0, 2] {
            let scenario = Source::new(feature.scenarios[index].clone());
            let step = Source::new(scenario.steps[0].clone());
            for e in [
                Scenario::Started,
                Scenario::Step(step.clone(), event::Step::Started),
                Scenario::Step(step, event::Step::Failed(None, None, None, StepError::NotFound)),
                Scenario::Finished,
            ] {
                let e = Cucumber::scenario(
                    feature.clone(),
                    None::<Source<gherkin::Rule>>,
                    scenario.clone(),
                    e.with_retries(None),
                );
                futures::executor::block_on(Writer::<MfaWorld>::handle_event(
                    &mut json,
                    Ok(Event::new(e)),
                    &cucumber::cli::Empty,
                ));
            }
        }
        for e in [
            Cucumber::Feature(feature.clone(), event::Feature::Finished),
            Cucumber::Finished,
        ] {
            futures::executor::block_on(Writer::<MfaWorld>::handle_event(
                &mut json,
                Ok(Event::<Cucumber<MfaWorld>>::new(e)),
                &cucumber::cli::Empty,
            ));
        }
        let written: serde_json::Value = serde_json::from_slice(&out.0.lock().unwrap()).expect("JSON");
        let elements = written[0]["elements"].as_array().expect("the feature's elements");
        let lines: Vec<u64> = elements.iter().map(|e| e["line"].as_u64().unwrap()).collect();
        assert_eq!(lines, [11, 12, 14, 20], "each skipped scenario in its place");
        let skipped = &elements[1];
        assert_eq!(skipped["name"], "The wait doubles (n 2)");
        assert_eq!(skipped["tags"][0]["name"], SKIPPED_TAG);
        assert_eq!(skipped["steps"][0]["result"]["status"], "skipped");
        assert_eq!(
            skipped["steps"][0]["name"],
            "not run against this target: needs <clock> control"
        );
        assert_eq!(elements[3]["name"], "Same name");
    }
}
