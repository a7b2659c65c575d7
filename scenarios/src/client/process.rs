//! One action of a command client: its process, driven as a person at the
//! terminal drives it. The harness answers each prompt the client writes
//! on stderr (a code or a password, see [`Prompt`]), reads what it prints
//! on stdout, and keeps it open while the scenario needs it (the login
//! shell, an MFA section showing its key until the code is typed).
//!
//! Every wait is bounded ([`ClientEnv::timeout`]): a client that hangs is
//! ended and the step fails saying what it was waiting for. What a client
//! prints is kept up to [`OUTPUT_LIMIT`] bytes a stream, so a runaway
//! client cannot exhaust the harness.

use super::CommandClient;
use crate::faketime::Faketime;
use parsec_mfa_reference::clock::{Clock, SystemClock};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWriteExt as _};
use tokio::process::{Child, ChildStdin};
use tokio::sync::watch;

/// What is kept of each of a client's output streams: far more than any
/// action prints (a QR code is about 2 KiB), little enough to keep many.
pub const OUTPUT_LIMIT: usize = 1 << 20;

/// Where and when a client's processes run.
#[derive(Clone)]
pub struct ClientEnv {
    /// The person's computer: `PARSEC_MFA_CONFIG_DIR` and `--config-dir`.
    pub config_dir: PathBuf,
    /// The target's time, which the client signs its requests with.
    pub clock: Arc<dyn Clock>,
    /// Whether that time flows (real or offset) or stands still.
    pub clock_flows: bool,
    /// A private authority for a TLS target (`PARSEC_MFA_CA_CERT`).
    pub ca_file: Option<PathBuf>,
    /// The longest the harness waits for the client to prompt, print or end.
    pub timeout: Duration,
}

/// What a client is asking on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// The 6-digit code of the authenticator app.
    Code,
    Password,
}

/// What the person does at a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Types this line.
    Type(String),
    /// Has nothing to type: the input is closed.
    Close,
    /// Not now: [`ClientProcess::drive`] returns, the prompt still pending.
    Leave,
}

/// Why [`ClientProcess::drive`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// What it waited for is on stdout.
    Done,
    /// A prompt was left unanswered.
    Prompted(Prompt),
    /// The client ended (its output streams closed).
    Ended,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot start `{shown}`: {source}")]
    Spawn { shown: String, source: std::io::Error },
    #[error(transparent)]
    Faketime(#[from] crate::faketime::FaketimeError),
    #[error(
        "`{shown}` did not {waiting} within {timeout:?} (it was ended){}",
        last_line(.stderr).map(|l| format!("; its last words: {l}")).unwrap_or_default()
    )]
    Hung {
        shown: String,
        waiting: &'static str,
        timeout: Duration,
        stderr: String,
    },
    #[error("`{shown}`: cannot write its input: {source}")]
    Stdin { shown: String, source: std::io::Error },
    #[error("the target's clock is simulated, and the client under test needs libfaketime to follow it ({0})")]
    NoFaketime(crate::faketime::FaketimeError),
}

fn last_line(text: &str) -> Option<&str> {
    text.lines().rev().map(str::trim).find(|l| !l.is_empty())
}

/// A stream's text so far.
#[derive(Debug, Default, Clone)]
struct Stream {
    text: String,
    closed: bool,
    /// Bytes dropped past [`OUTPUT_LIMIT`].
    dropped: usize,
}

#[derive(Debug, Default, Clone)]
struct Output {
    stdout: Stream,
    stderr: Stream,
}

/// How an action ended.
#[derive(Debug, Clone)]
pub struct Ended {
    pub shown: String,
    /// `None`: ended by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The prompts answered, in order.
    pub prompts: Vec<Prompt>,
}

impl Ended {
    /// The client's own sentence for a failure: its last line on stderr.
    pub fn message(&self) -> String {
        last_line(&self.stderr).unwrap_or("(nothing on stderr)").to_owned()
    }
}

pub struct ClientProcess {
    pub shown: String,
    child: Child,
    stdin: Option<ChildStdin>,
    output: watch::Receiver<Output>,
    /// How much of stderr the prompts answered so far have used up.
    answered_upto: usize,
    prompts: Vec<Prompt>,
    faketime: Option<Faketime>,
    env: ClientEnv,
}

