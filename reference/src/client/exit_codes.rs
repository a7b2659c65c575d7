//! The client commands' exit codes: part of the client contract
//! (`docs/porting-a-client.md`), which every client under test follows and
//! the harness reads. Only ever added to.

pub const OK: u8 = 0;
/// Any other error (a refusal with no code of its own).
pub const GENERAL: u8 = 1;
pub const USAGE: u8 = 2;
pub const INVALID_CODE: u8 = 3;
/// Throttled: the message gives the time to try again.
pub const THROTTLED: u8 = 4;
pub const WRONG_PASSWORD: u8 = 5;
pub const UNREACHABLE: u8 = 6;
/// Refused by the organization's protection advice.
pub const POLICY: u8 = 7;
pub const BAD_RESET_LINK: u8 = 8;
/// The server's TLS certificate is untrusted or for another name.
pub const UNTRUSTED_SERVER: u8 = 9;
/// The client does not implement this command (BoGo's "unimplemented").
pub const UNIMPLEMENTED: u8 = 89;
