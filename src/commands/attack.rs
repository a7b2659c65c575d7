//! `parsec-mfa attack`: how long a stolen device holds against each target,
//! measured against the target itself (the same targets and flags as
//! `conformance`). Per target, `reports/<target>/attack.html` (plot,
//! table, observations) and `attack.json` (for CI) beside the conformance
//! report, and a summary here; with several targets, `reports/attack.html`
//! puts them on one plot.

use super::failure::{Failure, exit};
use super::targets::{TargetArgs, TargetChoice, check_faults, parse_targets, prepare, report_name, target_help, usage};
use clap::Args;
use parsec_mfa_scenarios::attack::model::AttackReport;
use parsec_mfa_scenarios::attack::{DEFAULT_PARALLELISMS, MAX_PARALLELISM, run_attack};
use parsec_mfa_scenarios::report::attack::{ATTACK_HTML_FILE, ATTACK_JSON_FILE, attack_html, terminal_summary};
use std::path::Path;

#[derive(Args)]
#[command(after_help = target_help())]
pub struct AttackArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Wrong codes sent at once per round (repeatable). Default: 1, 4, 16, 64.
    #[arg(long = "parallelism", value_name = "P",
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_PARALLELISM)))]
    parallelisms: Vec<u32>,
    /// A deliberate defect of the reference server (repeatable; `reference`
    /// and `in-process` targets only), e.g. `lockout-disabled`: what the
    /// figures look like when the protection is gone. The report goes to
    /// `<reports>/<target>-<defect>/`.
    #[arg(long = "inject-fault", value_name = "NAME")]
    faults: Vec<String>,
    /// Also write `<reports>/attack.html` with every target measured so far
    /// (each `<reports>/*/attack.json`) on one plot; without --target, only
    /// that.
    #[arg(long)]
    compare: bool,
}

pub async fn run(args: AttackArgs) -> Result<(), Failure> {
    let given = if args.target.targets.is_empty() && !args.compare {
        vec!["reference".to_owned()]
    } else {
        args.target.targets.clone()
    };
    let choices = parse_targets(&given).map_err(usage)?;
    check_faults(&choices, &args.faults)?;
    if args.target.start_timeout == 0 {
        return Err(usage("--start-timeout must be at least 1"));
    }
    let mut parallelisms = if args.parallelisms.is_empty() {
        DEFAULT_PARALLELISMS.to_vec()
    } else {
        args.parallelisms.clone()
    };
    parallelisms.sort_unstable();
    parallelisms.dedup();

    let mut reports = Vec::new();
    let mut unusable = false;
    for choice in &choices {
        let name = report_name(choice, &args.faults);
        println!("=== attack: {name} ===");
        let measured = tokio::select! {
            measured = measure(choice, &name, &args, &parallelisms) => measured,
            _ = tokio::signal::ctrl_c() => return Err(Failure::new(exit::INTERRUPTED, "interrupted")),
        };
        match measured {
            Ok(report) => {
                for line in terminal_summary(&report) {
                    println!("{line}");
                }
                let dir = args.target.reports.join(&name);
                write_reports(&dir, std::slice::from_ref(&report), true)?;
                println!(
                    "Report: {} (and {ATTACK_JSON_FILE})",
                    dir.join(ATTACK_HTML_FILE).display()
                );
                reports.push(report);
            }
            Err(failure) => {
                eprintln!("Error: {name}: {}", failure.message);
                unusable = true;
            }
        }
    }
    if args.compare {
        reports = earlier_reports(&args.target.reports);
        if reports.len() < 2 {
            return Err(Failure::general(format!(
                "--compare needs the attack.json of at least two targets in {} (found {})",
                args.target.reports.display(),
                reports.len()
            )));
        }
    }
    if reports.len() > 1 {
        write_reports(&args.target.reports, &reports, false)?;
        let names: Vec<&str> = reports.iter().map(|r| r.target.as_str()).collect();
        println!(
            "{} on one page: {}",
            names.join(", "),
            args.target.reports.join(ATTACK_HTML_FILE).display()
        );
    }
    if unusable {
        // Each has had its one error line already.
        return Err(Failure::new(exit::TARGET_UNUSABLE, ""));
    }
    Ok(())
}

/// Prepares the target as `conformance` does, then plays the attacker.
async fn measure(
    choice: &TargetChoice,
    name: &str,
    args: &AttackArgs,
    parallelisms: &[u32],
) -> Result<AttackReport, Failure> {
    let factory = prepare(choice, name, &args.target, &args.faults).await?;
    println!("{}", factory.description());
    let progress = |line: &str| println!("{line}");
    let mut report = run_attack(&*factory, parallelisms, &progress)
        .await
        .map_err(|e| Failure::new(exit::TARGET_UNUSABLE, e.to_string()))?;
    report.target = name.to_owned();
    Ok(report)
}

/// The `attack.json` of every folder of `reports`, in name order, each
/// named after its folder.
fn earlier_reports(reports: &Path) -> Vec<AttackReport> {
    let mut found: Vec<(String, AttackReport)> = std::fs::read_dir(reports)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let json = std::fs::read_to_string(entry.path().join(ATTACK_JSON_FILE)).ok()?;
            let mut report = AttackReport::from_json(&json).ok()?;
            // The folder names the target (a copy of a run may have been renamed).
            report.target = entry.file_name().to_string_lossy().into_owned();
            Some((report.target.clone(), report))
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found.into_iter().map(|(_, report)| report).collect()
}

/// `attack.html` (and `attack.json` when `json`) into `dir`.
fn write_reports(dir: &Path, reports: &[AttackReport], json: bool) -> Result<(), Failure> {
    let write = |file: &str, contents: &str| {
        let path = dir.join(file);
        std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&path, contents))
            .map_err(|e| Failure::general(format!("{}: {e}", path.display())))
    };
    if json && let [report] = reports {
        write(ATTACK_JSON_FILE, &report.to_json())?;
    }
    write(
        ATTACK_HTML_FILE,
        &attack_html(reports).map_err(|e| Failure::general(e.to_string()))?,
    )
}
