//! Driving the `parsec-mfa` command line as a person or a script would:
//! arguments, lines on stdin, and answers read from stdout as they come.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn line_after(&self, prefix: &str) -> Option<String> {
        self.stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix).map(|rest| rest.trim().to_owned()))
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// One user's computer: the binary and a config directory of its own.
pub struct Computer {
    /// The `parsec-mfa` binary (`env!("CARGO_BIN_EXE_parsec-mfa")` in a test).
    pub binary: PathBuf,
    pub config_dir: PathBuf,
}

impl Computer {
    /// A computer with an empty config directory.
    pub fn new(binary: &Path, config_dir: PathBuf) -> Self {
        let _ = std::fs::remove_dir_all(&config_dir);
        Computer {
            binary: binary.to_owned(),
            config_dir,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .args(args)
            .env("PARSEC_MFA_CONFIG_DIR", &self.config_dir)
            .env_remove("PARSEC_SERVER_ADDR")
            .env_remove("PARSEC_ADMINISTRATION_TOKEN")
            .env_remove("PARSEC_ORGANIZATION_ID")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Runs a command with `stdin` as its whole input.
    pub fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self.command(args).spawn().expect("the parsec-mfa binary starts");
        let mut input = child.stdin.take().expect("piped stdin");
        input.write_all(stdin.as_bytes()).expect("stdin accepts the input");
        drop(input);
        let out = child.wait_with_output().expect("the command finishes");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs a command that shows something before asking: writes `first`,
    /// waits for a stdout line starting with `prompt_prefix`, then writes
    /// the line `answer` computes from the rest of that line.
    pub fn run_answering(
        &self,
        args: &[&str],
        first: &str,
        prompt_prefix: &str,
        answer: impl FnOnce(&str) -> String,
    ) -> Output {
        let mut child = self.command(args).spawn().expect("the parsec-mfa binary starts");
        let mut input = child.stdin.take().expect("piped stdin");
        input.write_all(first.as_bytes()).expect("stdin accepts the input");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let err_reader = std::thread::spawn(move || crate::servers::read_all(stderr));
        let mut reader = BufReader::new(stdout);
        let mut seen = String::new();
        let mut answer = Some(answer);
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            seen.push_str(&line);
            if let Some(rest) = line.trim_end().strip_prefix(prompt_prefix)
                && let Some(answer) = answer.take()
            {
                let _ = writeln!(input, "{}", answer(rest.trim()));
                let _ = input.flush();
            }
            line.clear();
        }
        drop(input);
        let status = child.wait().expect("the command finishes");
        Output {
            code: status.code().unwrap_or(-1),
            stdout: seen,
            stderr: err_reader.join().unwrap_or_default(),
        }
    }
}

impl Computer {
    /// `organization create` then `organization bootstrap` with `email` as
    /// the first user (cheap Argon2id, password on stdin).
    pub fn create_and_bootstrap(&self, addr: &str, token: &str, org: &str, email: &str, password: &str) -> Output {
        let created = self.run(&["organization", "create", org, "--addr", addr, "--token", token], "");
        let Some(url) = created.line_after("Bootstrap URL:") else {
            return created;
        };
        self.run(
            &[
                "organization",
                "bootstrap",
                &url,
                "--email",
                email,
                "--name",
                "Alice",
                "--password-stdin",
                "--kdf-cost",
                "minimal",
            ],
            &format!("{password}\n"),
        )
    }

    /// `mfa enable` answering the shown key with its current code; returns
    /// the output and the key shown (empty when none was shown). `after` is
    /// written after the password (e.g. a code when no key is shown).
    pub fn enable_mfa(&self, device: &str, password: &str, after: &str) -> (Output, String) {
        let mut key = String::new();
        let out = self.run_answering(
            &[
                "mfa",
                "enable",
                "--device",
                device,
                "--password-stdin",
                "--kdf-cost",
                "minimal",
            ],
            &format!("{password}\n{after}"),
            "Key:",
            |shown| {
                key = shown.to_owned();
                code_now(shown)
            },
        );
        (out, key)
    }

    /// `login` with `--code`, the password on stdin, then `shell` lines.
    pub fn login(&self, device: &str, code: &str, password: &str, shell: &str) -> Output {
        self.run(
            &["login", "--device", device, "--code", code, "--password-stdin"],
            &format!("{password}\n{shell}"),
        )
    }
}

/// The current code of a base32 key, on the system clock (these tests drive
/// real servers in real time).
pub fn code_now(base32_key: &str) -> String {
    let secret = parsec_mfa_reference::totp::secret_from_base32(base32_key).expect("a base32 key");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    parsec_mfa_reference::totp::code_at(&secret, now)
}

/// A code that is certainly wrong now: no phone clock within three steps
/// shows it.
pub fn wrong_code_now(base32_key: &str) -> String {
    let secret = parsec_mfa_reference::totp::secret_from_base32(base32_key).expect("a base32 key");
    let now = parsec_mfa_reference::clock::Clock::now(&parsec_mfa_reference::clock::SystemClock);
    super::wrong_code(&secret, now.unix_seconds())
}
