//! Model-based exploration (`parsec-mfa explore`): random sequences of the
//! MFA lifecycle's operations, drawn from a seed ([`operations`]), run
//! against the target and the reference model in lockstep ([`lockstep`]),
//! compared on normalized observations ([`observation`]). The first
//! divergence nobody expected ([`expected`]) is shrunk ([`shrink`]),
//! written as a feature ([`gherkin`]) and a page ([`html`]), and that feature is run against
//! both servers before it is shown: it must fail on the target and pass
//! on the reference. `--shard K/N` runs a slice of the sequences, and
//! [`merge`] puts the slices' reports back together.

pub mod expected;
pub mod gherkin;
pub mod html;
pub mod merge;

use crate::lockstep::{self, observation, operations, shrink};

use crate::shard::Shard;
use crate::targets::TargetFactory;
use expected::ExpectedDivergence;
use lockstep::{Divergence, LockstepError, run_sequence};
use observation::Observation;
use operations::Op;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};
use serde::{Deserialize, Serialize};
use shrink::ShrinkBudget;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const EXPLORE_JSON_FILE: &str = "explore.json";
pub const DIVERGENCE_FEATURE_FILE: &str = "divergence.feature";

/// When to stop drawing sequences (whichever comes first; none: 100
/// sequences).
#[derive(Debug, Clone, Copy, Default)]
pub struct Budget {
    /// Operations, counted once for both sides (`--steps`).
    pub operations: Option<usize>,
    /// Wall time (`--time`).
    pub time: Option<Duration>,
    /// Sequences (`--sequences`).
    pub sequences: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct ExploreConfig {
    /// The first sequence's seed; sequence `i` has seed `seed + i`, so
    /// `--seed S --sequences 1` replays sequence `S` alone.
    pub seed: u64,
    pub budget: Budget,
    /// Operations per sequence.
    pub length: usize,
    /// User indices drawn (`--users`).
    pub users: u8,
    /// Sequences run at once.
    pub concurrency: usize,
    /// The longest clock move drawn, in seconds (0: none).
    pub max_advance: u32,
    pub shrink: ShrinkBudget,
    pub expected: Vec<ExpectedDivergence>,
    /// The target's report name (what expectations name).
    pub target_name: String,
    /// The flags that choose the target (`--target …`), for the replay
    /// commands.
    pub target_flags: String,
    /// The command line that ran, for the written scenario's comment.
    pub command: String,
    /// Where `explore.json` and the written scenario go.
    pub reports: PathBuf,
    /// The slice of the sequences run (`--shard K/N`: sequence `i`, seed
    /// `seed + i`, when [`Shard::takes`] `i`); `None`: all of them.
    pub shard: Option<Shard>,
}

/// A divergence met and expected.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExpectedSeen {
    pub sequence_seed: u64,
    pub divergence: Divergence,
    pub reason: String,
}

/// The written scenario's check against both servers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioCheck {
    pub fails_on_target: bool,
    pub passes_on_reference: bool,
}

/// The first unexpected divergence, shrunk and written.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Found {
    pub sequence_seed: u64,
    /// Operations drawn in that sequence.
    pub drawn: usize,
    /// The shrunk sequence, one operation per line as the steps write it.
    pub operations: Vec<String>,
    pub divergence: Divergence,
    pub shrink_runs: usize,
    /// The shrinking budget ran out first: maybe not minimal.
    pub shrink_exhausted: bool,
    pub feature_file: PathBuf,
    pub feature: String,
    pub check: Option<ScenarioCheck>,
    /// Why the check could not run, if it could not.
    pub check_error: Option<String>,
    /// The command that replays the unshrunk sequence alone.
    pub replay: String,
}

/// `explore.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExploreReport {
    pub target: String,
    pub seed: u64,
    /// Operations per sequence, user indices and the longest clock move
    /// drawn: with the seed, what makes the sequences.
    #[serde(default)]
    pub length: usize,
    #[serde(default)]
    pub users: u8,
    #[serde(default)]
    pub max_advance: u32,
    /// The slice run (`--shard K/N`); `None`: all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// The shards this report merges (`--merge`), empty for a run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged: Vec<Shard>,
    pub sequences: usize,
    pub operations: usize,
    pub seconds: f64,
    pub operations_per_second: f64,
    pub expected: Vec<ExpectedSeen>,
    pub found: Option<Found>,
}

impl ExploreReport {
    /// Operations a second over `seconds` of wall time (0 for none).
    pub fn rate(operations: usize, seconds: f64) -> f64 {
        if seconds > 0.0 {
            operations as f64 / seconds
        } else {
            0.0
        }
    }

