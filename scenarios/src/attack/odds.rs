//! From what the server did to the attacker's odds, and what the throttle
//! rule promises, with one model for both.
//!
//! **The attacker** holds a device file protected by MFA (so it knows the
//! user and opaque key ids it names) but not the phone. It plays rounds: P
//! wrong codes at once, then, once they are answered, the next round as
//! soon as the server allows (1 µs after the end of the lockout it
//! announced, since the end itself is still refused), or as soon as the
//! replies are in where there is no lockout, whichever is later. Its time
//! (the *attacker's time*) is the sum of these gaps: lockouts are read from
//! the server's answers (`wait_until`), replies take what they took in real
//! time on this machine.
//!
//! **A guess** is a code the server checked (answered
//! `invalid_one_time_password`); a `throttled` answer is not one. Each
//! checked guess is a code the attacker draws uniformly among the 10^6
//! six-digit codes it has not tried against the same valid codes; it opens
//! the device when it is one of the `w` codes the server accepts at that
//! instant (3 under the rule: the codes of the previous, current and next
//! 30 s steps). The valid codes change every 30 s, so guesses made in
//! different steps are independent trials with probability `p = w / 10^6`,
//! and the probability of opening the device with N guesses is
//! `1 - (1 - p)^N`. (Guesses within one step, never repeated, do at most
//! marginally better: `1 - C(10^6 - w, k) / C(10^6, k)` for k of them, an
//! excess of order `k p^2`, negligible for the throttled counts here.)
//!
//! **The rule** (user guide, protocol, BEHAVIORS.md §3): after n failures in
//! a row the next attempt waits until the last failure + 2^(n-1) s; a
//! `throttled` answer does not count; only a right code resets it. So the
//! n-th guess comes 2^(n-1) - 1 s after the first, whatever P: 17 guesses
//! in a day, 25 in a year.
//!
//! **Beyond what was played** (a cap on rounds, or the real-time budget),
//! the rounds go on as the last played ones did: as many guesses per round
//! as on average, each lockout the last one times the growth of the last
//! two (at least 1), each round at least as long as they took on average.

use super::model::{CODE_SPACE, Figures, Horizon, HorizonFigure, Measurement, Round, Stop};

/// The attacker moves this long after a lockout's last instant (µs
/// resolution of `wait_until`; the end is inclusive).
pub const AFTER_LOCKOUT_SECONDS: f64 = 1e-6;

/// Codes accepted at one instant under the rule.
pub const RULE_VALID_CODES: u32 = 3;

/// The rule in one sentence, for the reports.
pub const RULE_STATEMENT: &str = "after n wrong codes in a row the next attempt waits until the last one + 2^(n-1) s (throttled answers do not count); the codes of the previous, current and next 30 s steps are accepted; whatever the parallelism";

/// The lockout the rule sets after `failures` failures in a row.
pub fn rule_lockout_seconds(failures: u64) -> f64 {
    match failures {
        0 => 0.0,
        n => 2f64.powi((n - 1).min(1_000) as i32),
    }
}

/// The probability that one of `guesses` checked guesses is one of
/// `valid_codes` codes among 10^6 (independent trials).
pub fn probability(guesses: f64, valid_codes: u32) -> f64 {
    let p = f64::from(valid_codes) / CODE_SPACE;
    if guesses <= 0.0 || p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    -(guesses * (-p).ln_1p()).exp_m1()
}

/// When the round after `round` starts, on the attacker's time.
pub fn next_round_at(round: &Round) -> f64 {
    let lockout = round
        .lockout_seconds
        .map_or(0.0, |l| l.max(0.0) + AFTER_LOCKOUT_SECONDS);
    round.at_seconds + lockout.max(round.real_seconds)
}

/// The rounds of an attacker against a server that follows the rule, one
/// guess each (any more are throttled), until a year is over.
pub fn rule_rounds() -> Vec<Round> {
    let mut rounds = Vec::new();
    let mut at = 0.0;
    let mut failures = 0;
    while at <= Horizon::Year.seconds() {
        failures += 1;
        let round = Round {
            at_seconds: at,
            invalid: 1,
            throttled: 0,
            failed: 0,
            probe_checked: false,
            lockout_seconds: Some(rule_lockout_seconds(failures)),
            real_seconds: 0.0,
        };
        at = next_round_at(&round);
        rounds.push(round);
    }
    rounds
}

