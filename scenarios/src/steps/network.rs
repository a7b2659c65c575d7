//! The connection between the user's computer and the server.

use crate::network::Condition;
use crate::world::MfaWorld;
use cucumber::{given, then, when};
use std::time::Duration;

pub static ANCHOR: &str = "network steps";

#[given(expr = "the connection goes down")]
#[when(expr = "the connection goes down")]
async fn down(world: &mut MfaWorld) {
    world.env().await.network.set(Condition::Down);
}

#[when(expr = "the connection comes back")]
async fn up(world: &mut MfaWorld) {
    world.env().await.network.set(Condition::Up);
}

#[given(expr = "the connection is slow, {int} ms each way")]
#[when(expr = "the connection is slow, {int} ms each way")]
async fn slow(world: &mut MfaWorld, millis: u64) {
    world
        .env()
        .await
        .network
        .set(Condition::Slow(Duration::from_millis(millis)));
}

#[given(expr = "the connection drops the next {int} connections")]
#[when(expr = "the connection drops the next {int} connections")]
async fn flaky(world: &mut MfaWorld, drops: usize) {
    world.env().await.network.set(Condition::Flaky { drops });
}

#[then(expr = "the network dropped {int} connections")]
fn dropped(world: &mut MfaWorld, count: usize) {
    assert_eq!(world.started().network.dropped_connections(), count);
}