    /// Whether the run is green: nothing unexpected.
    pub fn passed(&self) -> bool {
        self.found.is_none()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExploreError {
    #[error(transparent)]
    Lockstep(#[from] LockstepError),
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
}

/// The operations of sequence `seed`: proptest's generation from a ChaCha
/// generator seeded with it, the same on every machine.
pub fn draw(seed: u64, length: usize, users: u8, max_advance: u32) -> Vec<Op> {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    let mut runner = TestRunner::new_with_rng(Default::default(), rng);
    operations::sequence(length, users, max_advance)
        .new_tree(&mut runner)
        .map(|tree| tree.current())
        .unwrap_or_default()
}

struct Outcome {
    sequence_seed: u64,
    ops: Vec<Op>,
    operations: usize,
    /// What the sides agreed on before the divergence, one per operation.
    seen: Vec<Observation>,
    divergence: Option<Divergence>,
}

impl Outcome {
    /// The last operation before the divergence that sent the target a
    /// request: clock moves and operations with nothing to act on send none,
    /// so they leave a race with the server's own tasks open (see
    /// `after` in [`expected::ExpectedDivergence`]).
    fn last_request_before(&self, index: usize) -> Option<&Op> {
        (0..index.min(self.seen.len()))
            .rev()
            .map(|i| (&self.ops[i], &self.seen[i]))
            .find_map(|(op, seen)| (!matches!(op, Op::Advance { .. }) && *seen != Observation::Nothing).then_some(op))
    }
}

/// Explores `target` against `reference` (the reference model's factory).
pub async fn explore(
    reference: Arc<dyn TargetFactory>,
    target: Arc<dyn TargetFactory>,
    config: &ExploreConfig,
) -> Result<ExploreReport, ExploreError> {
    let started = Instant::now();
    let limit = config.budget;
    let sequences_cap = match (limit.operations, limit.time, limit.sequences) {
        (None, None, None) => Some(100),
        _ => limit.sequences,
    };
    let mut running = tokio::task::JoinSet::new();
    let (mut next, mut sequences, mut operations) = (0u64, 0usize, 0usize);
    let mut expected_seen = Vec::new();
    let mut unexpected: Vec<Outcome> = Vec::new();
    loop {
        let budget_left = unexpected.is_empty()
            && sequences_cap.is_none_or(|cap| (next as usize) < cap)
            && limit.operations.is_none_or(|cap| operations < cap)
            && limit.time.is_none_or(|cap| started.elapsed() < cap);
        if budget_left && running.len() < config.concurrency.max(1) {
            let index = next;
            next += 1;
            // Another shard's sequence: counted for `--sequences`, not run.
            if config.shard.is_some_and(|shard| !shard.takes(index as usize)) {
                continue;
            }
            let sequence_seed = config.seed.wrapping_add(index);
            let ops = draw(sequence_seed, config.length, config.users, config.max_advance);
            let (reference, target) = (reference.clone(), target.clone());
            running.spawn(async move {
                let run = run_sequence(reference.as_ref(), target.as_ref(), &ops).await?;
                Ok::<_, LockstepError>(Outcome {
                    sequence_seed,
                    ops,
                    operations: run.operations,
                    seen: run.seen,
                    divergence: run.divergence,
                })
            });
            continue;
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        let outcome = joined.map_err(|e| ExploreError::Io {
            what: "a sequence's task".into(),
            source: std::io::Error::other(e),
        })??;
        sequences += 1;
        operations += outcome.operations;
        if let Some(divergence) = &outcome.divergence {
            let previous = outcome.last_request_before(divergence.index);
            match expected::matching(&config.expected, &config.target_name, divergence, previous) {
                Some(e) => expected_seen.push(ExpectedSeen {
                    sequence_seed: outcome.sequence_seed,
                    divergence: divergence.clone(),
                    reason: e.reason.clone(),
                }),
                None => unexpected.push(outcome),
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    // The first sequence by seed, whatever finished first: the same report
    // on every run of the same seeds.
    unexpected.sort_by_key(|o| o.sequence_seed);
    let found = match unexpected.into_iter().next() {
        None => None,
        Some(outcome) => Some(write_found(reference.clone(), target.clone(), config, outcome).await?),
    };
    let report = ExploreReport {
        target: config.target_name.clone(),
        seed: config.seed,
        length: config.length,
        users: config.users,
        max_advance: config.max_advance,
        shard: config.shard,
        merged: Vec::new(),
        sequences,
        operations,
        seconds,
        operations_per_second: ExploreReport::rate(operations, seconds),
        expected: expected_seen,
        found,
    };
    write_report(&report, &config.reports)?;
    Ok(report)
}

/// Why [`read_at_most`] read nothing.
pub(crate) enum CappedRead {
    Io(std::io::Error),
    TooLarge,
}

/// The text of the file `path`, refused past `max` bytes (never read
/// further): the expectation files and the shards' `explore.json`.
pub(crate) fn read_at_most(path: &Path, max: u64) -> Result<String, CappedRead> {
    use std::io::Read as _;
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(max + 1).read_to_string(&mut text))
        .map_err(CappedRead::Io)?;
    if text.len() as u64 > max {
        return Err(CappedRead::TooLarge);
    }
    Ok(text)
}

/// Writes `explore.json` and `explore.html` into `folder`.
pub fn write_report(report: &ExploreReport, folder: &Path) -> Result<(), ExploreError> {
    let json = serde_json::to_string_pretty(report).map_err(|e| ExploreError::Io {
        what: EXPLORE_JSON_FILE.into(),
        source: std::io::Error::other(e),
    })?;
    write(&folder.join(EXPLORE_JSON_FILE), &json)?;
    write(&folder.join(html::EXPLORE_HTML_FILE), &html::page(report))
}

fn write(path: &Path, text: &str) -> Result<(), ExploreError> {
    let io = |source| ExploreError::Io {
        what: path.display().to_string(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(path, text).map_err(io)
}

/// Shrinks the divergence, writes its scenario and runs it on both sides.
async fn write_found(
    reference: Arc<dyn TargetFactory>,
    target: Arc<dyn TargetFactory>,
    config: &ExploreConfig,
    outcome: Outcome,
) -> Result<Found, ExploreError> {
    let divergence = outcome.divergence.expect("an unexpected divergence");
    let shrunk = shrink::shrink(
        reference.as_ref(),
        target.as_ref(),
        &outcome.ops,
        divergence,
        config.shrink,
    )
    .await?;
    // Once more, for what the reference saw of each operation.
    let last = run_sequence(reference.as_ref(), target.as_ref(), &shrunk.operations).await?;
    let (operations, divergence, seen) = match last.divergence {
        Some(d) if d.operation.kind() == shrunk.divergence.operation.kind() => {
            (shrunk.operations[..=d.index].to_vec(), d, last.seen)
        }
        // It did not diverge the same way again: say so through the check.
        _ => (shrunk.operations.clone(), shrunk.divergence.clone(), last.seen),
    };
    let feature_file = config.reports.join(DIVERGENCE_FEATURE_FILE);
    let provenance = gherkin::Provenance {
        command: &config.command,
        sequence_seed: outcome.sequence_seed,
        drawn: outcome.ops.len(),
        target: &config.target_name,
        target_flags: &config.target_flags,
    };
    let feature = gherkin::feature(
        &operations,
        &seen,
        &divergence,
        &provenance,
        &feature_file.display().to_string(),
    );
    write(&feature_file, &feature)?;
    let (check, check_error) = match check_feature(reference, target, &feature_file, &config.reports).await {
        Ok(check) => (Some(check), None),
        Err(e) => (None, Some(e.to_string())),
    };
    Ok(Found {
        sequence_seed: outcome.sequence_seed,
        drawn: outcome.ops.len(),
        operations: operations.iter().map(Op::to_string).collect(),
        divergence,
        shrink_runs: shrunk.runs,
        shrink_exhausted: shrunk.exhausted,
        feature_file,
        feature,
        check,
        check_error,
        replay: format!(
            "parsec-mfa explore {} --seed {} --sequences 1 --length {} --users {} --max-advance {}",
            config.target_flags, outcome.sequence_seed, config.length, config.users, config.max_advance
        ),
    })
}

/// Runs the written feature as an ordinary scenario on each side.
pub async fn check_feature(
    reference: Arc<dyn TargetFactory>,
    target: Arc<dyn TargetFactory>,
    feature_file: &Path,
    reports: &Path,
) -> Result<ScenarioCheck, crate::runner::RunError> {
    let on_target = run_feature(target, feature_file, &reports.join("divergence-on-target")).await?;
    let on_reference = run_feature(reference, feature_file, &reports.join("divergence-on-reference")).await?;
    Ok(ScenarioCheck {
        fails_on_target: on_target.failed == 1 && on_target.passed == 0,
        passes_on_reference: on_reference.passed == 1 && on_reference.failed == 0,
    })
}

async fn run_feature(
    target: Arc<dyn TargetFactory>,
    feature_file: &Path,
    reports: &Path,
) -> Result<crate::runner::Totals, crate::runner::RunError> {
    let options = crate::runner::RunOptions {
        features: feature_file.to_path_buf(),
        reports: reports.to_path_buf(),
        concurrency: 1,
        target,
        tags: None,
        name: None,
    };
    let controls = crate::runner::RunControls {
        console: Some(Box::new(std::io::sink())),
        ..Default::default()
    };
    crate::runner::run_with(options, controls).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_before_a_divergence_passes_over_clock_moves_and_nothing_done() {
        let freeze = Op::Freeze { user: 1, frozen: true };
        let outcome = Outcome {
            sequence_seed: 1,
            ops: vec![
                Op::CreateKey { user: 0 },
                freeze,
                Op::Advance { seconds: 15 },
                Op::FetchKey {
                    user: 2,
                    key: 5,
                    code: operations::Code::Right,
                },
                Op::ConfirmSetup {
                    user: 1,
                    code: operations::Code::Right,
                },
            ],
            operations: 5,
            seen: vec![
                Observation::KeyCreated { reused: false },
                Observation::Frozen { frozen: true },
                Observation::Ok,
                Observation::Nothing,
            ],
            divergence: None,
        };
        assert_eq!(outcome.last_request_before(4), Some(&freeze));
        assert_eq!(outcome.last_request_before(1), Some(&Op::CreateKey { user: 0 }));
        assert_eq!(outcome.last_request_before(0), None);
    }
}
