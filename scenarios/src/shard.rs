//! `--shard K/N`: a deterministic slice of a run, the same on every
//! machine: the scenarios of `conformance` (see [`Shard::select`]), the
//! sequences of `explore` (sequence `i` with [`Shard::takes`]).

use std::collections::BTreeSet;

/// A deterministic slice of the scenarios, `--shard K/N` (K from 1 to N):
/// the scenarios of the features, every Scenario Outline row counted as
/// one, sorted by feature file (as the reports name it) then line; the
/// shard K takes those whose index in that list, counted from 0, is K - 1
/// modulo N. The N shards of one set of features therefore hold each
/// scenario exactly once, whatever the machine, and differ in size by one
/// at most. The other filters (`--tags`, `--name`) apply within the shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// From 1 to `count`.
    pub index: usize,
    pub count: usize,
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Not `K/N` with K from 1 to N.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a shard K/N (K from 1 to N)")]
pub struct BadShard(String);

impl std::str::FromStr for Shard {
    type Err = BadShard;

    fn from_str(text: &str) -> Result<Self, BadShard> {
        let bad = || BadShard(text.to_owned());
        let (index, count) = text.split_once('/').ok_or_else(bad)?;
        let index: usize = index.trim().parse().map_err(|_| bad())?;
        let count: usize = count.trim().parse().map_err(|_| bad())?;
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl serde::Serialize for Shard {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Shard {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl Shard {
    /// Whether the item of index `index` (from 0) in the whole list is this
    /// shard's.
    pub fn takes(&self, index: usize) -> bool {
        index % self.count == self.index - 1
    }

    /// The items of this shard, from the sorted set of all of them.
    pub fn select<T: Clone + Ord>(&self, all: &BTreeSet<T>) -> BTreeSet<T> {
        all.iter()
            .enumerate()
            .filter(|(i, _)| self.takes(*i))
            .map(|(_, at)| at.clone())
            .collect()
    }
}
