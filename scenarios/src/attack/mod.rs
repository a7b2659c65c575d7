//! How long does a stolen laptop hold? The attacker's figures for one
//! target, measured against the target itself (`parsec-mfa attack`).
//!
//! An attacker who holds a device file protected by MFA, but not the
//! phone, can only guess codes; the server slows it down. On a server of
//! its own whose clock the harness controls (the same targets as the
//! conformance run), the harness plays that attacker:
//!
//! - [`window`]: which codes are accepted at one instant, and whether a
//!   code is accepted twice;
//! - [`rounds`]: P wrong codes at once (P = 1, 4, 16, 64), round after
//!   round, each as soon as the lockout allows, over a year of the
//!   attacker's time (jumping straight to each lockout's end on an exact
//!   clock; in real time within a budget, and the report says how far it
//!   got); P = 1 is the throttle as observed;
//! - [`odds`]: the model from those observations to the probability of
//!   opening the device within a day, a week, a month and a year, and what
//!   the throttle rule promises;
//! - [`model`]: the observations and figures (`attack.json`);
//! - [`victim`]: the organization, user and keys it is played on.
//!
//! The page and its plot are in [`crate::report::attack`].

pub mod model;
pub mod odds;
pub mod rounds;
pub mod victim;
pub mod window;

use crate::targets::{ClockControl, TargetFactory, TargetSpec};
use model::{ATTACK_FORMAT, AttackReport, ClockUsed, Measurement, Rule};
use odds::{RULE_STATEMENT, Timeline, matches, rule_figures};
use rounds::Play;
use std::time::Instant;
use victim::Victim;

/// The parallelisms of a full profile.
pub const DEFAULT_PARALLELISMS: [u32; 4] = [1, 4, 16, 64];

/// More simultaneous requests than this is a load test, not an attacker's
/// round.
pub const MAX_PARALLELISM: u32 = 256;

/// Why the attacker's figures could not be measured: the command ends with
/// one `Error:` line and the exit code of an unusable target.
#[derive(Debug, thiserror::Error)]
pub enum AttackError {
    /// The target did not start, or its clock did not move.
    #[error(transparent)]
    Target(#[from] crate::targets::TargetError),
    /// The victim (organization, MFA, opaque keys) could not be set up:
    /// the step that failed, and why.
    #[error("{step}: {reason}")]
    Victim {
        step: &'static str,
        #[source]
        reason: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The target answered the attacker as no Parsec server does.
    #[error("{0}")]
    Misbehaved(String),
}

/// Plays the attacker against a server of `factory`'s own, once per
/// parallelism; `progress` is told of each step as it ends.
pub async fn run_attack(
    factory: &dyn TargetFactory,
    parallelisms: &[u32],
    progress: &(dyn Fn(&str) + Sync),
) -> Result<AttackReport, AttackError> {
    let wall = Instant::now();
    let control = factory.capabilities().clock;
    let target = factory
        .start(TargetSpec {
            moves_clock: true,
            ..TargetSpec::default()
        })
        .await
        .map_err(AttackError::Target)?;
    let victim = Victim::set_up(&*target, window::KEYS + parallelisms.len()).await?;
    let (window_keys, attack_keys) = victim.keys.split_at(window::KEYS);
    let window = window::measure(&*target, &victim, window_keys).await?;
    progress(&format!(
        "codes accepted at one instant: {} (the rule: 3); a code accepted twice: {}",
        window.accepted_codes,
        match window.replay_accepted {
            Some(true) => "yes",
            Some(false) => "no",
            None => "not tried (the current code was refused)",
        }
    ));
    let rule = rule_figures();
    let play = Play {
        target: &*target,
        victim: &victim,
        control,
        budget: factory.real_time_budget(),
    };
    let mut measurements = Vec::new();
    for (&parallelism, &key) in parallelisms.iter().zip(attack_keys) {
        let started = Instant::now();
        let (rounds, stop) = play.play(parallelism, key).await?;
        let complete = stop == model::Stop::YearPlayed;
        let timeline = Timeline::new(&rounds, complete);
        let figures = timeline.figures(window.accepted_codes);
        let measurement = Measurement {
            parallelism,
            played_seconds: timeline.played_until(),
            matches_rule: matches(&figures, &rule),
            figures,
            stop,
            rounds,
        };
        let (least, most) = measurement.guesses_per_round();
        progress(&format!(
            "{parallelism} at once: {} rounds, {least}–{most} checked per round, {} ({:.1} s)",
            measurement.rounds.len(),
            measurement.stop.describe(),
            started.elapsed().as_secs_f64()
        ));
        measurements.push(measurement);
    }
    let matches_rule = measurements.iter().all(|m| m.matches_rule);
    Ok(AttackReport {
        format: ATTACK_FORMAT.into(),
        target: factory.name().to_owned(),
        description: factory.description(),
        clock: match control {
            ClockControl::Exact => ClockUsed::Exact,
            ClockControl::Offset => ClockUsed::Offset,
            ClockControl::None => ClockUsed::Real,
        },
        clock_note: factory.clock_note(),
        real_time_budget_seconds: factory.real_time_budget().as_secs(),
        window,
        measurements,
        rule: Rule {
            statement: RULE_STATEMENT.into(),
            figures: rule,
        },
        matches_rule,
        wall_seconds: wall.elapsed().as_secs_f64(),
    })
}
