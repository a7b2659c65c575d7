//! The libtest integration tests, one module per former test file, linked
//! into one binary: on a 2-core machine each test binary costs a link of
//! the whole dependency tree (see README, Tests). The `harness = false`
//! tests (declared in Cargo.toml) stay binaries of their own: they print
//! their own summaries.
//!
//! A new libtest test file goes here as a module (`mod name;` below), not
//! as `tests/name.rs`. What tests share with each other and with the
//! harness is in `parsec_mfa_scenarios::testing`; the vector fixtures'
//! helpers, used only here, are in [`vectors`].

mod vectors;

// The reference server's rules and its answers to bad input.
mod server_bad_input;
mod server_cli;
mod server_concurrency;
mod server_restart;
mod server_rules;
mod server_transcript_replay;

// The protocol against the official vectors, the recorded transcript and
// snapshots; properties of the parsers.
mod protocol_vectors;
mod rfc_otp;
mod robustness;
mod snapshots;
mod transcript;
mod types_vectors;

// The generated pages (docs/spec.md's traceability table, docs/divergences.md),
// the docs' relative links, docs/reference.md's command-line examples (trycmd),
// and the crates' module graphs (no import cycle).
mod divergences;
mod doc_links;
mod module_graph;
mod readme_cli;
mod traceability;

// The client library and the command line.
mod bench_smoke;
mod bounded_waits;
mod client_cli;
mod client_device_file;
mod client_failures;
mod conformance_bad_targets;
mod conformance_misbehaving_target;
mod guide_configured_target;
mod renamed_binary;

// The harness's targets.
mod clock_turns;
