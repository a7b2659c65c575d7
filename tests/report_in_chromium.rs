//! The HTML report as a reader sees it. A real run (the brute-force feature
//! against the in-process reference with the deliberate defect
//! `lockout-disabled`, presented to the runner as a target without clock
//! control so that it skips the clock scenarios with their reason), whose
//! `index.html` the runner wrote into reports/chromium-check/, opened in
//! headless Chromium: the rendered page must show the passed, failed and
//! skipped rows with their details and the right totals. Then the same
//! feature on the faultless reference, and `compare.html` of the two: each
//! row must show both statuses, highlighted exactly where they differ.
//! Screenshots (`screenshot.png`, `compare.png`) are kept next to the pages.
//! Every row shows its steps as written, marked passed, failed or not run,
//! with what they recorded (the clock's jumps); and the lost-phone feature's
//! page (`living/`) shows the reader the reset email, the reset URL and the
//! QR codes drawn (`living.png`).
//!
//! Without Chromium the test says SKIPPED and succeeds, unless
//! `PARSEC_MFA_REQUIRE_CHROMIUM=1` (as in CI), where it fails.

use parsec_mfa_scenarios::report::model::StepOutcome;
use parsec_mfa_scenarios::report::{COMPARE_FILE, HTML_FILE, Status, TargetReport, compare_html};
use parsec_mfa_scenarios::runner::{RunOptions, reports_dir, run};
use parsec_mfa_scenarios::targets::{
    BoxFuture, Capabilities, ClockControl, InProcess, Target, TargetError, TargetFactory, TargetSpec,
};
use parsec_mfa_scenarios::testing::chromium::{
    between, chromium_dom, chromium_or_skip, chromium_screenshot, relative, unescape, write,
};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

const FEATURE: &str = "features/brute_force.feature";
/// The feature whose page is read as living documentation.
const LIVING_FEATURE: &str = "features/lost_phone.feature";
const FAULT: &str = "lockout-disabled";
const TARGET: &str = "chromium-check";

/// Scenarios that fail with the fault, and words of their failing step.
const MUST_FAIL: &[(&str, &str)] = &[
    ("The wait doubles with each wrong code", "must wait until"),
    ("Throttled answers do not count", "keeps trying wrong codes"),
    (
        "A right code during the wait is refused too",
        "login is refused because of too many attempts",
    ),
];

/// A scenario the runner skips on a target without clock control, and
/// words of the reason it gives.
const SKIPPED: &str = "Twenty wrong codes lock the device for about six days";
const SKIP_REASON: &str = "over the real-time budget of 30 s (--real-time-budget); this target has no clock control";

/// The in-process reference, presented as a target whose clock cannot be
/// moved: the runner leaves out the scenarios that would wait longer than
/// the real-time budget and reports why.
struct WithoutClockControl(InProcess);

impl TargetFactory for WithoutClockControl {
    fn name(&self) -> &str {
        TARGET
    }

    fn description(&self) -> String {
        format!(
            "The reference server in this process with the deliberate defect `{FAULT}` (wrong codes never slow an attacker down), its clock control hidden"
        )
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            clock: ClockControl::None,
            ..self.0.capabilities()
        }
    }

    fn start(&self, spec: TargetSpec) -> BoxFuture<'_, Result<Box<dyn Target>, TargetError>> {
        self.0.start(spec)
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let chromium = match chromium_or_skip("report_in_chromium") {
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
                eprintln!("FAILED: report_in_chromium: {problem}");
            }
            ExitCode::FAILURE
        }
    }
}

