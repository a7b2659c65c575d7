//! A command of the harness run to its end, as the tests that drive
//! `parsec-mfa conformance` (and its other commands) read it: exit code,
//! output, time.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Instant;

/// What a finished command printed, its exit code and how long it took.
pub struct Run {
    /// -1 when a signal ended it.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub seconds: f64,
}

impl Run {
    /// Runs `command` to its end with `stdin` as its input.
    pub fn of(command: &mut Command, stdin: &str) -> Run {
        let started = Instant::now();
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the command starts");
        // A command that does not read its input closes the pipe: not an error.
        let _ = child.stdin.take().expect("piped stdin").write_all(stdin.as_bytes());
        let out = child.wait_with_output().expect("the command ends");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            seconds: started.elapsed().as_secs_f64(),
        }
    }

    /// Standard output, then standard error.
    pub fn console(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// The line a conformance run closes with, `N passed, N failed, N skipped…`.
    pub fn closing_line(&self) -> &str {
        self.stdout
            .lines()
            .rfind(|l| l.contains(" passed, ") && l.contains(" failed, "))
            .unwrap_or("")
    }

    /// Where it went wrong: the last `lines` lines of its output, then its
    /// standard error whole.
    pub fn tail(&self, lines: usize) -> String {
        let stdout: Vec<&str> = self.stdout.lines().collect();
        format!(
            "{}\n{}",
            stdout[stdout.len().saturating_sub(lines)..].join("\n"),
            self.stderr
        )
    }

    /// A test's failure message: `what` went wrong, with the exit code and
    /// the run's last lines.
    pub fn failure(&self, what: &str) -> String {
        format!("{what}; exit {}\n{}", self.code, self.tail(15))
    }

    /// `Ok` when `ok`, else [`Run::failure`].
    // String: a test's failure message, for the tests' `Result<_, String>` checks.
    pub fn check(&self, what: &str, ok: bool) -> Result<(), String> {
        if ok { Ok(()) } else { Err(self.failure(what)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_closing_line_code_and_tail_are_read() {
        let run = Run::of(
            Command::new("sh").args(["-c", "cat; echo '1 passed, 2 failed, 0 skipped'; echo oops >&2; exit 3"]),
            "first\n",
        );
        assert_eq!(run.code, 3);
        assert_eq!(run.closing_line(), "1 passed, 2 failed, 0 skipped");
        assert_eq!(run.tail(1), "1 passed, 2 failed, 0 skipped\noops\n");
        assert_eq!(run.console(), "first\n1 passed, 2 failed, 0 skipped\noops\n");
    }
}
