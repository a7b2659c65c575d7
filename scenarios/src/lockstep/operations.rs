//! The operations of the MFA lifecycle an exploration draws, and how they
//! are drawn. Every operation names its actors by index, taken modulo what
//! exists when it runs: any sequence is valid, so removing operations (the
//! shrinker's move) never makes a sequence meaningless.

use proptest::prelude::*;
use serde::{Deserialize, Serialize};

/// Which code a step sends, computed on each side from that side's own
/// secret and clock (the two servers' secrets differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Code {
    Right,
    Wrong,
    /// The code of the step this many steps away (±1 accepted, ±2 not).
    Skewed(i8),
    /// The right code of the secret before the last reset.
    OldSecret,
    /// The right code of another user of the organization.
    OtherUsers,
    /// The first three digits of the right code (a server comparing
    /// prefixes accepts it).
    Truncated,
}

/// Which reset link is opened or confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Link {
    /// The last one the administrator made.
    Latest,
    /// The one before it (replaced by a second reset).
    Replaced,
    /// The latest one with its token changed.
    Forged,
    /// Another user's latest link, with this user's id.
    OtherUsers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// A new user in an organization, added by its administrator.
    NewUser {
        org: u8,
    },
    /// Another organization whose first user is the same person (email) as
    /// the first user of the first organization.
    NewOrganization,
    SecondDevice {
        user: u8,
    },
    /// The profile's MFA section (authenticated `totp_setup_get_secret`).
    GetSecret {
        user: u8,
    },
    ConfirmSetup {
        user: u8,
        code: Code,
    },
    CreateKey {
        user: u8,
    },
    FetchKey {
        user: u8,
        key: u8,
        code: Code,
    },
    /// Another user's key claimed with this user's id and right code.
    FetchOthersKey {
        user: u8,
        key: u8,
    },
    /// The key asked for in another organization, same user id and code.
    FetchInOtherOrganization {
        user: u8,
        key: u8,
    },
    /// A key id nobody created.
    FetchGuessedKey {
        user: u8,
    },
    Reset {
        user: u8,
        by_email: bool,
        send_email: bool,
    },
    OpenResetLink {
        user: u8,
        link: Link,
    },
    ConfirmReset {
        user: u8,
        link: Link,
        code: Code,
    },
    Freeze {
        user: u8,
        frozen: bool,
    },
    Revoke {
        user: u8,
    },
    /// Wrong codes sent at once on one key.
    WrongBurst {
        user: u8,
        key: u8,
        count: u8,
    },
    /// The clock moved forward (exact where the target allows).
    Advance {
        seconds: u32,
    },
}

impl Op {
    /// Its kind, without its arguments: what a divergence is matched on.
    pub fn kind(&self) -> &'static str {
        match self {
            Op::NewUser { .. } => "new-user",
            Op::NewOrganization => "new-organization",
            Op::SecondDevice { .. } => "second-device",
            Op::GetSecret { .. } => "get-secret",
            Op::ConfirmSetup { .. } => "confirm-setup",
            Op::CreateKey { .. } => "create-key",
            Op::FetchKey { .. } => "fetch-key",
            Op::FetchOthersKey { .. } => "fetch-others-key",
            Op::FetchInOtherOrganization { .. } => "fetch-in-other-organization",
            Op::FetchGuessedKey { .. } => "fetch-guessed-key",
            Op::Reset { .. } => "reset",
            Op::OpenResetLink { .. } => "open-reset-link",
            Op::ConfirmReset { .. } => "confirm-reset",
            Op::Freeze { .. } => "freeze",
            Op::Revoke { .. } => "revoke",
            Op::WrongBurst { .. } => "wrong-burst",
            Op::Advance { .. } => "advance",
        }
    }

    /// The seconds of clock it moves (what a real-time target waits for).
    pub fn seconds(&self) -> u32 {
        match self {
            Op::Advance { seconds } => *seconds,
            _ => 0,
        }
    }
}

fn code() -> impl Strategy<Value = Code> {
    prop_oneof![
        4 => Just(Code::Right),
        3 => Just(Code::Wrong),
        2 => prop_oneof![Just(-2i8), Just(-1), Just(1), Just(2)].prop_map(Code::Skewed),
        1 => Just(Code::OldSecret),
        1 => Just(Code::OtherUsers),
        1 => Just(Code::Truncated),
    ]
}

