//! One way to build a target, for every command that takes `--target`
//! (`conformance`, `attack`, `explore`): the `--target` values parsed into
//! [`TargetChoice`]s, and [`build`] turning a [`TargetConfig`] into a
//! started, checked target: the official server installed, its PostgreSQL
//! cluster made and migrated, a `url=` target probed, an image started.

use super::in_process::InProcess;
use super::launched::{FaketimeMode, Launched, ServerKind};
use super::remote::{Remote, probe, probe_route};
use super::{ImageRequest, START_IMAGE, TargetFactory};
use crate::servers::postgresql::{self, Cluster, MAKE_A_CLUSTER, OfficialDb};
use crate::servers::{
    ServerError, cargo_target_dir, install_official, migrate_official_db, official_installed, official_takes_advice,
    official_venv,
};
use parsec_mfa_reference::client::tls::HttpSettings;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub const DEFAULT_OFFICIAL_VERSION: &str = "3.9.3";

/// Every published parsec-cloud release with TOTP (`official=all`): MFA
/// came in 3.8.0; `pip index versions parsec-cloud` (Python 3.12) listed
/// these on 2026-12-01, 3.9.3 the newest.
pub const OFFICIAL_MFA_RELEASES: &[&str] = &["3.8.0", "3.8.1", "3.8.2", "3.9.0", "3.9.1", "3.9.2", "3.9.3"];

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

    /// The report folder's name with `faults`: the target's, or with its
    /// defects in the name (never mistaken for the faultless target's).
    pub fn report_name_with(&self, faults: &[String]) -> String {
        let mut name = self.report_name();
        for fault in faults {
            name.push('-');
            name.push_str(fault);
        }
        name
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

/// Everything [`build`] needs to know of a target, as the command line
/// gives it.
#[derive(Debug, Clone)]
pub struct TargetConfig {
    pub choice: TargetChoice,
    /// Its report name ([`TargetChoice::report_name_with`]).
    pub name: String,
    /// Where its servers' logs go: `folder`/servers.
    pub folder: PathBuf,
    /// Deliberate defects of the reference server.
    pub faults: Vec<String>,
    /// The administration token of a `url=`, `cmd=` or image target.
    pub admin_token: String,
    /// The authorities trusted for `url=https://…`.
    pub ca_cert: Option<PathBuf>,
    /// The command of an `image=` target's container.
    pub image_cmd: Option<String>,
    /// Where the harness's SMTP sink listens for a `url=` target.
    pub smtp_listen: Option<String>,
    /// The official server's database (`postgresql`, `postgresql://…`).
    pub official_db: Option<String>,
    /// The clock of the servers started for clock scenarios.
    pub clock: FaketimeMode,
    pub real_time_budget: Duration,
    /// How long a started server has to answer.
    pub start_timeout: Duration,
    /// How long every request may wait for its reply (the command line
    /// keeps it within an hour).
    pub request_timeout: Duration,
}

/// Why [`build`] made no target.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// What was asked cannot be: the command line's usage error.
    #[error("{0}")]
    Refused(String),
    /// The target could not be started, reached, or is not a Parsec server.
    #[error("{0}")]
    Unusable(String),
}

impl BuildError {
    fn unusable(why: impl std::fmt::Display) -> Self {
        BuildError::Unusable(why.to_string())
    }
}

/// Checks `--inject-fault`: known defects, on targets that take them.
pub fn check_faults(choices: &[TargetChoice], faults: &[String]) -> Result<(), BuildError> {
    use parsec_mfa_reference::server::Faults;
    if let Some(unknown) = faults.iter().find(|f| !Faults::NAMES.contains(&f.as_str())) {
        return Err(BuildError::Refused(format!(
            "--inject-fault {unknown}: not a defect of the reference server (known: {})",
            Faults::NAMES.join(", ")
        )));
    }
    if let Some(choice) = choices.iter().find(|c| !faults.is_empty() && !c.takes_faults()) {
        return Err(BuildError::Refused(format!(
            "--inject-fault: {} is not the reference server (--target reference or in-process)",
            choice.report_name()
        )));
    }
    Ok(())
}