/// Each process's libfaketime file: unique within the harness's process.
static NEXT_CLOCK_FILE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl ClientProcess {
    /// `client`'s program with the contract's `args`.
    pub async fn spawn(client: &CommandClient, args: &[String], env: &ClientEnv) -> Result<Self, ClientError> {
        let shown = format!("{} {}", client.command, args.join(" "));
        std::fs::create_dir_all(&env.config_dir).map_err(|source| ClientError::Spawn {
            shown: shown.clone(),
            source,
        })?;
        let mut command = std::process::Command::new("sh");
        // `exec`: the client is the shell's process, and ending it ends it.
        command
            .arg("-c")
            .arg(format!("exec {} \"$@\"", client.command))
            .arg("parsec-client")
            .args(args)
            .env("PARSEC_MFA_CONFIG_DIR", &env.config_dir)
            // Times the client prints (a throttle's end) are read as UTC.
            .env("TZ", "UTC")
            .env_remove("PARSEC_MFA_CA_CERT");
        if let Some(ca) = &env.ca_file {
            command.env("PARSEC_MFA_CA_CERT", ca);
        }
        let faketime = Self::clock_for(client, env)?;
        if let Some(faketime) = &faketime {
            faketime.apply(&mut command);
        }
        let mut command = tokio::process::Command::from(command);
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| ClientError::Spawn {
                shown: shown.clone(),
                source,
            })?;
        let (sender, output) = watch::channel(Output::default());
        let sender = Arc::new(sender);
        if let Some(stdout) = child.stdout.take() {
            tokio::spawn(read_into(stdout, sender.clone(), |o| &mut o.stdout));
        }
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(read_into(stderr, sender, |o| &mut o.stderr));
        }
        Ok(ClientProcess {
            shown,
            stdin: child.stdin.take(),
            child,
            output,
            answered_upto: 0,
            prompts: Vec::new(),
            faketime,
            env: env.clone(),
        })
    }

    /// The client's libfaketime file, set to the target's time; `None`
    /// where the target's time is the real one and libfaketime is missing.
    fn clock_for(client: &CommandClient, env: &ClientEnv) -> Result<Option<Faketime>, ClientError> {
        let offset = env.clock.now().as_micros() - SystemClock.now().as_micros();
        let Some(library) = &client.faketime else {
            // Real time within a second: nothing to follow.
            if env.clock_flows && offset.abs() < 1_000_000 {
                return Ok(None);
            }
            return Err(ClientError::NoFaketime(crate::faketime::FaketimeError::NotInstalled));
        };
        let n = NEXT_CLOCK_FILE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let file = env
            .config_dir
            .join(format!(".parsec-mfa-clock-{}-{n}", std::process::id()));
        let faketime = Faketime::new(library.clone(), file)?;
        Self::set_clock(&faketime, env)?;
        Ok(Some(faketime))
    }

    fn set_clock(faketime: &Faketime, env: &ClientEnv) -> Result<(), ClientError> {
        let now = env.clock.now();
        match env.clock_flows {
            false => faketime.freeze_at(now)?,
            true => faketime.offset_by(now.as_micros() - SystemClock.now().as_micros())?,
        }
        Ok(())
    }

    /// Before the client acts again (a code typed, a shell command): its
    /// clock where the target's is now.
    fn sync_clock(&self) -> Result<(), ClientError> {
        match &self.faketime {
            Some(faketime) => Self::set_clock(faketime, &self.env),
            None => Ok(()),
        }
    }

    /// The prompt the client is waiting on, if its last words on stderr
    /// are one (a line ending in `:` that names a code or a password).
    fn pending_prompt(&self, output: &Output) -> Option<Prompt> {
        let unanswered = output.stderr.text.get(self.answered_upto..).unwrap_or_default();
        let line = unanswered.trim_end_matches(' ').rsplit('\n').next()?;
        if !line.ends_with(':') {
            return None;
        }
        let lower = line.to_lowercase();
        if lower.contains("password") {
            Some(Prompt::Password)
        } else if lower.contains("code") {
            Some(Prompt::Code)
        } else {
            None
        }
    }

    /// Answers prompts with `answer` until `done` holds of stdout, a
    /// prompt is left unanswered ([`Answer::Leave`]), or the client ends.
    pub async fn drive(
        &mut self,
        waiting: &'static str,
        answer: &mut dyn FnMut(Prompt) -> Answer,
        done: &dyn Fn(&str) -> bool,
    ) -> Result<Stop, ClientError> {
        loop {
            let output = self.wait(waiting, true, done).await?;
            if done(&output.stdout.text) {
                return Ok(Stop::Done);
            }
            let Some(prompt) = self.pending_prompt(&output) else {
                return Ok(Stop::Ended);
            };
            let line = match answer(prompt) {
                Answer::Leave => return Ok(Stop::Prompted(prompt)),
                Answer::Type(line) => Some(line),
                Answer::Close => None,
            };
            self.answered_upto = output.stderr.text.len();
            self.prompts.push(prompt);
            self.type_line(line.as_deref()).await?;
        }
    }

    /// Waits until stdout holds `done` (`Ok(true)`) or the client ends
    /// (`Ok(false)`), whatever it asks meanwhile.
    pub async fn wait_for_stdout(
        &mut self,
        waiting: &'static str,
        done: &dyn Fn(&str) -> bool,
    ) -> Result<bool, ClientError> {
        let output = self.wait(waiting, false, done).await?;
        Ok(done(&output.stdout.text))
    }

    /// The output once `done` holds, a prompt is pending (when `prompts`),
    /// or both streams are closed; bounded by the timeout.
    async fn wait(
        &mut self,
        waiting: &'static str,
        prompts: bool,
        done: &dyn Fn(&str) -> bool,
    ) -> Result<Output, ClientError> {
        let mut receiver = self.output.clone();
        let seen = tokio::time::timeout(
            self.env.timeout,
            receiver.wait_for(|o| {
                done(&o.stdout.text)
                    || (prompts && self.pending_prompt(o).is_some())
                    || (o.stdout.closed && o.stderr.closed)
            }),
        )
        .await;
        match seen {
            Ok(Ok(output)) => Ok(output.clone()),
            // The readers are gone: what they read is all there is.
            Ok(Err(_)) => Ok(self.output.borrow().clone()),
            Err(_) => Err(self.hung(waiting)),
        }
    }

    /// Types `line` (and Enter), or closes the input (`None`).
    pub async fn type_line(&mut self, line: Option<&str>) -> Result<(), ClientError> {
        self.sync_clock()?;
        let Some(line) = line else {
            self.stdin = None;
            return Ok(());
        };
        let Some(stdin) = self.stdin.as_mut() else {
            return Ok(());
        };
        let written = stdin.write_all(format!("{line}\n").as_bytes()).await;
        match written.and(stdin.flush().await) {
            Ok(()) => Ok(()),
            // The client stopped reading (it ended): what it said tells why.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            Err(source) => Err(ClientError::Stdin {
                shown: self.shown.clone(),
                source,
            }),
        }
    }

    /// The prompts answered so far, in order.
    pub fn prompts(&self) -> &[Prompt] {
        &self.prompts
    }

    /// What the client has printed on stdout so far.
    pub fn stdout(&self) -> String {
        self.output.borrow().stdout.text.clone()
    }

    /// Closes its input and waits for the end (answering no more prompts).
    pub async fn end(mut self) -> Result<Ended, ClientError> {
        self.stdin = None;
        let ended = tokio::time::timeout(self.env.timeout, async {
            let mut receiver = self.output.clone();
            let _ = receiver.wait_for(|o| o.stdout.closed && o.stderr.closed).await;
            self.child.wait().await
        })
        .await;
        let status = match ended {
            Ok(Ok(status)) => status,
            Ok(Err(source)) => {
                return Err(ClientError::Spawn {
                    shown: self.shown.clone(),
                    source,
                });
            }
            Err(_) => return Err(self.hung("end")),
        };
        let output = self.output.borrow().clone();
        Ok(Ended {
            shown: self.shown.clone(),
            code: status.code(),
            stdout: output.stdout.text,
            stderr: output.stderr.text,
            prompts: self.prompts.clone(),
        })
    }

    fn hung(&mut self, waiting: &'static str) -> ClientError {
        let _ = self.child.start_kill();
        ClientError::Hung {
            shown: self.shown.clone(),
            waiting,
            timeout: self.env.timeout,
            stderr: self.output.borrow().stderr.text.clone(),
        }
    }
}

