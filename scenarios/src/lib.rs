//! The conformance harness: what the features run on.
//!
//! - [`mailbox`]: a real SMTP server the target sends its email to.

pub mod mailbox;
