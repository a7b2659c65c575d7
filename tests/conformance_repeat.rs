//! `parsec-mfa conformance --repeat N`, `--shard K/N` with `--merge`, and
//! `--jobs`, driven as a CI job drives them: exit codes, consoles, reports.
//!
//! - a steady target (the in-process reference) repeated: nothing varied,
//!   exit 0;
//! - a server that really changes from run to run: the reference binary as
//!   a `cmd=` target whose command starts it with the deliberate defect
//!   `confirm-ignores-code` every other time (a counter file): the
//!   scenarios of that rule vary, each with its runs and messages, exit 1;
//! - the two shards of the in-process reference, merged: the same
//!   scenarios and totals as the unsharded run; one shard alone is refused;
//! - two targets side by side (`--jobs 2`): each its own console file.
//!
//! Each run's output goes to `reports/repeat-check/<case>.console.log`.

use parsec_mfa_scenarios::report::TargetReport;
use parsec_mfa_scenarios::report::repeat::RepeatReport;
use parsec_mfa_scenarios::testing::run::Run;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const BINARY: &str = env!("CARGO_BIN_EXE_parsec-mfa");
/// The scenarios of the rule CONFIRM-1, which `confirm-ignores-code` breaks.
const TAGS: &str = "@CONFIRM-1";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn folder() -> PathBuf {
    root().join("reports").join("repeat-check")
}

/// `parsec-mfa conformance ARGS --reports reports/repeat-check/<reports>`.
fn conformance(case: &str, reports: &str, args: &[&str]) -> Run {
    let run = Run::of(
        Command::new(BINARY)
            .arg("conformance")
            .args(args)
            .arg("--reports")
            .arg(folder().join(reports))
            .current_dir(root()),
        "",
    );
    let _ = std::fs::create_dir_all(folder());
    let _ = std::fs::write(folder().join(format!("{case}.console.log")), run.console());
    println!("{case}: exit {}", run.code);
    run
}

fn fresh(reports: &str) {
    let _ = std::fs::remove_dir_all(folder().join(reports));
}

fn repeat_report(reports: &str, target: &str) -> Result<RepeatReport, String> {
    let path = folder().join(reports).join(target).join("repeat.json");
    let json = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    RepeatReport::from_json(&json).map_err(|e| format!("{}: {e}", path.display()))
}

fn a_steady_target_varies_nowhere() -> Result<(), String> {
    fresh("steady");
    let run = conformance(
        "steady",
        "steady",
        &["--target", "in-process", "--tags", TAGS, "--repeat", "3"],
    );
    run.check("exit 0", run.code == 0)?;
    let repeat = repeat_report("steady", "reference-in-process")?;
    run.check(
        "3 runs, every scenario steady",
        repeat.runs.len() == 3 && repeat.steady() && repeat.scenarios >= 2,
    )?;
    let summary = format!(
        "reference-in-process: 0 of {} scenarios varied in 3 runs",
        repeat.scenarios
    );
    run.check(&format!("the console says `{summary}`"), run.stdout.contains(&summary))?;
    for k in 1..=3 {
        let run_folder = folder()
            .join("steady/reference-in-process/repeat")
            .join(format!("run-{k}"));
        run.check(
            &format!("run {k}'s own report and console"),
            TargetReport::load(&run_folder).is_ok() && run_folder.join("console.txt").exists(),
        )?;
    }
    let html = std::fs::read_to_string(folder().join("steady/reference-in-process/repeat.html")).unwrap_or_default();
    run.check(
        "repeat.html says so",
        html.contains("data-varying=\"0\" data-errors=\"0\"") && html.contains("href=\"repeat/run-3/index.html\""),
    )
}

/// The reference binary, with `confirm-ignores-code` in the runs whose
/// number (counted in `counter`) is odd.
fn every_other_run_faulty(counter: &Path) -> String {
    let counter = counter.display();
    format!(
        "cmd=n=$(cat {counter} 2>/dev/null || echo 0); echo $((n + 1)) > {counter}; \
         fault=''; if [ $((n % 2)) -eq 0 ]; then fault='--inject-fault confirm-ignores-code'; fi; \
         exec {BINARY} serve --db MOCKED --port {{port}} --administration-token {{admin_token}} \
         --server-addr {{server_addr}} --email-host {{smtp_host}} --email-port {{smtp_port}} \
         --email-sender parsec@example.com $fault"
    )
}

fn a_server_that_changes_between_runs_is_caught() -> Result<(), String> {
    fresh("varying");
    std::fs::create_dir_all(folder().join("varying")).map_err(|e| e.to_string())?;
    let counter = folder().join("varying").join("starts");
    let target = every_other_run_faulty(&counter);
    // Real time (no libfaketime): one server per run, the shared one.
    let run = conformance(
        "varying",
        "varying",
        &["--target", &target, "--clock", "real", "--tags", TAGS, "--repeat", "3"],
    );
    run.check("exit 1", run.code == 1)?;
    let starts = std::fs::read_to_string(&counter).unwrap_or_default();
    run.check("one server per run", starts.trim() == "3")?;
    let repeat = repeat_report("varying", "cmd")?;
    run.check(
        "the faulty runs' failures vary against the faultless run's passes",
        !repeat.varying.is_empty()
            && repeat.varying.iter().all(|v| {
                let outcomes: Vec<(&str, &[usize])> = v
                    .outcomes
                    .iter()
                    .map(|o| (o.outcome.as_str(), o.runs.as_slice()))
                    .collect();
                outcomes == [("failed", &[1, 3][..]), ("passed", &[2][..])]
                    && v.outcomes[0].messages.iter().all(|m| !m.message.is_empty())
            }),
    )?;
    let first = &repeat.varying[0];
    run.check(
        "the console names each varying scenario with its runs and message",
        run.stdout.contains(&format!(
            "  VARIED {}:{} {}\n",
            first.feature_file, first.line, first.scenario
        )) && run.stdout.contains("    failed in 2 runs (1, 3)\n")
            && run.stdout.contains("    passed in 1 runs (2)\n")
            && run.stdout.contains("      [1, 3] "),
    )?;
    run.check(
        "one error line",
        run.stderr.trim()
            == format!(
                "Error: outcomes varied across runs against cmd ({} of {} scenarios varied in 3 runs)",
                repeat.varying.len(),
                repeat.scenarios
            ),
    )
}

