//! Checks shared by the commands that receive certificates.

use crate::crypto::VerifyKey;
use crate::protocol::DateTime;
use crate::protocol::certif::{Certificate, CertificateSigner};
use crate::protocol::token::{BALLPARK_CLIENT_EARLY_OFFSET, BALLPARK_CLIENT_LATE_OFFSET};

/// Why certificates were refused, before any state is looked at.
pub enum Refused {
    Invalid,
    OutOfBallpark { client: DateTime, server: DateTime },
}

/// Verifies the signature and author, or says the certificate is invalid.
pub fn verify<C: Certificate>(signed: &[u8], key: &VerifyKey, author: CertificateSigner) -> Result<C, Refused> {
    C::verify_and_load(signed, key, author, None).map_err(|_| Refused::Invalid)
}

/// A certificate must be dated close to the server's time.
pub fn check_ballpark(client: DateTime, server: DateTime) -> Result<(), Refused> {
    let delta = server.as_micros() - client.as_micros();
    let early = BALLPARK_CLIENT_EARLY_OFFSET * 1_000_000;
    let late = BALLPARK_CLIENT_LATE_OFFSET * 1_000_000;
    if -early < delta && delta < late {
        Ok(())
    } else {
        Err(Refused::OutOfBallpark { client, server })
    }
}

pub const EARLY_OFFSET: f64 = BALLPARK_CLIENT_EARLY_OFFSET as f64;
pub const LATE_OFFSET: f64 = BALLPARK_CLIENT_LATE_OFFSET as f64;

/// Turns a refusal into a command's reply: `$rep::InvalidCertificate` or
/// `$rep::TimestampOutOfBallpark`.
macro_rules! refused_reply {
    ($rep:ident, $refused:expr) => {
        match $refused {
            $crate::server::certificates::Refused::Invalid => $rep::InvalidCertificate {},
            $crate::server::certificates::Refused::OutOfBallpark { client, server } => $rep::TimestampOutOfBallpark {
                ballpark_client_early_offset: $crate::server::certificates::EARLY_OFFSET,
                ballpark_client_late_offset: $crate::server::certificates::LATE_OFFSET,
                client_timestamp: client,
                server_timestamp: server,
            },
        }
    };
}
pub(crate) use refused_reply;
