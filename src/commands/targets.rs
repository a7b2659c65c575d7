//! The targets of `parsec-mfa conformance` and `parsec-mfa attack`: the
//! same `--target` values and flags, parsed and prepared here once (the
//! target built, what must run before the first request started, and
//! checked to answer as a Parsec server).

use super::failure::{Failure, exit};
use clap::{Args, ValueEnum};
use parsec_mfa_reference::client::tls::HttpSettings;
use parsec_mfa_scenarios::servers::postgresql::{self, Cluster, MAKE_A_CLUSTER, OfficialDb};
use parsec_mfa_scenarios::servers::{
    ServerError, cargo_target_dir, install_official, migrate_official_db, official_installed, official_takes_advice,
    official_venv,
};
use parsec_mfa_scenarios::targets::launched::{FaketimeMode, Launched, PLACEHOLDERS, ServerKind};
use parsec_mfa_scenarios::targets::remote::{Remote, probe, probe_route};
use parsec_mfa_scenarios::targets::{DEFAULT_REAL_TIME_BUDGET, ImageRequest, InProcess, START_IMAGE, TargetFactory};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub const DEFAULT_OFFICIAL_VERSION: &str = "3.9.3";

/// Every published parsec-cloud release with TOTP (`official=all`): MFA
/// came in 3.8.0; `pip index versions parsec-cloud` (Python 3.12) listed
/// these on 2026-12-01, 3.9.3 the newest.
pub const OFFICIAL_MFA_RELEASES: &[&str] = &["3.8.0", "3.8.1", "3.8.2", "3.9.0", "3.9.1", "3.9.2", "3.9.3"];

/// The flags that choose and start targets.
#[derive(Args, Clone)]
pub struct TargetArgs {
    /// The server under test (repeatable): `reference`, `in-process`,
    /// `official[=VERSION[,VERSION…]]` (`official=all`: every release with
    /// TOTP, 3.8.0 to 3.9.3), `url=http[s]://HOST:PORT`, `cmd=COMMAND` or
    /// `image=NAME[:TAG]` (a container image, started with Docker).
    /// Default: `reference`.
    #[arg(long = "target", value_name = "TARGET")]
    pub targets: Vec<String>,
    /// The administration token of a `url=` or `cmd=` target.
    #[arg(long, default_value = "s3cr3t", env = "PARSEC_MFA_ADMIN_TOKEN")]
    pub admin_token: String,
    /// Trust only the authorities in this PEM file for `url=https://…`
    /// targets (a private authority). Default: the system's authorities.
    #[arg(long, env = "PARSEC_MFA_CA_CERT", value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// The command of an `image=` target's container, with the placeholders
    /// of `cmd=` (`{port}` is the port inside the container). Default: the
    /// image's own; the server is configured by `PARSEC_*` variables.
    #[arg(long, value_name = "COMMAND")]
    pub image_cmd: Option<String>,
    /// Where the harness's SMTP sink listens, for a `url=` target (the
    /// address that server sends its email to). Default: a free port on
    /// 127.0.0.1, printed.
    #[arg(long, value_name = "ADDR")]
    pub smtp_listen: Option<String>,
    /// The official server's database: `postgresql` (the word) for a
    /// throwaway PostgreSQL cluster the harness makes, a database per
    /// server, and deletes at the end (Debian's `postgresql` package); or
    /// `postgresql://…`. Default: in memory (MOCKED).
    #[arg(long, value_name = "postgresql|URL")]
    pub official_db: Option<String>,
    /// The clock of the servers started for clock scenarios of the official
    /// and `cmd=` targets, under libfaketime: `exact` stops it and moves it
    /// to exact instants, `offset` moves it forward while it flows, `real`
    /// leaves the servers alone (time-dependent scenarios then run in real
    /// time within --real-time-budget). Where libfaketime does not take
    /// hold, the target falls back to real time and its reports say why.
    #[arg(long, value_enum, default_value_t = ClockMode::Exact, alias = "official-clock")]
    pub clock: ClockMode,
    /// Seconds of real time a scenario (`attack`: the lockouts of each
    /// parallelism) may wait for on a target whose clock cannot be moved
    /// (`url=`, `--clock real`); longer scenarios are skipped with the time
    /// they need (`attack` extrapolates the rest, and says so).
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_REAL_TIME_BUDGET.as_secs())]
    pub real_time_budget: u64,
    /// Where the reports go: `<reports>/<target>/`.
    #[arg(long, default_value = "reports")]
    pub reports: PathBuf,
    /// Seconds a started server has to answer.
    #[arg(long, default_value_t = 60)]
    pub start_timeout: u64,
    /// Seconds every request to the target may wait for its reply: a
    /// scenario fails at its first timeout, naming the command, and a
    /// request sent is never sent again.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub request_timeout: f64,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ClockMode {
    Exact,
    Offset,
    Real,
}

