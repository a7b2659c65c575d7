//! Answers from the person at the keyboard, or from a script: codes and
//! passwords are read in the order they are asked (for an MFA login: the
//! code first, then the password), one line each.

use super::failure::Failure;
use std::io::{BufRead, IsTerminal, Write};

pub struct Input {
    password_stdin: bool,
    lines: std::io::StdinLock<'static>,
}

impl Input {
    pub fn new(password_stdin: bool) -> Self {
        Input {
            password_stdin,
            lines: std::io::stdin().lock(),
        }
    }

    /// The next line of stdin, without its line ending.
    pub fn line(&mut self) -> Option<String> {
        let mut line = String::new();
        match self.lines.read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim_end_matches(['\r', '\n']).to_owned()),
        }
    }

    /// The given code, or one asked for on stderr and read from stdin.
    pub fn code(&mut self, given: Option<&str>, prompt: &str) -> Result<String, Failure> {
        if let Some(code) = given {
            return Ok(code.trim().to_owned());
        }
        eprint!("{prompt}: ");
        let _ = std::io::stderr().flush();
        self.line()
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .ok_or_else(|| Failure::general("No code given (use --code, or type it when asked)."))
    }

    /// A password: the next stdin line with `--password-stdin` (its prompt
    /// still shown on stderr, as the code's is, so that a script's output
    /// says what was asked, in order), else a hidden prompt on the terminal.
    pub fn password(&mut self, prompt: &str) -> Result<String, Failure> {
        if self.password_stdin {
            eprint!("{prompt}: ");
            let _ = std::io::stderr().flush();
            return self
                .line()
                .ok_or_else(|| Failure::general("--password-stdin: no password on stdin."));
        }
        if !std::io::stdin().is_terminal() {
            return Err(Failure::general(
                "No terminal to ask the password: use --password-stdin.",
            ));
        }
        rpassword::prompt_password(format!("{prompt}: "))
            .map_err(|e| Failure::general(format!("Cannot read the password: {e}")))
    }

    /// A new password, asked twice on a terminal.
    pub fn new_password(&mut self, prompt: &str) -> Result<String, Failure> {
        let password = self.password(prompt)?;
        if password.is_empty() {
            return Err(Failure::general("The password must not be empty."));
        }
        if !self.password_stdin {
            let again = self.password("Confirm the password")?;
            if again != password {
                return Err(Failure::general("The two passwords differ."));
            }
        }
        Ok(password)
    }
}
