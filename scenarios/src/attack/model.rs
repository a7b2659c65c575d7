//! What an attack measurement observed and what follows from it, as data:
//! `attack.json`, and what the page, the plot and the terminal summary are
//! written from.

use serde::{Deserialize, Serialize};

/// The `format` of `attack.json`.
pub const ATTACK_FORMAT: &str = "parsec-mfa-attack/1";

/// Six-digit codes.
pub const CODE_SPACE: f64 = 1_000_000.0;

/// How far the attacker's time runs: the horizons of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Horizon {
    Day,
    Week,
    /// 30 days.
    Month,
    /// 365 days.
    Year,
}

impl Horizon {
    pub const ALL: [Horizon; 4] = [Horizon::Day, Horizon::Week, Horizon::Month, Horizon::Year];

    pub fn seconds(self) -> f64 {
        const DAY: f64 = 86_400.0;
        match self {
            Horizon::Day => DAY,
            Horizon::Week => 7.0 * DAY,
            Horizon::Month => 30.0 * DAY,
            Horizon::Year => 365.0 * DAY,
        }
    }

    /// As in `attack.json`.
    pub fn key(self) -> &'static str {
        match self {
            Horizon::Day => "day",
            Horizon::Week => "week",
            Horizon::Month => "month",
            Horizon::Year => "year",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Horizon::Day => "a day",
            Horizon::Week => "a week",
            Horizon::Month => "a month",
            Horizon::Year => "a year",
        }
    }
}

/// How the harness moved the target's time during the measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClockUsed {
    /// Stopped, and moved straight to the end of each lockout.
    Exact,
    /// Flowing, moved forward over each lockout.
    Offset,
    /// Real time: lockouts waited for, within the real-time budget.
    Real,
}

impl ClockUsed {
    pub fn describe(self) -> &'static str {
        match self {
            ClockUsed::Exact => "the server's clock stopped and moved straight to the end of each lockout",
            ClockUsed::Offset => "the server's clock moved forward over each lockout while it flowed",
            ClockUsed::Real => "real time: each lockout waited for, within the real-time budget",
        }
    }
}

/// One round of the attack: P wrong codes sent at once, then one more
/// (the probe) once they are all answered, which reads the lockout that
/// follows (or is checked as a guess where there is none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Round {
    /// The attacker's time at which the round starts, in seconds since the
    /// measurement's first round (see [`super::odds`]).
    pub at_seconds: f64,
    /// Of the P codes: answered `invalid_one_time_password` (checked).
    pub invalid: u32,
    /// Of the P codes: answered `throttled` (not checked).
    pub throttled: u32,
    /// Of the P codes and the probe: no usable answer (connection failure,
    /// another status); counted as nothing.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub failed: u32,
    /// The probe was answered `invalid_one_time_password`: no lockout
    /// right after the round, and one more guess checked.
    pub probe_checked: bool,
    /// The probe's `wait_until`, in seconds after the round started on
    /// the server's clock: the lockout after the round.
    pub lockout_seconds: Option<f64>,
    /// The round's duration in real time (the P requests and the probe).
    pub real_seconds: f64,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Round {
    /// Guesses this round had checked.
    pub fn guesses(&self) -> u32 {
        self.invalid + u32::from(self.probe_checked)
    }
}

/// Why the play of one parallelism stopped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Stop {
    /// The next round would start after a year of attack.
    YearPlayed,
    /// The cap on rounds was reached first (a target whose lockouts do not
    /// keep a year out of reach).
    RoundCap { rounds: u32 },
    /// Real time only: the next lockout would take the measurement over
    /// the real-time budget.
    RealTimeBudget {
        budget_seconds: u64,
        next_wait_seconds: f64,
    },
}

impl Stop {
    pub fn describe(&self) -> String {
        match self {
            Stop::YearPlayed => "a whole year of attack played".into(),
            Stop::RoundCap { rounds } => {
                format!("stopped after {rounds} rounds (the cap) before a year of attack; the rest extrapolated")
            }
            Stop::RealTimeBudget {
                budget_seconds,
                next_wait_seconds,
            } => format!(
                "stopped where the next lockout ({next_wait_seconds:.0} s) would pass the real-time budget of {budget_seconds} s; the rest extrapolated"
            ),
        }
    }
}

