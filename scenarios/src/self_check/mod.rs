//! The suite's power, measured (mutation testing): the features run against
//! the reference server with each deliberate defect of `Faults::NAMES`
//! (`--inject-fault`), under each profile a user meets, and the kill matrix
//! says which scenarios saw each defect, or that it survived.
//!
//! Profiles ([`Profile`]): in process on an exact simulated clock; the
//! reference binary launched with clock control (`--test-clock` for clock
//! scenarios, as `--target reference` runs it); the reference binary on
//! the system clock reached only through its URL, as a `url=` target.
//!
//! Where the time goes: a run is about 1.2 s of CPU (Ed25519, the client's
//! and the server's work, process starts) and a few seconds of real waits
//! (1 s and 2 s lockouts in real time, a connection that stays down). Runs
//! go on threads of their own (cucumber's run is not `Send`), at most
//! `runs_at_once` at a time, so the waits of some hide behind the CPU of
//! others; each launched or `url=` run shares its servers between its
//! scenarios; the faultless baseline runs once per profile.
//!
//! [`Scope::KillersFirst`] (the default): the in-process run of a fault
//! always goes to the end, and lists every scenario that kills it. In the
//! other profiles, only those scenarios run first; when one of them fails
//! there too the cell is killed and the run stops there (the matrix says
//! how many were tried), otherwise every scenario runs. [`Scope::Full`]
//! runs every scenario everywhere.

pub mod explored;
pub mod html;
pub mod matrix;
pub mod unobservable;

use crate::report::{ReportError, Status, TargetReport, Totals};
use crate::runner::{RunControls, RunOptions, ScenarioAt, run_with};
use crate::servers::{ServerError, ServerOptions, ServerProcess, free_port, start_reference};
use crate::targets::launched::{Launched, ServerKind};
use crate::targets::remote::{ProbeError, Remote, probe};
use crate::targets::{ADMINISTRATION_TOKEN, InProcess, TargetError, TargetFactory};
use matrix::{Baseline, Cell, FaultRow, Matrix, ProfileInfo, RunRecord, RunSettings, ScenarioRef};
pub use matrix::{Outcome, Scope};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, watch};
pub use unobservable::{UNOBSERVABLE, Unobservable};

/// Where a user meets the reference server: how the harness reaches it and
/// how it moves its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// In the harness's process, on an exact simulated clock.
    InProcess,
    /// The reference binary launched by the harness, with clock control.
    Launched,
    /// The reference binary on the system clock, reached by its URL.
    Url,
}

impl Profile {
    pub const ALL: [Profile; 3] = [Profile::InProcess, Profile::Launched, Profile::Url];

    /// The command-line and report name.
    pub fn name(self) -> &'static str {
        match self {
            Profile::InProcess => "in-process",
            Profile::Launched => "launched",
            Profile::Url => "url",
        }
    }

    pub fn parse(name: &str) -> Option<Profile> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    pub fn title(self) -> &'static str {
        match self {
            Profile::InProcess => "in process, exact clock",
            Profile::Launched => "launched, clock control",
            Profile::Url => "url=, no clock control",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Profile::InProcess => {
                "`--target in-process`: the reference server inside the harness, one per scenario, on a simulated clock moved to exact instants"
            }
            Profile::Launched => {
                "`--target reference`: the reference binary started by the harness, shared by the scenarios; clock scenarios on servers of their own (one scenario at a time) with --test-clock"
            }
            Profile::Url => {
                "`--target url=`: one reference binary on the system clock, fixed configuration, reached only through its URL; scenarios that need clock control or their own configuration are skipped"
            }
        }
    }
}

/// A row of the matrix: a fault, or a copy of one in a scaling run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultCase {
    pub label: String,
    pub fault: String,
    /// A defect of the reference client (`--inject-client-fault`), run
    /// against the faultless server with the client's binary as the client
    /// under test; otherwise the server's (`--inject-fault`).
    pub client: bool,
}

