//! Reference implementation of the Parsec MFA (TOTP) lifecycle.
//!
//! - [`protocol`]: the official wire format (API 5.5), one file per command;
//! - [`crypto`], [`totp`]: the primitives under it;
//! - [`server`]: the reference server (axum);
//! - [`client`]: the reference client (reqwest);
//! - [`clock`]: the one injected source of time of both.

pub mod client;
pub mod clock;
pub mod crypto;
pub mod protocol;
pub mod server;
pub mod totp;
