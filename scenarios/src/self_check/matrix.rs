//! The kill matrix: defects as rows, profiles as columns, and the verdict.
//! One typed model, written as `matrix.json` (for CI) and read by the HTML
//! page; [`Matrix::problems`] says what keeps the self-check from passing.

use super::Profile;
use super::unobservable::{self, Unobservable};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// `matrix.json`'s format tag.
pub const FORMAT: &str = "parsec-mfa-self-check/1";
pub const JSON_FILE: &str = "matrix.json";
pub const HTML_FILE: &str = "index.html";

/// How much of the features a fault's run covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Every scenario the profile can run: every killing scenario is listed.
    Full,
    /// Only the scenarios that killed the fault in process; the run stops
    /// there when one of them fails here too (otherwise every scenario
    /// runs, as [`Scope::Full`]).
    KillersFirst,
}

/// A scenario, where it is written, and why it failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioRef {
    pub scenario: String,
    pub feature_file: String,
    pub line: u32,
    /// The failing step and its message.
    pub detail: Option<String>,
}

/// One run of the features against one server (faultless or with a fault)
/// in one profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// The scenarios that failed.
    pub failures: Vec<ScenarioRef>,
    pub scope: Scope,
    pub seconds: f64,
    /// The run's own report, relative to the matrix's folder.
    pub report: String,
}

impl RunRecord {
    pub fn ran(&self) -> usize {
        self.passed + self.failed
    }
}

/// What became of a fault in one profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// At least one scenario failed.
    Killed,
    /// Every scenario passed: the features did not see the defect.
    Survived,
    /// Survived, and listed as not observable in this profile (see
    /// [`unobservable`]).
    Unobservable,
    /// The run could not be made (the server did not start, …).
    Error,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub profile: Profile,
    pub outcome: Outcome,
    /// The run, when it could be made.
    pub run: Option<RunRecord>,
    /// The unobservable list's reason, or the run's error.
    pub reason: Option<String>,
    /// Why this cell fails the self-check, if it does.
    pub problem: Option<String>,
}

impl Cell {
    /// The outcome of a fault's run, judged against the unobservable list.
    pub fn judge<E: std::fmt::Display>(
        fault: &str,
        profile: Profile,
        run: Result<RunRecord, E>,
        list: &[Unobservable],
    ) -> Cell {
        let listed = unobservable::reason(list, fault, profile);
        let (outcome, run, reason, problem) = match run {
            Err(why) => (
                Outcome::Error,
                None,
                Some(why.to_string()),
                Some(format!(
                    "`{fault}` in the {} profile: the run failed: {why}",
                    profile.name()
                )),
            ),
            Ok(run) if run.failed > 0 => {
                let problem = listed.map(|reason| {
                    format!(
                        "`{fault}` is listed as unobservable in the {} profile (\"{reason}\") but {} scenario(s) killed it: remove it from the list",
                        profile.name(),
                        run.failed
                    )
                });
                (Outcome::Killed, Some(run), listed.map(str::to_owned), problem)
            }
            Ok(run) if run.passed == 0 => (
                Outcome::Survived,
                Some(run),
                listed.map(str::to_owned),
                Some(format!("`{fault}` in the {} profile: no scenario ran", profile.name())),
            ),
            Ok(run) => match listed {
                Some(reason) => (Outcome::Unobservable, Some(run), Some(reason.to_owned()), None),
                None => (
                    Outcome::Survived,
                    Some(run),
                    None,
                    Some(format!(
                        "`{fault}` survived in the {} profile: write a scenario that sees it, or list it as unobservable there with the reason",
                        profile.name()
                    )),
                ),
            },
        };
        Cell {
            profile,
            outcome,
            run,
            reason,
            problem,
        }
    }
}

/// A row of the matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRow {
    /// The row's name: the fault, or `<fault> (copy N)` in a scaling run.
    pub label: String,
    /// The `--inject-fault` name, or the `--inject-client-fault` name.
    pub fault: String,
    /// A defect of the reference client rather than of the server.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub client: bool,
    pub cells: Vec<Cell>,
    /// The `explore` column's cell (`self-check --explore`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explore: Option<super::explored::ExploreCell>,
}

