//! The release matrix as a reader sees it. `--target official=all` runs
//! the seven official releases with TOTP and compares them in
//! `compare.html`; running them all takes minutes, so this test builds the
//! matrix from saved reports instead, as `--compare` without `--target`
//! does: one real run of the in-process reference, its `results.json`
//! copied under each release's name, 3.8.0's @advice scenarios turned into
//! skips (as that release gives them) and one scenario of 3.9.0 into a
//! failure. `parsec-mfa conformance --compare` writes the page; headless
//! Chromium must show one column per release, each heading linking to that
//! release's report (which must exist and open), one row per scenario, and
//! exactly the altered rows highlighted, with each altered cell's status.
//! The screenshot is kept: reports/matrix-chromium-check/matrix.png.
//!
//! Without Chromium the test says SKIPPED and succeeds, unless
//! `PARSEC_MFA_REQUIRE_CHROMIUM=1` (as in CI), where it fails.

use parsec_mfa_scenarios::report::{ScenarioResult, Status, TargetReport};
use parsec_mfa_scenarios::testing::chromium::{between, chromium_dom, chromium_or_skip, chromium_screenshot, unescape};
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
    match check(&chromium) {
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
    let page = matrix.join("compare.html");
    if !stdout.contains("compare.html") {
        return Err(format!("no comparison written: {stdout}"));
    }
    let dom = chromium_dom(chromium, &page).map_err(|e| e.to_string())?;

    let heading = unescape(between(&dom, "<h1>", "</h1>").unwrap_or_default());
    let expected = format!("Parsec MFA conformance: the official releases {}", RELEASES.join(", "));
    if heading != expected {
        return Err(format!("the heading is `{heading}`, not `{expected}`"));
    }
    // One column per release, linking to its report, which opens.
    for release in RELEASES {
        let target = format!("official-{release}");
        let link = format!("<th scope=\"col\" data-target=\"{target}\"><a href=\"{target}/index.html\">{target}</a>");
        if !dom.contains(&link) {
            return Err(format!("no column heading linking to {target}'s report"));
        }
        let linked = matrix.join(&target).join("index.html");
        if !linked.exists() {
            return Err(format!("{} does not exist", linked.display()));
        }
    }
    let linked_dom =
        chromium_dom(chromium, &matrix.join("official-3.9.0").join("index.html")).map_err(|e| e.to_string())?;
    if !linked_dom.contains("<title>Parsec MFA conformance: official-3.9.0</title>") {
        return Err("3.9.0's report does not open as its page".into());
    }
    // One row per scenario; exactly the altered ones highlighted.
    let rows: Vec<&str> = dom.split("<tr class=\"scenario").skip(1).collect();
    if rows.len() != source.results.len() {
        return Err(format!("{} rows for {} scenarios", rows.len(), source.results.len()));
    }
    let differing: Vec<&&str> = rows.iter().filter(|r| r.starts_with(" differs\"")).collect();
    if differing.len() != altered.len() || altered.len() < 2 {
        return Err(format!(
            "{} rows highlighted for {} altered scenarios",
            differing.len(),
            altered.len()
        ));
    }
    for (target, result) in &altered {
        let row = rows
            .iter()
            .find(|r| {
                r.contains(&format!(
                    "data-feature-file=\"{}\" data-line=\"{}\"",
                    result.feature_file, result.line
                ))
            })
            .ok_or_else(|| format!("no row for {}:{}", result.feature_file, result.line))?;
        let cell = format!("data-target=\"{target}\" data-status=\"{}\"", result.status.as_str());
        if !row.starts_with(" differs\"") || !row.contains(&cell) {
            return Err(format!("the row of {} does not show {cell}", result.scenario));
        }
    }
    let screenshot = dir.join("matrix.png");
    let size = chromium_screenshot(chromium, &page, &screenshot).map_err(|e| e.to_string())?;
    Ok(format!(
        "matrix_in_chromium: {} releases × {} scenarios, {} rows highlighted as altered, each column linking to its report; screenshot {} ({size} bytes)",
        RELEASES.len(),
        rows.len(),
        differing.len(),
        relative_to_root(&screenshot).display()
    ))
}

fn relative_to_root(path: &Path) -> PathBuf {
    path.strip_prefix(root()).unwrap_or(path).to_owned()
}
