//! The flags of the targets of `conformance`, `attack` and `explore`: the
//! same `--target` values and flags, read into the harness's
//! [`TargetConfig`] and built by its one [`build::build`].

use super::failure::{Failure, exit};
use clap::{Args, ValueEnum};
use parsec_mfa_scenarios::targets::build::{self, BuildError, TargetConfig};
pub use parsec_mfa_scenarios::targets::build::{TargetChoice, parse_targets};
use parsec_mfa_scenarios::targets::launched::{FaketimeMode, PLACEHOLDERS};
use parsec_mfa_scenarios::targets::{DEFAULT_REAL_TIME_BUDGET, TargetFactory};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

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

pub fn usage(message: impl std::fmt::Display) -> Failure {
    Failure::new(2, format!("{message} (see --help)"))
}

/// Exit 9: a target could not be started, reached, or is not a Parsec server.
pub fn unusable(why: impl std::fmt::Display) -> Failure {
    Failure::new(exit::TARGET_UNUSABLE, why.to_string())
}

/// Checks `--inject-fault`: known defects, on targets that take them.
pub fn check_faults(choices: &[TargetChoice], faults: &[String]) -> Result<(), Failure> {
    build::check_faults(choices, faults).map_err(failure)
}

/// The report folder: the target's, or with its defects in the name.
pub fn report_name(choice: &TargetChoice, faults: &[String]) -> String {
    choice.report_name_with(faults)
}

fn failure(error: BuildError) -> Failure {
    match error {
        BuildError::Refused(why) => usage(why),
        BuildError::Unusable(why) => unusable(why),
    }
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
    if !(args.request_timeout.is_finite() && args.request_timeout > 0.0 && args.request_timeout <= 3600.0) {
        return Err(usage("--request-timeout must be between 0 and 3600 seconds".to_owned()));
    }
    let config = TargetConfig {
        choice: choice.clone(),
        name: name.to_owned(),
        folder: folder.to_path_buf(),
        faults: faults.to_vec(),
        admin_token: args.admin_token.clone(),
        ca_cert: args.ca_cert.clone(),
        image_cmd: args.image_cmd.clone(),
        smtp_listen: args.smtp_listen.clone(),
        official_db: args.official_db.clone(),
        clock: args.clock.faketime(),
        real_time_budget: Duration::from_secs(args.real_time_budget),
        start_timeout: Duration::from_secs(args.start_timeout),
        request_timeout: Duration::from_secs_f64(args.request_timeout),
    };
    build::build(&config).await.map_err(failure)
}
