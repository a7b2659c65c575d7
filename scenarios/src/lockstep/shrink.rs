//! A divergent sequence made as small as it can be while it still
//! diverges on the same kind of operation: cut after the divergence, then
//! chunks removed (delta debugging), then each operation's arguments made
//! simpler.
//!
//! Hand-made rather than proptest's own shrinking: its `Vec` value tree
//! never goes below the length it was drawn at and removes one element per
//! step, and it knows nothing of a run that stops at its divergence; here
//! every candidate is a run against two fresh servers, so the number of
//! runs is what counts.

use super::operations::{Code, Link, Op};
use super::{Divergence, LockstepError, run_sequence};
use crate::targets::TargetFactory;
use std::time::{Duration, Instant};

/// How far shrinking may go: runs and time.
#[derive(Debug, Clone, Copy)]
pub struct ShrinkBudget {
    pub runs: usize,
    pub time: Duration,
}

impl Default for ShrinkBudget {
    fn default() -> Self {
        ShrinkBudget {
            runs: 400,
            time: Duration::from_secs(120),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Shrunk {
    pub operations: Vec<Op>,
    pub divergence: Divergence,
    /// Candidate runs made.
    pub runs: usize,
    /// Whether the budget ran out before no smaller candidate was left.
    pub exhausted: bool,
}

struct Shrinker<'a> {
    reference: &'a dyn TargetFactory,
    target: &'a dyn TargetFactory,
    kind: &'static str,
    budget: ShrinkBudget,
    started: Instant,
    runs: usize,
}

impl Shrinker<'_> {
    fn over(&self) -> bool {
        self.runs >= self.budget.runs || self.started.elapsed() >= self.budget.time
    }

    /// The candidate, cut after its divergence, when it still diverges on
    /// the same kind of operation.
    async fn still_diverges(&mut self, candidate: &[Op]) -> Result<Option<(Vec<Op>, Divergence)>, LockstepError> {
        self.runs += 1;
        let run = run_sequence(self.reference, self.target, candidate).await?;
        Ok(run
            .divergence
            .filter(|d| d.operation.kind() == self.kind)
            .map(|d| (candidate[..=d.index].to_vec(), d)))
    }
}

/// Shrinks `operations`, which diverged as `divergence` says.
pub async fn shrink(
    reference: &dyn TargetFactory,
    target: &dyn TargetFactory,
    operations: &[Op],
    divergence: Divergence,
    budget: ShrinkBudget,
) -> Result<Shrunk, LockstepError> {
    let mut s = Shrinker {
        reference,
        target,
        kind: divergence.operation.kind(),
        budget,
        started: Instant::now(),
        runs: 0,
    };
    let mut best = operations[..=divergence.index].to_vec();
    let mut found = divergence;
    let mut changed = true;
    while changed && !s.over() {
        changed = false;
        // Chunks removed, the largest first; the diverging operation stays.
        let mut chunk = (best.len() / 2).max(1);
        loop {
            let mut start = 0;
            while start + 1 < best.len() && !s.over() {
                let end = (start + chunk).min(best.len() - 1);
                let candidate: Vec<Op> = best[..start].iter().chain(&best[end..]).copied().collect();
                match s.still_diverges(&candidate).await? {
                    Some((smaller, d)) => {
                        best = smaller;
                        found = d;
                        changed = true;
                    }
                    None => start = end,
                }
            }
            if chunk == 1 || s.over() {
                break;
            }
            chunk /= 2;
        }
        // Each operation made simpler, one argument at a time.
        let mut index = 0;
        while index < best.len() && !s.over() {
            let mut simplified = false;
            for simpler in simpler(&best[index]) {
                let mut candidate = best.clone();
                candidate[index] = simpler;
                if let Some((smaller, d)) = s.still_diverges(&candidate).await? {
                    best = smaller;
                    found = d;
                    changed = true;
                    simplified = true;
                    break;
                }
                if s.over() {
                    break;
                }
            }
            if !simplified {
                index += 1;
            }
        }
    }
    Ok(Shrunk {
        operations: best,
        divergence: found,
        runs: s.runs,
        exhausted: s.over(),
    })
}

/// Simpler forms of an operation, each changing one argument towards its
/// first value (user 0, key 0, the right code, the latest link, fewer
/// codes, a shorter wait).
fn simpler(op: &Op) -> Vec<Op> {
    let mut out = Vec::new();
    let lower = |n: u8| -> Vec<u8> {
        let mut v = Vec::new();
        if n > 0 {
            v.push(0);
        }
        if n > 1 {
            v.push(n - 1);
        }
        v
    };
    let code = |c: Code| -> Vec<Code> {
        match c {
            Code::Right => vec![],
            Code::Skewed(s) if s.abs() > 1 => vec![Code::Right, Code::Skewed(s.signum())],
            _ => vec![Code::Right, Code::Wrong].into_iter().filter(|x| *x != c).collect(),
        }
    };
    let link = |l: Link| -> Vec<Link> {
        match l {
            Link::Latest => vec![],
            _ => vec![Link::Latest],
        }
    };
    match *op {
        Op::NewUser { org } => out.extend(lower(org).into_iter().map(|org| Op::NewUser { org })),
        Op::NewOrganization => {}
        Op::SecondDevice { user } => out.extend(lower(user).into_iter().map(|user| Op::SecondDevice { user })),
        Op::GetSecret { user } => out.extend(lower(user).into_iter().map(|user| Op::GetSecret { user })),
        Op::CreateKey { user } => out.extend(lower(user).into_iter().map(|user| Op::CreateKey { user })),
        Op::FetchGuessedKey { user } => out.extend(lower(user).into_iter().map(|user| Op::FetchGuessedKey { user })),
        Op::Revoke { user } => out.extend(lower(user).into_iter().map(|user| Op::Revoke { user })),
        Op::ConfirmSetup { user, code: c } => {
            out.extend(lower(user).into_iter().map(|user| Op::ConfirmSetup { user, code: c }));
            out.extend(code(c).into_iter().map(|c| Op::ConfirmSetup { user, code: c }));
        }
        Op::FetchKey { user, key, code: c } => {
            out.extend(lower(user).into_iter().map(|user| Op::FetchKey { user, key, code: c }));
            out.extend(lower(key).into_iter().map(|key| Op::FetchKey { user, key, code: c }));
            out.extend(code(c).into_iter().map(|c| Op::FetchKey { user, key, code: c }));
        }
        Op::FetchOthersKey { user, key } => {
            out.extend(lower(user).into_iter().map(|user| Op::FetchOthersKey { user, key }));
            out.extend(lower(key).into_iter().map(|key| Op::FetchOthersKey { user, key }));
        }
        Op::FetchInOtherOrganization { user, key } => {
            out.extend(
                lower(user)
                    .into_iter()
                    .map(|user| Op::FetchInOtherOrganization { user, key }),
            );
            out.extend(
                lower(key)
                    .into_iter()
                    .map(|key| Op::FetchInOtherOrganization { user, key }),
            );
        }
        Op::Reset {
            user,
            by_email,
            send_email,
        } => {
            out.extend(lower(user).into_iter().map(|user| Op::Reset {
                user,
                by_email,
                send_email,
            }));
            if by_email {
                out.push(Op::Reset {
                    user,
                    by_email: false,
                    send_email,
                });
            }
            if send_email {
                out.push(Op::Reset {
                    user,
                    by_email,
                    send_email: false,
                });
            }
        }
        Op::OpenResetLink { user, link: l } => {
            out.extend(lower(user).into_iter().map(|user| Op::OpenResetLink { user, link: l }));
            out.extend(link(l).into_iter().map(|l| Op::OpenResetLink { user, link: l }));
        }
        Op::ConfirmReset { user, link: l, code: c } => {
            out.extend(
                lower(user)
                    .into_iter()
                    .map(|user| Op::ConfirmReset { user, link: l, code: c }),
            );
            out.extend(link(l).into_iter().map(|l| Op::ConfirmReset { user, link: l, code: c }));
            out.extend(code(c).into_iter().map(|c| Op::ConfirmReset { user, link: l, code: c }));
        }
        Op::Freeze { user, frozen } => out.extend(lower(user).into_iter().map(|user| Op::Freeze { user, frozen })),
        Op::WrongBurst { user, key, count } => {
            out.extend(lower(user).into_iter().map(|user| Op::WrongBurst { user, key, count }));
            out.extend(lower(key).into_iter().map(|key| Op::WrongBurst { user, key, count }));
            if count > 2 {
                out.push(Op::WrongBurst { user, key, count: 2 });
                out.push(Op::WrongBurst {
                    user,
                    key,
                    count: count - 1,
                });
            }
        }
        Op::Advance { seconds } => {
            for shorter in [1, seconds / 2] {
                if shorter > 0 && shorter < seconds {
                    out.push(Op::Advance { seconds: shorter });
                }
            }
        }
    }
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simpler_forms_only_go_towards_the_first_values() {
        assert!(simpler(&Op::GetSecret { user: 0 }).is_empty());
        assert_eq!(
            simpler(&Op::ConfirmSetup {
                user: 2,
                code: Code::Skewed(-2)
            }),
            vec![
                Op::ConfirmSetup {
                    user: 0,
                    code: Code::Skewed(-2)
                },
                Op::ConfirmSetup {
                    user: 1,
                    code: Code::Skewed(-2)
                },
                Op::ConfirmSetup {
                    user: 2,
                    code: Code::Right
                },
                Op::ConfirmSetup {
                    user: 2,
                    code: Code::Skewed(-1)
                },
            ]
        );
        assert!(simpler(&Op::Advance { seconds: 1 }).is_empty());
    }
}
