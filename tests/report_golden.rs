//! The reports of a fixed run, compared with the files kept in
//! `tests/golden/report/`: whoever changes how reports are built sees every
//! byte that changed.
//!
//! The run: the features of `tests/golden/report/features/` (a copy of the
//! brute-force feature, and a feature of report edge cases: an undefined
//! step, two scenarios of one name, a Rule, characters to escape) against
//! the in-process reference with the deliberate defect `lockout-disabled`,
//! and a feature file that does not parse,
//! presented without clock control so that the runner skips the clock
//! scenarios with their reason. Then the same features on the faultless
//! reference, and `compare.html` of the two. Then the faulty run again,
//! judged against `tests/golden/report/expectations.toml` (one expectation
//! for each verdict: a known divergence, unexpected passes, skips and
//! failures, an expected skip, a stale expectation), and its comparison
//! with the faultless run. The files compared: `junit.xml`,
//! `cucumber.json`, `results.json`, `index.html` of the faulty run,
//! `compare.html`, and `expected/junit.xml`, `expected/results.json`,
//! `expected/index.html`, `expected/compare.html` of the judged one.
//!
//! Normalised before comparing, and only this: in `cucumber.json`, every
//! step's and hook's `"duration"` (nanoseconds, which vary from run to
//! run) becomes 0; everywhere, the line and column of a step definition
//! (`attacker.rs:97:1`, which move whenever someone edits the steps) become
//! `LINE:COLUMN`, and the project's absolute path (in the parser's error
//! message) becomes `<project>`; and in what the steps recorded (living
//! documentation), what is random in each run: organization ids
//! (`Org<id>`), authenticator keys (`<key>`), the QR codes drawn from them
//! (`<svg>…</svg>`), user ids (`<user id>`), the servers' ports and the reset
//! links' payloads. Nothing else varies: the in-process server's clock
//! starts at a fixed instant, and the order of results is the runner's.
//!
//! After an intended change: `PARSEC_MFA_BLESS=1 cargo test --test
//! report_golden` rewrites the files; review their diff before committing.

