//! `compare.html`: targets side by side, one row per scenario (by feature
//! file, then line), one column per target; rows where the targets
//! disagree have the class `differs` and say so. The same page, titled and
//! with each column linking to its target's report, is the release matrix
//! of `--target official=all` ([`ComparePage`]).
//!
//! A column's heading is its target's name only, with a link to the
//! target's description in the list below the table: a description is
//! long (the server, its storage, its clock), and several of them above
//! the first row hid the matrix.

use super::html::{legend, page_styled, verdict_note};
use super::model::{ScenarioResult, TargetReport, Verdict};
use maud::{Markup, html};
use std::collections::BTreeMap;

/// One scenario across targets.
struct Row<'a> {
    feature: &'a str,
    scenario: &'a str,
    /// Each target's result, in the order of the reports.
    cells: Vec<Option<&'a ScenarioResult>>,
}

impl Row<'_> {
    fn differs(&self) -> bool {
        self.cells
            .windows(2)
            .any(|pair| pair[0].map(|r| r.status) != pair[1].map(|r| r.status))
    }
}

/// How the page is titled, and where each target's own report is.
#[derive(Debug, Clone, Default)]
pub struct ComparePage {
    /// The page's title and heading; default: the targets' names.
    pub title: Option<String>,
    /// Each target's report page, relative to this page, in the order of
    /// the reports: each column's heading links to it.
    pub links: Vec<String>,
}

pub fn compare_html(reports: &[TargetReport]) -> String {
    compare_page(reports, &ComparePage::default())
}

pub fn compare_page(reports: &[TargetReport], options: &ComparePage) -> String {
    // A scenario is its (feature file, line); its name is the first target's.
    let mut rows: BTreeMap<(&str, u32), Row<'_>> = BTreeMap::new();
    for (t, report) in reports.iter().enumerate() {
        for result in &report.results {
            let row = rows.entry((&result.feature_file, result.line)).or_insert_with(|| Row {
                feature: &result.feature,
                scenario: &result.scenario,
                cells: vec![None; reports.len()],
            });
            row.cells[t].get_or_insert(result);
        }
    }
    let disagreements = rows.values().filter(|row| row.differs()).count();
    let names: Vec<&str> = reports.iter().map(|r| r.target.as_str()).collect();
    let anchors = anchors(&names);

    let files: Vec<&str> = rows.keys().map(|(file, _)| *file).collect();
    let heading = match &options.title {
        Some(title) => title.clone(),
        None => format!("Parsec MFA conformance: {}", names.join(" / ")),
    };
    let body = html! {
        header { "\n"
            h1 { (heading) } "\n"
            p class="summary" data-scenarios=(rows.len()) data-differs=(disagreements) {
                (rows.len()) " scenarios; the targets disagree on " (disagreements)
                " of them (highlighted, marked \u{201c}targets disagree\u{201d})."
            } "\n"
            (legend(reports.iter().any(|r| r.expectations.is_some())))
        } "\n"
        table class="compare" { "\n"
            thead { "\n"
                tr {
                    th scope="col" { "Scenario" }
                    @for (t, report) in reports.iter().enumerate() {
                        th scope="col" data-target=(report.target) {
                            (target_name(report, options.links.get(t).map(String::as_str))) " "
                            a class="about" href=(format!("#{}", anchors[t])) title="what this target is" { "about" }
                        }
                    }
                } "\n"
                tr class="totals" {
                    th scope="row" { "Totals" }
                    @for report in reports {
                        @let totals = report.totals();
                        td class="totals" data-target=(report.target) data-passed=(totals.passed)
                            data-failed=(totals.failed) data-skipped=(totals.skipped) {
                            (totals.line())
                            @if let Some(judgement) = report.judgement() {
                                br; span class="judgement" data-known-divergences=(judgement.known_divergences)
                                    data-unexpected-passes=(judgement.unexpected_passes)
                                    data-mismatches=(judgement.mismatches()) { (judgement.line()) }
                            }
                        }
                    }
                } "\n"
            } "\n"
            tbody { "\n"
                @for (i, ((file, line), row)) in rows.iter().enumerate() {
                    // Each feature's rows under its own heading row.
                    @if i == 0 || files[i - 1] != *file {
                        (feature_row(file, row.feature, reports.len() + 1)) "\n"
                    }
                    (scenario_row(file, *line, row, reports)) "\n"
                }
            } "\n"
        } "\n"
        section class="targets" id="targets" { "\n"
            h2 { "The targets" } "\n"
            dl class="targets" { "\n"
                @for (t, report) in reports.iter().enumerate() {
                    dt id=(anchors[t]) data-target=(report.target) { (target_name(report, options.links.get(t).map(String::as_str))) }
                    dd class="description" { (report.description) } "\n"
                }
            } "\n"
        } "\n"
    };
    let title = options
        .title
        .clone()
        .unwrap_or_else(|| "Parsec MFA conformance: targets compared".into());
    page_styled(&title, STYLE, body)
}

