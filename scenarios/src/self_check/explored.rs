//! The self-check's `explore` column: each deliberate defect of the
//! reference server looked for by exploration alone (`parsec-mfa
//! explore`, fixed seed, a time budget per defect), against the reference
//! in process. Found: shrunk, written and checked as a scenario. Not
//! found: listed in [`UNEXPLORABLE`] with the reason, or a problem.

use crate::explore::{Budget, ExploreConfig, explore};
use crate::lockstep::shrink::ShrinkBudget;
use crate::targets::{InProcess, TargetFactory};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Defects exploration cannot find, with the reason: the explorer's
/// operations are the lifecycle's, carried out by a correct client; these
/// need a request no such client sends, or a history too long to draw.
pub const UNEXPLORABLE: &[(&str, &str)] = &[
    (
        "opaque-keys-shared-between-organizations",
        "needs a user whose id is taken by another organization's bootstrap; the explorer's organizations get ids of their own",
    ),
    (
        "throttle-capped",
        "needs more than 12 failures in a row on one key (a wait over an hour) before a right code: not drawn in the budget",
    ),
    (
        "throttle-linear",
        "needs three wrong codes on one key, each after the previous wait, then an attempt within the third wait (3 s instead of 4): not drawn in the budget",
    ),
    (
        "success-keeps-count",
        "needs failures, a right code, then a single failure whose wait shows the count kept: not drawn in the budget",
    ),
    (
        "revoked-user-fetches-key",
        "needs a user with a confirmed setup and a key, revoked, then the key fetched with a right code: not drawn in the budget",
    ),
    (
        "reset-keeps-lockout",
        "needs a lockout, a reset, the link confirmed and the locked key fetched, in that order: not drawn in the budget",
    ),
    (
        "admin-token-unchecked",
        "needs an administration request with a wrong token; the explorer's administrator has the right one",
    ),
    (
        "bootstrapped-organization-recreated",
        "needs an organization created twice; the explorer's are created once each",
    ),
    (
        "admin-both-selectors-accepted",
        "needs a reset naming both a user id and an email; the explorer names one",
    ),
    (
        "admin-user-lookup-across-organizations",
        "needs a reset naming a user of another organization; the explorer names the organization's own",
    ),
    (
        "devices-found-in-any-organization",
        "needs a request signed by a device of another organization; the explorer's devices sign for their own",
    ),
    (
        "signature-unchecked",
        "needs a badly signed request; the explorer's client signs correctly",
    ),
    (
        "token-age-unchecked",
        "needs a request signed with an old timestamp; the explorer's client signs with its clock",
    ),
    (
        "advice-not-served",
        "the advice (server_config) is not one of the explorer's observations",
    ),
];

/// How the column is made: the same seed and budget for every defect.
/// Sequences, not time, decide what is found (the same cells on a loaded
/// machine); the time is a cap.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ExploreBudget {
    pub seed: u64,
    pub sequences: usize,
    pub seconds: u64,
}

/// One defect's `explore` cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExploreCell {
    pub found: bool,
    pub sequences: usize,
    pub operations: usize,
    pub seconds: f64,
    /// The shrunk sequence's length, where found.
    pub shrunk_to: Option<usize>,
    /// The operation it diverged on.
    pub operation: Option<String>,
    /// The written scenario failed on the defect and passed on the
    /// reference.
    pub checked: bool,
    /// The written scenario's file.
    pub scenario: Option<String>,
    /// Why it cannot be found, where [`UNEXPLORABLE`] says.
    pub reason: Option<String>,
    /// What keeps this cell from passing.
    pub problem: Option<String>,
}