fn link() -> impl Strategy<Value = Link> {
    prop_oneof![
        4 => Just(Link::Latest),
        1 => Just(Link::Replaced),
        1 => Just(Link::Forged),
        1 => Just(Link::OtherUsers),
    ]
}

/// One operation. `users` bounds the user indices drawn (`--users`);
/// `max_advance` the seconds a clock move may take (0: none).
pub fn op(users: u8, max_advance: u32) -> BoxedStrategy<Op> {
    let u = 0..users.max(1);
    let k = 0..8u8;
    let mut choices: Vec<(u32, BoxedStrategy<Op>)> = vec![
        (3, (0..2u8).prop_map(|org| Op::NewUser { org }).boxed()),
        (1, Just(Op::NewOrganization).boxed()),
        (1, u.clone().prop_map(|user| Op::SecondDevice { user }).boxed()),
        (4, u.clone().prop_map(|user| Op::GetSecret { user }).boxed()),
        (
            4,
            (u.clone(), code())
                .prop_map(|(user, code)| Op::ConfirmSetup { user, code })
                .boxed(),
        ),
        (3, u.clone().prop_map(|user| Op::CreateKey { user }).boxed()),
        (
            6,
            (u.clone(), k.clone(), code())
                .prop_map(|(user, key, code)| Op::FetchKey { user, key, code })
                .boxed(),
        ),
        (
            1,
            (u.clone(), k.clone())
                .prop_map(|(user, key)| Op::FetchOthersKey { user, key })
                .boxed(),
        ),
        (
            1,
            (u.clone(), k.clone())
                .prop_map(|(user, key)| Op::FetchInOtherOrganization { user, key })
                .boxed(),
        ),
        (1, u.clone().prop_map(|user| Op::FetchGuessedKey { user }).boxed()),
        (
            2,
            (u.clone(), any::<bool>(), any::<bool>())
                .prop_map(|(user, by_email, send_email)| Op::Reset {
                    user,
                    by_email,
                    send_email,
                })
                .boxed(),
        ),
        (
            2,
            (u.clone(), link())
                .prop_map(|(user, link)| Op::OpenResetLink { user, link })
                .boxed(),
        ),
        (
            2,
            (u.clone(), link(), code())
                .prop_map(|(user, link, code)| Op::ConfirmReset { user, link, code })
                .boxed(),
        ),
        (
            1,
            (u.clone(), any::<bool>())
                .prop_map(|(user, frozen)| Op::Freeze { user, frozen })
                .boxed(),
        ),
        (1, u.clone().prop_map(|user| Op::Revoke { user }).boxed()),
        (
            1,
            (u, k, 2..12u8)
                .prop_map(|(user, key, count)| Op::WrongBurst { user, key, count })
                .boxed(),
        ),
    ];
    if max_advance > 0 {
        let moves = prop_oneof![Just(1u32), Just(15), Just(30), Just(60), 1..=max_advance];
        choices.push((2, moves.prop_map(|seconds| Op::Advance { seconds }).boxed()));
    }
    proptest::strategy::Union::new_weighted(choices).boxed()
}

/// A sequence of `len` operations, drawn from proptest's seeded generation.
pub fn sequence(len: usize, users: u8, max_advance: u32) -> BoxedStrategy<Vec<Op>> {
    proptest::collection::vec(op(users, max_advance), len).boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};

    fn draw(seed: u64) -> Vec<Op> {
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&seed.to_le_bytes());
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
        let mut runner = TestRunner::new_with_rng(Default::default(), rng);
        sequence(50, 3, 60).new_tree(&mut runner).unwrap().current()
    }

    #[test]
    fn the_same_seed_draws_the_same_sequence() {
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
    }

    #[test]
    fn no_clock_moves_where_none_are_allowed() {
        let mut runner = TestRunner::deterministic();
        let ops = sequence(200, 3, 0).new_tree(&mut runner).unwrap().current();
        assert!(ops.iter().all(|op| op.seconds() == 0));
    }
}
