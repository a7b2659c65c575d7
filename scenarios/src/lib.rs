//! The conformance harness: what the features run on.
//!
//! - [`attack`]: the attacker's figures for a target (`parsec-mfa attack`);
//! - [`catalogue`]: the rules of `docs/spec.md` and the scenarios that cite
//!   them (the traceability table);
//! - [`client`]: the client under test (`--client`): the reference library,
//!   or a program speaking the client contract;
//! - [`mailbox`]: a real SMTP server the target sends its email to;
//! - [`servers`]: the reference and official servers as processes;
//! - [`faketime`]: libfaketime, the clock of the servers the harness starts;
//! - [`report`]: the results of a run per scenario, as JUnit, cucumber JSON and HTML pages;
//! - [`expectations`]: expected results as data (`--expect`): known
//!   divergences and skips per target, and the verdict of each scenario;
//! - [`self_check`]: the features against the reference server with each
//!   deliberate defect, in each profile: the kill matrix;
//! - [`testing`]: what the tests in `tests/` share with the harness: the
//!   in-process server, the command line as a person drives it, Chromium,
//!   wrong codes.

pub mod attack;
pub mod authenticator;
pub mod catalogue;
pub mod client;
pub mod exchange;
pub mod expectations;
pub mod explore;
pub mod faketime;
pub mod lockstep;
pub mod mailbox;
pub mod network;
pub mod report;
pub mod runner;
pub mod self_check;
pub mod servers;
pub mod shard;
pub mod steps;
pub mod targets;
pub mod testing;
pub mod world;