impl ClockMode {
    fn faketime(self) -> FaketimeMode {
        match self {
            ClockMode::Exact => FaketimeMode::Exact,
            ClockMode::Offset => FaketimeMode::Offset,
            ClockMode::Real => FaketimeMode::Off,
        }
    }
}

pub fn target_help() -> String {
    let mut text = String::from("Placeholders of a cmd= target:\n");
    for (placeholder, meaning) in PLACEHOLDERS {
        text.push_str(&format!("  {placeholder:<15} {meaning}\n"));
    }
    text
}

/// One `--target` after expanding version lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetChoice {
    InProcess,
    Reference,
    Official(String),
    Url(String),
    Command(String),
    Image(String),
}

impl TargetChoice {
    /// The `--target` flag that chooses it, quoted for a shell, with the
    /// `--inject-fault` flags of `faults`: what a replay command says.
    pub fn flags(&self, faults: &[String]) -> String {
        let value = match self {
            TargetChoice::InProcess => "in-process".to_owned(),
            TargetChoice::Reference => "reference".to_owned(),
            TargetChoice::Official(version) => format!("official={version}"),
            TargetChoice::Url(url) => format!("url={url}"),
            TargetChoice::Command(command) => format!("'cmd={}'", command.replace('\'', r"'\''")),
            TargetChoice::Image(reference) => format!("image={reference}"),
        };
        let mut flags = format!("--target {value}");
        for fault in faults {
            flags.push_str(&format!(" --inject-fault {fault}"));
        }
        flags
    }

    /// The report folder's name.
    pub fn report_name(&self) -> String {
        match self {
            TargetChoice::InProcess => "reference-in-process".into(),
            TargetChoice::Reference => "reference".into(),
            TargetChoice::Official(version) => format!("official-{version}"),
            TargetChoice::Url(url) => {
                let host: String = url
                    .trim_start_matches("http://")
                    .trim_start_matches("https://")
                    .trim_end_matches('/')
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '-' })
                    .collect();
                format!("url-{host}")
            }
            TargetChoice::Command(_) => "cmd".into(),
            TargetChoice::Image(reference) => format!(
                "image-{}",
                reference
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '-' })
                    .collect::<String>()
            ),
        }
    }

    /// Whether the harness can start this target with deliberate defects
    /// (`parsec-mfa serve --inject-fault`): the reference server only.
    pub fn takes_faults(&self) -> bool {
        matches!(self, TargetChoice::InProcess | TargetChoice::Reference)
    }
}

/// A `--target` value that names no target, or a target given twice.
#[derive(Debug, thiserror::Error)]
pub enum BadTarget {
    #[error("--target official={versions}: `{version}` is not a version")]
    Version { versions: String, version: String },
    #[error("--target cmd=…: the command must contain {{port}} (see --help)")]
    NoPort,
    #[error(
        "--target {0}: expected reference, in-process, official[=VERSION,…], url=http[s]://HOST:PORT, cmd=COMMAND or image=NAME[:TAG]"
    )]
    Unknown(String),
    #[error("the same target is given twice")]
    Twice,
}

