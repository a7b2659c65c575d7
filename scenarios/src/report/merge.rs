//! `--merge`: the `results.json` of runs made on several machines, each a
//! shard of the scenarios (`--shard K/N`, see [`crate::shard::Shard`]),
//! put back together: one report per target, as if one run had made it.
//! Every shard of a target must be there exactly once, and no scenario
//! twice: a merge of an incomplete or overlapping set is refused, since
//! its verdict would not be the whole run's.

use super::model::{Judged, TargetReport};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MergeError {
    #[error("{target}: {message}")]
    Shards { target: String, message: String },
}

/// The reports of each target merged, in the order targets first appear.
pub fn merge_reports(reports: Vec<TargetReport>) -> Result<Vec<TargetReport>, MergeError> {
    let mut order: Vec<String> = Vec::new();
    let mut by_target: BTreeMap<String, Vec<TargetReport>> = BTreeMap::new();
    for report in reports {
        if !by_target.contains_key(&report.target) {
            order.push(report.target.clone());
        }
        by_target.entry(report.target.clone()).or_default().push(report);
    }
    order
        .into_iter()
        .map(|target| {
            let parts = by_target.remove(&target).unwrap_or_default();
            merge_target(&target, parts)
        })
        .collect()
}

fn merge_target(target: &str, mut parts: Vec<TargetReport>) -> Result<TargetReport, MergeError> {
    let refuse = |message: String| MergeError::Shards {
        target: target.to_owned(),
        message,
    };
    let shards: Vec<String> = parts
        .iter()
        .map(|p| p.shard.map(|s| s.to_string()).unwrap_or_else(|| "all".into()))
        .collect();
    if parts.len() == 1 && parts[0].shard.is_none() {
        return Ok(parts.remove(0));
    }
    let count = match parts.first().and_then(|p| p.shard) {
        Some(shard) => shard.count,
        None => {
            return Err(refuse(format!(
                "a run of every scenario cannot be merged with shards ({})",
                shards.join(", ")
            )));
        }
    };
    let mut indexes = BTreeSet::new();
    for part in &parts {
        match part.shard {
            Some(shard) if shard.count == count => {
                if !indexes.insert(shard.index) {
                    return Err(refuse(format!("shard {shard} is given twice")));
                }
            }
            _ => {
                return Err(refuse(format!(
                    "the shards are not of one split ({}); each must be K/{count}",
                    shards.join(", ")
                )));
            }
        }
    }
    let missing: Vec<String> = (1..=count)
        .filter(|k| !indexes.contains(k))
        .map(|k| format!("{k}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(refuse(format!("shard(s) {} missing", missing.join(", "))));
    }
    if parts
        .iter()
        .any(|p| p.expectations.is_some() != parts[0].expectations.is_some())
    {
        return Err(refuse(
            "some shards were judged against expected results (--expect), others not".into(),
        ));
    }
    parts.sort_by_key(|p| p.shard.map(|s| s.index));
    let mut merged = TargetReport::new(target, parts[0].description.clone());
    merged.client = parts[0].client.clone();
    let mut seen = BTreeSet::new();
    let mut judged: Option<Judged> = None;
    for part in parts {
        for result in part.results {
            if !seen.insert((result.feature_file.clone(), result.line)) {
                return Err(refuse(format!(
                    "{}:{} ({}) is in two shards",
                    result.feature_file, result.line, result.scenario
                )));
            }
            merged.results.push(result);
        }
        merged.sections.extend(part.sections);
        if let Some(part) = part.expectations {
            judged = Some(match judged {
                None => part,
                Some(mut all) => {
                    for file in part.files {
                        if !all.files.contains(&file) {
                            all.files.push(file);
                        }
                    }
                    // Stale expectations name no scenario of the features:
                    // every shard finds the same ones.
                    for stale in part.stale {
                        if !all.stale.contains(&stale) {
                            all.stale.push(stale);
                        }
                    }
                    // An expectation is left out of the merge only if every
                    // shard left it out: at most the fewest any shard left.
                    all.left_out = all.left_out.min(part.left_out);
                    all
                }
            });
        }
    }
    merged.expectations = judged;
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{ScenarioResult, Status};
    use crate::shard::Shard;

    fn shard(target: &str, shard: Option<(usize, usize)>, lines: &[u32]) -> TargetReport {
        let mut report = TargetReport::new(target, "d");
        report.shard = shard.map(|(index, count)| Shard { index, count });
        for line in lines {
            report.results.push(ScenarioResult {
                detail: None,
                expected: None,
                feature: "F".into(),
                feature_file: "features/f.feature".into(),
                line: *line,
                scenario: format!("S{line}"),
                status: Status::Passed,
                steps: Vec::new(),
                verdict: None,
            });
        }
        report
    }

    #[test]
    fn every_shard_once_makes_the_whole_run() {
        let merged = merge_reports(vec![
            shard("a", Some((2, 2)), &[4]),
            shard("b", None, &[1]),
            shard("a", Some((1, 2)), &[3, 5]),
        ])
        .unwrap();
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].target, "a");
        assert_eq!(merged[0].shard, None);
        assert_eq!(merged[0].totals().passed, 3);
        assert_eq!(merged[1].target, "b");
    }

    #[test]
    fn incomplete_or_overlapping_shards_are_refused() {
        let error = |parts| merge_reports(parts).unwrap_err().to_string();
        assert_eq!(
            error(vec![shard("a", Some((1, 3)), &[1]), shard("a", Some((3, 3)), &[3])]),
            "a: shard(s) 2/3 missing"
        );
        assert_eq!(
            error(vec![shard("a", Some((1, 2)), &[1]), shard("a", Some((1, 2)), &[3])]),
            "a: shard 1/2 is given twice"
        );
        assert!(
            error(vec![shard("a", Some((1, 2)), &[1]), shard("a", Some((2, 3)), &[3])]).contains("not of one split")
        );
        assert!(error(vec![shard("a", None, &[1]), shard("a", Some((1, 1)), &[3])]).contains("every scenario"));
        assert!(error(vec![shard("a", Some((1, 2)), &[1]), shard("a", Some((2, 2)), &[1])]).contains("in two shards"));
        assert_eq!(
            merge_reports(vec![shard("a", Some((1, 1)), &[1])]).unwrap()[0]
                .totals()
                .passed,
            1
        );
    }
}
