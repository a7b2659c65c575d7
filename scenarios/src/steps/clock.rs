//! Time passing, on the target's clock (simulated where the target allows).

use crate::world::MfaWorld;
use cucumber::{given, when};

pub static ANCHOR: &str = "clock steps";

async fn advance(world: &mut MfaWorld, micros: i64) {
    world
        .started()
        .target
        .advance(micros)
        .await
        .expect("the target's clock moves");
}

#[given(expr = "{int} second(s) pass(es)")]
#[when(expr = "{int} second(s) pass(es)")]
async fn seconds_pass(world: &mut MfaWorld, seconds: i64) {
    advance(world, seconds * 1_000_000).await;
}

#[when(expr = "{int} day(s) pass(es)")]
async fn days_pass(world: &mut MfaWorld, days: i64) {
    advance(world, days * 86_400 * 1_000_000).await;
}

#[when(expr = "one more microsecond passes")]
async fn microsecond(world: &mut MfaWorld) {
    advance(world, 1).await;
}

#[when(expr = "time reaches {int} second(s) after the last wrong code")]
async fn reaches(world: &mut MfaWorld, seconds: i64) {
    let last = world.last_failure.expect("a wrong code was answered");
    assert_eq!(
        last.sent, last.answered,
        "an exact instant needs a clock that stands still (tag the scenario @exact-clock)"
    );
    let target = last.answered.as_micros() + seconds * 1_000_000;
    let now = world.started().now().as_micros();
    assert!(target >= now, "that moment has passed");
    advance(world, target - now).await;
}