/// The headings' links to the descriptions, and the list of them.
const STYLE: &str = "\
thead th[data-target] { white-space: nowrap; }
th a.about { display: block; font-weight: normal; font-size: .8rem; }
dl.targets dt { font-weight: bold; margin-top: .6rem; }
dl.targets dd { margin: .1rem 0 0 1.5rem; }
dl.targets dt:target, dl.targets dt:target + dd { background: #fff1a8; }
";

/// A target's name, linking to its own report where the page knows it.
fn target_name(report: &TargetReport, link: Option<&str>) -> Markup {
    html! {
        @match link {
            Some(link) => a href=(link) { (report.target) },
            None => (report.target),
        }
    }
}

/// Each target's id in the list of descriptions: `about-` and its name,
/// kept to the characters a URL fragment takes as they are; one name twice
/// (a target compared with itself) gets a number.
fn anchors(names: &[&str]) -> Vec<String> {
    let mut anchors: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        let slug: String = name
            .chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' | '.' => c,
                _ => '-',
            })
            .collect();
        let mut anchor = format!("about-{slug}");
        let mut n = 2;
        while anchors.contains(&anchor) {
            anchor = format!("about-{slug}-{n}");
            n += 1;
        }
        anchors.push(anchor);
    }
    anchors
}

fn feature_row(file: &str, feature: &str, columns: usize) -> Markup {
    html! {
        tr class="feature" data-feature-file=(file) {
            th colspan=(columns) scope="colgroup" { (feature) " " span class="file" { (file) } }
        }
    }
}

fn scenario_row(file: &str, line: u32, row: &Row<'_>, reports: &[TargetReport]) -> Markup {
    let differs = row.differs();
    html! {
        tr class=(if differs { "scenario differs" } else { "scenario" }) data-scenario=(row.scenario)
            data-feature-file=(file) data-line=(line) {
            th scope="row" class="name" {
                (row.scenario) br; span class="line" { "line " (line) }
                @if differs { " " span class="differs-note" { "targets disagree" } }
            }
            @for (report, cell) in reports.iter().zip(&row.cells) {
                (status_cell(&report.target, *cell))
            }
        }
    }
}

/// A target's status for one scenario, with the detail folded in.
fn status_cell(target: &str, result: Option<&ScenarioResult>) -> Markup {
    html! {
        @match result {
            None => td class="status missing" data-target=(target) data-status="missing" { "Not in this report" },
            Some(result) => {
                @let status = result.status.as_str();
                @let class = cell_class(result);
                @let verdict = result.verdict.map(Verdict::as_str);
                @let expected = result.expected.as_ref().map(|e| e.describe());
                @let title = match (&result.detail, &expected) {
                    (Some(detail), Some(expected)) => Some(format!("{detail}\n({expected})")),
                    (Some(text), None) | (None, Some(text)) => Some(text.clone()),
                    (None, None) => None,
                };
                @match title {
                    None => td class=(class) data-target=(target) data-status=(status) data-verdict=[verdict] {
                        (result.status.label()) (verdict_note(result))
                    },
                    Some(title) => td class=(class) data-target=(target) data-status=(status) data-verdict=[verdict] title=(title) {
                        details {
                            summary { (result.status.label()) (verdict_note(result)) }
                            @if let Some(expected) = &expected { p class="expected" { (expected) } }
                            @if let Some(detail) = &result.detail { pre { (detail) } }
                        }
                    },
                }
            }
        }
    }
}

/// `status failed`, and the verdict's class when it is more than the status.
fn cell_class(result: &ScenarioResult) -> String {
    let mut class = format!("status {}", result.status.as_str());
    if let Some(verdict) = result.verdict.filter(|v| *v != Verdict::Passed) {
        class.push(' ');
        class.push_str(&verdict.css_class());
    }
    class
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_fragments_and_unique() {
        assert_eq!(
            anchors(&["official-3.9.3", "<target & co>", "r", "r", "r-2"]),
            [
                "about-official-3.9.3",
                "about--target---co-",
                "about-r",
                "about-r-2",
                "about-r-2-2"
            ]
        );
    }
}
