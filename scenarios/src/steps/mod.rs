//! Step definitions, grouped by concept: people, their devices and phones
//! (`user`), enabling MFA, logging in, the workspace, the reset link, the
//! server administrator, an attacker, the network, the clock, the
//! mailbox; and the command line, where the guides' examples run through
//! the binary. The user's actions go through the client under test
//! (`through_client` for a command client).
//!
//! Steps are registered at link time; [`link`] is called by every runner so
//! the linker keeps each module (a step module nobody references could be
//! dropped, and its steps would then be undefined, which fails the run).

pub mod administrator;
pub mod attacker;
pub mod clock;
pub mod command_line;
pub mod enable_mfa;
pub mod explore;
pub mod login;
pub mod mailbox;
pub mod network;
pub mod reset_link;
pub mod stolen_laptop;
pub mod through_client;
pub mod user;
pub mod workspace;

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
        enable_mfa::ANCHOR,
        explore::ANCHOR,
        login::ANCHOR,
        mailbox::ANCHOR,
        network::ANCHOR,
        reset_link::ANCHOR,
        stolen_laptop::ANCHOR,
        user::ANCHOR,
        workspace::ANCHOR,
    ]
    .iter()
    .map(|anchor| std::hint::black_box(anchor.len()))
    .sum()
}
