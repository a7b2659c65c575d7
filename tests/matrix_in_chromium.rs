//! The release matrix as a reader sees it. `--target official=all` runs
//! the seven official releases with TOTP and compares them in
//! `compare.html`; running them all takes minutes, so this test builds the
//! matrix from saved reports instead, as `--compare` without `--target`
//! does: one real run of the in-process reference, its `results.json`
//! copied under each release's name, 3.8.0's @advice scenarios turned into
//! skips (as that release gives them) and one scenario of 3.9.0 into a
//! failure. `parsec-mfa conformance --compare` writes the page; headless
//! Chromium must show one column per release, each heading linking to that
//! release's report (which must exist and open) and to its description in
//! the list below the table (the headings name the releases only), one row
//! per scenario, and exactly the altered rows highlighted, with each altered
//! cell's status.
//! The screenshot is kept: reports/matrix-chromium-check/matrix.png.
//!
//! The checks are derived from the reports the page was built from (every
//! cell's status, and exactly the rows where releases disagree highlighted),
//! so the same test reads a real matrix: with
//! `PARSEC_MFA_MATRIX_REPORTS=DIR`, it checks the page that
//! `parsec-mfa conformance --target official=all --reports DIR` wrote, and
//! nothing else (a run of minutes, not part of `cargo test`):
//!
//! ```text
//! cargo run -- conformance --target official=all --reports reports/official-all
//! PARSEC_MFA_MATRIX_REPORTS=reports/official-all cargo test --test matrix_in_chromium
//! ```
//!
//! Without Chromium the test says SKIPPED and succeeds, unless
//! `PARSEC_MFA_REQUIRE_CHROMIUM=1` (as in CI), where it fails.

use parsec_mfa_scenarios::report::{ScenarioResult, Status, TargetReport};
use parsec_mfa_scenarios::testing::chromium::{between, chromium_dom, chromium_or_skip, chromium_screenshot, unescape};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const BINARY: &str = env!("CARGO_BIN_EXE_parsec-mfa");
const RELEASES: &[&str] = &["3.8.0", "3.8.1", "3.8.2", "3.9.0", "3.9.1", "3.9.2", "3.9.3"];
const ADVICE_FEATURE: &str = "features/advisory_protection.feature";
const FAILING: &str = "3.9.0";

