//! `docs/divergences.md` is generated from the expectation files
//! (`expectations/*.toml`), where the known divergences are written once, as
//! the reasons a gate reads: the page cannot say something the files do not.
//! `PARSEC_MFA_BLESS=1` rewrites it instead of failing.

use parsec_mfa_scenarios::expectations::Expectations;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

const PAGE: &str = "docs/divergences.md";

/// The page from the expectation files, sorted by file name: the
/// conformance runs' scenarios, then the explorer's divergences
/// (`explore-*.toml`, another format).
fn divergences_page(root: &Path) -> String {
    let mut files: Vec<_> = std::fs::read_dir(root.join("expectations"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".toml"))
        .collect();
    files.sort();
    let mut out = String::from(
        "# Known divergences\n\n\
         <!-- generated from expectations/*.toml by tests/integration/divergences.rs, do not edit: \
         PARSEC_MFA_BLESS=1 cargo test --test integration divergences -->\n\n\
         What each expectation file expects of its target other than a pass: the\n\
         known divergences (`fail`) and the scenarios the target cannot run\n\
         (`skip`), with the reason the file gives. A target whose file expects\n\
         nothing passes every scenario. How the files are read and judged:\n\
         [expectations.md](expectations.md).\n\n\
         | file | target | expected | scenarios | reason |\n\
         | --- | --- | --- | --- | --- |\n",
    );
    let (explored, files): (Vec<String>, Vec<String>) = files.into_iter().partition(|f| f.starts_with("explore-"));
    for file in &files {
        let text = std::fs::read_to_string(root.join("expectations").join(file)).unwrap();
        let expectations = Expectations::parse(&text, file).unwrap();
        for target in expectations.targets() {
            let section = expectations.for_target(target).unwrap();
            // Scenarios sharing an outcome and a reason make one row.
            let mut rows: BTreeMap<(&str, &str), Vec<String>> = BTreeMap::new();
            for expected in &section.scenarios {
                let feature = expected.feature.rsplit('/').next().unwrap_or(&expected.feature);
                rows.entry((expected.expected.outcome.as_str(), expected.expected.reason.as_str()))
                    .or_default()
                    .push(format!("{feature}: \"{}\"", expected.scenario));
            }
            if rows.is_empty() {
                writeln!(out, "| `{file}` | `{target}` | nothing: every scenario passes | | |").unwrap();
            }
            for ((outcome, reason), scenarios) in rows {
                let scenarios = scenarios.join("<br>").replace('|', "\\|");
                let reason = reason.replace('|', "\\|");
                writeln!(out, "| `{file}` | `{target}` | {outcome} | {scenarios} | {reason} |").unwrap();
            }
        }
    }
    out.push_str(
        "\nThe explorer's (`parsec-mfa explore --expect`, [explore.md](explore.md)): a\n\
         divergence listed is allowed, not required.\n\n\
         | file | target | operation | model sees / target does | reason |\n\
         | --- | --- | --- | --- | --- |\n",
    );
    for file in &explored {
        let path = root.join("expectations").join(file);
        let divergences = parsec_mfa_scenarios::explore::expected::read(&[&path]).unwrap();
        if divergences.is_empty() {
            writeln!(out, "| `{file}` | | none known | | |").unwrap();
        }
        for d in divergences {
            let kinds = format!(
                "{}{} / {}",
                d.reference.as_deref().unwrap_or("any"),
                d.why.as_deref().map(|w| format!(" ({w})")).unwrap_or_default(),
                d.seen.as_deref().unwrap_or("any")
            );
            let operation = match (&d.operation, &d.after) {
                (Some(op), None) => format!("`{op}`"),
                (Some(op), Some(after)) => format!("`{op}` after `{after}`"),
                (None, Some(after)) => format!("any after `{after}`"),
                (None, None) => "any".to_owned(),
            };
            let reason = d.reason.replace('|', "\\|");
            writeln!(out, "| `{file}` | `{}` | {operation} | {kinds} | {reason} |", d.target).unwrap();
        }
    }
    out
}

#[test]
fn the_divergences_page_is_the_expectation_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let expected = divergences_page(root);
    if std::env::var("PARSEC_MFA_BLESS").as_deref() == Ok("1") {
        std::fs::write(root.join(PAGE), &expected).unwrap();
        return;
    }
    let page = std::fs::read_to_string(root.join(PAGE)).unwrap_or_default();
    assert!(
        page == expected,
        "{PAGE} is stale: run `PARSEC_MFA_BLESS=1 cargo test --test integration divergences` and commit it"
    );
}
