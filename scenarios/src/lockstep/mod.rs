//! One sequence of operations run against two servers at once, operation
//! by operation: the reference model and the target. The first operation
//! whose normalized observations disagree is the divergence. The
//! operations ([`operations`], written and read as text by [`text`]), what
//! is compared of them ([`observation`]), each server's side of the run
//! ([`side`]) and the shrinking of a divergent sequence ([`shrink`]).
//! `explore` draws the sequences and reports; the steps of the scenarios
//! it writes replay operations here, so nothing here runs features.

pub mod observation;
pub mod operations;
pub mod shrink;
pub mod side;
pub mod text;

use crate::targets::{Route, Target, TargetError, TargetFactory, TargetSpec};
use observation::Observation;
use operations::Op;
use parsec_mfa_reference::client::admin::AdminClient;
use serde::{Deserialize, Serialize};
use side::{Server, Side, SideError};

/// Seconds of `wait_until` tolerated between the two sides where the
/// target's clock flows between sending and reading (exact clocks: none).
const FLOWING_CLOCK_SLACK: i64 = 2;

/// The first operation the two servers were seen to disagree on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Divergence {
    /// Its index in the sequence, from 0.
    pub index: usize,
    pub operation: Op,
    pub reference: Observation,
    pub target: Observation,
}

/// How a sequence ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceRun {
    /// Operations carried out on both sides (up to the divergence).
    pub operations: usize,
    /// What each side saw, in order (the reference's where they agree).
    pub seen: Vec<Observation>,
    pub divergence: Option<Divergence>,
}

/// Why a sequence could not be run at all (a server not started, the
/// model's own failure): not a divergence.
#[derive(Debug, thiserror::Error)]
pub enum LockstepError {
    #[error("{side}: {source}")]
    Start { side: &'static str, source: TargetError },
    #[error("{side}: {source}")]
    Route {
        side: &'static str,
        source: crate::targets::HttpClientError,
    },
    #[error("the reference model failed (a harness bug): {0}")]
    Model(SideError),
    #[error("the reference model did not answer `{operation}` ({why}): the harness is overloaded or broken")]
    Unreachable { operation: Op, why: String },
    /// The target's time could not be moved (over the real-time budget,
    /// its clock control gone).
    #[error("{0}")]
    TargetClock(TargetError),
}

/// A started server and the explorer's clients of it.
struct Started {
    target: Box<dyn Target>,
    route: Route,
    admin: AdminClient,
}

impl Started {
    async fn start(factory: &dyn TargetFactory, moves_clock: bool, side: &'static str) -> Result<Self, LockstepError> {
        let spec = TargetSpec {
            moves_clock,
            ..TargetSpec::default()
        };
        let target = factory
            .start(spec)
            .await
            .map_err(|source| LockstepError::Start { side, source })?;
        let route = Route::to(target.as_ref()).map_err(|source| LockstepError::Route { side, source })?;
        let admin = route.admin(target.administration_token());
        Ok(Started { target, route, admin })
    }

    fn server(&self) -> Server<'_> {
        Server::new(self.target.as_ref(), &self.route, &self.admin)
    }
}

/// Runs `ops` on a fresh server of each factory, in lockstep, up to the
/// first divergence.
pub async fn run_sequence(
    reference: &dyn TargetFactory,
    target: &dyn TargetFactory,
    ops: &[Op],
) -> Result<SequenceRun, LockstepError> {
    let moves_clock = ops.iter().any(|op| op.seconds() > 0);
    let (model, tested) = tokio::join!(
        Started::start(reference, moves_clock, "the reference"),
        Started::start(target, moves_clock, "the target")
    );
    let (model, tested) = (model?, tested?);
    let (model_server, tested_server) = (model.server(), tested.server());
    let slack = if tested.target.clock_flows() {
        FLOWING_CLOCK_SLACK
    } else {
        0
    };
    let (model_side, tested_side) = tokio::join!(Side::start(&model_server), Side::start(&tested_server));
    let mut model_side = model_side.map_err(LockstepError::Model)?;
    let mut tested_side = match tested_side {
        Ok(side) => side,
        Err(e) => {
            return Ok(SequenceRun {
                operations: 0,
                seen: Vec::new(),
                divergence: Some(Divergence {
                    index: 0,
                    operation: Op::NewOrganization,
                    reference: Observation::Ok,
                    target: Observation::Failed { why: e.to_string() },
                }),
            });
        }
    };
    let mut seen = Vec::with_capacity(ops.len());
    for (index, op) in ops.iter().enumerate() {
        let (expected, got) = tokio::join!(
            model_side.perform(&model_server, op),
            tested_side.perform(&tested_server, op)
        );
        let expected = expected.map_err(LockstepError::Model)?;
        if let Observation::Refused { why } = &expected
            && (why == "unreachable" || why == "invalid_response")
        {
            // The model is in this process: not reaching it is the
            // harness's failure, never the target's divergence.
            return Err(LockstepError::Unreachable {
                operation: *op,
                why: why.clone(),
            });
        }
        let got = match got {
            Ok(got) => got,
            Err(SideError::Target(e)) => return Err(LockstepError::TargetClock(e)),
            Err(e) => Observation::Failed { why: e.to_string() },
        };
        if !expected.agrees(&got, slack) {
            return Ok(SequenceRun {
                operations: index + 1,
                seen,
                divergence: Some(Divergence {
                    index,
                    operation: *op,
                    reference: expected,
                    target: got,
                }),
            });
        }
        seen.push(expected);
    }
    Ok(SequenceRun {
        operations: ops.len(),
        seen,
        divergence: None,
    })
}