impl Drop for ClientProcess {
    fn drop(&mut self) {
        if let Some(faketime) = &self.faketime {
            let _ = std::fs::remove_file(faketime.file());
        }
    }
}

/// Reads a stream into its part of the output, keeping at most
/// [`OUTPUT_LIMIT`] bytes of it (the rest is read and counted).
async fn read_into<R: AsyncRead + Unpin>(
    mut stream: R,
    output: Arc<watch::Sender<Output>>,
    part: fn(&mut Output) -> &mut Stream,
) {
    let mut buffer = vec![0u8; 8192];
    // A character cut between two reads waits for its end.
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let read = match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => 0,
            Ok(n) => n,
        };
        if read == 0 {
            output.send_modify(|o| {
                let stream = part(o);
                stream.text.push_str(&String::from_utf8_lossy(&pending));
                stream.closed = true;
            });
            return;
        }
        pending.extend_from_slice(&buffer[..read]);
        let valid = match std::str::from_utf8(&pending) {
            Ok(text) => text.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => pending.len(),
        };
        let chunk: Vec<u8> = pending.drain(..valid).collect();
        let text = String::from_utf8_lossy(&chunk).into_owned();
        output.send_modify(|o| {
            let stream = part(o);
            let room = OUTPUT_LIMIT.saturating_sub(stream.text.len());
            if text.len() <= room {
                stream.text.push_str(&text);
            } else {
                let mut cut = room;
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                stream.text.push_str(&text[..cut]);
                stream.dropped += text.len() - cut;
            }
        });
    }
}
