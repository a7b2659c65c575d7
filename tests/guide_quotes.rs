//! The guides' lines in the features must be the guides' own: every line a
//! feature quotes (a step `… as quoted from PAGE:` and its doc string) must
//! be a line of the `features/guides/*.quotes` file that names that page
//! (its `page: PAGE` line), and every line there a line of the guide page
//! itself (`../shared/parsec/guides/PAGE`, or
//! `$PARSEC_MFA_GUIDES/PAGE`). The second check says SKIPPED when the pages
//! are not there, unless `PARSEC_MFA_REQUIRE_GUIDES=1`. Before checking the
//! real files, the checker is shown a changed line and must report it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// A quoted line and where a feature quotes it.
#[derive(Debug)]
struct Quote {
    page: String,
    line: String,
    at: String,
}

/// The quoted lines of one feature file's text.
fn quotes_in_feature(file: &str, text: &str) -> Vec<Quote> {
    let mut quotes = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((number, line)) = lines.next() {
        let Some(page) = line
            .trim()
            .split_once("as quoted from ")
            .and_then(|(_, rest)| rest.strip_suffix(':'))
        else {
            continue;
        };
        // The doc string that follows the step.
        let Some((_, open)) = lines.next() else { break };
        assert_eq!(open.trim(), "\"\"\"", "{file}:{}: a doc string follows", number + 2);
        for (inner, quoted) in lines.by_ref() {
            if quoted.trim() == "\"\"\"" {
                break;
            }
            if !quoted.trim().is_empty() {
                quotes.push(Quote {
                    page: page.to_owned(),
                    line: quoted.trim().to_owned(),
                    at: format!("{file}:{}", inner + 1),
                });
            }
        }
    }
    quotes
}

/// The page a `.quotes` file quotes (its `page: PAGE` line) and its quoted
/// lines (comments and blank lines left out).
fn quoted_lines(text: &str) -> (Option<String>, Vec<String>) {
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned);
    let page = lines.next().and_then(|l| l.strip_prefix("page: ").map(str::to_owned));
    (page, lines.collect())
}

/// What differs: feature lines not in the page's quotes, and quotes not in
/// the page (when the page is given).
fn problems(
    quotes: &[Quote],
    quote_files: &BTreeMap<String, Vec<String>>,
    pages: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for quote in quotes {
        match quote_files.get(&quote.page) {
            None => problems.push(format!(
                "{}: no features/guides/*.quotes names the page {}",
                quote.at, quote.page
            )),
            Some(lines) if !lines.contains(&quote.line) => problems.push(format!(
                "{}: `{}` is not a quoted line of {}",
                quote.at, quote.line, quote.page
            )),
            Some(_) => {}
        }
    }
    for (page, lines) in quote_files {
        let Some(text) = pages.get(page) else { continue };
        let page_lines: Vec<&str> = text.lines().map(str::trim).collect();
        for line in lines {
            if !page_lines.contains(&line.as_str()) {
                problems.push(format!("the quotes of {page}: `{line}` is not a line of the page"));
            }
        }
    }
    problems
}

fn guides_dir(root: &Path) -> PathBuf {
    std::env::var_os("PARSEC_MFA_GUIDES")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/parsec/guides"))
}

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));

    // The checker first sees a feature that changed one of the guide's words.
    let page = "page.txt".to_owned();
    let files = BTreeMap::from([(page.clone(), vec!["parsec-cli user totp-reset --send-email".to_owned()])]);
    let pages = BTreeMap::from([(
        page.clone(),
        "Typically:\nparsec-cli user totp-reset --send-email\n".to_owned(),
    )]);
    let drifted = "    When x, as quoted from page.txt:\n      \"\"\"\n      parsec-cli user totp-reset --send-mail\n      \"\"\"\n";
    let found = problems(&quotes_in_feature("drifted.feature", drifted), &files, &pages);
    if found.len() != 1 {
        eprintln!("the checker missed a changed line: {found:?}");
        return ExitCode::FAILURE;
    }
    let stale = BTreeMap::from([(page.clone(), "Typically:\nparsec-cli user totp-reset\n".to_owned())]);
    if problems(&[], &files, &stale).len() != 1 {
        eprintln!("the checker missed a quote the page no longer has");
        return ExitCode::FAILURE;
    }

    let mut quotes = Vec::new();
    let features = root.join("features");
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&features)
        .expect("features/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "feature"))
        .collect();
    entries.sort();
    for path in &entries {
        let text = std::fs::read_to_string(path).expect("a feature file");
        let name = format!("features/{}", path.file_name().unwrap_or_default().to_string_lossy());
        quotes.extend(quotes_in_feature(&name, &text));
    }
    let mut quote_files = BTreeMap::new();
    let mut pages = BTreeMap::new();
    let guides = guides_dir(root);
    let mut missing_pages = Vec::new();
    for entry in std::fs::read_dir(features.join("guides")).expect("features/guides/") {
        let path = entry.expect("an entry").path();
        if path.extension().is_none_or(|e| e != "quotes") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("a quotes file");
        let (Some(page), lines) = quoted_lines(&text) else {
            eprintln!("{}: the first line must be `page: PAGE`", path.display());
            return ExitCode::FAILURE;
        };
        quote_files.insert(page.clone(), lines);
        match std::fs::read_to_string(guides.join(&page)) {
            Ok(text) => {
                pages.insert(page, text);
            }
            Err(_) => missing_pages.push(page),
        }
    }
    let found = problems(&quotes, &quote_files, &pages);
    for problem in &found {
        eprintln!("{problem}");
    }
    let pages_checked = pages.len();
    println!(
        "{} quoted lines in the features, {} quotes files, {pages_checked} checked against their page in {}",
        quotes.len(),
        quote_files.len(),
        guides.display()
    );
    if quotes.is_empty() {
        eprintln!("no feature quotes a guide");
        return ExitCode::FAILURE;
    }
    if !found.is_empty() {
        return ExitCode::FAILURE;
    }
    if !missing_pages.is_empty() {
        let why = format!(
            "the guide pages {missing_pages:?} are not in {} (set PARSEC_MFA_GUIDES)",
            guides.display()
        );
        if std::env::var("PARSEC_MFA_REQUIRE_GUIDES").is_ok_and(|v| v == "1") {
            eprintln!("Error: {why}");
            return ExitCode::FAILURE;
        }
        println!("SKIPPED (pages): {why}");
    }
    println!("1 passed, 0 failed, 0 skipped");
    ExitCode::SUCCESS
}