async fn check(root: &Path, chromium: &Path) -> Result<String, Vec<String>> {
    let dir = reports_dir(root, TARGET);
    let report = faulty_report(root, &dir).await.map_err(one)?;
    // The page the runner wrote.
    let page = dir.join(HTML_FILE);
    let dom = chromium_dom(chromium, &page).map_err(one)?;
    let rows = check_dom(&dom, &report)?;
    let screenshot = dir.join("screenshot.png");
    let size = chromium_screenshot(chromium, &page, &screenshot).map_err(one)?;

    // The same feature on the faultless reference, side by side.
    let faultless = run_feature(root, &dir.join("faultless"), Arc::new(InProcess::default()))
        .await
        .map_err(one)?;
    let compare = dir.join(COMPARE_FILE);
    write(&compare, &compare_html(&[faultless.clone(), report.clone()])).map_err(one)?;
    let compare_dom = chromium_dom(chromium, &compare).map_err(one)?;
    let differs = check_compare_dom(&compare_dom, &faultless, &report)?;
    let compare_screenshot = dir.join("compare.png");
    chromium_screenshot(chromium, &compare, &compare_screenshot).map_err(one)?;

    // The lost phone, as living documentation.
    let living_dir = dir.join("living");
    let living = run_feature_file(root, LIVING_FEATURE, &living_dir, Arc::new(InProcess::default()))
        .await
        .map_err(one)?;
    let living_page = living_dir.join(HTML_FILE);
    let living_dom = chromium_dom(chromium, &living_page).map_err(one)?;
    let artefacts = check_living_dom(&living_dom, &living)?;
    let living_screenshot = dir.join("living.png");
    chromium_screenshot(chromium, &living_page, &living_screenshot).map_err(one)?;

    Ok(format!(
        "chromium rendered {rows} scenario rows ({}); \
         screenshot {} ({} KB); compared with the faultless run: {differs} rows differ, screenshot {}; \
         living documentation of {LIVING_FEATURE}: {artefacts}, screenshot {}",
        report.totals().line(),
        relative(root, &screenshot),
        size / 1024,
        relative(root, &compare_screenshot),
        relative(root, &living_screenshot),
    ))
}

/// Runs the feature against `target`; the report the runner wrote in `dir`
/// must count what the runner said.
async fn run_feature(root: &Path, dir: &Path, target: Arc<dyn TargetFactory>) -> Result<TargetReport, String> {
    run_feature_file(root, FEATURE, dir, target).await
}