/// Explores the reference with `fault` against the faultless reference.
pub async fn explore_fault(fault: &str, budget: ExploreBudget, reports: &Path) -> ExploreCell {
    let started = Instant::now();
    let listed = UNEXPLORABLE
        .iter()
        .find(|(f, _)| *f == fault)
        .map(|(_, why)| why.to_string());
    let reference: Arc<dyn TargetFactory> = Arc::new(InProcess::default());
    let target: Arc<dyn TargetFactory> = Arc::new(InProcess {
        faults: vec![fault.to_owned()],
    });
    let config = ExploreConfig {
        seed: budget.seed,
        budget: Budget {
            time: Some(Duration::from_secs(budget.seconds)),
            sequences: Some(budget.sequences),
            ..Budget::default()
        },
        length: 40,
        users: 3,
        concurrency: 4,
        max_advance: 600,
        shrink: ShrinkBudget::default(),
        expected: Vec::new(),
        target_name: format!("reference-in-process-{fault}"),
        target_flags: format!("--target in-process --inject-fault {fault}"),
        command: format!(
            "parsec-mfa self-check --profile in-process --fault {fault} --explore {} --explore-sequences {} --explore-seed {}",
            budget.seconds, budget.sequences, budget.seed
        ),
        reports: reports.join(fault),
        shard: None,
    };
    let report = match explore(reference, target, &config).await {
        Ok(report) => report,
        Err(e) => {
            return ExploreCell {
                found: false,
                sequences: 0,
                operations: 0,
                seconds: started.elapsed().as_secs_f64(),
                shrunk_to: None,
                operation: None,
                checked: false,
                scenario: None,
                reason: listed,
                problem: Some(format!("{fault}: exploration could not run: {e}")),
            };
        }
    };
    let checked = report
        .found
        .as_ref()
        .and_then(|f| f.check.as_ref())
        .is_some_and(|c| c.fails_on_target && c.passes_on_reference);
    let unreachable = report.found.as_ref().is_some_and(|f| {
        matches!(&f.divergence.target, crate::lockstep::observation::Observation::Refused { why } if why == "unreachable")
    });
    let problem = match (&report.found, &listed) {
        // Both servers are in this process: not reaching one is the
        // harness's failure (an overloaded machine), not the defect.
        (Some(found), _) if unreachable => Some(format!(
            "{fault}: the defective server in this process did not answer `{}`: the machine is overloaded",
            found.divergence.operation
        )),
        (Some(_), Some(_)) => Some(format!(
            "{fault}: found by exploration, yet listed as unexplorable (self_check/explored.rs): remove it from the list"
        )),
        (Some(found), None) if !checked => Some(format!(
            "{fault}: found, but its written scenario {} did not fail on the defect and pass on the reference ({:?})",
            found.feature_file.display(),
            found.check_error
        )),
        (None, None) => Some(format!(
            "{fault}: not found by exploration in {} sequences (seed {}, at most {} s), and not listed as unexplorable with a reason",
            report.sequences, budget.seed, budget.seconds
        )),
        _ => None,
    };
    ExploreCell {
        found: report.found.is_some(),
        sequences: report.sequences,
        operations: report.operations,
        seconds: started.elapsed().as_secs_f64(),
        shrunk_to: report.found.as_ref().map(|f| f.operations.len()),
        operation: report.found.as_ref().map(|f| f.divergence.operation.to_string()),
        checked,
        scenario: report.found.as_ref().map(|f| f.feature_file.display().to_string()),
        reason: listed,
        problem,
    }
}

/// Names of the list that are no defect (renamed or removed).
pub fn stale_entries(known: &[&str]) -> Vec<String> {
    UNEXPLORABLE
        .iter()
        .filter(|(fault, _)| !known.contains(fault))
        .map(|(fault, _)| {
            format!("self_check/explored.rs lists `{fault}` as unexplorable, but no defect has that name")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unexplorable_defect_exists() {
        assert_eq!(
            stale_entries(parsec_mfa_reference::server::Faults::NAMES),
            Vec::<String>::new()
        );
        assert_eq!(stale_entries(&[]).len(), UNEXPLORABLE.len());
    }
}
