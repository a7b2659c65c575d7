//! How the reports name what cucumber ran: a feature by its file (as
//! cucumber's own reports do), an outline row by its Examples values, and
//! text without terminal colours. Shared by the collector and the skips, so
//! that a skipped scenario and a run one are named alike.

use cucumber::gherkin;

/// The file a feature came from, named as cucumber's own reports name it
/// (its path less the project directory, by cucumber's rule, which it
/// keeps private), so that the scenarios the runner skips join the same
/// feature as those it ran.
pub fn feature_file(path: Option<&std::path::Path>) -> String {
    let path = path.map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
    let project = std::env::var("CARGO_WORKSPACE_DIR")
        .or_else(|_| std::env::var("CARGO_MANIFEST_DIR"))
        .unwrap_or_else(|_| {
            std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default()
        });
    path.trim_start_matches(project.as_str())
        .trim_start_matches(['/', '\\'])
        .to_owned()
}

/// The name of one row of a Scenario Outline that has no Examples values:
/// the outline's name and the row's line.
pub fn row_name(outline: &str, line: u32) -> String {
    format!("{outline} (line {line})")
}

fn is_outline(scenario: &gherkin::Scenario) -> bool {
    scenario.keyword.contains("Outline") || scenario.keyword.contains("Template")
}

/// `The wait doubles (failures 3, wait 4)`: a row of a Scenario Outline
/// named by its Examples values (cucumber gives every row the outline's
/// name); `None` for a plain scenario.
pub fn outline_row_name(scenario: &gherkin::Scenario) -> Option<String> {
    if !is_outline(scenario) {
        return None;
    }
    // cucumber leaves each expanded row its Examples' header and its own values.
    let values = scenario.examples.first().and_then(|examples| {
        let table = examples.table.as_ref()?;
        let [header, row] = table.rows.as_slice() else {
            return None;
        };
        Some(
            header
                .iter()
                .zip(row)
                .map(|(h, v)| format!("{h} {v}"))
                .collect::<Vec<_>>()
                .join(", "),
        )
    });
    Some(match values {
        Some(values) => format!("{} ({values})", scenario.name),
        None => row_name(&scenario.name, scenario.position.line as u32),
    })
}

/// Text from a step or a panic, fit for any report: no terminal colours.
pub(super) fn plain(text: &str) -> String {
    strip_ansi_escapes::strip_str(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cucumber::feature::Ext as _;

    #[test]
    fn outline_rows_are_named_after_their_examples_values() {
        let text = "Feature: F\n\n  Scenario Outline: Waits\n    Then <n> and <m>\n\n    Examples:\n      | n | m |\n      | 1 | one |\n\n    @clock\n    Examples: more\n      | n | m |\n      | 3 | three |\n      | 4 | four |\n\n  Scenario: Plain\n    Then 5 and five\n";
        let feature = gherkin::Feature::parse(text, gherkin::GherkinEnv::default())
            .expect("the feature parses")
            .expand_examples()
            .expect("the outline expands");
        let names: Vec<Option<String>> = feature.scenarios.iter().map(outline_row_name).collect();
        assert_eq!(
            names,
            [
                Some("Waits (n 1, m one)".to_owned()),
                Some("Waits (n 3, m three)".to_owned()),
                Some("Waits (n 4, m four)".to_owned()),
                None,
            ]
        );
        let tags: Vec<Vec<String>> = feature.scenarios.iter().map(|s| s.tags.clone()).collect();
        assert_eq!(tags[0], Vec::<String>::new());
        assert_eq!(tags[1], ["clock"], "an Examples' tags reach its rows");
    }
}
