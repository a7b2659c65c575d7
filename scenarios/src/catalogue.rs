//! The behaviour catalogue (`docs/spec.md`) and the features' tags read
//! together: which rules exist, which scenarios cite which rule, and the
//! traceability table generated from both into `docs/spec.md` (between
//! [`TABLE_BEGIN`] and [`TABLE_END`]; `tests/integration/traceability.rs`
//! fails when it is stale, `PARSEC_MFA_BLESS=1` rewrites it).

use cucumber::gherkin::{self, GherkinEnv};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub const TABLE_BEGIN: &str = "<!-- traceability table: generated from the tags of features/, do not edit -->";
pub const TABLE_END: &str = "<!-- end of the traceability table -->";

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("{}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}: not Gherkin: {reason}", path.display())]
    Gherkin { path: PathBuf, reason: String },
    #[error("docs/spec.md has no traceability table between `{TABLE_BEGIN}` and `{TABLE_END}`")]
    NoTable,
}

/// `GROUP-N` (`ANON-SECRET-1` too): the shape of a rule id.
pub fn is_rule_id(text: &str) -> bool {
    let Some((group, number)) = text.rsplit_once('-') else {
        return false;
    };
    !group.is_empty()
        && group
            .split('-')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_uppercase()))
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// The ids the catalogue defines (its `- **ID** …` items), in its order.
pub fn defined_rules(spec: &str) -> Vec<String> {
    spec.lines()
        .filter_map(|line| line.trim_start().strip_prefix("- **")?.split_once("**"))
        .map(|(id, _)| id.to_owned())
        .filter(|id| is_rule_id(id))
        .collect()
}

/// One scenario (an outline counts once) and the rule ids it is tagged
/// with, its own and inherited from its feature, rule and examples.
#[derive(Debug, Clone)]
pub struct Tagged {
    /// The feature file's name without `.feature`.
    pub feature: String,
    pub scenario: String,
    pub rules: BTreeSet<String>,
}

