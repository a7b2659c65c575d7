//! The kill matrix as one self-contained HTML page: defects as rows,
//! profiles as columns; each cell killed by N scenarios (their names on
//! hover and in a list that unfolds), or survived, highlighted. Every text
//! from the model goes through [`escape`]; the page has no other input, so
//! it can move to templates that escape by default as it is.

use super::explored::ExploreCell;
use super::matrix::{Cell, Matrix, Outcome, RunRecord, Scope};
use std::fmt::Write as _;

/// Text and double-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("&#10;"),
            c if c.is_control() && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin-top: 1em; }
th, td { border: 1px solid #ccc; padding: 0.4em 0.6em; vertical-align: top; text-align: left; }
th { background: #f2f2f2; }
th .profile-name { font-weight: normal; color: #555; font-size: 0.9em; }
td.killed { background: #e8f5e9; }
td.survived, td.error { background: #ffcdd2; font-weight: bold; }
td.unobservable { background: #eceff1; }
td.baseline-ok { background: #f1f8e9; }
td.baseline-bad { background: #ffcdd2; font-weight: bold; }
td .note { display: block; font-weight: normal; color: #555; font-size: 0.85em; }
td.problem { outline: 3px solid #c62828; }
summary { cursor: pointer; }
ol { margin: 0.3em 0 0 1.2em; padding: 0; }
li small { color: #666; }
.verdict-ok { color: #2e7d32; }
.verdict-bad { color: #c62828; }
ul.problems li { color: #c62828; }
";

pub fn page(matrix: &Matrix) -> String {
    let mut html = String::new();
    let problems = matrix.problems();
    let cells: Vec<&Cell> = matrix.faults.iter().flat_map(|row| &row.cells).collect();
    let count = |outcome: Outcome| cells.iter().filter(|c| c.outcome == outcome).count();
    let settings = &matrix.settings;
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str("<title>Self-check: the features against deliberate defects</title>\n");
    let _ = writeln!(html, "<style>{STYLE}</style>\n</head>\n<body>");
    html.push_str("<h1>Self-check: the features against deliberate defects</h1>\n");
    let _ = writeln!(
        html,
        "<p class=\"{}\" id=\"verdict\"><strong>{}</strong>: {} defect(s) × {} profile(s): {} killed, {} survived, {} not observable, {} error(s).</p>",
        if matrix.ok { "verdict-ok" } else { "verdict-bad" },
        if matrix.ok { "Passed" } else { "Failed" },
        matrix.faults.len(),
        matrix.profiles.len(),
        count(Outcome::Killed),
        count(Outcome::Survived),
        count(Outcome::Unobservable),
        count(Outcome::Error),
    );
    let _ = writeln!(
        html,
        "<p>{:.1} s wall time{}, {} run(s) at once, {} scenario(s) at once in each run. {}</p>",
        settings.wall_seconds,
        settings
            .cpu_seconds
            .map(|cpu| format!(", {cpu:.1} s of CPU"))
            .unwrap_or_default(),
        settings.runs_at_once,
        settings.concurrency,
        escape(scope_note(settings.scope)),
    );
    if !problems.is_empty() {
        html.push_str("<h2>Problems</h2>\n<ul class=\"problems\">\n");
        for problem in &problems {
            let _ = writeln!(html, "<li>{}</li>", escape(problem));
        }
        html.push_str("</ul>\n");
    }
    html.push_str("<table>\n<thead>\n<tr><th>defect</th>");
    for info in &matrix.profiles {
        let _ = write!(
            html,
            "<th title=\"{}\">{}<br><span class=\"profile-name\">{}</span></th>",
            escape(&info.description),
            escape(&info.title),
            escape(info.profile.name()),
        );
    }
    if let Some(budget) = &matrix.explore {
        let _ = write!(
            html,
            "<th title=\"each defect looked for by parsec-mfa explore alone, against the reference in process\">explore<br><span class=\"profile-name\">{} sequences each (at most {} s), seed {}</span></th>",
            budget.sequences, budget.seconds, budget.seed
        );
    }
    html.push_str("</tr>\n</thead>\n<tbody>\n<tr class=\"baseline\"><th>faultless reference</th>");
    for info in &matrix.profiles {
        let baseline = matrix.baselines.iter().find(|b| b.profile == info.profile);
        let problem = baseline.and_then(|b| b.problem());
        let class = if problem.is_none() {
            "baseline-ok"
        } else {
            "baseline-bad"
        };
        let _ = write!(html, "<td class=\"{class}\" data-profile=\"{}\">", info.profile.name());
        match baseline.and_then(|b| b.run.as_ref()) {
            Some(run) => {
                let _ = write!(
                    html,
                    "{} passed, {} failed, {} skipped",
                    run.passed, run.failed, run.skipped
                );
                report_link(&mut html, run);
            }
            None => html.push_str("not run"),
        }
        if let Some(problem) = problem {
            let _ = write!(html, "<span class=\"note\">{}</span>", escape(&problem));
        }
        html.push_str("</td>");
    }
    if matrix.explore.is_some() {
        html.push_str("<td data-profile=\"explore\">the model itself</td>");
    }
    html.push_str("</tr>\n");
    for row in &matrix.faults {
        let _ = write!(
            html,
            "<tr class=\"fault\" data-fault=\"{}\"><th>{}</th>",
            escape(&row.fault),
            escape(&Matrix::shown_label(row))
        );
        for info in &matrix.profiles {
            match row.cells.iter().find(|c| c.profile == info.profile) {
                Some(cell) => cell_html(&mut html, cell),
                None => html.push_str("<td>not run</td>"),
            }
        }
        if matrix.explore.is_some() {
            explore_cell_html(&mut html, row.explore.as_ref());
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody>\n</table>\n");
    html.push_str(
        "<p>Killed: at least one scenario failed against the server with that defect (hover for their names, or unfold the list; \"report\" opens the run's own report). \
         Survived: every scenario it ran passed. Not observable: survived, and listed with the reason no scenario can see it in that profile.</p>\n",
    );
    html.push_str("</body>\n</html>\n");
    html
}

fn scope_note(scope: Scope) -> &'static str {
    match scope {
        Scope::Full => "Every run goes to the end: each cell lists every scenario that killed the defect.",
        Scope::KillersFirst => {
            "The in-process run of a defect goes to the end and lists every scenario that killed it; in the other profiles those scenarios run first, and the run stops there when one of them fails (the cell says how many were tried); otherwise every scenario runs."
        }
    }
}

fn report_link(html: &mut String, run: &RunRecord) {
    let _ = write!(
        html,
        " <a href=\"{}\">report</a><span class=\"note\">{:.1} s</span>",
        escape(&run.report),
        run.seconds
    );
}

/// The `explore` column's cell: found (shrunk, written, checked), not
/// explorable with its reason, or a problem.
fn explore_cell_html(html: &mut String, cell: Option<&ExploreCell>) {
    let Some(cell) = cell else {
        html.push_str("<td data-profile=\"explore\">a client's defect: not explored</td>");
        return;
    };
    let class = match (cell.found, &cell.reason) {
        (true, _) => "killed",
        (false, Some(_)) => "unobservable",
        (false, None) => "survived",
    };
    let flagged = if cell.problem.is_some() { " problem" } else { "" };
    let _ = write!(
        html,
        "<td class=\"{class}{flagged}\" data-profile=\"explore\" data-outcome=\"{class}\">"
    );
    match (&cell.operation, cell.shrunk_to) {
        (Some(operation), Some(length)) => {
            let _ = write!(
                html,
                "found at <code>{}</code>, shrunk to {length} operation{}",
                escape(operation),
                if length == 1 { "" } else { "s" }
            );
        }
        _ => html.push_str("not found"),
    }
    let _ = write!(
        html,
        "<span class=\"note\">{} operations, {} sequences, {:.1} s{}</span>",
        cell.operations,
        cell.sequences,
        cell.seconds,
        if cell.found && cell.checked {
            "; its scenario fails on the defect, passes on the reference"
        } else {
            ""
        }
    );
    if let Some(reason) = &cell.reason {
        let _ = write!(html, "<span class=\"note\">{}</span>", escape(reason));
    }
    if let Some(problem) = &cell.problem {
        let _ = write!(html, "<span class=\"note\">{}</span>", escape(problem));
    }
    html.push_str("</td>");
}

fn cell_html(html: &mut String, cell: &Cell) {
    let class = match cell.outcome {
        Outcome::Killed => "killed",
        Outcome::Survived => "survived",
        Outcome::Unobservable => "unobservable",
        Outcome::Error => "error",
    };
    let flagged = if cell.problem.is_some() { " problem" } else { "" };
    let names: Vec<&str> = cell
        .run
        .iter()
        .flat_map(|run| run.failures.iter().map(|f| f.scenario.as_str()))
        .collect();
    let _ = write!(
        html,
        "<td class=\"{class}{flagged}\" data-profile=\"{}\" data-outcome=\"{class}\" title=\"{}\">",
        cell.profile.name(),
        escape(&names.join("\n"))
    );
    match (cell.outcome, &cell.run) {
        (Outcome::Killed, Some(run)) => {
            let _ = write!(
                html,
                "<details><summary>killed by {} scenario{}</summary><ol>",
                run.failed,
                if run.failed == 1 { "" } else { "s" }
            );
            for failure in &run.failures {
                let _ = write!(
                    html,
                    "<li title=\"{}\">{} <small>{}:{}</small></li>",
                    escape(failure.detail.as_deref().unwrap_or("")),
                    escape(&failure.scenario),
                    escape(&failure.feature_file),
                    failure.line
                );
            }
            html.push_str("</ol></details>");
            let tried = match run.scope {
                Scope::KillersFirst => format!(
                    "{} tried: the in-process killers ({} skipped here)",
                    run.ran(),
                    run.skipped
                ),
                Scope::Full => format!("{} scenarios run, {} skipped", run.ran(), run.skipped),
            };
            let _ = write!(html, "<span class=\"note\">{}</span>", escape(&tried));
            report_link(html, run);
        }
        (Outcome::Survived, Some(run)) => {
            let _ = write!(
                html,
                "SURVIVED<span class=\"note\">all {} scenarios passed, {} skipped</span>",
                run.passed, run.skipped
            );
            report_link(html, run);
        }
        (Outcome::Unobservable, run) => {
            let _ = write!(
                html,
                "not observable<span class=\"note\">{}</span>",
                escape(cell.reason.as_deref().unwrap_or(""))
            );
            if let Some(run) = run {
                report_link(html, run);
            }
        }
        (_, _) => {
            let _ = write!(
                html,
                "ERROR<span class=\"note\">{}</span>",
                escape(cell.reason.as_deref().unwrap_or(""))
            );
        }
    }
    if let Some(problem) = &cell.problem {
        let _ = write!(html, "<span class=\"note\">{}</span>", escape(problem));
    }
    html.push_str("</td>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::self_check::Profile;
    use crate::self_check::matrix::{Baseline, FORMAT, FaultRow, ProfileInfo, RunSettings, ScenarioRef};

    #[test]
    fn text_and_attributes_are_escaped() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>\nnext"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;&#10;next"
        );
        assert_eq!(escape("bell\u{7}"), "bell\u{fffd}");
    }

    #[test]
    fn a_killer_named_like_markup_stays_text() {
        let run = RunRecord {
            passed: 1,
            failed: 1,
            skipped: 0,
            failures: vec![ScenarioRef {
                scenario: "<script>alert(1)</script>".into(),
                feature_file: "features/x.feature".into(),
                line: 3,
                detail: Some("\"quoted\"".into()),
            }],
            scope: Scope::Full,
            seconds: 0.5,
            report: "in-process/fault-x/index.html".into(),
        };
        let matrix = Matrix {
            explore: None,
            format: FORMAT.into(),
            profiles: vec![ProfileInfo {
                profile: Profile::InProcess,
                title: "in process".into(),
                description: "d".into(),
            }],
            baselines: vec![Baseline {
                profile: Profile::InProcess,
                run: Some(RunRecord {
                    failed: 0,
                    failures: vec![],
                    passed: 2,
                    ..run.clone()
                }),
                error: None,
            }],
            faults: vec![FaultRow {
                label: "x".into(),
                fault: "x".into(),
                client: false,
                cells: vec![Cell::judge("x", Profile::InProcess, Ok::<_, &str>(run), &[])],
                explore: None,
            }],
            list_problems: vec![],
            settings: RunSettings {
                scope: Scope::Full,
                runs_at_once: 1,
                concurrency: 1,
                wall_seconds: 1.0,
                cpu_seconds: Some(0.5),
            },
            ok: true,
        };
        let page = page(&matrix);
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{page}");
        assert!(page.contains("killed by 1 scenario<"), "{page}");
        assert!(page.contains("title=\"&quot;quoted&quot;\""), "{page}");
    }
}
