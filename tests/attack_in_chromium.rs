//! The attack page as a reader sees it. Two measurements made now, the
//! reference in process and the same with the deliberate defect
//! `lockout-disabled`, on one page (`reports/attack-chromium-check/attack.html`)
//! opened in headless Chromium: each target's headline and table rows must
//! show its figures and its verdict against the rule, and the plot must be
//! drawn with a line per target and parallelism where its figures put it:
//! the faultless reference's lines end on the rule's dashed line, the
//! faulty one's far above it. A screenshot (`attack.png`) is kept next to
//! the page.
//!
//! Without Chromium the test says SKIPPED and succeeds, unless
//! `PARSEC_MFA_REQUIRE_CHROMIUM=1` (as in CI), where it fails.

use parsec_mfa_scenarios::attack::model::{AttackReport, Horizon};
use parsec_mfa_scenarios::attack::{DEFAULT_PARALLELISMS, run_attack};
use parsec_mfa_scenarios::report::attack::{ATTACK_HTML_FILE, attack_html, count, format_probability, plot_series};
use parsec_mfa_scenarios::runner::reports_dir;
use parsec_mfa_scenarios::targets::InProcess;
use parsec_mfa_scenarios::testing::chromium::{
    between, chromium_dom, chromium_or_skip, chromium_screenshot, relative, unescape, write,
};
use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;

const FAULT: &str = "lockout-disabled";
const FOLDER: &str = "attack-chromium-check";

#[tokio::main]
async fn main() -> ExitCode {
    let chromium = match chromium_or_skip("attack_in_chromium") {
        Ok(Some(chromium)) => chromium,
        Ok(None) => return ExitCode::SUCCESS,
        Err(failed) => {
            eprintln!("{failed}");
            return ExitCode::FAILURE;
        }
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    match check(root, &chromium).await {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(problems) => {
            for problem in &problems {
                eprintln!("FAILED: attack_in_chromium: {problem}");
            }
            ExitCode::FAILURE
        }
    }
}

async fn measure(name: &str, faults: &[&str]) -> Result<AttackReport, String> {
    let target = InProcess {
        faults: faults.iter().map(|f| f.to_string()).collect(),
    };
    let mut report = run_attack(&target, &DEFAULT_PARALLELISMS, &|_| {})
        .await
        .map_err(|e| e.to_string())?;
    report.target = name.into();
    Ok(report)
}

async fn check(root: &Path, chromium: &Path) -> Result<String, Vec<String>> {
    let faultless = measure("reference-in-process", &[]).await.map_err(one)?;
    let faulty = measure(&format!("reference-in-process-{FAULT}"), &[FAULT])
        .await
        .map_err(one)?;
    if !faultless.matches_rule || faulty.matches_rule {
        return Err(one(format!(
            "matches the rule: faultless {}, with {FAULT} {}",
            faultless.matches_rule, faulty.matches_rule
        )));
    }
    let reports = [faultless, faulty];
    let dir = reports_dir(root, FOLDER);
    std::fs::create_dir_all(&dir).map_err(one)?;
    let page = dir.join(ATTACK_HTML_FILE);
    write(&page, &attack_html(&reports).map_err(one)?).map_err(one)?;
    let dom = chromium_dom(chromium, &page).map_err(one)?;

    let mut problems = check_figures(&dom, &reports);
    let lines = match check_plot(&dom, &reports) {
        Ok(lines) => lines,
        Err(more) => {
            problems.extend(more);
            0
        }
    };
    let screenshot = dir.join("attack.png");
    match chromium_screenshot(chromium, &page, &screenshot) {
        Ok(size) if problems.is_empty() => Ok(format!(
            "chromium rendered the attack page of {} and {}: {} table rows, {lines} lines in the plot where their figures put them; screenshot {} ({} KB)",
            reports[0].target,
            reports[1].target,
            reports.iter().map(|r| r.measurements.len()).sum::<usize>(),
            relative(root, &screenshot),
            size / 1024
        )),
        Ok(_) => Err(problems),
        Err(e) => {
            problems.push(e.to_string());
            Err(problems)
        }
    }
}

/// Each target's headline and table rows show its figures and verdict.
fn check_figures(dom: &str, reports: &[AttackReport]) -> Vec<String> {
    let mut problems = Vec::new();
    for report in reports {
        let target = &report.target;
        let headline = dom
            .split("<p class=\"summary\"")
            .skip(1)
            .find(|p| p.contains(&format!("data-target=\"{target}\"")))
            .and_then(|p| p.split("</p>").next())
            .map(unescape);
        let best = report.best().expect("measured");
        let year = format_probability(best.figures.at(Horizon::Year).expect("a year").probability);
        match headline {
            Some(text)
                if text.contains(&format!("data-matches-rule=\"{}\"", report.matches_rule))
                    && text.contains(&format!("({} at once)", best.parallelism))
                    && text.contains(&year) => {}
            other => problems.push(format!(
                "the headline of {target} does not show {} at once and {year}: {other:?}",
                best.parallelism
            )),
        }
        for m in &report.measurements {
            let marker = format!("data-target=\"{target}\" data-parallelism=\"{}\"", m.parallelism);
            let Some(row) = dom
                .split("<tr class=\"measurement\" ")
                .skip(1)
                .find(|r| r.starts_with(&marker))
                .and_then(|r| r.split("</tr>").next())
            else {
                problems.push(format!("no table row for {target}, {} at once", m.parallelism));
                continue;
            };
            let row = unescape(row);
            let cells: Vec<&str> = row
                .split("data-horizon=\"")
                .skip(1)
                .filter_map(|c| between(c, ">", "</td>"))
                .collect();
            let mut expected: Vec<String> = Vec::new();
            for probability in [false, true] {
                for h in Horizon::ALL {
                    let f = m.figures.at(h).expect("horizon");
                    let star = if f.extrapolated { "*" } else { "" };
                    expected.push(match probability {
                        false => format!("{}{star}", count(f.guesses)),
                        true => format!("{}{star}", format_probability(f.probability)),
                    });
                }
            }
            if cells != expected {
                problems.push(format!(
                    "{target}, {} at once: cells {cells:?}, expected {expected:?}",
                    m.parallelism
                ));
            }
            let verdict = if m.matches_rule {
                "as the rule"
            } else {
                "weaker than the rule"
            };
            if !row.contains(&format!(">{verdict}</td>")) {
                problems.push(format!("{target}, {} at once: not shown `{verdict}`", m.parallelism));
            }
        }
        let window = format!("data-target=\"{target}\"");
        let accepted = dom
            .split("<section class=\"attack-target\"")
            .skip(1)
            .find(|s| s.contains(&window))
            .and_then(|s| between(s, "data-accepted-codes=\"", "\""));
        if accepted != Some(report.window.accepted_codes.to_string().as_str()) {
            problems.push(format!("{target}: accepted codes shown {accepted:?}"));
        }
    }
    problems
}

/// One `<polyline>` of the SVG: its stroke, width and points.
struct Polyline {
    stroke: String,
    width: String,
    points: Vec<(f64, f64)>,
}

fn polylines(svg: &str) -> Vec<(usize, Polyline)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = svg[from..].find("<polyline") {
        let start = from + at;
        let element = svg[start..].split('>').next().unwrap_or_default();
        let attribute = |name: &str| {
            between(element, &format!(" {name}=\""), "\"")
                .unwrap_or_default()
                .to_owned()
        };
        let points = attribute("points")
            .split_whitespace()
            .filter_map(|p| p.split_once(','))
            .filter_map(|(x, y)| Some((x.parse().ok()?, y.parse().ok()?)))
            .collect();
        found.push((
            start,
            Polyline {
                stroke: attribute("stroke"),
                width: attribute("stroke-width"),
                points,
            },
        ));
        from = start + 1;
    }
    found
}