async fn run_feature_file(
    root: &Path,
    feature: &str,
    dir: &Path,
    target: Arc<dyn TargetFactory>,
) -> Result<TargetReport, String> {
    let totals = run(RunOptions {
        features: root.join(feature),
        reports: dir.to_owned(),
        concurrency: 16,
        target,
        tags: None,
        name: None,
    })
    .await
    .map_err(|e| format!("cannot run the feature: {e}"))?;
    let report = TargetReport::load(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if report.totals() != totals {
        return Err(format!(
            "the report in {} counts {}, the runner {}",
            dir.display(),
            report.totals().line(),
            totals.line()
        ));
    }
    Ok(report)
}

/// The feature against the reference with [`FAULT`], without clock control.
async fn faulty_report(root: &Path, dir: &Path) -> Result<TargetReport, String> {
    println!("=== {FEATURE} against a server with the fault `{FAULT}`: failures below are expected ===");
    let target = WithoutClockControl(InProcess {
        faults: vec![FAULT.into()],
    });
    run_feature(root, dir, Arc::new(target)).await
}

/// The compare page: a row per scenario, a cell per target with its status,
/// `differs` exactly where the statuses differ, each target's totals in the
/// header; returns the number of rows that differ.
fn check_compare_dom(dom: &str, left: &TargetReport, right: &TargetReport) -> Result<usize, Vec<String>> {
    let mut problems = Vec::new();
    let rows: Vec<&str> = dom
        .split("<tr class=\"scenario")
        .skip(1)
        .map(|r| r.split("</tr>").next().unwrap_or(r))
        .collect();
    if rows.len() != right.results.len() {
        problems.push(format!(
            "{} compared rows, {} scenarios",
            rows.len(),
            right.results.len()
        ));
    }
    let mut differs = 0;
    for result in &right.results {
        let Some(row) = rows
            .iter()
            .find(|r| Row::parse(r).scenario == result.scenario)
            .or_else(|| {
                rows.iter()
                    .find(|r| r.contains(&format!("data-line=\"{}\"", result.line)))
            })
        else {
            problems.push(format!("no compared row for `{}`", result.scenario));
            continue;
        };
        let other = left.results.iter().find(|r| r.line == result.line).map(|r| r.status);
        let expected = [other.map_or("missing", Status::as_str), result.status.as_str()];
        let shown: Vec<String> = row
            .split("data-status=\"")
            .skip(1)
            .map(|s| s.split('"').next().unwrap_or_default().to_owned())
            .collect();
        if shown != expected {
            problems.push(format!(
                "`{}` compared as {shown:?}, expected {expected:?}",
                result.scenario
            ));
        }
        let highlighted = row.starts_with(" differs\"") && row.contains("targets disagree");
        if highlighted != (expected[0] != expected[1]) {
            problems.push(format!(
                "`{}`: highlighted {highlighted}, statuses {expected:?}",
                result.scenario
            ));
        }
        differs += usize::from(highlighted);
        if let Some(detail) = &result.detail
            && !unescape(row).contains(&format!("<pre>{detail}</pre>"))
        {
            problems.push(format!(
                "the compared row of `{}` does not show:\n{detail}",
                result.scenario
            ));
        }
    }
    for report in [left, right] {
        let cell = format!("data-target=\"{}\"", report.target);
        let shown = dom
            .split("<td class=\"totals\" ")
            .skip(1)
            .find(|c| c.starts_with(&cell))
            .and_then(|c| between(c, ">", "</td>"));
        if shown != Some(report.totals().line().as_str()) {
            problems.push(format!(
                "the totals of {} show {shown:?}, not `{}`",
                report.target,
                report.totals().line()
            ));
        }
    }
    if problems.is_empty() {
        Ok(differs)
    } else {
        Err(problems)
    }
}

/// The rendered page shows every scenario with its status and detail, and
/// the totals; returns the number of rows.
fn check_dom(dom: &str, report: &TargetReport) -> Result<usize, Vec<String>> {
    let mut problems = Vec::new();
    let rows: Vec<Row> = dom.split("<tr class=\"scenario ").skip(1).map(Row::parse).collect();

    let totals = report.totals();
    let count = |status: Status| rows.iter().filter(|r| r.status == status.as_str()).count();
    if rows.len() != report.results.len() {
        problems.push(format!(
            "{} rows rendered, {} scenarios in the report",
            rows.len(),
            report.results.len()
        ));
    }
    if (count(Status::Passed), count(Status::Failed), count(Status::Skipped))
        != (totals.passed, totals.failed, totals.skipped)
    {
        problems.push(format!(
            "rendered {} passed, {} failed, {} skipped rows; the report has {}",
            count(Status::Passed),
            count(Status::Failed),
            count(Status::Skipped),
            report.totals().line()
        ));
    }
    if count(Status::Passed) == 0 {
        problems.push("no passed row".into());
    }
    for result in &report.results {
        match rows.iter().find(|r| r.scenario == result.scenario) {
            None => problems.push(format!("no row for `{}`", result.scenario)),
            Some(row) => {
                if row.status != result.status.as_str() || !row.text.contains(result.status.label()) {
                    problems.push(format!("`{}` is not shown {}", result.scenario, result.status.as_str()));
                }
                if let Some(detail) = &result.detail
                    && !row.text.contains(&format!("<pre>{detail}</pre>"))
                {
                    problems.push(format!("the row of `{}` does not show:\n{detail}", result.scenario));
                }
            }
        }
    }
    for (scenario, step) in MUST_FAIL {
        // Rows of an outline that wait longer than the budget are skipped instead.
        let matching: Vec<&Row> = rows
            .iter()
            .filter(|r| r.scenario.starts_with(scenario) && r.status != "skipped")
            .collect();
        if matching.is_empty() {
            problems.push(format!("no row of `{scenario}` ran"));
        }
        for row in matching {
            if row.status != "failed" || !row.text.contains(step) || !row.text.contains("Step panicked") {
                problems.push(format!(
                    "`{}` is not shown failed with its step `… {step} …` and message",
                    row.scenario
                ));
            }
        }
    }
    match rows.iter().find(|r| r.scenario == SKIPPED) {
        Some(row) if row.status == "skipped" && row.text.contains(SKIP_REASON) => {}
        _ => problems.push(format!("`{SKIPPED}` is not shown skipped with its reason")),
    }
    problems.extend(step_problems(&rows, report));
    if !rows.iter().any(|r| r.text.contains("data-kind=\"clock_jump\"")) {
        problems.push("no jump of the clock is shown".into());
    }

    let totals = between(dom, "<p class=\"totals\"", "</p>").and_then(|p| p.split_once('>').map(|(_, text)| text));
    if totals != Some(report.totals().line().as_str()) {
        problems.push(format!(
            "the totals line shows {totals:?}, the report has `{}`",
            report.totals().line()
        ));
    }
    let heading = between(dom, "<h1>", "</h1>").map(unescape).unwrap_or_default();
    if !heading.contains(&report.target) || !unescape(dom).contains(&report.description) {
        problems.push(format!(
            "the title does not name the target and its description: {heading:?}"
        ));
    }
    if problems.is_empty() {
        Ok(rows.len())
    } else {
        Err(problems)
    }
}

/// Each row that ran shows its steps as written, in order, each marked as
/// the report says (passed, failed, not run); a failed scenario has one
/// failed step, and the steps after it are not run.
fn step_problems(rows: &[Row], report: &TargetReport) -> Vec<String> {
    let mut problems = Vec::new();
    for result in report.results.iter().filter(|r| r.status != Status::Skipped) {
        let Some(row) = rows.iter().find(|r| r.scenario == result.scenario) else {
            continue;
        };
        let shown: Vec<(&str, &str)> = row
            .text
            .split("<li class=\"step ")
            .skip(1)
            .map(|li| {
                let outcome = li.split('"').next().unwrap_or_default();
                let text = between(li, "<span class=\"text\">", "</span>").unwrap_or_default();
                (outcome, text)
            })
            .collect();
        let expected: Vec<(&str, &str)> = result
            .steps
            .iter()
            .map(|s| {
                let outcome = match s.outcome {
                    StepOutcome::Passed => "passed",
                    StepOutcome::Failed { .. } => "failed",
                    StepOutcome::NotRun => "not_run",
                };
                (outcome, s.text.as_str())
            })
            .collect();
        if result.steps.is_empty() || shown != expected {
            problems.push(format!(
                "`{}` shows the steps {shown:?}, not {expected:?}",
                result.scenario
            ));
        }
        let failed = expected.iter().filter(|(o, _)| *o == "failed").count();
        if (result.status == Status::Failed) != (failed == 1) {
            problems.push(format!(
                "`{}` is {:?} with {failed} failed steps",
                result.scenario, result.status
            ));
        }
    }
    problems
}

/// The lost phone's page: every scenario with its steps, and the reader
/// sees the reset email (its subject and link), the reset URL and the QR
/// codes drawn; returns what it counted.
fn check_living_dom(dom: &str, report: &TargetReport) -> Result<String, Vec<String>> {
    let rows: Vec<Row> = dom.split("<tr class=\"scenario ").skip(1).map(Row::parse).collect();
    let mut problems = step_problems(&rows, report);
    if report.totals().passed != report.results.len() || rows.len() != report.results.len() {
        problems.push(format!("{} rows for {}", rows.len(), report.totals().line()));
    }
    let text = unescape(dom);
    let count = |needle: &str| text.matches(needle).count();
    let (emails, urls, qr_codes, drawn) = (
        count("data-kind=\"email\""),
        count("data-kind=\"url\""),
        count("data-kind=\"qr_code\""),
        count("<svg"),
    );
    if emails == 0 || !text.contains("Subject: [Parsec] Your MFA has been reset for") {
        problems.push(format!("{emails} emails shown, none with the reset subject"));
    }
    if !text.contains("/redirect/") || !text.contains("a=totp_reset") {
        problems.push("the email's link is not shown".into());
    }
    if urls == 0 || !text.contains("parsec3://") {
        problems.push("no reset URL is shown".into());
    }
    if qr_codes == 0 || drawn < qr_codes || !text.contains("otpauth://totp/parsec.cloud:") {
        problems.push(format!("{qr_codes} QR codes, {drawn} drawn"));
    }
    match problems.is_empty() {
        true => Ok(format!("{emails} emails, {urls} URLs, {qr_codes} QR codes drawn")),
        false => Err(problems),
    }
}

/// One `<tr class="scenario …">` of the rendered DOM, unescaped.
struct Row {
    status: String,
    scenario: String,
    text: String,
}

impl Row {
    fn parse(html: &str) -> Row {
        let html = html.split("</tr>").next().unwrap_or(html);
        let attribute = |name: &str| {
            between(html, &format!("{name}=\""), "\"")
                .map(unescape)
                .unwrap_or_default()
        };
        Row {
            status: attribute("data-status"),
            scenario: attribute("data-scenario"),
            text: unescape(html),
        }
    }
}

/// One problem, as the list of problems the check returns.
fn one(e: impl std::fmt::Display) -> Vec<String> {
    vec![e.to_string()]
}