impl FaultCase {
    /// Each fault `copies` times (copies after the first named `<fault>
    /// (copy N)`): the matrix a larger list of faults would make, to
    /// measure how the run time scales.
    pub fn list(faults: &[String], copies: usize) -> Vec<FaultCase> {
        (1..=copies.max(1))
            .flat_map(|copy| {
                faults.iter().map(move |fault| FaultCase {
                    label: if copy == 1 {
                        fault.clone()
                    } else {
                        format!("{fault} (copy {copy})")
                    },
                    fault: fault.clone(),
                    client: false,
                })
            })
            .collect()
    }

    /// The reference client's defects, a row each.
    pub fn client_faults(faults: &[String]) -> Vec<FaultCase> {
        faults
            .iter()
            .map(|fault| FaultCase {
                label: fault.clone(),
                fault: fault.clone(),
                client: true,
            })
            .collect()
    }

    /// The folder of its runs.
    fn folder(&self) -> String {
        let name: String = self
            .label
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' })
            .collect();
        let kind = if self.client { "client-fault" } else { "fault" };
        format!("{kind}-{}", name.trim_matches('-').replace("--", "-"))
    }
}

pub struct SelfCheckOptions {
    pub features: PathBuf,
    /// The matrix's folder (`reports/self-check/`), emptied first.
    pub reports: PathBuf,
    /// The `parsec-mfa` binary: the launched and `url=` profiles' server.
    pub binary: PathBuf,
    pub profiles: Vec<Profile>,
    pub faults: Vec<FaultCase>,
    pub scope: Scope,
    pub runs_at_once: usize,
    /// Scenarios at once within a run.
    pub concurrency: usize,
    /// How long a launched server has to answer.
    pub start_timeout: Duration,
    /// The `explore` column: each server defect looked for by exploration
    /// alone within this budget (`None`: no column).
    pub explore: Option<explored::ExploreBudget>,
}

#[derive(Debug, thiserror::Error)]
pub enum SelfCheckError {
    #[error("interrupted")]
    Interrupted,
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

/// What the runs share: the options, the bound on runs at once, and the
/// signal that stops them all.
struct Shared {
    options: SelfCheckOptions,
    slots: Semaphore,
    stop: watch::Receiver<bool>,
}

/// Runs the matrix and writes `matrix.json` and `index.html` into
/// `options.reports`. `stop` turning true stops every run (their servers
/// are stopped) and returns [`SelfCheckError::Interrupted`].
pub async fn run_self_check(options: SelfCheckOptions, stop: watch::Receiver<bool>) -> Result<Matrix, SelfCheckError> {
    let started = Instant::now();
    let cpu_before = cpu_seconds();
    let dir = options.reports.clone();
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|source| SelfCheckError::Io {
            path: dir.clone(),
            source,
        })?;
    }
    std::fs::create_dir_all(&dir).map_err(|source| SelfCheckError::Io {
        path: dir.clone(),
        source,
    })?;
    let runs_at_once = options.runs_at_once.max(1);
    let shared = Arc::new(Shared {
        slots: Semaphore::new(runs_at_once),
        stop: stop.clone(),
        options,
    });
    let profiles = shared.options.profiles.clone();

    let baselines = futures::future::join_all(profiles.iter().map(|&profile| {
        let shared = shared.clone();
        async move {
            let outcome = run_in_slot(&shared, profile, None, None).await;
            (profile, outcome)
        }
    }));
    let rows = futures::future::join_all(
        shared
            .options
            .faults
            .clone()
            .into_iter()
            .map(|case| fault_row(shared.clone(), case)),
    );
    let (baselines, rows) = futures::future::join(baselines, rows).await;
    if *stop.borrow() {
        return Err(SelfCheckError::Interrupted);
    }
    let mut baseline_records = Vec::new();
    for (profile, outcome) in baselines {
        let (run, error) = match outcome {
            Ok(run) => (Some(run), None),
            Err(RunFailure::Interrupted) => return Err(SelfCheckError::Interrupted),
            Err(RunFailure::Failed(why)) => (None, Some(why.to_string())),
        };
        baseline_records.push(Baseline { profile, run, error });
    }
    let mut rows = rows.into_iter().collect::<Result<Vec<_>, _>>()?;
    if let Some(budget) = shared.options.explore {
        // After the matrix, one defect at a time: an exploration keeps
        // every core busy, and its in-process servers must answer in time.
        let folder = shared.options.reports.join("explore");
        for row in rows.iter_mut().filter(|row| !row.client) {
            if *stop.borrow() {
                return Err(SelfCheckError::Interrupted);
            }
            row.explore = Some(explored::explore_fault(&row.fault, budget, &folder).await);
        }
    }
    let known: Vec<&str> = parsec_mfa_reference::server::Faults::NAMES
        .iter()
        .chain(parsec_mfa_reference::client::faults::ClientFault::NAMES.iter())
        .copied()
        .collect();
    let mut matrix = Matrix {
        format: matrix::FORMAT.into(),
        profiles: profiles
            .iter()
            .map(|&profile| ProfileInfo {
                profile,
                title: profile.title().into(),
                description: profile.description().into(),
            })
            .collect(),
        baselines: baseline_records,
        faults: rows,
        list_problems: unobservable::stale_entries(UNOBSERVABLE, &known)
            .into_iter()
            .chain(explored::stale_entries(parsec_mfa_reference::server::Faults::NAMES))
            .collect(),
        explore: shared.options.explore,
        settings: RunSettings {
            scope: shared.options.scope,
            runs_at_once,
            concurrency: shared.options.concurrency,
            wall_seconds: started.elapsed().as_secs_f64(),
            cpu_seconds: cpu_seconds().zip(cpu_before).map(|(after, before)| after - before),
        },
        ok: false,
    };
    matrix.ok = matrix.problems().is_empty();
    write(&dir.join(matrix::JSON_FILE), &matrix.to_json())?;
    write(&dir.join(matrix::HTML_FILE), &html::page(&matrix))?;
    Ok(matrix)
}

