//! Runs the features against the chosen target and writes the reports:
//! console output, JUnit XML and cucumber JSON in `reports/<target>/`, and
//! the closing line `N passed, N failed, N skipped` (scenarios).

use crate::world::MfaWorld;
use cucumber::{World as _, WriterExt as _, writer};
use std::path::{Path, PathBuf};

pub struct RunOptions {
    pub features: PathBuf,
    /// `reports/<target>/`.
    pub reports: PathBuf,
    pub concurrency: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Totals {
    pub fn line(&self) -> String {
        format!(
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}

/// cucumber's own command-line options, minus what `cargo test` passes to
/// every test binary.
fn cucumber_cli<P: clap::Args, R: clap::Args, W: clap::Args>() -> cucumber::cli::Opts<P, R, W> {
    use clap::Parser as _;
    let args = std::env::args().filter(|a| {
        !matches!(a.as_str(), "--nocapture" | "--quiet" | "-q" | "--show-output") && !a.starts_with("--test-threads")
    });
    cucumber::cli::Opts::<P, R, W>::parse_from(args)
}

pub async fn run(options: RunOptions) -> std::io::Result<Totals> {
    crate::steps::link();
    std::fs::create_dir_all(&options.reports)?;
    let junit = std::fs::File::create(options.reports.join("junit.xml"))?;
    let json = std::fs::File::create(options.reports.join("cucumber.json"))?;
    MfaWorld::cucumber()
        .with_writer(
            writer::Basic::raw(std::io::stdout(), writer::Coloring::Never, 0)
                .summarized()
                .tee::<MfaWorld, _>(writer::JUnit::for_tee(junit, 0))
                .tee::<MfaWorld, _>(writer::Json::for_tee(json))
                .normalized(),
        )
        // An undefined or skipped step fails the run.
        .fail_on_skipped()
        .max_concurrent_scenarios(options.concurrency)
        .with_cli(cucumber_cli())
        .run(options.features)
        .await;
    let totals = totals_from_junit(&std::fs::read_to_string(options.reports.join("junit.xml"))?);
    println!("{}", totals.line());
    Ok(totals)
}

/// Scenario totals read back from the JUnit report (one `testcase` per
/// scenario; a failed or skipped one holds a `failure` or `skipped` child).
pub fn totals_from_junit(xml: &str) -> Totals {
    let mut totals = Totals::default();
    for case in xml.split("<testcase").skip(1) {
        let body = case.split("</testcase>").next().unwrap_or(case);
        if body.contains("<failure") || body.contains("<error") {
            totals.failed += 1;
        } else if body.contains("<skipped") {
            totals.skipped += 1;
        } else {
            totals.passed += 1;
        }
    }
    totals
}

/// `reports/<name>` under the workspace root.
pub fn reports_dir(root: &Path, name: &str) -> PathBuf {
    root.join("reports").join(name)
}