use parsec_mfa_scenarios::expectations::Expectations;
use parsec_mfa_scenarios::report::{COMPARE_FILE, TargetReport, compare_html};
use parsec_mfa_scenarios::runner::{RunOptions, run, run_judged};
use parsec_mfa_scenarios::targets::{
    BoxFuture, Capabilities, ClockControl, InProcess, Target, TargetError, TargetFactory, TargetSpec,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

const FAULT: &str = "lockout-disabled";

/// The in-process reference with [`FAULT`], its clock control hidden.
struct FaultyWithoutClock(InProcess);

impl TargetFactory for FaultyWithoutClock {
    fn name(&self) -> &str {
        "golden-faulty"
    }

    fn description(&self) -> String {
        format!("The reference server in this process with the deliberate defect `{FAULT}`, its clock control hidden")
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

/// The reports compared: (file, the run's folder it is read from).
const FILES: &[(&str, &str)] = &[
    ("junit.xml", "faulty"),
    ("cucumber.json", "faulty"),
    ("results.json", "faulty"),
    ("index.html", "faulty"),
    (COMPARE_FILE, "."),
    ("expected/junit.xml", "."),
    ("expected/results.json", "."),
    ("expected/index.html", "."),
    ("expected/compare.html", "."),
];

/// See the module's comment: durations, step definitions' lines and
/// columns, the project's path.
fn normalise(file: &str, text: &str) -> String {
    let text = text.replace(env!("CARGO_MANIFEST_DIR"), "<project>");
    let location = regex::Regex::new(r"(\.rs):\d+:\d+").expect("a valid regex");
    let mut text = location.replace_all(&text, "${1}:LINE:COLUMN").into_owned();
    for (random, stands_for) in [
        (r"(?s)<svg .*?</svg>", "<svg>…</svg>"),
        (r"Org[0-9a-f]{12}", "Org<id>"),
        (r"\b[A-Z2-7]{32}\b", "<key>"),
        (r"\b[0-9a-f]{32}\b", "<user id>"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:<port>"),
        (r"p=[A-Za-z0-9_-]+", "p=<payload>"),
    ] {
        let pattern = regex::Regex::new(random).expect("a valid regex");
        text = pattern.replace_all(&text, stands_for).into_owned();
    }
    if file == "cucumber.json" {
        let duration = regex::Regex::new(r#""duration":\d+"#).expect("a valid regex");
        return duration.replace_all(&text, "\"duration\":0").into_owned();
    }
    text
}

fn options(root: &Path, dir: &Path, target: Arc<dyn TargetFactory>) -> RunOptions {
    RunOptions {
        features: root.join("tests/golden/report/features"),
        reports: dir.to_owned(),
        concurrency: 16,
        target,
        tags: None,
        name: None,
    }
}

async fn run_into(root: &Path, dir: &Path, target: Arc<dyn TargetFactory>) -> Result<TargetReport, String> {
    run(options(root, dir, target))
        .await
        .map_err(|e| format!("the run into {}: {e}", dir.display()))?;
    TargetReport::load(dir).map_err(|e| e.to_string())
}

/// The faulty run judged against the golden expectations.
async fn judged_run_into(root: &Path, dir: &Path) -> Result<TargetReport, String> {
    let file = "tests/golden/report/expectations.toml";
    let text = std::fs::read_to_string(root.join(file)).map_err(|e| format!("{file}: {e}"))?;
    let expectations = Expectations::parse(&text, file).map_err(|e| e.to_string())?;
    let faulty = FaultyWithoutClock(InProcess {
        faults: vec![FAULT.into()],
    });
    let expected = expectations.for_target(faulty.name()).cloned();
    run_judged(options(root, dir, Arc::new(faulty)), expected)
        .await
        .map_err(|e| format!("the run into {}: {e}", dir.display()))?;
    TargetReport::load(dir).map_err(|e| e.to_string())
}

/// The first line where `got` and `want` differ, both shown.
fn first_difference(got: &str, want: &str) -> String {
    let (got_lines, want_lines): (Vec<&str>, Vec<&str>) = (got.lines().collect(), want.lines().collect());
    for i in 0..got_lines.len().max(want_lines.len()) {
        let (g, w) = (got_lines.get(i), want_lines.get(i));
        if g != w {
            let cut = |l: Option<&&str>| l.map(|l| l.chars().take(400).collect::<String>());
            return format!("line {}:\n  got:  {:?}\n  want: {:?}", i + 1, cut(g), cut(w));
        }
    }
    "the same lines, different line endings".into()
}

#[tokio::main]
async fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out: PathBuf = std::env::temp_dir().join(format!("parsec-mfa-report-golden-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let faulty = FaultyWithoutClock(InProcess {
        faults: vec![FAULT.into()],
    });
    println!("=== the golden run, with the fault `{FAULT}`: failures below are expected ===");
    let faulty = match run_into(root, &out.join("faulty"), Arc::new(faulty)).await {
        Ok(report) => report,
        Err(e) => {
            eprintln!("FAILED: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("=== the same features without the fault ===");
    let faultless = match run_into(root, &out.join("faultless"), Arc::new(InProcess::default())).await {
        Ok(report) => report,
        Err(e) => {
            eprintln!("FAILED: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = std::fs::write(out.join(COMPARE_FILE), compare_html(&[faultless.clone(), faulty])) {
        eprintln!("FAILED: cannot write {COMPARE_FILE}: {e}");
        return ExitCode::FAILURE;
    }
    println!("=== the faulty run judged against tests/golden/report/expectations.toml ===");
    let judged = match judged_run_into(root, &out.join("expected")).await {
        Ok(report) => report,
        Err(e) => {
            eprintln!("FAILED: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = std::fs::write(
        out.join("expected").join(COMPARE_FILE),
        compare_html(&[faultless, judged]),
    ) {
        eprintln!("FAILED: cannot write expected/{COMPARE_FILE}: {e}");
        return ExitCode::FAILURE;
    }

    let bless = std::env::var("PARSEC_MFA_BLESS").as_deref() == Ok("1");
    let golden = root.join("tests/golden/report");
    let (mut passed, mut failed) = (0, 0);
    for (file, folder) in FILES {
        let produced = out.join(folder).join(file);
        let got = match std::fs::read_to_string(&produced) {
            Ok(text) => normalise(file, &text),
            Err(e) => {
                println!("FAILED: {file}: cannot read {}: {e}", produced.display());
                failed += 1;
                continue;
            }
        };
        let kept = golden.join(file);
        if bless {
            if let Some(folder) = kept.parent() {
                let _ = std::fs::create_dir_all(folder);
            }
            if let Err(e) = std::fs::write(&kept, &got) {
                println!("FAILED: {file}: cannot write {}: {e}", kept.display());
                failed += 1;
                continue;
            }
            println!("blessed: {}", kept.display());
        }
        match std::fs::read_to_string(&kept) {
            Ok(want) if want == got => {
                println!("ok: {file} is the same, byte for byte (normalised as said)");
                passed += 1;
            }
            Ok(want) => {
                println!(
                    "FAILED: {file} differs from {} ({} bytes, {} kept); first difference at {}\n(the new file: {})",
                    kept.display(),
                    got.len(),
                    want.len(),
                    first_difference(&got, &want),
                    produced.display()
                );
                failed += 1;
            }
            Err(e) => {
                println!("FAILED: {file}: cannot read {}: {e}", kept.display());
                failed += 1;
            }
        }
    }
    if failed == 0 {
        let _ = std::fs::remove_dir_all(&out);
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