/// The guesses checked over the attacker's time: the played rounds, then
/// their continuation.
#[derive(Debug, Clone)]
pub struct Timeline {
    played: Vec<(f64, u32)>,
    /// Where the played rounds end: the start of the first round not played.
    played_until: f64,
    tail: Option<Tail>,
}

#[derive(Debug, Clone)]
struct Tail {
    first_at: f64,
    guesses_per_round: f64,
    /// The lockout after the first round of the continuation.
    first_lockout: f64,
    growth: f64,
    /// The shortest a round takes.
    floor: f64,
}

/// Growth below this is taken as none: constant rounds, counted in closed form.
const NO_GROWTH: f64 = 1.01;

impl Timeline {
    /// `rounds` as played; continued past the last one unless `complete`
    /// (they cover every horizon already).
    pub fn new(rounds: &[Round], complete: bool) -> Self {
        let played = rounds.iter().map(|r| (r.at_seconds, r.guesses())).collect();
        let played_until = rounds.last().map_or(0.0, next_round_at);
        let tail = (!complete && !rounds.is_empty()).then(|| {
            let count = rounds.len() as f64;
            let guesses_per_round = rounds.iter().map(|r| f64::from(r.guesses())).sum::<f64>() / count;
            let floor = rounds.iter().map(|r| r.real_seconds).sum::<f64>() / count;
            let lockouts: Vec<f64> = rounds.iter().filter_map(|r| r.lockout_seconds).collect();
            let (last, growth) = match lockouts.as_slice() {
                [.., previous, last] if *previous > 0.0 => (*last, (last / previous).max(1.0)),
                [.., last] => (*last, 1.0),
                [] => (0.0, 1.0),
            };
            Tail {
                first_at: played_until,
                guesses_per_round,
                first_lockout: last * growth,
                growth,
                floor,
            }
        });
        Timeline {
            played,
            played_until,
            tail,
        }
    }

    pub fn of(measurement: &Measurement) -> Self {
        Timeline::new(&measurement.rounds, measurement.stop == Stop::YearPlayed)
    }

    pub fn played_until(&self) -> f64 {
        self.played_until
    }

    /// Whether the guesses by `seconds` are partly continued rather than played.
    pub fn extrapolated_at(&self, seconds: f64) -> bool {
        self.tail.is_some() && seconds >= self.played_until
    }

    /// The guesses checked by the attacker's time `seconds` (rounds that
    /// start at or before it).
    pub fn guesses_by(&self, seconds: f64) -> u64 {
        let played: u64 = self
            .played
            .iter()
            .filter(|(at, _)| *at <= seconds)
            .map(|(_, guesses)| u64::from(*guesses))
            .sum();
        let continued = match &self.tail {
            Some(tail) if seconds >= tail.first_at => (tail.rounds_by(seconds) * tail.guesses_per_round).floor() as u64,
            _ => 0,
        };
        played + continued
    }

    /// The figures at each horizon with `valid_codes` codes accepted per guess.
    pub fn figures(&self, valid_codes: u32) -> Figures {
        Figures {
            valid_codes,
            horizons: Horizon::ALL
                .iter()
                .map(|&horizon| {
                    let seconds = horizon.seconds();
                    let guesses = self.guesses_by(seconds);
                    HorizonFigure {
                        horizon,
                        seconds,
                        guesses,
                        probability: probability(guesses as f64, valid_codes),
                        extrapolated: self.extrapolated_at(seconds),
                    }
                })
                .collect(),
        }
    }
}

impl Tail {
    /// Rounds of the continuation that start at or before `seconds`.
    fn rounds_by(&self, seconds: f64) -> f64 {
        let span = seconds - self.first_at;
        if span < 0.0 {
            return 0.0;
        }
        let period = |lockout: f64| (lockout + AFTER_LOCKOUT_SECONDS).max(self.floor);
        if self.growth < NO_GROWTH {
            let period = period(self.first_lockout);
            return (span / period).floor() + 1.0;
        }
        // Growing lockouts: a year is out of reach after a few dozen rounds
        // once they exceed the floor; until then each takes the floor.
        let mut rounds = 1.0;
        let mut at = 0.0;
        let mut lockout = self.first_lockout;
        loop {
            at += period(lockout);
            if at > span {
                return rounds;
            }
            rounds += 1.0;
            lockout *= self.growth;
        }
    }
}