fn scenarios_of(report: &TargetReport) -> BTreeSet<(String, u32)> {
    report
        .results
        .iter()
        .map(|r| (r.feature_file.clone(), r.line))
        .collect()
}

fn two_shards_merged_make_the_whole_run() -> Result<(), String> {
    fresh("shards");
    let whole = conformance("unsharded", "shards/whole", &["--target", "in-process"]);
    whole.check("the whole run passes", whole.code == 0)?;
    for k in [1, 2] {
        let shard = format!("{k}/2");
        let run = conformance(
            &format!("shard-{k}"),
            &format!("shards/machine-{k}"),
            &["--target", "in-process", "--shard", &shard],
        );
        run.check(&format!("shard {shard} passes"), run.code == 0)?;
        let page =
            std::fs::read_to_string(folder().join(format!("shards/machine-{k}/reference-in-process/index.html")))
                .unwrap_or_default();
        run.check(
            &format!("the closing line and the page say shard {shard}"),
            run.stdout.contains(&format!(" skipped (shard {shard})\n"))
                && page.contains(&format!("data-shard=\"{shard}\"")),
        )?;
    }
    let load = |dir: &str| {
        TargetReport::load(&folder().join("shards").join(dir).join("reference-in-process"))
            .map_err(|e| format!("{dir}: {e}"))
    };
    let (one, two, all) = (load("machine-1")?, load("machine-2")?, load("whole")?);
    let (a, b) = (scenarios_of(&one), scenarios_of(&two));
    if !a.is_disjoint(&b) || a.len().abs_diff(b.len()) > 1 || a.is_empty() {
        return Err(format!(
            "shards of {} and {} scenarios overlap or are unbalanced",
            a.len(),
            b.len()
        ));
    }
    let machines = [folder().join("shards/machine-1"), folder().join("shards/machine-2")];
    let merge = |case: &str, folders: &[PathBuf]| {
        let mut args = vec!["--merge".to_owned()];
        args.extend(folders.iter().map(|f| f.display().to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        conformance(case, &format!("shards/{case}"), &args)
    };
    let merged_run = merge("merged", &machines);
    merged_run.check("the merge succeeds", merged_run.code == 0)?;
    let merged = load("merged")?;
    merged_run.check(
        "the merge has the whole run's scenarios and totals",
        scenarios_of(&merged) == scenarios_of(&all) && merged.totals() == all.totals() && merged.shard.is_none(),
    )?;
    merged_run.check(
        "its closing line",
        merged_run
            .stdout
            .contains(&format!("reference-in-process: {}", all.totals().line())),
    )?;
    let alone = merge("one-shard", &machines[..1]);
    alone.check(
        "one shard alone is refused",
        alone.code == 1 && alone.stderr.trim() == "Error: --merge: reference-in-process: shard(s) 2/2 missing",
    )
}

fn targets_side_by_side_keep_their_consoles_apart() -> Result<(), String> {
    fresh("jobs");
    let run = conformance(
        "jobs",
        "jobs",
        &[
            "--target",
            "in-process",
            "--target",
            "reference",
            "--tags",
            TAGS,
            "--jobs",
            "2",
        ],
    );
    run.check("exit 0", run.code == 0)?;
    for target in ["reference-in-process", "reference"] {
        let console =
            std::fs::read_to_string(folder().join("jobs").join(target).join("console.txt")).unwrap_or_default();
        let report = TargetReport::load(&folder().join("jobs").join(target)).map_err(|e| format!("{target}: {e}"))?;
        let closing = report.closing_line();
        run.check(
            &format!("{target}: its console file and its closing line"),
            console.contains(&closing) && run.stdout.contains(&format!("{target}: {closing}\n")),
        )?;
    }
    Ok(())
}

type Case = fn() -> Result<(), String>;

fn main() {
    let cases: [(&str, Case); 4] = [
        ("a_steady_target_varies_nowhere", a_steady_target_varies_nowhere),
        (
            "a_server_that_changes_between_runs_is_caught",
            a_server_that_changes_between_runs_is_caught,
        ),
        (
            "two_shards_merged_make_the_whole_run",
            two_shards_merged_make_the_whole_run,
        ),
        (
            "targets_side_by_side_keep_their_consoles_apart",
            targets_side_by_side_keep_their_consoles_apart,
        ),
    ];
    let mut failed = 0;
    for (name, case) in cases {
        match case() {
            Ok(()) => println!("test {name} ... ok"),
            Err(e) => {
                failed += 1;
                println!("test {name} ... FAILED\n{e}");
            }
        }
    }
    println!("{} passed, {failed} failed", cases.len() - failed);
    if failed > 0 {
        std::process::exit(1);
    }
}
