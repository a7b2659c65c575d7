//! The living documentation of a run against the official server: the
//! guides' scenarios (`--tags '@guide and not @advice'`: one server, a
//! few seconds of scenarios) through `parsec-mfa conformance --target
//! official`, their page opened in headless Chromium. Each scenario must
//! show its steps as written with their outcome, and what the run
//! produced: the administrator's command and its three output lines, the
//! email (subject, link), the QR codes, the login's prompts. The page and
//! its screenshot stay in `reports/living-doc/` (`official.png`).
//!
//! Says SKIPPED without Python 3.12 (the official server) or Chromium,
//! unless `PARSEC_MFA_REQUIRE_OFFICIAL=1` / `PARSEC_MFA_REQUIRE_CHROMIUM=1`.

use parsec_mfa_scenarios::report::{HTML_FILE, Status, TargetReport};
use parsec_mfa_scenarios::servers::find_python312;
use parsec_mfa_scenarios::testing::chromium::{
    between, chromium_dom, chromium_or_skip, chromium_screenshot, relative, unescape,
};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const BINARY: &str = env!("CARGO_BIN_EXE_parsec-mfa");
const TAGS: &str = "@guide and not @advice";
const REPORTS: &str = "reports/living-doc";

/// What the page must show, scenario by scenario.
const MUST_SHOW: &[(&str, &[&str])] = &[
    (
        "Reset by email address, as the guide types it",
        &[
            "$ parsec-mfa user totp-reset --addr parsec3://",
            "--user-email alice@example.com --send-email",
            "TOTP reset for user ",
            "An email with the reset URL has been sent to alice@example.com",
            "Subject: [Parsec] Your MFA has been reset for ",
            "a=totp_reset",
            "the reset link shows a new QR code",
        ],
    ),
    (
        "parsec-mfa login asks the code first, then the password",
        &[
            "Enter the 6-digit code from your authenticator app: ",
            "Password of ",
            "Logged in as ",
        ],
    ),
    (
        "parsec-mfa login asks no password when the code is refused",
        &["Error: The code you entered is invalid. Please try again."],
    ),
];

fn main() -> ExitCode {
    let official = match find_python312() {
        Ok(_) => true,
        Err(e) if std::env::var("PARSEC_MFA_REQUIRE_OFFICIAL").as_deref() == Ok("1") => {
            eprintln!("FAILED: living_doc_official: the official server is required here: {e}");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            println!("SKIPPED: living_doc_official: the official server: {e}");
            false
        }
    };
    let chromium = match chromium_or_skip("living_doc_official") {
        Ok(Some(chromium)) => chromium,
        Ok(None) => return ExitCode::SUCCESS,
        Err(failed) => {
            eprintln!("{failed}");
            return ExitCode::FAILURE;
        }
    };
    if !official {
        return ExitCode::SUCCESS;
    }
    match check(&chromium) {
        Ok(summary) => {
            println!("{summary}");
            println!("1 passed, 0 failed, 0 skipped");
            ExitCode::SUCCESS
        }
        Err(problems) => {
            for problem in &problems {
                eprintln!("FAILED: living_doc_official: {problem}");
            }
            ExitCode::FAILURE
        }
    }
}

fn check(chromium: &Path) -> Result<String, Vec<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let reports = root.join(REPORTS);
    let _ = std::fs::remove_dir_all(&reports);
    let out = Command::new(BINARY)
        .current_dir(root)
        .args([
            "conformance",
            "--target",
            "official",
            "--tags",
            TAGS,
            "--reports",
            REPORTS,
        ])
        .output()
        .map_err(|e| one(format!("cannot run {BINARY}: {e}")))?;
    let console = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let _ = std::fs::create_dir_all(&reports);
    let _ = std::fs::write(reports.join("console.log"), &console);
    if !out.status.success() {
        return Err(one(format!(
            "the run failed ({}), see {REPORTS}/console.log:\n{}",
            out.status,
            console.lines().rev().take(15).collect::<Vec<_>>().join("\n")
        )));
    }
    let dir = run_dir(&reports).map_err(one)?;
    let report = TargetReport::load(&dir).map_err(one)?;
    let page = dir.join(HTML_FILE);
    let dom = unescape(&chromium_dom(chromium, &page).map_err(one)?);
    let mut problems = Vec::new();
    if report.results.is_empty() || report.results.iter().any(|r| r.status != Status::Passed) {
        problems.push(format!("not every guide scenario passed: {}", report.totals().line()));
    }
    for result in &report.results {
        let Some(row) = row_of(&dom, &result.scenario) else {
            problems.push(format!("no row for `{}`", result.scenario));
            continue;
        };
        let shown = row.matches("<li class=\"step passed\"").count();
        if shown != result.steps.len() || shown == 0 {
            problems.push(format!(
                "`{}`: {shown} steps shown passed, {} in the report",
                result.scenario,
                result.steps.len()
            ));
        }
        for step in &result.steps {
            if !row.contains(&step.text) {
                problems.push(format!("`{}`: the step `{}` is not shown", result.scenario, step.text));
            }
        }
    }
    for (scenario, texts) in MUST_SHOW {
        let Some(row) = row_of(&dom, scenario) else {
            problems.push(format!("no row for `{scenario}`"));
            continue;
        };
        for text in *texts {
            if !row.contains(text) {
                problems.push(format!("`{scenario}` does not show `{text}`"));
            }
        }
    }
    let qr_codes = dom.matches("class=\"attachment qr_code\"").count();
    let drawn = dom.matches("<svg").count();
    if qr_codes == 0 || drawn < qr_codes {
        problems.push(format!("{qr_codes} QR codes, {drawn} drawn"));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let screenshot = reports.join("official.png");
    let size = chromium_screenshot(chromium, &page, &screenshot).map_err(one)?;
    Ok(format!(
        "the official server's living documentation: {} scenarios, {} steps, {qr_codes} QR codes; screenshot {} ({} KB)",
        report.results.len(),
        report.results.iter().map(|r| r.steps.len()).sum::<usize>(),
        relative(root, &screenshot),
        size / 1024
    ))
}

/// The one target folder the run wrote in `reports`.
fn run_dir(reports: &Path) -> Result<PathBuf, String> {
    std::fs::read_dir(reports)
        .map_err(|e| format!("{}: {e}", reports.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.join(HTML_FILE).is_file())
        .ok_or_else(|| format!("no report in {}", reports.display()))
}

/// The rendered row of a scenario (unescaped DOM).
fn row_of<'a>(dom: &'a str, scenario: &str) -> Option<&'a str> {
    let start = dom.find(&format!("data-scenario=\"{scenario}\""))?;
    between(&dom[start..], "", "</tr>")
}

/// One problem, as the list of problems the check returns.
fn one(e: impl std::fmt::Display) -> Vec<String> {
    vec![e.to_string()]
}