pub fn parse_targets(given: &[String]) -> Result<Vec<TargetChoice>, BadTarget> {
    let mut choices = Vec::new();
    for target in given {
        let (kind, value) = match target.split_once('=') {
            Some((kind, value)) => (kind, Some(value)),
            None => (target.as_str(), None),
        };
        match (kind, value) {
            ("reference", None) => choices.push(TargetChoice::Reference),
            ("in-process", None) => choices.push(TargetChoice::InProcess),
            ("official", None) => choices.push(TargetChoice::Official(DEFAULT_OFFICIAL_VERSION.into())),
            ("official", Some("all")) => choices.extend(
                OFFICIAL_MFA_RELEASES
                    .iter()
                    .map(|v| TargetChoice::Official((*v).to_owned())),
            ),
            ("official", Some(versions)) => {
                for version in versions.split(',').map(str::trim) {
                    if version.is_empty() || !version.chars().all(|c| c.is_ascii_alphanumeric() || c == '.') {
                        return Err(BadTarget::Version {
                            versions: versions.to_owned(),
                            version: version.to_owned(),
                        });
                    }
                    choices.push(TargetChoice::Official(version.into()));
                }
            }
            ("url", Some(url)) if url.starts_with("http://") || url.starts_with("https://") => {
                choices.push(TargetChoice::Url(url.into()))
            }
            ("cmd", Some(command)) if !command.trim().is_empty() => {
                if !command.contains("{port}") {
                    return Err(BadTarget::NoPort);
                }
                choices.push(TargetChoice::Command(command.into()));
            }
            ("image", Some(reference))
                if !reference.is_empty()
                    && reference
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | ':' | '@')) =>
            {
                choices.push(TargetChoice::Image(reference.into()))
            }
            _ => {
                return Err(BadTarget::Unknown(target.clone()));
            }
        }
    }
    let mut names: Vec<String> = choices.iter().map(TargetChoice::report_name).collect();
    names.sort();
    names.dedup();
    if names.len() != choices.len() {
        return Err(BadTarget::Twice);
    }
    Ok(choices)
}

pub fn usage(message: impl std::fmt::Display) -> Failure {
    Failure::new(2, format!("{message} (see --help)"))
}

/// Exit 9: a target could not be started, reached, or is not a Parsec server.
pub fn unusable(why: impl std::fmt::Display) -> Failure {
    Failure::new(exit::TARGET_UNUSABLE, why.to_string())
}

/// The report folder: the target's, or with its defects in the name (never
/// mistaken for the faultless target's).
/// Checks `--inject-fault`: known defects, on targets that take them.
pub fn check_faults(choices: &[TargetChoice], faults: &[String]) -> Result<(), Failure> {
    if let Some(unknown) = faults
        .iter()
        .find(|f| !parsec_mfa_reference::server::Faults::NAMES.contains(&f.as_str()))
    {
        return Err(usage(format!(
            "--inject-fault {unknown}: not a defect of the reference server (known: {})",
            parsec_mfa_reference::server::Faults::NAMES.join(", ")
        )));
    }
    if let Some(choice) = choices.iter().find(|c| !faults.is_empty() && !c.takes_faults()) {
        return Err(usage(format!(
            "--inject-fault: {} is not the reference server (--target reference or in-process)",
            choice.report_name()
        )));
    }
    Ok(())
}

pub fn report_name(choice: &TargetChoice, faults: &[String]) -> String {
    let mut name = choice.report_name();
    for fault in faults {
        name.push('-');
        name.push_str(fault);
    }
    name
}

/// Builds the target named `name` (its report folder, where its servers'
/// logs go), starts what must run before any request, and checks that it
/// answers as a Parsec server. `faults` are deliberate defects of the
/// reference server ([`TargetChoice::takes_faults`]).
pub async fn prepare(
    choice: &TargetChoice,
    name: &str,
    args: &TargetArgs,
    faults: &[String],
) -> Result<Arc<dyn TargetFactory>, Failure> {
    prepare_in(choice, name, args, faults, &args.reports.join(name)).await
}