/// Each `<text>` of the SVG: where it starts, and what it says.
fn texts(svg: &str) -> Vec<(usize, String)> {
    svg.match_indices("<text")
        .filter_map(|(at, _)| {
            let (_, rest) = svg[at..].split_once('>')?;
            let text = rest.split("</text>").next()?;
            Some((at, unescape(text).trim().to_owned()))
        })
        .collect()
}

/// The plot has a legend entry per line, and each line ends where its
/// figures put it: on the rule's dashed line for the faultless reference,
/// far above it for the faulty one. Returns the lines checked.
fn check_plot(dom: &str, reports: &[AttackReport]) -> Result<usize, Vec<String>> {
    let Some(svg) = between(dom, "<svg", "</svg>") else {
        return Err(vec!["no <svg> in the rendered page".into()]);
    };
    let lines = polylines(svg);
    let texts = texts(svg);
    // Each line's stroke: the legend sample drawn just before its label.
    let mut ends: HashMap<String, f64> = HashMap::new();
    let mut problems = Vec::new();
    for series in plot_series(reports) {
        let Some(label_at) = texts.iter().find(|(_, text)| *text == series.label).map(|(at, _)| *at) else {
            problems.push(format!("no legend entry `{}`", series.label));
            continue;
        };
        let Some((_, sample)) = lines.iter().rev().find(|(at, _)| *at < label_at) else {
            problems.push(format!("no legend sample before `{}`", series.label));
            continue;
        };
        let end = lines
            .iter()
            .map(|(_, line)| line)
            .filter(|line| line.stroke == sample.stroke && line.width == sample.width && line.points.len() > 2)
            .flat_map(|line| line.points.iter().copied())
            .max_by(|a, b| a.0.total_cmp(&b.0));
        match end {
            Some((_, y)) => {
                ends.insert(series.label.clone(), y);
            }
            None => problems.push(format!(
                "no line drawn for `{}` (stroke {}, width {})",
                series.label, sample.stroke, sample.width
            )),
        }
    }
    let rule = ends
        .iter()
        .find(|(label, _)| label.starts_with("the rule"))
        .map(|(_, y)| *y);
    let Some(rule) = rule else {
        problems.push("the rule's line is not drawn".into());
        return Err(problems);
    };
    for report in reports {
        for m in &report.measurements {
            let label = format!("{}, {} at once", report.target, m.parallelism);
            let Some(y) = ends.get(&label) else { continue };
            let placed = match m.matches_rule {
                true => (y - rule).abs() <= 1.0,
                false => y < &(rule - 100.0),
            };
            if !placed {
                problems.push(format!(
                    "`{label}` ends at y = {y}, the rule's line at {rule}: {}",
                    if m.matches_rule {
                        "not on it"
                    } else {
                        "not far above it"
                    }
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(ends.len())
    } else {
        Err(problems)
    }
}

/// One problem, as the list of problems the check returns.
fn one(e: impl std::fmt::Display) -> Vec<String> {
    vec![e.to_string()]
}