/// Builds the target of `config`, starts what must run before any request,
/// and checks that it answers as a Parsec server.
pub async fn build(config: &TargetConfig) -> Result<Arc<dyn TargetFactory>, BuildError> {
    let (choice, name, faults) = (&config.choice, config.name.as_str(), config.faults.as_slice());
    // The one check of the defects asked for (the commands call it first,
    // over all their targets, to refuse before building any).
    check_faults(std::slice::from_ref(choice), faults)?;
    crate::exchange::set_request_timeout(config.request_timeout);
    let folder = &config.folder;
    let work_dir = folder.join("servers");
    // An earlier run's logs there would read as this run's.
    let _ = std::fs::remove_dir_all(&work_dir);
    let timeout = config.start_timeout;
    let budget = config.real_time_budget;
    let launch = |kind| {
        Launched::new(name, kind, &config.admin_token, work_dir.clone(), timeout)
            .with_faketime(config.clock)
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
            let binary =
                std::env::current_exe().map_err(|e| BuildError::Unusable(format!("cannot find this program: {e}")))?;
            launch(ServerKind::Reference { binary })
        }
        TargetChoice::Official(version) => {
            let target_dir = cargo_target_dir(PathBuf::from("target"));
            let make_a_cluster = config.official_db.as_deref() == Some(MAKE_A_CLUSTER);
            if make_a_cluster {
                // Before a long install: a missing PostgreSQL says so at once.
                postgresql::binaries().map_err(BuildError::unusable)?;
            }
            if !official_installed(&target_dir, version) {
                println!(
                    "Installing parsec-cloud=={version} from the Python package registry into {} (once)…",
                    official_venv(&target_dir, version).display()
                );
            }
            let version_owned = version.clone();
            let db = config.official_db.clone();
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
            .map_err(BuildError::unusable)?
            .map_err(BuildError::unusable)?;
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
                command: config.image_cmd.as_deref(),
                token: &config.admin_token,
                work_dir: &work_dir,
                timeout,
                real_time_budget: budget,
            })
            .await
            .map_err(BuildError::unusable)?;
            println!(
                "Container {} of {reference}; the harness's SMTP sink listens on {}.",
                image.container_id.get(..12).unwrap_or(&image.container_id),
                image.smtp_addr
            );
            return Ok(image.factory);
        }
        TargetChoice::Url(url) => {
            let listen = config.smtp_listen.as_deref().unwrap_or("127.0.0.1:0");
            if let Some(path) = &config.ca_cert {
                HttpSettings::trusting_file(path).map_err(|e| BuildError::Refused(format!("--ca-cert {e}")))?;
            }
            let remote = Remote::new(name, url, &config.admin_token, listen, config.ca_cert.as_deref())
                .await
                .map_err(BuildError::unusable)?
                .with_real_time_budget(budget);
            println!(
                "The harness's SMTP sink listens on {}: the server must send its email there.",
                remote.smtp_addr()
            );
            let facts = probe_route(&remote.route().map_err(BuildError::unusable)?, &config.admin_token)
                .await
                .map_err(BuildError::unusable)?;
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
    let addr = launched.start_default().await.map_err(BuildError::unusable)?;
    probe(addr, &config.admin_token).await.map_err(BuildError::unusable)?;
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
        assert_eq!(TargetChoice::Reference.report_name_with(&[]), "reference");
        assert_eq!(
            TargetChoice::InProcess.report_name_with(&["lockout-disabled".into()]),
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

    #[test]
    fn defects_are_refused_unknown_or_on_another_server() {
        let faults = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let official = TargetChoice::Official(DEFAULT_OFFICIAL_VERSION.into());
        assert!(check_faults(&[TargetChoice::Reference], &faults(&["lockout-disabled"])).is_ok());
        assert!(check_faults(std::slice::from_ref(&official), &[]).is_ok());
        let refused = |choices: &[TargetChoice], names: &[&str]| match check_faults(choices, &faults(names)) {
            Err(BuildError::Refused(why)) => why,
            other => panic!("{other:?}"),
        };
        assert!(refused(&[TargetChoice::InProcess], &["no-such-defect"]).contains("not a defect"));
        assert!(
            refused(&[TargetChoice::Reference, official], &["lockout-disabled"])
                .contains("official-3.9.3 is not the reference server")
        );
    }

    #[tokio::test]
    async fn build_refuses_defects_on_the_official_server_before_installing_it() {
        let config = TargetConfig {
            choice: TargetChoice::Official("0.0.0-never-installed".into()),
            name: "official".into(),
            folder: std::env::temp_dir().join(format!("parsec-mfa-build-{}", std::process::id())),
            faults: vec!["lockout-disabled".into()],
            admin_token: "s3cr3t".into(),
            ca_cert: None,
            image_cmd: None,
            smtp_listen: None,
            official_db: None,
            clock: FaketimeMode::Exact,
            real_time_budget: Duration::from_secs(60),
            start_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(5),
        };
        match build(&config).await {
            Err(BuildError::Refused(why)) => assert!(why.contains("is not the reference server"), "{why}"),
            Err(other) => panic!("{other}"),
            Ok(_) => panic!("built"),
        }
    }
}