/// [`prepare`], the target's servers' logs in `folder`/servers (a run of
/// `--repeat` has a folder of its own).
pub async fn prepare_in(
    choice: &TargetChoice,
    name: &str,
    args: &TargetArgs,
    faults: &[String],
    folder: &std::path::Path,
) -> Result<Arc<dyn TargetFactory>, Failure> {
    if !faults.is_empty() && !choice.takes_faults() {
        return Err(usage(format!(
            "{name}: deliberate defects need the reference server (--target reference or in-process)"
        )));
    }
    if !(args.request_timeout.is_finite() && args.request_timeout > 0.0 && args.request_timeout <= 3600.0) {
        return Err(usage("--request-timeout must be between 0 and 3600 seconds".to_owned()));
    }
    parsec_mfa_scenarios::world::set_request_timeout(Duration::from_secs_f64(args.request_timeout));
    let work_dir = folder.join("servers");
    // An earlier run's logs there would read as this run's.
    let _ = std::fs::remove_dir_all(&work_dir);
    let timeout = Duration::from_secs(args.start_timeout);
    let budget = Duration::from_secs(args.real_time_budget);
    let launch = |kind| {
        Launched::new(name, kind, &args.admin_token, work_dir.clone(), timeout)
            .with_faketime(args.clock.faketime())
            .with_real_time_budget(budget)
            .with_faults(faults.to_vec())
    };
    let launched = match choice {
        TargetChoice::InProcess => {
            return Ok(Arc::new(InProcess {
                faults: faults.to_vec(),
            }));
        }
        TargetChoice::Reference => {
            let binary = std::env::current_exe().map_err(|e| unusable(format!("cannot find this program: {e}")))?;
            launch(ServerKind::Reference { binary })
        }
        TargetChoice::Official(version) => {
            let target_dir = cargo_target_dir(PathBuf::from("target"));
            let make_a_cluster = args.official_db.as_deref() == Some(MAKE_A_CLUSTER);
            if make_a_cluster {
                // Before a long install: a missing PostgreSQL says so at once.
                postgresql::binaries().map_err(unusable)?;
            }
            if !official_installed(&target_dir, version) {
                println!(
                    "Installing parsec-cloud=={version} from the Python package registry into {} (once)…",
                    official_venv(&target_dir, version).display()
                );
            }
            let version_owned = version.clone();
            let db = args.official_db.clone();
            let cluster_log = work_dir.join("postgresql.log");
            let (venv, takes_advice, db) = tokio::task::spawn_blocking(move || {
                let venv = install_official(&target_dir, &version_owned)?;
                let takes_advice = official_takes_advice(&venv)?;
                let db = match db {
                    None => None,
                    Some(_) if make_a_cluster => {
                        let cluster = Cluster::start(&target_dir, cluster_log)?;
                        // Migrated once; each server's database is a copy.
                        migrate_official_db(&venv, &cluster.template_url())?;
                        Some(OfficialDb::Cluster(Arc::new(cluster)))
                    }
                    Some(url) => {
                        migrate_official_db(&venv, &url)?;
                        Some(OfficialDb::Url(url))
                    }
                };
                Ok::<_, ServerError>((venv, takes_advice, db))
            })
            .await
            .map_err(unusable)?
            .map_err(unusable)?;
            launch(ServerKind::Official {
                venv,
                version: version.clone(),
                db,
                takes_advice,
            })
        }
        TargetChoice::Command(template) => launch(ServerKind::Command {
            template: template.clone(),
        }),
        TargetChoice::Image(reference) => {
            let image = START_IMAGE(ImageRequest {
                name,
                reference,
                command: args.image_cmd.as_deref(),
                token: &args.admin_token,
                work_dir: &work_dir,
                timeout,
                real_time_budget: budget,
            })
            .await
            .map_err(unusable)?;
            println!(
                "Container {} of {reference}; the harness's SMTP sink listens on {}.",
                image.container_id.get(..12).unwrap_or(&image.container_id),
                image.smtp_addr
            );
            return Ok(image.factory);
        }
        TargetChoice::Url(url) => {
            let listen = args.smtp_listen.as_deref().unwrap_or("127.0.0.1:0");
            if let Some(path) = &args.ca_cert {
                HttpSettings::trusting_file(path).map_err(|e| usage(format!("--ca-cert {e}")))?;
            }
            let remote = Remote::new(name, url, &args.admin_token, listen, args.ca_cert.as_deref())
                .await
                .map_err(unusable)?
                .with_real_time_budget(budget);
            println!(
                "The harness's SMTP sink listens on {}: the server must send its email there.",
                remote.smtp_addr()
            );
            let facts = probe_route(&remote.route().map_err(unusable)?, &args.admin_token)
                .await
                .map_err(unusable)?;
            remote.learn(&facts);
            if !facts.advice.is_empty() {
                println!(
                    "Note: {url} advises {}: the @advice scenarios needing that advice run, the others are skipped, and so are the @password-only ones where no password-only device is allowed.",
                    facts.advice.join(", ")
                );
            }
            return Ok(Arc::new(remote));
        }
    };
    let addr = launched.start_default().await.map_err(unusable)?;
    probe(addr, &args.admin_token).await.map_err(unusable)?;
    Ok(Arc::new(launched))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(list: &[&str]) -> Result<Vec<TargetChoice>, BadTarget> {
        parse_targets(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn a_faulty_target_reports_in_a_folder_of_its_own() {
        assert_eq!(report_name(&TargetChoice::Reference, &[]), "reference");
        assert_eq!(
            report_name(&TargetChoice::InProcess, &["lockout-disabled".into()]),
            "reference-in-process-lockout-disabled"
        );
    }

    #[test]
    fn official_versions_expand_into_a_matrix() {
        assert_eq!(
            parse(&["official=3.8.0,3.9.3"]).unwrap(),
            vec![
                TargetChoice::Official("3.8.0".into()),
                TargetChoice::Official("3.9.3".into())
            ]
        );
        assert_eq!(
            parse(&["official"]).unwrap(),
            vec![TargetChoice::Official(DEFAULT_OFFICIAL_VERSION.into())]
        );
        let all: Vec<String> = parse(&["official=all"])
            .unwrap()
            .iter()
            .map(TargetChoice::report_name)
            .collect();
        assert_eq!(all.len(), 7);
        assert_eq!(all.first().map(String::as_str), Some("official-3.8.0"));
        assert_eq!(all.last().map(String::as_str), Some("official-3.9.3"));
        assert!(matches!(
            parse(&["official=all", "official=3.9.3"]),
            Err(BadTarget::Twice)
        ));
    }

    #[test]
    fn bad_targets_are_usage_errors() {
        for bad in [
            "nonsense",
            "official=",
            "official=3.9.3;rm",
            "url=",
            "url=ftp://example.com",
            "cmd=",
            "cmd=server --no-port",
            "reference=x",
            "image=",
            "image=name;rm -rf",
        ] {
            assert!(parse(&[bad]).is_err(), "{bad}");
        }
        assert!(matches!(parse(&["reference", "reference"]), Err(BadTarget::Twice)));
    }

    #[test]
    fn report_folders_are_named_after_targets() {
        let names: Vec<String> = parse(&["reference", "in-process", "official=3.8.0", "url=http://10.0.0.5:6777/"])
            .unwrap()
            .iter()
            .map(TargetChoice::report_name)
            .collect();
        assert_eq!(
            names,
            [
                "reference",
                "reference-in-process",
                "official-3.8.0",
                "url-10.0.0.5-6777"
            ]
        );
    }

    #[test]
    fn only_the_reference_takes_faults() {
        let choices = parse(&["reference", "in-process", "official", "url=http://h:1", "cmd=s {port}"]).unwrap();
        let takes: Vec<bool> = choices.iter().map(TargetChoice::takes_faults).collect();
        assert_eq!(takes, [true, true, false, false, false]);
    }
}
