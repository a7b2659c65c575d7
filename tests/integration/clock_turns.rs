//! Clock servers taken in turns (`scenarios/src/targets/launched/pool.rs`): once a
//! clock scenario ends, its server serves the next one, its clock moved
//! forward to the start of the next TOTP step (never back); no two
//! scenarios hold one at the same time, and at most `CLOCK_SERVERS` run at
//! once, the next scenario waiting for a turn. Against the reference binary
//! with `--test-clock`, whose time the harness reads back.

use parsec_mfa_scenarios::targets::clock_check::server_time;
use parsec_mfa_scenarios::targets::launched::{CLOCK_SERVERS, Launched, ServerKind};
use parsec_mfa_scenarios::targets::{TargetFactory, TargetSpec};
use parsec_mfa_scenarios::testing::ADMIN_TOKEN;
use std::time::Duration;

const STEP_MICROS: i64 = 30_000_000;

fn factory(name: &str) -> Launched {
    let work_dir = std::env::temp_dir().join(format!("parsec-mfa-clock-turns-{name}-{}", std::process::id()));
    Launched::new(
        name,
        ServerKind::Reference {
            binary: env!("CARGO_BIN_EXE_parsec-mfa").into(),
        },
        ADMIN_TOKEN,
        work_dir,
        Duration::from_secs(30),
    )
}

fn clock_scenario() -> TargetSpec {
    TargetSpec {
        moves_clock: true,
        ..TargetSpec::default()
    }
}

#[tokio::test]
async fn an_ended_scenarios_server_serves_the_next_at_the_next_step() {
    let factory = factory("next-step");
    let first = factory.start(clock_scenario()).await.expect("a clock server");
    let server = first.socket_addr();
    first.advance(100_000_007).await.expect("the clock moves");
    let left_at = first.clock().now().as_micros();
    drop(first);

    let second = factory.start(clock_scenario()).await.expect("a clock server");
    assert_eq!(second.socket_addr(), server, "the idle server is taken, not a new one");
    let now = second.clock().now().as_micros();
    assert!(
        now > left_at && now - left_at <= STEP_MICROS && now % STEP_MICROS == 0,
        "the next scenario starts at the next step: left at {left_at}, starts at {now}"
    );
    let seen = server_time(server, ADMIN_TOKEN).await.expect("the server's time");
    assert_eq!(seen.server.as_micros(), now, "the server's clock was moved there too");

    // While a scenario holds it, another gets a server of its own.
    let third = factory.start(clock_scenario()).await.expect("a clock server");
    assert_ne!(third.socket_addr(), server);
}

#[tokio::test]
async fn beyond_the_clock_servers_a_scenario_waits_for_a_turn() {
    let factory = factory("turns");
    let mut held = Vec::new();
    for _ in 0..CLOCK_SERVERS {
        held.push(factory.start(clock_scenario()).await.expect("a clock server"));
    }
    let waiting = tokio::time::timeout(Duration::from_secs(2), factory.start(clock_scenario())).await;
    assert!(waiting.is_err(), "a scenario beyond {CLOCK_SERVERS} started at once");

    let freed = held.pop().expect("held servers").socket_addr();
    let next = tokio::time::timeout(Duration::from_secs(10), factory.start(clock_scenario()))
        .await
        .expect("a turn once a scenario ended")
        .expect("a clock server");
    assert_eq!(next.socket_addr(), freed, "the freed server is taken");
}