/// The faultless reference in one profile: every scenario it can run must
/// pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub profile: Profile,
    pub run: Option<RunRecord>,
    pub error: Option<String>,
}

impl Baseline {
    pub fn problem(&self) -> Option<String> {
        let profile = self.profile.name();
        match (&self.run, &self.error) {
            (_, Some(error)) => Some(format!("the faultless reference in the {profile} profile: {error}")),
            (Some(run), None) if run.failed > 0 => Some(format!(
                "the faultless reference fails {} scenario(s) in the {profile} profile: {}",
                run.failed,
                run.failures
                    .iter()
                    .map(|f| f.scenario.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
            (Some(run), None) if run.passed == 0 => Some(format!(
                "the faultless reference passes no scenario in the {profile} profile"
            )),
            (Some(_), None) => None,
            (None, None) => Some(format!("the faultless reference did not run in the {profile} profile")),
        }
    }
}

/// A profile as the page and the JSON describe it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileInfo {
    pub profile: Profile,
    pub title: String,
    pub description: String,
}

/// How the matrix was made: what its time figures depend on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSettings {
    pub scope: Scope,
    /// Runs (fault × profile, baselines) at the same time.
    pub runs_at_once: usize,
    /// Scenarios at the same time within a run.
    pub concurrency: usize,
    pub wall_seconds: f64,
    /// CPU time of this process and the servers it started and waited
    /// for (Linux), where the time went beside real waits.
    pub cpu_seconds: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Matrix {
    pub format: String,
    pub profiles: Vec<ProfileInfo>,
    pub baselines: Vec<Baseline>,
    pub faults: Vec<FaultRow>,
    /// Problems of the unobservable list itself (stale names).
    pub list_problems: Vec<String>,
    pub settings: RunSettings,
    /// The `explore` column's budget, where it was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explore: Option<super::explored::ExploreBudget>,
    /// Whether the self-check passes: no problem anywhere.
    pub ok: bool,
}

impl Matrix {
    /// Everything that keeps the self-check from passing, in reading order.
    pub fn problems(&self) -> Vec<String> {
        self.baselines
            .iter()
            .filter_map(Baseline::problem)
            .chain(self.list_problems.iter().cloned())
            .chain(
                self.faults
                    .iter()
                    .flat_map(|row| row.cells.iter().filter_map(|c| c.problem.clone())),
            )
            .chain(
                self.faults
                    .iter()
                    .filter_map(|row| row.explore.as_ref().and_then(|e| e.problem.clone())),
            )
            .collect()
    }

    /// The row's name as shown: a client's defect says so.
    pub fn shown_label(row: &FaultRow) -> String {
        match row.client {
            true => format!("{} (client)", row.label),
            false => row.label.clone(),
        }
    }

    pub fn cell(&self, label: &str, profile: Profile) -> Option<&Cell> {
        self.faults
            .iter()
            .find(|row| row.label == label)?
            .cells
            .iter()
            .find(|c| c.profile == profile)
    }

    pub fn to_json(&self) -> String {
        // Plain data with string keys: serialising cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn load(dir: &Path) -> Result<Matrix, LoadError> {
        let path = dir.join(JSON_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| LoadError::Read {
            path: path.clone(),
            source,
        })?;
        let matrix: Matrix = serde_json::from_str(&text).map_err(|source| LoadError::Json {
            path: path.clone(),
            source,
        })?;
        if matrix.format != FORMAT {
            return Err(LoadError::Format {
                path,
                found: matrix.format,
            });
        }
        Ok(matrix)
    }
}

/// Why a `matrix.json` could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}: {source}", path.display())]
    Json { path: PathBuf, source: serde_json::Error },
    #[error("{}: format `{found}`, expected `{FORMAT}`", path.display())]
    Format { path: PathBuf, found: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(passed: usize, failed: usize) -> RunRecord {
        RunRecord {
            passed,
            failed,
            skipped: 0,
            failures: (0..failed)
                .map(|i| ScenarioRef {
                    scenario: format!("scenario {i}"),
                    feature_file: "features/f.feature".into(),
                    line: i as u32,
                    detail: None,
                })
                .collect(),
            scope: Scope::Full,
            seconds: 1.0,
            report: "x".into(),
        }
    }

    const LISTED: &[Unobservable] = &[Unobservable {
        fault: "slow-fault",
        profile: Profile::Url,
        reason: "needs an hour of real time",
    }];

    #[test]
    fn a_failed_scenario_kills_the_fault() {
        let cell = Cell::judge("f", Profile::InProcess, Ok::<_, &str>(run(80, 3)), LISTED);
        assert_eq!((cell.outcome, cell.problem), (Outcome::Killed, None));
    }

    #[test]
    fn a_survivor_is_a_problem_unless_listed_for_that_profile() {
        let survivor = Cell::judge("f", Profile::Url, Ok::<_, &str>(run(83, 0)), LISTED);
        assert_eq!(survivor.outcome, Outcome::Survived);
        assert!(survivor.problem.unwrap().contains("survived"));
        let listed = Cell::judge("slow-fault", Profile::Url, Ok::<_, &str>(run(67, 0)), LISTED);
        assert_eq!(listed.outcome, Outcome::Unobservable);
        assert_eq!(listed.problem, None);
        assert_eq!(listed.reason.as_deref(), Some("needs an hour of real time"));
        let other_profile = Cell::judge("slow-fault", Profile::Launched, Ok::<_, &str>(run(83, 0)), LISTED);
        assert_eq!(other_profile.outcome, Outcome::Survived);
        assert!(other_profile.problem.is_some());
    }

    #[test]
    fn a_listed_fault_that_is_killed_makes_the_list_stale() {
        let cell = Cell::judge("slow-fault", Profile::Url, Ok::<_, &str>(run(60, 2)), LISTED);
        assert_eq!(cell.outcome, Outcome::Killed);
        assert!(cell.problem.unwrap().contains("remove it from the list"));
    }

    #[test]
    fn a_run_that_ran_nothing_or_failed_to_start_is_a_problem() {
        let nothing = Cell::judge("slow-fault", Profile::Url, Ok::<_, &str>(run(0, 0)), LISTED);
        assert!(nothing.problem.unwrap().contains("no scenario ran"));
        let error = Cell::judge("f", Profile::Launched, Err("the server did not start"), LISTED);
        assert_eq!(error.outcome, Outcome::Error);
        assert!(error.problem.unwrap().contains("did not start"));
    }

    #[test]
    fn the_faultless_reference_must_pass_everything_it_runs() {
        let baseline = |run: Option<RunRecord>, error: Option<String>| Baseline {
            profile: Profile::Launched,
            run,
            error,
        };
        assert_eq!(baseline(Some(run(83, 0)), None).problem(), None);
        assert!(
            baseline(Some(run(82, 1)), None)
                .problem()
                .unwrap()
                .contains("scenario 0")
        );
        assert!(baseline(Some(run(0, 0)), None).problem().is_some());
        assert!(baseline(None, Some("down".into())).problem().unwrap().contains("down"));
    }

    #[test]
    fn the_json_reads_back() {
        let matrix = Matrix {
            explore: None,
            format: FORMAT.into(),
            profiles: vec![],
            baselines: vec![Baseline {
                profile: Profile::InProcess,
                run: Some(run(83, 0)),
                error: None,
            }],
            faults: vec![FaultRow {
                label: "f".into(),
                fault: "f".into(),
                client: false,
                cells: vec![Cell::judge("f", Profile::InProcess, Ok::<_, &str>(run(80, 3)), &[])],
                explore: None,
            }],
            list_problems: vec![],
            settings: RunSettings {
                scope: Scope::KillersFirst,
                runs_at_once: 4,
                concurrency: 16,
                wall_seconds: 1.5,
                cpu_seconds: None,
            },
            ok: true,
        };
        let json = matrix.to_json();
        assert!(
            json.contains("\"killers-first\"") && json.contains("\"in-process\""),
            "{json}"
        );
        let back: Matrix = serde_json::from_str(&json).unwrap();
        assert_eq!(back, matrix);
        assert_eq!(back.cell("f", Profile::InProcess).unwrap().outcome, Outcome::Killed);
    }
}