/// The rule's figures: [`rule_rounds`] with [`RULE_VALID_CODES`].
pub fn rule_figures() -> Figures {
    Timeline::new(&rule_rounds(), true).figures(RULE_VALID_CODES)
}

/// Whether measured figures are the rule's: the same guesses at every
/// horizon, and the same codes accepted per guess.
pub fn matches(figures: &Figures, rule: &Figures) -> bool {
    figures.valid_codes == rule.valid_codes
        && Horizon::ALL
            .iter()
            .all(|&h| figures.at(h).map(|f| f.guesses) == rule.at(h).map(|f| f.guesses))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guesses(figures: &Figures) -> Vec<u64> {
        figures.horizons.iter().map(|h| h.guesses).collect()
    }

    #[test]
    fn the_rule_allows_17_guesses_a_day_and_25_a_year() {
        // The n-th guess at 2^(n-1) - 1 s: the 17th at 65,535 s (a day is
        // 86,400), the 20th at 524,287 (a week 604,800), the 22nd at
        // 2,097,151 (30 days 2,592,000), the 25th at 16,777,215 (365 days
        // 31,536,000); the next ones come after each.
        let rule = rule_figures();
        assert_eq!(guesses(&rule), [17, 20, 22, 25]);
        let year = rule.at(Horizon::Year).unwrap();
        assert!((year.probability - 7.5e-5).abs() < 1e-7, "{}", year.probability);
        assert!(rule.horizons.iter().all(|h| !h.extrapolated));
    }

    #[test]
    fn probability_is_that_of_independent_guesses() {
        assert_eq!(probability(0.0, 3), 0.0);
        assert_eq!(probability(10.0, 0), 0.0);
        assert!((probability(1.0, 3) - 3e-6).abs() < 1e-15);
        // A million guesses against 3 codes: 1 - e^-3 nearly.
        assert!((probability(1e6, 3) - (1.0 - (-3f64).exp())).abs() < 1e-5);
        assert!(probability(1e12, 3) > 0.999_999);
    }

    fn round(at: f64, invalid: u32, lockout: Option<f64>, real: f64) -> Round {
        Round {
            at_seconds: at,
            invalid,
            throttled: 0,
            failed: 0,
            probe_checked: lockout.is_none(),
            lockout_seconds: lockout,
            real_seconds: real,
        }
    }

    #[test]
    fn doubling_lockouts_continue_as_the_rule_would() {
        // Five rounds played in real time (waits of 1, 2, 4, 8 s), then the
        // budget: the continuation doubles on, and lands on the rule.
        let mut rounds = Vec::new();
        let mut at = 0.0;
        for n in 1..=5 {
            let r = round(at, 1, Some(rule_lockout_seconds(n)), 0.002);
            at = next_round_at(&r);
            rounds.push(r);
        }
        let timeline = Timeline::new(&rounds, false);
        assert_eq!(guesses(&timeline.figures(3)), [17, 20, 22, 25]);
        assert!(timeline.extrapolated_at(Horizon::Day.seconds()));
        assert!(!timeline.extrapolated_at(10.0));
    }

    #[test]
    fn without_lockout_the_rate_of_replies_is_the_limit() {
        // 4 codes and a checked probe per round, each round 10 ms: 500
        // guesses a second.
        let mut rounds = Vec::new();
        let mut at = 0.0;
        for _ in 0..10 {
            let r = round(at, 4, None, 0.01);
            at = next_round_at(&r);
            rounds.push(r);
        }
        let timeline = Timeline::new(&rounds, false);
        let day = timeline.guesses_by(Horizon::Day.seconds());
        assert!((day as f64 - 500.0 * 86_400.0).abs() < 10.0, "{day}");
        assert!(timeline.figures(3).at(Horizon::Day).unwrap().probability > 0.999);
    }

    #[test]
    fn several_checked_per_window_multiply_the_guesses() {
        // Three let through in each lockout window, which doubles with each
        // window (the counter went up by one): three times the rule.
        let mut rounds = Vec::new();
        let mut at = 0.0;
        for n in 1..=30 {
            let r = round(at, 3, Some(rule_lockout_seconds(n)), 0.0);
            at = next_round_at(&r);
            rounds.push(r);
            if at > Horizon::Year.seconds() {
                break;
            }
        }
        let figures = Timeline::new(&rounds, true).figures(3);
        assert_eq!(guesses(&figures), [51, 60, 66, 75]);
        assert!(!matches(&figures, &rule_figures()));
    }
}
