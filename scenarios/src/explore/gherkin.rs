//! A shrunk divergence written as a feature file a person can read and
//! keep in `features/`: the explorer's steps (`steps/explore.rs`), one per
//! operation, each with what the reference model saw.

use crate::lockstep::Divergence;
use crate::lockstep::observation::Observation;
use crate::lockstep::operations::Op;

/// Where the scenario came from, for its comments.
pub struct Provenance<'a> {
    /// The command that found it.
    pub command: &'a str,
    pub sequence_seed: u64,
    /// Operations of the sequence before shrinking.
    pub drawn: usize,
    /// The target's report name.
    pub target: &'a str,
    /// The flags that choose it (`--target …`).
    pub target_flags: &'a str,
}

/// The feature file: `operations` (shrunk), what the reference saw of each
/// (`seen`, in order), and the divergence on the last one.
pub fn feature(
    operations: &[Op],
    seen: &[Observation],
    divergence: &Divergence,
    provenance: &Provenance<'_>,
    replay_path: &str,
) -> String {
    let mut text = String::new();
    text.push_str(&format!(
        "# Written by `{}` (sequence seed {}, {} operations shrunk to {}).\n",
        provenance.command,
        provenance.sequence_seed,
        provenance.drawn,
        operations.len()
    ));
    text.push_str(&format!(
        "# The reference model saw {} where {} saw {}.\n",
        json(&divergence.reference),
        provenance.target,
        json(&divergence.target)
    ));
    text.push_str(&format!(
        "# Replay: parsec-mfa conformance {} --features {replay_path}\n",
        provenance.target_flags
    ));
    text.push_str("Feature: A divergence found by exploration\n\n");
    let mut tags = vec!["@explore"];
    if operations.iter().any(|op| op.seconds() > 0) {
        tags.push("@clock");
    }
    text.push_str(&format!("  {}\n", tags.join(" ")));
    text.push_str(&format!(
        "  Scenario: {} sees {} after {} operations (seed {})\n",
        divergence.operation.kind(),
        super::expected::kind(&divergence.reference),
        operations.len() - 1,
        provenance.sequence_seed
    ));
    text.push_str("    Given the explorer's first organization\n");
    for (index, op) in operations.iter().enumerate() {
        let expected = if index == operations.len() - 1 {
            &divergence.reference
        } else {
            &seen[index]
        };
        let keyword = if index == 0 { "When" } else { "And" };
        text.push_str(&format!(
            "    {keyword} the explorer does `{op}` and sees `{}`\n",
            json(expected)
        ));
    }
    text
}

fn json(observation: &Observation) -> String {
    serde_json::to_string(observation).unwrap_or_else(|e| format!("<{e}>"))
}