/// The guesses an attacker gets checked by one horizon, and the
/// probability that one of them opens the device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HorizonFigure {
    pub horizon: Horizon,
    pub seconds: f64,
    pub guesses: u64,
    pub probability: f64,
    /// Beyond what was played: continued from the played rounds' pattern.
    pub extrapolated: bool,
}

/// The figures of one way of attacking (a parallelism, or the rule's promise).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Distinct codes accepted at one instant: each checked guess opens the
    /// device with probability `valid_codes / 10^6`.
    pub valid_codes: u32,
    pub horizons: Vec<HorizonFigure>,
}

impl Figures {
    pub fn at(&self, horizon: Horizon) -> Option<&HorizonFigure> {
        self.horizons.iter().find(|h| h.horizon == horizon)
    }
}

/// The attack with P simultaneous codes per round, played as long as it could be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    pub parallelism: u32,
    pub rounds: Vec<Round>,
    pub stop: Stop,
    /// The attacker's time the played rounds cover, in seconds.
    pub played_seconds: f64,
    pub figures: Figures,
    /// The same guesses as the rule at every horizon, and its valid codes.
    pub matches_rule: bool,
}

impl Measurement {
    /// Guesses checked per round (per lockout window): (min, max).
    pub fn guesses_per_round(&self) -> (u32, u32) {
        let counts = self.rounds.iter().map(Round::guesses);
        (counts.clone().min().unwrap_or(0), counts.max().unwrap_or(0))
    }
}

/// One code tried at the instant of the window measurement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepProbe {
    /// The code of the 30 s step this many steps from the current one.
    pub step_offset: i32,
    pub accepted: bool,
}

/// Which codes the server accepts at one instant, and whether a code is
/// accepted twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// The instant (Unix microseconds, the server's clock).
    pub at_micros: i64,
    pub probes: Vec<StepProbe>,
    /// Distinct codes accepted among the probes.
    pub accepted_codes: u32,
    /// The code of the current step, accepted, was accepted again right
    /// after (`None` when it was not accepted the first time).
    pub replay_accepted: Option<bool>,
}

/// The throttle rule of the user guide and the protocol (see
/// [`super::odds::rule_lockout_seconds`]), and what it promises.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub statement: String,
    pub figures: Figures,
}

/// `attack.json`: one target's measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttackReport {
    pub format: String,
    pub target: String,
    pub description: String,
    pub clock: ClockUsed,
    /// Why the clock is real where the target's kind usually has control.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_note: Option<String>,
    pub real_time_budget_seconds: u64,
    pub window: Window,
    pub measurements: Vec<Measurement>,
    pub rule: Rule,
    /// Every parallelism matches the rule, and so does the window.
    pub matches_rule: bool,
    /// The real time the whole measurement took (setup included).
    pub wall_seconds: f64,
}

impl AttackReport {
    /// The parallelism whose attacker gets the most guesses checked within
    /// a year, so opens the device with the highest probability (the
    /// smallest P among equals).
    pub fn best(&self) -> Option<&Measurement> {
        let year = |m: &Measurement| m.figures.at(Horizon::Year).map_or(0, |h| h.guesses);
        self.measurements
            .iter()
            .fold(None, |best: Option<&Measurement>, m| match best {
                Some(b) if year(b) >= year(m) => Some(b),
                _ => Some(m),
            })
    }

    pub fn to_json(&self) -> String {
        // Numbers, strings and plain structs: nothing here fails.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn from_json(json: &str) -> Result<Self, ReportError> {
        let report: AttackReport = serde_json::from_str(json)?;
        if report.format != ATTACK_FORMAT {
            return Err(ReportError::Format(report.format));
        }
        Ok(report)
    }
}

/// Why an `attack.json` could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error("format `{0}`, expected `{ATTACK_FORMAT}`")]
    Format(String),
}