fn main() -> ExitCode {
    let chromium = match chromium_or_skip("matrix_in_chromium") {
        Ok(Some(chromium)) => chromium,
        Ok(None) => return ExitCode::SUCCESS,
        Err(failed) => {
            eprintln!("{failed}");
            return ExitCode::FAILURE;
        }
    };
    let checked = match std::env::var_os("PARSEC_MFA_MATRIX_REPORTS") {
        Some(dir) => check_real(&chromium, &root().join(dir)),
        None => check(&chromium),
    };
    match checked {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(problem) => {
            eprintln!("FAILED: matrix_in_chromium: {problem}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn conformance(args: &[&str], reports: &Path) -> Result<String, String> {
    let out = Command::new(BINARY)
        .arg("conformance")
        .args(args)
        .arg("--reports")
        .arg(reports)
        .current_dir(root())
        .output()
        .map_err(|e| format!("parsec-mfa: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    match out.status.success() {
        true => Ok(stdout),
        false => Err(format!(
            "parsec-mfa conformance {args:?}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )),
    }
}

/// Each release's report, from the in-process run; the altered scenarios
/// by release.
fn releases_from(source: &TargetReport, matrix: &Path) -> Result<Vec<(String, ScenarioResult)>, String> {
    let mut altered = Vec::new();
    for release in RELEASES {
        let mut report = source.clone();
        report.target = format!("official-{release}");
        report.description = format!(
            "not the official server: the in-process reference's results, copied for this test under the name of {release}"
        );
        let mut failed_one = false;
        for result in &mut report.results {
            let change = match *release {
                "3.8.0" if result.feature_file == ADVICE_FEATURE => Some((
                    Status::Skipped,
                    "needs a server started with its own advisory device file protection (@advice)",
                )),
                FAILING if !failed_one && result.feature_file != ADVICE_FEATURE => {
                    failed_one = true;
                    Some((Status::Failed, "Then the login is refused: it was accepted"))
                }
                _ => None,
            };
            if let Some((status, detail)) = change {
                result.status = status;
                result.detail = Some(detail.to_owned());
                altered.push((report.target.clone(), result.clone()));
            }
        }
        let folder = matrix.join(&report.target);
        std::fs::create_dir_all(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
        report.write(&folder).map_err(|e| format!("{release}: {e}"))?;
    }
    Ok(altered)
}

fn check(chromium: &Path) -> Result<String, String> {
    let dir = root().join("reports").join("matrix-chromium-check");
    let _ = std::fs::remove_dir_all(&dir);
    let source_dir = dir.join("source");
    conformance(&["--target", "in-process"], &source_dir)?;
    let source = TargetReport::load(&source_dir.join("reference-in-process")).map_err(|e| e.to_string())?;
    let matrix = dir.join("matrix");
    let altered = releases_from(&source, &matrix)?;
    let stdout = conformance(&["--compare"], &matrix)?;
    if !stdout.contains("compare.html") {
        return Err(format!("no comparison written: {stdout}"));
    }
    let shown = check_matrix(chromium, &matrix)?;
    // The altered cells are where the releases disagree, and only they.
    if shown.differing.len() != altered.len() || altered.len() < 2 {
        return Err(format!(
            "{} rows highlighted for {} altered scenarios",
            shown.differing.len(),
            altered.len()
        ));
    }
    for (target, result) in &altered {
        let key = (result.feature_file.clone(), result.line);
        if !shown.differing.contains(&key) {
            return Err(format!("the row of {} ({target}) is not highlighted", result.scenario));
        }
    }
    Ok(format!(
        "matrix_in_chromium: {} releases × {} scenarios, {} rows highlighted as altered, every cell's status as its report's, each column linking to its report; screenshot {} ({} bytes)",
        shown.releases,
        shown.rows,
        shown.differing.len(),
        relative_to_root(&shown.screenshot).display(),
        shown.screenshot_bytes
    ))
}

/// A matrix from a real `--target official=all` run in `dir`.
fn check_real(chromium: &Path, dir: &Path) -> Result<String, String> {
    let shown = check_matrix(chromium, dir)?;
    Ok(format!(
        "matrix_in_chromium: {}: {} releases × {} scenarios, {} rows where releases disagree, every cell's status as its report's, each column linking to its report; screenshot {} ({} bytes)",
        relative_to_root(dir).display(),
        shown.releases,
        shown.rows,
        shown.differing.len(),
        relative_to_root(&shown.screenshot).display(),
        shown.screenshot_bytes
    ))
}

/// What the matrix page showed, once checked against its reports.
struct Shown {
    releases: usize,
    rows: usize,
    /// (feature file, line) of the highlighted rows.
    differing: BTreeSet<(String, u32)>,
    screenshot: PathBuf,
    screenshot_bytes: usize,
}

/// `dir/compare.html` in headless Chromium, against the release reports
/// beside it (`dir/official-*/results.json`): the heading names the
/// releases; one column per release, linking to its report, which opens,
/// and to its description below the table, the only place it is shown;
/// one row per scenario of any release; each cell the status of that
/// release's result (or "missing"); a row highlighted exactly where the
/// releases' statuses differ.
fn check_matrix(chromium: &Path, dir: &Path) -> Result<Shown, String> {
    let reports = release_reports(dir)?;
    let page = dir.join("compare.html");
    let dom = chromium_dom(chromium, &page).map_err(|e| format!("{}: {e}", page.display()))?;

    let heading = unescape(between(&dom, "<h1>", "</h1>").unwrap_or_default());
    let versions: Vec<&str> = reports.iter().map(|(v, _)| v.as_str()).collect();
    let expected = format!("Parsec MFA conformance: the official releases {}", versions.join(", "));
    if heading != expected {
        return Err(format!("the heading is `{heading}`, not `{expected}`"));
    }
    let head = between(&dom, "<thead>", "</thead>").unwrap_or_default();
    if head.contains("class=\"description\"") {
        return Err("a column heading holds its target's description".into());
    }
    for (_, report) in &reports {
        let target = &report.target;
        let link = format!("<th scope=\"col\" data-target=\"{target}\"><a href=\"{target}/index.html\">{target}</a>");
        if !dom.contains(&link) {
            return Err(format!("no column heading linking to {target}'s report"));
        }
        // Release names are fragments as they are: the anchor is the name.
        let about = format!("{link} <a class=\"about\" href=\"#about-{target}\"");
        if !head.contains(&about) {
            return Err(format!("{target}'s column heading does not link to its description"));
        }
        let entry = format!(
            "<dt id=\"about-{target}\" data-target=\"{target}\"><a href=\"{target}/index.html\">{target}</a></dt><dd class=\"description\">"
        );
        let described = between(&dom, &entry, "</dd>").map(unescape);
        if described.as_deref() != Some(report.description.as_str()) {
            return Err(format!(
                "{target}'s description below the table is {described:?}, not {:?}",
                report.description
            ));
        }
        if !dir.join(target).join("index.html").exists() {
            return Err(format!("{target}'s report {target}/index.html does not exist"));
        }
    }
    // One report opened as a reader would, from its column's link.
    let (_, opened) = reports.last().ok_or("no release report")?;
    let linked_dom = chromium_dom(chromium, &dir.join(&opened.target).join("index.html")).map_err(|e| e.to_string())?;
    let title = format!("<title>Parsec MFA conformance: {}</title>", opened.target);
    if !linked_dom.contains(&title) {
        return Err(format!("{}'s report does not open as its page", opened.target));
    }

    // Every scenario of every release: its statuses, in the columns' order.
    let mut expected_rows: BTreeMap<(String, u32), Vec<&str>> = BTreeMap::new();
    for (column, (_, report)) in reports.iter().enumerate() {
        for result in &report.results {
            let cells = expected_rows
                .entry((result.feature_file.clone(), result.line))
                .or_insert_with(|| vec!["missing"; reports.len()]);
            cells[column] = result.status.as_str();
        }
    }
    let rows: Vec<&str> = dom.split("<tr class=\"scenario").skip(1).collect();
    if rows.len() != expected_rows.len() {
        return Err(format!("{} rows for {} scenarios", rows.len(), expected_rows.len()));
    }
    let mut differing = BTreeSet::new();
    for ((file, line), statuses) in &expected_rows {
        let row = rows
            .iter()
            .find(|r| r.contains(&format!("data-feature-file=\"{file}\" data-line=\"{line}\"")))
            .ok_or_else(|| format!("no row for {file}:{line}"))?;
        // The row ends where the next begins: its own cells only.
        for ((_, report), status) in reports.iter().zip(statuses) {
            let cell = format!("data-target=\"{}\" data-status=\"{status}\"", report.target);
            if !row.contains(&cell) {
                return Err(format!("the row of {file}:{line} does not show {cell}"));
            }
        }
        let disagree = statuses.windows(2).any(|pair| pair[0] != pair[1]);
        let highlighted = row.starts_with(" differs\"");
        if disagree != highlighted {
            return Err(format!(
                "the row of {file}:{line} is {}highlighted, its statuses being {statuses:?}",
                if highlighted { "" } else { "not " }
            ));
        }
        if highlighted {
            differing.insert((file.clone(), *line));
        }
    }
    let screenshot = dir.join("matrix.png");
    let screenshot_bytes = chromium_screenshot(chromium, &page, &screenshot).map_err(|e| e.to_string())?;
    Ok(Shown {
        releases: reports.len(),
        rows: rows.len(),
        differing,
        screenshot,
        screenshot_bytes,
    })
}

/// `dir/official-<version>/`'s reports, by version (the matrix's columns).
fn release_reports(dir: &Path) -> Result<Vec<(String, TargetReport)>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut reports = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(version) = name.strip_prefix("official-") else {
            continue;
        };
        if !entry.path().join("results.json").exists() {
            continue;
        }
        let report = TargetReport::load(&entry.path()).map_err(|e| format!("{name}: {e}"))?;
        reports.push((version.to_owned(), report));
    }
    reports.sort_by_key(|(version, _)| {
        version
            .split('.')
            .map(|n| n.parse::<u32>().unwrap_or(0))
            .collect::<Vec<_>>()
    });
    if reports.is_empty() {
        return Err(format!("no official-*/results.json in {}", dir.display()));
    }
    Ok(reports)
}

fn relative_to_root(path: &Path) -> PathBuf {
    path.strip_prefix(root()).unwrap_or(path).to_owned()
}
