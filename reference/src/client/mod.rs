//! The reference client: what the official client does for the MFA
//! lifecycle, against any server.
//!
//! - [`connection`]: RPC over HTTP, handshake errors, bounded retries;
//! - [`enrollment`]: organization bootstrap, new users and devices;
//! - [`mfa`]: the TOTP commands and enabling MFA on a device;
//! - [`device_file`]: the two-layer device file (password, then opaque key);
//! - [`login`]: code first, then password, then the server's advice;
//! - [`policy`]: `advisory_device_file_protection` read as the official client;
//! - [`config_dir`], [`workspace`]: what stays on disk, usable offline;
//! - [`admin`]: the administration REST API;
//! - [`exit_codes`]: the client commands' exit codes (the client contract's);
//! - [`faults`]: the command line's deliberate defects (`--inject-client-fault`);
//! - [`tls`]: plain HTTP or TLS (rustls), a private authority, a proxy in front.

pub mod admin;
pub mod config_dir;
pub mod connection;
pub mod device_file;
pub mod enrollment;
pub mod exit_codes;
pub mod faults;
pub mod login;
pub mod mfa;
pub mod policy;
pub mod tls;
pub mod workspace;

pub use connection::{Connection, ConnectionError, MAX_REPLY_BYTES, ReadError, RetryPolicy, Signer, read_bounded};