fn write(path: &Path, text: &str) -> Result<(), SelfCheckError> {
    std::fs::write(path, text).map_err(|source| SelfCheckError::Io {
        path: path.to_owned(),
        source,
    })
}

/// A fault's row. Killers first: in process first (every scenario), then
/// the other profiles side by side, the in-process killers first. Full:
/// every profile side by side, every scenario.
async fn fault_row(shared: Arc<Shared>, case: FaultCase) -> Result<FaultRow, SelfCheckError> {
    let profiles = shared.options.profiles.clone();
    let killers_first = shared.options.scope == Scope::KillersFirst && profiles.contains(&Profile::InProcess);
    let mut runs: Vec<(Profile, Result<RunRecord, RunFailure>)> = Vec::new();
    let mut killers: Option<BTreeSet<ScenarioAt>> = None;
    if killers_first {
        let run = run_in_slot(&shared, Profile::InProcess, Some(&case), None).await;
        if let Ok(record) = &run
            && record.failed > 0
        {
            killers = Some(
                record
                    .failures
                    .iter()
                    .map(|f| (f.feature_file.clone(), f.line))
                    .collect(),
            );
        }
        runs.push((Profile::InProcess, run));
    }
    let rest = profiles
        .iter()
        .filter(|&&p| !(killers_first && p == Profile::InProcess))
        .map(|&profile| {
            let (shared, case, killers) = (shared.clone(), case.clone(), killers.clone());
            async move {
                if let Some(killers) = killers {
                    let first = run_in_slot(&shared, profile, Some(&case), Some(killers)).await;
                    match first {
                        // None of them failed here: every scenario runs.
                        Ok(record) if record.failed == 0 => {}
                        done => return (profile, done),
                    }
                }
                (profile, run_in_slot(&shared, profile, Some(&case), None).await)
            }
        });
    runs.extend(futures::future::join_all(rest).await);
    let mut cells = Vec::new();
    for (profile, run) in runs {
        let run = match run {
            Ok(record) => Ok(record),
            Err(RunFailure::Interrupted) => return Err(SelfCheckError::Interrupted),
            Err(RunFailure::Failed(why)) => Err(why),
        };
        cells.push(Cell::judge(&case.fault, profile, run, UNOBSERVABLE));
    }
    cells.sort_by_key(|c| c.profile);
    Ok(FaultRow {
        label: case.label,
        fault: case.fault,
        client: case.client,
        cells,
        explore: None,
    })
}

