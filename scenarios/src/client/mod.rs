//! The client axis: which client plays the people of the scenarios.
//!
//! `--client reference` (the default) drives the reference client library
//! in this process. `--client cmd="PROGRAM ARGS…"` drives any client
//! through the shim contract of `docs/porting-a-client.md`: one process per
//! user action, `PROGRAM ARGS…` followed by the contract's arguments, its
//! prompts answered as a person would, its output lines and exit code read
//! back ([`process`], [`contract`]).
//!
//! What a command client keeps to itself (its device files, keys and
//! workspace) the harness never reads: a step that needs it is not run
//! with such a client, and says why (see [`not_run`]).

pub mod contract;
pub mod process;
pub mod qr;

use std::path::PathBuf;

/// The client under test.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ClientChoice {
    /// The reference client library, in this process.
    #[default]
    Reference,
    /// A program speaking the client contract.
    Command(CommandClient),
}

/// `--client cmd="PROGRAM ARGS…"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandClient {
    /// A shell command line: `sh -c 'PROGRAM ARGS… "$@"'`, the contract's
    /// arguments in `"$@"`.
    pub command: String,
    /// The libfaketime library the client runs under where the target's
    /// clock is not the real one.
    pub faketime: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientChoiceError {
    #[error("--client {0}: expected `reference` or `cmd=\"PROGRAM ARGS…\"`")]
    Unknown(String),
    #[error("--client cmd=: the command is empty")]
    Empty,
}

impl std::str::FromStr for ClientChoice {
    type Err = ClientChoiceError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text == "reference" {
            return Ok(ClientChoice::Reference);
        }
        let Some(command) = text.strip_prefix("cmd=") else {
            return Err(ClientChoiceError::Unknown(text.to_owned()));
        };
        if command.trim().is_empty() {
            return Err(ClientChoiceError::Empty);
        }
        Ok(ClientChoice::Command(CommandClient {
            command: command.to_owned(),
            faketime: crate::faketime::find_library().ok(),
        }))
    }
}

impl ClientChoice {
    /// What the reports call this client.
    pub fn description(&self) -> String {
        match self {
            ClientChoice::Reference => "the reference client library, in the harness".to_owned(),
            ClientChoice::Command(c) => format!(
                "`{}` through the client contract (docs/porting-a-client.md), one process per action{}",
                c.command,
                match &c.faketime {
                    Some(_) => ", under libfaketime on the target's clock",
                    None => ", without libfaketime (real time only)",
                }
            ),
        }
    }

    /// The short name added to a target's report folder (`None` for the
    /// reference client, whose reports keep the target's name alone).
    pub fn report_suffix(&self) -> Option<String> {
        match self {
            ClientChoice::Reference => None,
            ClientChoice::Command(c) => {
                let stem = |word: &str| {
                    std::path::Path::new(word)
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default()
                };
                // The program, past `env` and its VAR=VALUE words; for an
                // interpreter, the script it runs.
                let words = shell_words(&c.command);
                let mut words = words
                    .iter()
                    .map(String::as_str)
                    .skip_while(|w| *w == "env" || w.contains('='));
                let program = words.next().map(stem).unwrap_or_default();
                let interpreter = ["sh", "bash", "node", "ruby", "perl", "java"].contains(&program.as_str())
                    || program.starts_with("python");
                let stem = match interpreter {
                    true => words.find(|w| !w.starts_with('-')).map(stem).unwrap_or(program),
                    false => program,
                };
                let stem = if stem.is_empty() { "cmd".to_owned() } else { stem };
                let clean: String = stem
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' })
                    .collect();
                Some(format!("client-{clean}"))
            }
        }
    }

    /// The reference client's own binary, through the contract.
    pub fn reference_binary(binary: PathBuf) -> ClientChoice {
        ClientChoice::Command(CommandClient {
            command: format!("'{}'", binary.display()),
            faketime: crate::faketime::find_library().ok(),
        })
    }

    pub fn command(&self) -> Option<&CommandClient> {
        match self {
            ClientChoice::Reference => None,
            ClientChoice::Command(c) => Some(c),
        }
    }
}

/// A command line's words, single-quoted ones kept whole (the shell parses
/// the command itself; this is only to name it).
fn shell_words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in command.chars() {
        match c {
            '\'' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// The start of the panic message of a step that cannot run with the
/// client under test: the report counts the scenario as skipped, with the
/// rest of the message as the reason, never as passed or failed.
pub const NOT_RUN: &str = "not run with this client: ";

/// Ends the step: the scenario is skipped, for `reason`.
pub fn not_run(reason: impl std::fmt::Display) -> ! {
    std::panic::panic_any(format!("{NOT_RUN}{reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_parse() {
        assert_eq!("reference".parse::<ClientChoice>().unwrap(), ClientChoice::Reference);
        let ClientChoice::Command(c) = "cmd=python3 clients/python/client.py".parse::<ClientChoice>().unwrap() else {
            panic!("a command")
        };
        assert_eq!(c.command, "python3 clients/python/client.py");
        assert!("cmd=  ".parse::<ClientChoice>().is_err());
        assert!("firefox".parse::<ClientChoice>().is_err());
    }

    #[test]
    fn report_folders_name_the_client() {
        assert_eq!(ClientChoice::Reference.report_suffix(), None);
        let choice: ClientChoice = "cmd=/x/target/debug/parsec-mfa --flag".parse().unwrap();
        assert_eq!(choice.report_suffix().as_deref(), Some("client-parsec-mfa"));
        let choice: ClientChoice = "cmd=env A=1 python3 -u clients/python/parsec_client.py"
            .parse()
            .unwrap();
        assert_eq!(choice.report_suffix().as_deref(), Some("client-parsec-client"));
        let choice: ClientChoice = "cmd='/a b/parsec-mfa' --inject-client-fault x".parse().unwrap();
        assert_eq!(choice.report_suffix().as_deref(), Some("client-parsec-mfa"));
    }
}
