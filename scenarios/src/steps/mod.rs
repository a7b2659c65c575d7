//! Step definitions, grouped by who acts: the user, the server
//! administrator, an attacker, the network, the clock, the mailbox.
//!
//! Steps are registered at link time; [`link`] is called by every runner so
//! the linker keeps each module (a step module nobody references could be
//! dropped, and its steps would then be undefined, which fails the run).

pub mod administrator;
pub mod attacker;
pub mod clock;
pub mod mailbox;
pub mod network;
pub mod user;

/// Keeps every step module in the final binary.
pub fn link() -> usize {
    [
        administrator::ANCHOR,
        attacker::ANCHOR,
        clock::ANCHOR,
        mailbox::ANCHOR,
        network::ANCHOR,
        user::ANCHOR,
    ]
    .iter()
    .map(|anchor| std::hint::black_box(anchor.len()))
    .sum()
}
