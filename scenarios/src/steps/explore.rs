//! The steps of scenarios the explorer wrote (`parsec-mfa explore`): one
//! step per operation of a shrunk sequence, each with the observation the
//! reference model made of it. Run against any target, a step fails when
//! that target is seen to do otherwise.

use crate::lockstep::observation::Observation;
use crate::lockstep::operations::Op;
use crate::lockstep::side::{Server, Side};
use crate::world::MfaWorld;
use cucumber::{given, when};

pub static ANCHOR: &str = "explore steps";

/// Seconds of `wait_until` tolerated where the target's clock flows.
const FLOWING_CLOCK_SLACK: i64 = 2;

#[given(expr = "the explorer's first organization")]
async fn first_organization(world: &mut MfaWorld) {
    let env = world.env().await;
    let server = Server::new(env.target.as_ref(), &env.route, &env.admin);
    let side = Side::start(&server)
        .await
        .unwrap_or_else(|e| panic!("the explorer's organization: {e}"));
    world.explorer = Some(side);
}

#[when(regex = r"^the explorer does `([^`]+)` and sees `([^`]+)`$")]
async fn does_and_sees(world: &mut MfaWorld, operation: String, expected: String) {
    let op: Op = operation.parse().unwrap_or_else(|e| panic!("{e}"));
    let expected: Observation =
        serde_json::from_str(&expected).unwrap_or_else(|e| panic!("`{expected}` is not an observation: {e}"));
    let env = world
        .env
        .as_ref()
        .expect("the explorer's first organization comes first");
    let side = world
        .explorer
        .as_mut()
        .expect("the explorer's first organization comes first");
    let server = Server::new(env.target.as_ref(), &env.route, &env.admin);
    let seen = side
        .perform(&server, &op)
        .await
        .unwrap_or_else(|e| panic!("{operation}: {e}"));
    let slack = if env.target.clock_flows() {
        FLOWING_CLOCK_SLACK
    } else {
        0
    };
    assert!(
        expected.agrees(&seen, slack),
        "{operation}: the reference model sees {}, this target {}",
        serde_json::to_string(&expected).unwrap_or_default(),
        serde_json::to_string(&seen).unwrap_or_default()
    );
}
