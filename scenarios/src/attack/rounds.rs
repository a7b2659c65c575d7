//! The attack with P simultaneous wrong codes per round, played on one
//! opaque key of its own: each round right after the previous lockout ends
//! (on a controlled clock the harness moves the server's time straight
//! there; in real time it waits, within the budget), until a year of the
//! attacker's time is over, a cap on rounds, or the real-time budget.
//! With P = 1 this is the throttle as observed: the wait after each failure.

use super::AttackError;
use super::model::{Horizon, Round, Stop};
use super::odds::next_round_at;
use super::victim::Victim;
use crate::targets::{ClockControl, Target};
use parsec_mfa_reference::client::mfa::MfaError;
use parsec_mfa_reference::protocol::TOTPOpaqueKeyID;
use std::time::{Duration, Instant};

/// Rounds at most per parallelism: a doubling lockout puts a year out of
/// reach after 26, so only a target without one (or with a fixed one)
/// reaches the cap; the rest of its year is extrapolated.
pub const MAX_ROUNDS: u32 = 40;

/// Where the clock flows, how long after a lockout's end a round goes: the
/// server's clock may lag the harness's a little (another machine, or a
/// request that arrives before the clock is read).
const FLOWING_MARGIN_US: i64 = 20_000;

pub struct Play<'a> {
    pub target: &'a dyn Target,
    pub victim: &'a Victim,
    pub control: ClockControl,
    /// Real time the waits of one parallelism may take where the clock is real.
    pub budget: Duration,
}

enum Reply {
    Checked,
    Throttled { wait_until_us: i64 },
    Failed(String),
}

fn reply(outcome: Result<(), MfaError>) -> Reply {
    match outcome {
        Err(MfaError::InvalidOneTimePassword) => Reply::Checked,
        Err(MfaError::Throttled { wait_until }) => Reply::Throttled {
            wait_until_us: wait_until.as_micros(),
        },
        Ok(()) => Reply::Failed("a wrong code was accepted".into()),
        Err(other) => Reply::Failed(other.to_string()),
    }
}

impl Play<'_> {
    /// Plays the attack with `parallelism` codes per round on `key`.
    pub async fn play(&self, parallelism: u32, key: TOTPOpaqueKeyID) -> Result<(Vec<Round>, Stop), AttackError> {
        let clock = self.target.clock();
        let mut rounds: Vec<Round> = Vec::new();
        let mut next_code = 0u64;
        let mut waited = Duration::ZERO;
        loop {
            let started = clock.now().as_micros();
            let real_start = Instant::now();
            let codes = self
                .victim
                .wrong_codes(clock.now(), next_code, parallelism as usize + 1);
            next_code += codes.len() as u64;
            let (burst, probe) = codes.split_at(parallelism as usize);
            let replies = futures::future::join_all(burst.iter().map(|code| self.victim.fetch(key, code))).await;
            let probe = reply(self.victim.fetch(key, &probe[0]).await);
            let real_seconds = real_start.elapsed().as_secs_f64();

            let mut round = Round {
                at_seconds: rounds.last().map_or(0.0, next_round_at),
                invalid: 0,
                throttled: 0,
                failed: 0,
                probe_checked: false,
                lockout_seconds: None,
                real_seconds,
            };
            let mut first_failure = None;
            for outcome in replies {
                match reply(outcome) {
                    Reply::Checked => round.invalid += 1,
                    Reply::Throttled { .. } => round.throttled += 1,
                    Reply::Failed(why) => {
                        round.failed += 1;
                        first_failure.get_or_insert(why);
                    }
                }
            }
            let wait_until_us = match probe {
                Reply::Checked => {
                    round.probe_checked = true;
                    None
                }
                Reply::Throttled { wait_until_us } => {
                    round.lockout_seconds = Some((wait_until_us - started) as f64 / 1e6);
                    Some(wait_until_us)
                }
                Reply::Failed(why) => {
                    round.failed += 1;
                    first_failure.get_or_insert(why);
                    None
                }
            };
            if round.failed > 0 && round.invalid + round.throttled == 0 {
                return Err(AttackError::Misbehaved(format!(
                    "round {} with {parallelism} codes: no request was answered: {}",
                    rounds.len() + 1,
                    first_failure.unwrap_or_default()
                )));
            }
            let next_at = next_round_at(&round);
            rounds.push(round);
            if next_at > Horizon::Year.seconds() {
                return Ok((rounds, Stop::YearPlayed));
            }
            if rounds.len() as u32 >= MAX_ROUNDS {
                return Ok((rounds, Stop::RoundCap { rounds: MAX_ROUNDS }));
            }
            let Some(wait_until_us) = wait_until_us else {
                continue;
            };
            // To 1 µs after the lockout's last instant.
            let wait_us = wait_until_us + 1 - clock.now().as_micros();
            if wait_us <= 0 {
                continue;
            }
            match self.control {
                ClockControl::Exact => self.target.advance(wait_us).await.map_err(AttackError::Target)?,
                ClockControl::Offset => self
                    .target
                    .advance(wait_us + FLOWING_MARGIN_US)
                    .await
                    .map_err(AttackError::Target)?,
                ClockControl::None => {
                    let wait = Duration::from_micros((wait_us + FLOWING_MARGIN_US) as u64);
                    if waited + wait > self.budget {
                        return Ok((
                            rounds,
                            Stop::RealTimeBudget {
                                budget_seconds: self.budget.as_secs(),
                                next_wait_seconds: wait.as_secs_f64(),
                            },
                        ));
                    }
                    waited += wait;
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}
