//! The deliberate defects a profile cannot see from outside, each with the
//! reason: the only survivors the self-check accepts. A listed defect that
//! the features kill after all is a failure too (the list must not go
//! stale), and so is a listed name that is no longer a defect of the
//! reference server.
//!
//! Add an entry only when no scenario can be written for that profile: a
//! survivor that a user of that profile could see needs a new scenario.

use super::Profile;

/// A defect that survives in one profile by nature, not for want of a
/// scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unobservable {
    /// A name of `Faults::NAMES` or of `ClientFault::NAMES`.
    pub fault: &'static str,
    pub profile: Profile,
    /// Why no scenario can see it there, e.g. "needs the clock moved by an
    /// hour; this profile has no clock control and the real wait is over
    /// its budget".
    pub reason: &'static str,
}

/// What the `url` profile cannot see: a user's `url=` target has no clock
/// control and a fixed configuration.
pub const UNOBSERVABLE: &[Unobservable] = &[
    Unobservable {
        fault: "throttle-capped",
        profile: Profile::Url,
        reason: "a wait capped at one hour differs from the rule only from the 13th wrong code on (2^12 s); reaching it takes 2^12 - 1 s of real waiting, over any real-time budget, and this profile has no clock control",
    },
    Unobservable {
        fault: "throttle-end-excluded",
        profile: Profile::Url,
        reason: "the difference is one microsecond, at exactly `wait_until`: only a clock stopped at an exact instant (@exact-clock) shows it, and this profile's clock is the real one",
    },
    Unobservable {
        fault: "advice-ignored",
        profile: Profile::Url,
        reason: "the server of this profile advises nothing (its configuration is fixed, as a user's url= target's is): a client that ignores the advice logs in as one that follows it; the @advice scenarios need a server started with advice",
    },
    Unobservable {
        fault: "advice-not-served",
        profile: Profile::Url,
        reason: "the server of this profile advises nothing (its configuration is fixed, as a user's url= target's is): a server that drops its advice answers the same; the @advice scenarios need a server started with advice",
    },
];

/// Why `fault` cannot be seen in `profile`, if it is listed.
pub fn reason(list: &[Unobservable], fault: &str, profile: Profile) -> Option<&'static str> {
    list.iter()
        .find(|u| u.fault == fault && u.profile == profile)
        .map(|u| u.reason)
}

/// Entries that name no defect of the reference server (`known`), or the
/// same cell twice: the list has gone stale.
pub fn stale_entries(list: &[Unobservable], known: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        if !known.contains(&entry.fault) {
            problems.push(format!(
                "the unobservable list names `{}`, which is not a defect of the reference server or client (known: {})",
                entry.fault,
                known.join(", ")
            ));
        }
        if entry.reason.trim().is_empty() {
            problems.push(format!(
                "the unobservable list gives no reason for `{}` in the {} profile",
                entry.fault,
                entry.profile.name()
            ));
        }
        if list[..i]
            .iter()
            .any(|e| e.fault == entry.fault && e.profile == entry.profile)
        {
            problems.push(format!(
                "the unobservable list names `{}` in the {} profile twice",
                entry.fault,
                entry.profile.name()
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use parsec_mfa_reference::server::Faults;

    #[test]
    fn the_list_names_known_faults_once_each_with_a_reason() {
        let known: Vec<&str> = Faults::NAMES
            .iter()
            .chain(parsec_mfa_reference::client::faults::ClientFault::NAMES.iter())
            .copied()
            .collect();
        assert_eq!(stale_entries(UNOBSERVABLE, &known), Vec::<String>::new());
    }

    #[test]
    fn unknown_duplicated_or_unexplained_entries_are_stale() {
        let list = [
            Unobservable {
                fault: "no-such-fault",
                profile: Profile::Url,
                reason: "gone",
            },
            Unobservable {
                fault: "known",
                profile: Profile::Url,
                reason: " ",
            },
            Unobservable {
                fault: "known",
                profile: Profile::Url,
                reason: "again",
            },
        ];
        let problems = stale_entries(&list, &["known"]);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("no-such-fault"), "{problems:?}");
        assert!(problems[1].contains("no reason"), "{problems:?}");
        assert!(problems[2].contains("twice"), "{problems:?}");
        assert_eq!(reason(&list, "known", Profile::Url), Some(" "));
        assert_eq!(reason(&list, "known", Profile::Launched), None);
    }
}