/// Every scenario of the `.feature` files of `features`, by file name.
pub fn tagged_scenarios(features: &Path) -> Result<Vec<Tagged>, CatalogueError> {
    let read_error = |source| CatalogueError::Read {
        path: features.to_owned(),
        source,
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(features)
        .map_err(read_error)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "feature"))
        .collect();
    paths.sort();
    let mut tagged = Vec::new();
    for path in paths {
        let feature =
            gherkin::Feature::parse_path(&path, GherkinEnv::default()).map_err(|e| CatalogueError::Gherkin {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        let name = path.file_stem().unwrap_or_default().to_string_lossy().into_owned();
        let in_rules = feature
            .rules
            .iter()
            .flat_map(|rule| rule.scenarios.iter().map(move |s| (rule.tags.as_slice(), s)));
        let scenarios = feature.scenarios.iter().map(|s| (&[][..], s)).chain(in_rules);
        for (rule_tags, scenario) in scenarios {
            let examples = scenario.examples.iter().flat_map(|e| &e.tags);
            let rules = feature
                .tags
                .iter()
                .chain(rule_tags)
                .chain(&scenario.tags)
                .chain(examples)
                .map(|tag| tag.trim_start_matches('@'))
                .filter(|tag| is_rule_id(tag))
                .map(str::to_owned)
                .collect();
            tagged.push(Tagged {
                feature: name.clone(),
                scenario: scenario.name.clone(),
                rules,
            });
        }
    }
    Ok(tagged)
}

/// The table, rule by rule in the catalogue's order: the scenarios that
/// cite it, or that none does (the rule then says which test checks it).
/// Then the tags that name no rule, and the scenarios that cite none.
pub fn traceability_table(spec: &str, scenarios: &[Tagged]) -> String {
    let defined = defined_rules(spec);
    let mut by_rule: BTreeMap<&str, Vec<&Tagged>> = BTreeMap::new();
    for scenario in scenarios {
        for rule in &scenario.rules {
            by_rule.entry(rule.as_str()).or_default().push(scenario);
        }
    }
    let cite = |s: &Tagged| format!("{} (`{}`)", s.scenario.replace('|', "\\|"), s.feature);
    let mut out = String::from("| rule | scenarios tagged with it |\n| --- | --- |\n");
    for rule in &defined {
        let cell = match by_rule.get(rule.as_str()) {
            Some(list) => list.iter().map(|s| cite(s)).collect::<Vec<_>>().join("<br>"),
            None => "none: see the rule's \"Checked by\"".to_owned(),
        };
        let _ = writeln!(out, "| {rule} | {cell} |");
    }
    let unknown: Vec<&str> = by_rule
        .keys()
        .copied()
        .filter(|rule| !defined.iter().any(|d| d == rule))
        .collect();
    if !unknown.is_empty() {
        let _ = writeln!(
            out,
            "\nTags that name no rule of this catalogue: {}.",
            unknown.join(", ")
        );
    }
    let untagged: Vec<String> = scenarios.iter().filter(|s| s.rules.is_empty()).map(cite).collect();
    if !untagged.is_empty() {
        let _ = writeln!(out, "\nScenarios that cite no rule: {}.", untagged.join("; "));
    }
    let covered = defined
        .iter()
        .filter(|rule| by_rule.contains_key(rule.as_str()))
        .count();
    let _ = writeln!(
        out,
        "\n{covered} of {} rules are cited by at least one of the {} scenarios (an outline counts once).",
        defined.len(),
        scenarios.len()
    );
    out
}

/// `spec` with `table` in place of what stands between the markers.
pub fn with_table(spec: &str, table: &str) -> Result<String, CatalogueError> {
    let start = spec.find(TABLE_BEGIN).ok_or(CatalogueError::NoTable)? + TABLE_BEGIN.len();
    let end = spec[start..].find(TABLE_END).ok_or(CatalogueError::NoTable)? + start;
    Ok(format!("{}\n\n{}\n{}", &spec[..start], table.trim_end(), &spec[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids() {
        for id in ["HS-1", "ANON-SECRET-12", "FETCH-3"] {
            assert!(is_rule_id(id), "{id}");
        }
        for not in ["HS", "hs-1", "HS-", "-1", "HS-1a", "advice", "ANON--1"] {
            assert!(!is_rule_id(not), "{not}");
        }
    }

    #[test]
    fn the_table_lists_rules_in_the_catalogue_order_and_what_cites_nothing() {
        let spec = "- **B-2** second\n- **A-1** first\n- **C-3** unchecked\n";
        let tagged = |scenario: &str, rules: &[&str]| Tagged {
            feature: "f".into(),
            scenario: scenario.into(),
            rules: rules.iter().map(|r| r.to_string()).collect(),
        };
        let table = traceability_table(
            spec,
            &[
                tagged("one", &["A-1", "B-2"]),
                tagged("two", &["Z-9"]),
                tagged("three", &[]),
            ],
        );
        let rows: Vec<&str> = table.lines().filter(|l| l.starts_with("| ")).collect();
        assert_eq!(
            rows,
            [
                "| rule | scenarios tagged with it |",
                "| --- | --- |",
                "| B-2 | one (`f`) |",
                "| A-1 | one (`f`) |",
                "| C-3 | none: see the rule's \"Checked by\" |",
            ]
        );
        assert!(table.contains("Tags that name no rule of this catalogue: Z-9."));
        assert!(table.contains("Scenarios that cite no rule: three (`f`)."));
        assert!(table.contains("2 of 3 rules are cited by at least one of the 3 scenarios (an outline counts once)."));
        let spec = format!("intro\n{TABLE_BEGIN}\nold\n{TABLE_END}\nafter\n");
        assert_eq!(
            with_table(&spec, "new\n").unwrap(),
            format!("intro\n{TABLE_BEGIN}\n\nnew\n{TABLE_END}\nafter\n")
        );
        assert!(matches!(with_table("no markers", ""), Err(CatalogueError::NoTable)));
    }
}
