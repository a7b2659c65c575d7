//! Step definitions, grouped by who acts: the user, the server
//! administrator, an attacker, the network, the clock, the mailbox; and
//! the command line, where the guides' examples run through the binary.
//!
//! Steps are registered at link time; [`link`] is called by every runner so
//! the linker keeps each module (a step module nobody references could be
//! dropped, and its steps would then be undefined, which fails the run).

pub mod administrator;
pub mod attacker;
pub mod clock;
pub mod command_line;
pub mod mailbox;
pub mod network;
pub mod user;

/// A step's parameter that names nothing the steps know (cucumber parses
/// parameters with `FromStr`).
#[derive(Debug, thiserror::Error)]
#[error("{what} `{text}`")]
pub struct UnknownName {
    /// "no refusal reads", "no reply is named", …
    pub what: &'static str,
    pub text: String,
}

/// Keeps every step module in the final binary.
pub fn link() -> usize {
    [
        administrator::ANCHOR,
        attacker::ANCHOR,
        clock::ANCHOR,
        command_line::ANCHOR,
        mailbox::ANCHOR,
        network::ANCHOR,
        user::ANCHOR,
    ]
    .iter()
    .map(|anchor| std::hint::black_box(anchor.len()))
    .sum()
}
