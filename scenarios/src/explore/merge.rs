//! `parsec-mfa explore --merge`: the `explore.json` of the shards of one
//! exploration (`--shard K/N` on the machines of a CI matrix) put back
//! together, one report per target, as one unsharded run would have
//! judged it: the counts summed, the expected divergences met by all, and
//! the unexpected divergence of the lowest sequence seed.

use super::{CappedRead, EXPLORE_JSON_FILE, ExploreReport, read_at_most};
use crate::shard::Shard;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The largest `explore.json` read.
const MAX_FILE_BYTES: u64 = 64 << 20;

/// How deep below a folder given to `--merge` its `explore.json` files are
/// looked for (`<reports>/<target>/explore/explore.json` is two down).
const MAX_DEPTH: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: larger than {MAX_FILE_BYTES} bytes")]
    TooLarge { path: String },
    #[error("{path}: not an explore.json: {source}")]
    Parse { path: String, source: serde_json::Error },
    #[error("{0}: no {EXPLORE_JSON_FILE} there nor in its folders")]
    NothingThere(String),
    #[error("{target}: {message}")]
    Shards { target: String, message: String },
}

/// The `explore.json` files of `folder`: its own, or those of its folders
/// down to [`MAX_DEPTH`], sorted by path.
pub fn find(folder: &Path) -> Result<Vec<PathBuf>, MergeError> {
    fn walk(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) -> Result<(), MergeError> {
        let file = dir.join(EXPLORE_JSON_FILE);
        if file.is_file() {
            found.push(file);
            return Ok(());
        }
        if depth == MAX_DEPTH {
            return Ok(());
        }
        let entries = std::fs::read_dir(dir).map_err(|source| MergeError::Read {
            path: dir.display().to_string(),
            source,
        })?;
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                walk(&entry.path(), depth + 1, found)?;
            }
        }
        Ok(())
    }
    let mut found = Vec::new();
    walk(folder, 0, &mut found)?;
    found.sort();
    if found.is_empty() {
        return Err(MergeError::NothingThere(folder.display().to_string()));
    }
    Ok(found)
}

/// Reads one `explore.json`, at most [`MAX_FILE_BYTES`].
pub fn read(path: &Path) -> Result<ExploreReport, MergeError> {
    let shown = path.display().to_string();
    let text = read_at_most(path, MAX_FILE_BYTES).map_err(|e| match e {
        CappedRead::Io(source) => MergeError::Read {
            path: shown.clone(),
            source,
        },
        CappedRead::TooLarge => MergeError::TooLarge { path: shown.clone() },
    })?;
    serde_json::from_str(&text).map_err(|source| MergeError::Parse { path: shown, source })
}

/// The shards' reports merged, one per target (sorted by name). Refused:
/// shards of different explorations (seed, length, users, clock moves,
/// shard count), a shard given twice, a shard missing, an unsharded run.
pub fn merge(reports: Vec<ExploreReport>) -> Result<Vec<ExploreReport>, MergeError> {
    let mut by_target: BTreeMap<String, Vec<ExploreReport>> = BTreeMap::new();
    for report in reports {
        by_target.entry(report.target.clone()).or_default().push(report);
    }
    by_target
        .into_iter()
        .map(|(target, shards)| merge_one(target, shards))
        .collect()
}

