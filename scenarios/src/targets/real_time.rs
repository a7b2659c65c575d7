//! Time-dependent scenarios on a target whose clock the harness cannot move
//! (a `url=` server, or a launched one libfaketime has no hold on): the
//! waits are sat through for real, within a budget. What a scenario needs
//! is read from its steps (Examples values substituted) before it runs, so a
//! scenario over the budget is skipped with that figure rather than started.

use super::TargetError;
use std::time::Duration;

/// `--real-time-budget`: the longest a scenario may wait for real. The
/// longest waits worth sitting through are the 8 s lockout and the 15 s
/// of five lockouts in a row; scenarios run concurrently, so the run lasts
/// about its longest scenario.
pub const DEFAULT_REAL_TIME_BUDGET: Duration = Duration::from_secs(30);

/// Seconds of real time the steps of a scenario (its backgrounds' first)
/// wait for where the server's clock cannot be moved: `N seconds pass`,
/// `N days pass`, and the lockouts an attacker waits out between `N wrong
/// codes …, each as soon as allowed` (after k failures the next attempt
/// waits 2^(k-1) s: 2^(N-1) - 1 s in all, the throttle rule of
/// `brute_force.feature`). Exact instants are `@exact-clock`'s business.
pub fn real_seconds_needed<'a>(steps: impl IntoIterator<Item = &'a str>) -> u64 {
    steps.into_iter().map(step_seconds).fold(0, u64::saturating_add)
}

fn step_seconds(step: &str) -> u64 {
    let step = step.trim();
    let first_number = || {
        step.split_whitespace()
            .find_map(|word| word.parse::<u64>().ok())
            .unwrap_or(0)
    };
    if step.ends_with(" seconds pass") || step.ends_with(" second passes") {
        return first_number();
    }
    if step.ends_with(" days pass") || step.ends_with(" day passes") {
        return first_number().saturating_mul(86_400);
    }
    // The n-th burst is counted once: n failures, the last wait not waited.
    let bursts = step
        .strip_suffix(" times, each time the wait is over")
        .and_then(|s| s.rsplit_once(", ")?.1.parse::<u64>().ok());
    let failures = match bursts {
        Some(bursts) if step.starts_with("an attacker tries ") => Some(bursts),
        _ if step.starts_with("an attacker tries ") && step.ends_with(", each as soon as allowed") => {
            Some(first_number())
        }
        _ => None,
    };
    if let Some(failures) = failures {
        return match failures {
            0 | 1 => 0,
            n if n > 64 => u64::MAX,
            n => (1u64 << (n - 1)) - 1,
        };
    }
    0
}

/// Whether the outcome of these steps depends on the server's time: they
/// wait, or an attacker's wrong codes start lockouts that the next steps
/// race in real time (a request that must meet a 1 s lockout arrives after
/// it on a loaded machine). Where the harness controls the clock, such a
/// scenario gets a server of its own whose clock stands still.
pub fn depends_on_time<'a>(steps: impl IntoIterator<Item = &'a str>) -> bool {
    steps
        .into_iter()
        .any(|step| step.trim().starts_with("an attacker tries ") || step_seconds(step) > 0)
}

/// Time passing on a target whose clock is the real one: at most `budget`
/// at once (the scenario's whole need was checked against it before it
/// started; a longer wait means a step this module does not know waits).
pub async fn wait_for_real(micros: i64, budget: Duration) -> Result<(), TargetError> {
    let wait = Duration::from_micros(micros.max(0) as u64);
    if wait > budget {
        return Err(TargetError::OverBudget { wait, budget });
    }
    tokio::time::sleep(wait).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_read_from_the_steps() {
        assert_eq!(real_seconds_needed(["5 seconds pass", "1 second passes"]), 6);
        assert_eq!(real_seconds_needed(["3600 seconds pass"]), 3_600);
        assert_eq!(real_seconds_needed(["2 days pass"]), 172_800);
        assert_eq!(
            real_seconds_needed(["Alice has enabled MFA", "one more microsecond passes"]),
            0
        );
    }

    #[test]
    fn an_attacker_waits_out_each_lockout_but_the_last() {
        let tries = |n: u32| format!("an attacker tries {n} wrong codes on Alice's device, each as soon as allowed");
        assert_eq!(real_seconds_needed([tries(1).as_str()]), 0);
        assert_eq!(real_seconds_needed([tries(2).as_str()]), 1);
        assert_eq!(real_seconds_needed([tries(3).as_str(), "5 seconds pass"]), 8);
        assert_eq!(real_seconds_needed([tries(5).as_str()]), 15);
        assert_eq!(real_seconds_needed([tries(20).as_str()]), 524_287);
        assert_eq!(real_seconds_needed([tries(100).as_str()]), u64::MAX);
        assert_eq!(
            real_seconds_needed([
                "an attacker tries 12 wrong codes on Alice's device at once, 10 times, each time the wait is over"
            ]),
            511
        );
        assert_eq!(
            real_seconds_needed(["an attacker tries 12 wrong codes on Alice's device at once"]),
            0
        );
    }

    #[test]
    fn lockouts_and_waits_depend_on_time() {
        assert!(depends_on_time(["an attacker tries a wrong code on Alice's device"]));
        assert!(depends_on_time(["5 seconds pass"]));
        assert!(!depends_on_time([
            "Alice logs in with the code from her authenticator app and her password"
        ]));
    }

    #[tokio::test]
    async fn real_waits_are_bounded_by_the_budget() {
        assert!(wait_for_real(1_000, Duration::from_secs(1)).await.is_ok());
        let too_long = wait_for_real(6_000_000, Duration::from_secs(5)).await.unwrap_err();
        assert!(too_long.to_string().contains("--real-time-budget"), "{too_long}");
    }
}
