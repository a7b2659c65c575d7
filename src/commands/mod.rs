//! The client and administrator commands of `parsec-mfa` (the server is
//! `serve`, in `main.rs`). Each returns a [`failure::Failure`] with its own
//! exit code.

pub mod attack;
pub mod common;
pub mod conformance;
pub mod device;
pub mod failure;
pub mod input;
pub mod login;
pub mod mfa;
pub mod organization;
pub mod self_check;
pub mod targets;
pub mod user;
