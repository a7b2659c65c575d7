//! Known divergences as data (`parsec-mfa explore --expect FILE`): an
//! exploration stays green while every divergence it meets is one of
//! these, each with its reason. See `expectations/explore-*.toml`.

use super::{CappedRead, read_at_most};
use crate::lockstep::Divergence;
use crate::lockstep::observation::Observation;
use crate::lockstep::operations::Op;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The largest expectation file read.
const MAX_FILE_BYTES: u64 = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedDivergence {
    /// The target's report name (`official-3.9.3`, …) it is known on.
    pub target: String,
    /// The operation's kind (`wrong-burst`, …); any operation when absent.
    #[serde(default)]
    pub operation: Option<String>,
    /// The kind of the last operation before it that sent the target a
    /// request (`freeze`, …; clock moves and operations with nothing to act
    /// on are passed over), where it matters: a divergence that only
    /// follows some operation.
    #[serde(default)]
    pub after: Option<String>,
    /// The kind of what the reference model sees, where it matters.
    #[serde(default)]
    pub reference: Option<String>,
    /// The reason the reference model gives for refusing (`user_frozen`,
    /// …), where it matters.
    #[serde(default)]
    pub why: Option<String>,
    /// The kind of what the target is seen to do, where it matters.
    #[serde(default)]
    pub seen: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectationFile {
    #[serde(default)]
    pub divergence: Vec<ExpectedDivergence>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExpectationError {
    #[error("{path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: larger than {MAX_FILE_BYTES} bytes")]
    TooLarge { path: String },
    #[error("{path}: {source}")]
    Parse { path: String, source: toml::de::Error },
}

/// Reads expectation files, each at most [`MAX_FILE_BYTES`].
pub fn read(paths: &[impl AsRef<Path>]) -> Result<Vec<ExpectedDivergence>, ExpectationError> {
    let mut all = Vec::new();
    for path in paths {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let text = read_at_most(path, MAX_FILE_BYTES).map_err(|e| match e {
            CappedRead::Io(source) => ExpectationError::Read {
                path: shown.clone(),
                source,
            },
            CappedRead::TooLarge => ExpectationError::TooLarge { path: shown.clone() },
        })?;
        let parsed: ExpectationFile = toml::from_str(&text).map_err(|source| ExpectationError::Parse {
            path: shown.clone(),
            source,
        })?;
        all.extend(parsed.divergence);
    }
    Ok(all)
}

/// The kind of an observation, as expectation files name it.
pub fn kind(observation: &Observation) -> String {
    field(observation, "kind")
}

/// One text field of an observation's JSON form (empty when absent).
fn field(observation: &Observation, name: &str) -> String {
    match serde_json::to_value(observation) {
        Ok(serde_json::Value::Object(map)) => map.get(name).and_then(|k| k.as_str()).unwrap_or_default().to_owned(),
        _ => String::new(),
    }
}

/// The expectation `divergence` on `target` is, if any; `previous` is the
/// last operation before it in its sequence that sent the target a request.
pub fn matching<'a>(
    expected: &'a [ExpectedDivergence],
    target: &str,
    divergence: &Divergence,
    previous: Option<&Op>,
) -> Option<&'a ExpectedDivergence> {
    expected.iter().find(|e| {
        e.target == target
            && e.operation.as_ref().is_none_or(|k| k == divergence.operation.kind())
            && e.after.as_ref().is_none_or(|k| previous.is_some_and(|p| k == p.kind()))
            && e.reference.as_ref().is_none_or(|k| *k == kind(&divergence.reference))
            && e.why.as_ref().is_none_or(|k| *k == field(&divergence.reference, "why"))
            && e.seen.as_ref().is_none_or(|k| *k == kind(&divergence.target))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expectation_matches_its_target_operation_and_kinds_only() {
        let file: ExpectationFile = toml::from_str(
            r#"
            [[divergence]]
            target = "official-3.9.3-postgresql"
            operation = "wrong-burst"
            seen = "burst"
            reason = "concurrent failures lost"
            "#,
        )
        .unwrap();
        let burst = Observation::Burst {
            invalid: 4,
            throttled: 0,
            opened: 0,
            other: 0,
        };
        let divergence = Divergence {
            index: 3,
            operation: Op::WrongBurst {
                user: 0,
                key: 0,
                count: 4,
            },
            reference: Observation::Burst {
                invalid: 2,
                throttled: 2,
                opened: 0,
                other: 0,
            },
            target: burst,
        };
        assert!(matching(&file.divergence, "official-3.9.3-postgresql", &divergence, None).is_some());
        assert!(matching(&file.divergence, "official-3.9.3", &divergence, None).is_none());
        let other = Divergence {
            target: Observation::InvalidCode,
            ..divergence
        };
        assert!(matching(&file.divergence, "official-3.9.3-postgresql", &other, None).is_none());
        assert!(toml::from_str::<ExpectationFile>("[[divergence]]\ntarget = \"x\"").is_err());
    }

    #[test]
    fn an_expectation_after_an_operation_matches_only_after_it() {
        let file: ExpectationFile = toml::from_str(
            r#"
            [[divergence]]
            target = "official-3.9.3"
            after = "freeze"
            reference = "refused"
            why = "user_frozen"
            reason = "freezing takes effect a moment later"
            "#,
        )
        .unwrap();
        let divergence = Divergence {
            index: 1,
            operation: Op::CreateKey { user: 0 },
            reference: Observation::Refused {
                why: "user_frozen".into(),
            },
            target: Observation::KeyCreated { reused: false },
        };
        let freeze = Op::Freeze { user: 0, frozen: true };
        let found = |d: &Divergence, p: Option<&Op>| matching(&file.divergence, "official-3.9.3", d, p).is_some();
        assert!(found(&divergence, Some(&freeze)));
        assert!(!found(&divergence, None), "no operation before it");
        assert!(
            !found(&divergence, Some(&Op::CreateKey { user: 0 })),
            "after another operation"
        );
        let revoked = Divergence {
            reference: Observation::Refused {
                why: "user_revoked".into(),
            },
            ..divergence.clone()
        };
        assert!(!found(&revoked, Some(&freeze)), "another reason");
    }
}