fn merge_one(target: String, mut shards: Vec<ExploreReport>) -> Result<ExploreReport, MergeError> {
    let refuse = |message: String| MergeError::Shards {
        target: target.clone(),
        message,
    };
    let mut given: Vec<Shard> = Vec::new();
    for report in &shards {
        let Some(shard) = report.shard else {
            return Err(refuse("a run that is not a shard (no --shard) cannot be merged".into()));
        };
        if given.contains(&shard) {
            return Err(refuse(format!("shard {shard} given twice")));
        }
        given.push(shard);
    }
    let first = &shards[0];
    let made_alike = |r: &ExploreReport| {
        (r.seed, r.length, r.users, r.max_advance, r.shard.map(|s| s.count))
            == (
                first.seed,
                first.length,
                first.users,
                first.max_advance,
                first.shard.map(|s| s.count),
            )
    };
    if let Some(other) = shards.iter().find(|r| !made_alike(r)) {
        return Err(refuse(format!(
            "shards of different explorations: seed {} length {} users {} max advance {} of {} shards, \
             and seed {} length {} users {} max advance {} of {} shards",
            first.seed,
            first.length,
            first.users,
            first.max_advance,
            first.shard.map_or(0, |s| s.count),
            other.seed,
            other.length,
            other.users,
            other.max_advance,
            other.shard.map_or(0, |s| s.count),
        )));
    }
    let count = first.shard.map_or(0, |s| s.count);
    given.sort_by_key(|s| s.index);
    let missing: Vec<String> = (1..=count)
        .filter(|k| !given.iter().any(|s| s.index == *k))
        .map(|k| format!("{k}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(refuse(format!("shards missing: {}", missing.join(", "))));
    }
    let sequences = shards.iter().map(|r| r.sequences).sum();
    let operations = shards.iter().map(|r| r.operations).sum::<usize>();
    // The shards ran side by side: the exploration took as long as the
    // longest.
    let seconds = shards.iter().map(|r| r.seconds).fold(0.0, f64::max);
    let mut expected: Vec<_> = shards.iter().flat_map(|r| r.expected.clone()).collect();
    expected.sort_by_key(|e| e.sequence_seed);
    let found = shards
        .iter_mut()
        .filter_map(|r| r.found.take())
        .min_by_key(|f| f.sequence_seed);
    let first = &shards[0];
    Ok(ExploreReport {
        target: target.clone(),
        seed: first.seed,
        length: first.length,
        users: first.users,
        max_advance: first.max_advance,
        shard: None,
        merged: given,
        sequences,
        operations,
        seconds,
        operations_per_second: ExploreReport::rate(operations, seconds),
        expected,
        found,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(index: usize, count: usize, operations: usize, seconds: f64) -> ExploreReport {
        ExploreReport {
            target: "official-3.9.3".into(),
            seed: 7,
            length: 40,
            users: 3,
            max_advance: 600,
            shard: Some(Shard { index, count }),
            merged: Vec::new(),
            sequences: operations / 40,
            operations,
            seconds,
            operations_per_second: operations as f64 / seconds,
            expected: Vec::new(),
            found: None,
        }
    }

    #[test]
    fn shards_merge_into_one_run_of_every_sequence() {
        let merged = merge(vec![shard(2, 2, 400, 4.0), shard(1, 2, 800, 5.0)]).unwrap();
        assert_eq!(merged.len(), 1);
        let run = &merged[0];
        assert_eq!((run.sequences, run.operations), (30, 1200));
        assert_eq!(run.seconds, 5.0, "the longest shard");
        assert_eq!(run.operations_per_second, 240.0);
        assert_eq!(run.shard, None);
        assert_eq!(
            run.merged,
            vec![Shard { index: 1, count: 2 }, Shard { index: 2, count: 2 }]
        );
        assert!(run.passed());
    }

    #[test]
    fn a_missing_a_repeated_or_a_foreign_shard_is_refused() {
        let text = |r: Result<Vec<ExploreReport>, MergeError>| r.unwrap_err().to_string();
        assert!(text(merge(vec![shard(1, 3, 40, 1.0), shard(3, 3, 40, 1.0)])).contains("shards missing: 2/3"));
        assert!(text(merge(vec![shard(1, 2, 40, 1.0), shard(1, 2, 40, 1.0)])).contains("given twice"));
        let mut other = shard(2, 2, 40, 1.0);
        other.seed = 8;
        assert!(text(merge(vec![shard(1, 2, 40, 1.0), other])).contains("different explorations"));
        let mut whole = shard(1, 1, 40, 1.0);
        whole.shard = None;
        assert!(text(merge(vec![whole])).contains("not a shard"));
    }

    #[test]
    fn an_unreadable_file_is_a_typed_error() {
        let dir = std::env::temp_dir().join(format!("parsec-mfa-explore-merge-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        assert!(matches!(find(&dir), Err(MergeError::NothingThere(_))));
        let path = dir.join("t").join("explore");
        std::fs::create_dir_all(&path).unwrap();
        std::fs::write(path.join(EXPLORE_JSON_FILE), "{not json").unwrap();
        let files = find(&dir).unwrap();
        assert_eq!(files.len(), 1);
        assert!(matches!(read(&files[0]), Err(MergeError::Parse { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
