//! Time passing, on the target's clock (simulated where the target allows).

use super::user::line;
use crate::report::model::AttachmentKind;
use crate::world::MfaWorld;
use cucumber::gherkin::Step;
use cucumber::{given, when};

pub static ANCHOR: &str = "clock steps";

/// Moves the target's time, and shows the jump (or the wait, in real time).
async fn advance(world: &mut MfaWorld, micros: i64, step: &Step) {
    let before = world.started().now();
    world
        .started()
        .target
        .advance(micros)
        .await
        .unwrap_or_else(|e| panic!("the target's clock moves: {e}"));
    let after = world.started().now();
    let how = if world.started().target.clock_flows() {
        "waited for in real time"
    } else {
        "the harness moves the server's clock"
    };
    world.attach_text(
        line(step),
        AttachmentKind::ClockJump,
        format!("the server's time: +{} ({how})", seconds(micros)),
        format!("{before} → {after}"),
    );
}

/// `5 s`, `1 µs`, `3 days`.
fn seconds(micros: i64) -> String {
    match micros {
        m if m % 86_400_000_000 == 0 => format!("{} day(s)", m / 86_400_000_000),
        m if m % 1_000_000 == 0 => format!("{} s", m / 1_000_000),
        m => format!("{m} µs"),
    }
}

#[given(expr = "{int} second(s) pass(es)")]
#[when(expr = "{int} second(s) pass(es)")]
async fn seconds_pass(world: &mut MfaWorld, seconds: i64, step: &Step) {
    advance(world, seconds * 1_000_000, step).await;
}

#[when(expr = "{int} day(s) pass(es)")]
async fn days_pass(world: &mut MfaWorld, days: i64, step: &Step) {
    advance(world, days * 86_400 * 1_000_000, step).await;
}

#[when(expr = "one more microsecond passes")]
async fn microsecond(world: &mut MfaWorld, step: &Step) {
    advance(world, 1, step).await;
}

#[when(expr = "time reaches {int} second(s) after the last wrong code")]
async fn reaches(world: &mut MfaWorld, seconds: i64, step: &Step) {
    let last = world.last_failure.expect("a wrong code was answered");
    assert_eq!(
        last.sent, last.answered,
        "an exact instant needs a clock that stands still (tag the scenario @exact-clock)"
    );
    let target = last.answered.as_micros() + seconds * 1_000_000;
    let now = world.started().now().as_micros();
    assert!(target >= now, "that moment has passed");
    advance(world, target - now, step).await;
}
