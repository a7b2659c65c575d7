//! The commands of `parsec-mfa`, one file each: the harness (`conformance`,
//! `self-check`, `attack`, `explore`), the reference server (`serve`) and its load
//! test (`bench`), the client and administrator commands. Each returns a
//! [`failure::Failure`] with its own exit code.

pub mod attack;
pub mod bench;
pub mod client_faults;
pub mod common;
pub mod conformance;
pub mod device;
pub mod explore;
pub mod failure;
pub mod input;
pub mod login;
pub mod mfa;
pub mod organization;
pub mod self_check;
pub mod serve;
pub mod targets;
pub mod user;