enum RunFailure {
    Interrupted,
    Failed(RunNotMade),
}

/// Why one run could not be made: said in its cell, and the self-check
/// goes on.
#[derive(Debug, thiserror::Error)]
pub enum RunNotMade {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{target}: this target cannot inject faults")]
    NoFaultInjection { target: String },
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error(transparent)]
    Probe(#[from] ProbeError),
    #[error(transparent)]
    Server(#[from] ServerError),
    #[error(transparent)]
    Run(#[from] crate::runner::RunError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error("cannot start a runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("the run stopped: {0}")]
    Stopped(#[source] tokio::task::JoinError),
    /// The server's start, on a blocking thread, stopped.
    #[error("{0}")]
    Start(#[source] tokio::task::JoinError),
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> RunNotMade + '_ {
    move |source| RunNotMade::Io {
        path: path.to_owned(),
        source,
    }
}

/// One run, when a slot is free, on a thread of its own.
async fn run_in_slot(
    shared: &Arc<Shared>,
    profile: Profile,
    case: Option<&FaultCase>,
    only: Option<BTreeSet<ScenarioAt>>,
) -> Result<RunRecord, RunFailure> {
    let _slot = shared.slots.acquire().await.map_err(|_| RunFailure::Interrupted)?;
    if *shared.stop.borrow() {
        return Err(RunFailure::Interrupted);
    }
    let (thread_shared, case) = (shared.clone(), case.cloned());
    // cucumber's run is not `Send`: it gets a runtime of its own, and the
    // servers of an in-process run share its thread.
    let joined = tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| RunFailure::Failed(RunNotMade::Runtime(e)))?;
        let mut stop = thread_shared.stop.clone();
        runtime.block_on(async move {
            tokio::select! {
                outcome = one_run(&thread_shared.options, profile, case.as_ref(), only) => outcome.map_err(RunFailure::Failed),
                _ = stop.wait_for(|stopped| *stopped) => Err(RunFailure::Interrupted),
            }
        })
    })
    .await;
    joined.unwrap_or_else(|e| Err(RunFailure::Failed(RunNotMade::Stopped(e))))
}

/// The features against the server of `profile`, faultless or with
/// `case`'s fault; its report in its own folder.
async fn one_run(
    options: &SelfCheckOptions,
    profile: Profile,
    case: Option<&FaultCase>,
    only: Option<BTreeSet<ScenarioAt>>,
) -> Result<RunRecord, RunNotMade> {
    let started = Instant::now();
    let relative = PathBuf::from(profile.name()).join(case.map_or_else(|| "baseline".to_owned(), FaultCase::folder));
    let dir = options.reports.join(&relative);
    std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
    // A client's defect: the faultless server, the defective client.
    let faults: Vec<String> = case
        .filter(|c| !c.client)
        .map(|c| c.fault.clone())
        .into_iter()
        .collect();
    let client = match case.filter(|c| c.client) {
        Some(case) => crate::client::ClientChoice::Command(crate::client::CommandClient {
            command: format!("'{}' --inject-client-fault {}", options.binary.display(), case.fault),
            faketime: crate::faketime::find_library().ok(),
        }),
        None => crate::client::ClientChoice::Reference,
    };
    let name = format!("self-check-{}", relative.display()).replace('/', "-");
    let (target, _url_server) = prepare(options, profile, &name, &faults, &dir).await?;
    let console_path = dir.join("console.log");
    let console = std::fs::File::create(&console_path).map_err(io_error(&console_path))?;
    let scope = if only.is_some() {
        Scope::KillersFirst
    } else {
        Scope::Full
    };
    let run_options = RunOptions {
        features: options.features.clone(),
        reports: dir.clone(),
        concurrency: options.concurrency,
        target,
        tags: None,
        name: None,
    };
    let controls = RunControls {
        console: Some(Box::new(console)),
        only,
        shard: None,
        client,
    };
    run_with(run_options, controls).await?;
    let report = TargetReport::load(&dir)?;
    let Totals {
        passed,
        failed,
        skipped,
    } = report.totals();
    let failures = report
        .results
        .into_iter()
        .filter(|r| r.status == Status::Failed)
        .map(|r| ScenarioRef {
            scenario: r.scenario,
            feature_file: r.feature_file,
            line: r.line,
            detail: r.detail,
        })
        .collect();
    Ok(RunRecord {
        passed,
        failed,
        skipped,
        failures,
        scope,
        seconds: started.elapsed().as_secs_f64(),
        report: relative.join(crate::report::HTML_FILE).display().to_string(),
    })
}

/// The target of a run, its server started before any scenario; for the
/// `url=` profile, also the server process the run must keep alive. The
/// faultless server is probed as `conformance` probes a target; a faulty
/// one is not: what it answers is for the scenarios to judge (a defect the
/// probe would notice is one they must see).
async fn prepare(
    options: &SelfCheckOptions,
    profile: Profile,
    name: &str,
    faults: &[String],
    dir: &Path,
) -> Result<(Arc<dyn TargetFactory>, Option<ServerProcess>), RunNotMade> {
    let servers = dir.join("servers");
    std::fs::create_dir_all(&servers).map_err(io_error(&servers))?;
    let needs_injection = |target: &dyn TargetFactory| {
        if !faults.is_empty() && !target.capabilities().fault_injection {
            return Err(RunNotMade::NoFaultInjection {
                target: target.name().to_owned(),
            });
        }
        Ok(())
    };
    match profile {
        Profile::InProcess => {
            let target = InProcess {
                faults: faults.to_vec(),
            };
            needs_injection(&target)?;
            Ok((Arc::new(target), None))
        }
        Profile::Launched => {
            let target = Launched::new(
                name,
                ServerKind::Reference {
                    binary: options.binary.clone(),
                },
                ADMINISTRATION_TOKEN,
                servers,
                options.start_timeout,
            )
            .with_faults(faults.to_vec());
            needs_injection(&target)?;
            let addr = target.start_default().await?;
            if faults.is_empty() {
                probe(addr, ADMINISTRATION_TOKEN).await?;
            }
            Ok((Arc::new(target), None))
        }
        Profile::Url => {
            // The server a user would point `url=` at: started here (the
            // harness has no say in it), its email sent to the harness's
            // mailbox.
            let smtp_port = free_port();
            let server_options = ServerOptions {
                administration_token: ADMINISTRATION_TOKEN.into(),
                smtp_port: Some(smtp_port),
                advisory_device_file_protection: Vec::new(),
                log_dir: servers,
            };
            let extra: Vec<String> = faults
                .iter()
                .flat_map(|f| ["--inject-fault".to_owned(), f.clone()])
                .collect();
            let binary = options.binary.clone();
            let server = tokio::task::spawn_blocking(move || {
                let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
                start_reference(&binary, &server_options, &extra)
            })
            .await
            .map_err(RunNotMade::Start)??;
            let remote = Remote::new(
                name,
                &server.http_base(),
                ADMINISTRATION_TOKEN,
                &format!("127.0.0.1:{smtp_port}"),
                None,
            )
            .await?;
            if faults.is_empty() {
                probe(remote.addr(), ADMINISTRATION_TOKEN).await?;
            }
            Ok((Arc::new(remote), Some(server)))
        }
    }
}

/// CPU seconds of this process and of its children it has waited for
/// (`/proc/self/stat`, Linux); `None` elsewhere.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime, stime, cutime, cstime: fields 14 to 17, from the state (3rd).
    let ticks: f64 = fields.get(11..15)?.iter().filter_map(|f| f.parse::<f64>().ok()).sum();
    // The kernel's USER_HZ is 100 on Linux.
    Some(ticks / 100.0)
}
