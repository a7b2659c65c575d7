//! `organization_bootstrap`: creates the first user and device of an
//! organization and fixes its root verify key.

use crate::crypto::VerifyKey;
use crate::protocol::{AccessToken, Bytes, DateTime};

crate::protocol::command! {
    /// `bootstrap_token` is none for a spontaneous bootstrap (the
    /// organization was not created by an administrator first).
    /// `sequester_authority_certificate` is none when sequestering is off.
    cmd = "organization_bootstrap";
    req {
        bootstrap_token: Option<AccessToken>,
        root_verify_key: VerifyKey,
        user_certificate: Bytes,
        device_certificate: Bytes,
        redacted_user_certificate: Bytes,
        redacted_device_certificate: Bytes,
        sequester_authority_certificate: Option<Bytes>,
    }
    rep {
        Ok = "ok" {},
        InvalidCertificate = "invalid_certificate" {},
        OrganizationAlreadyBootstrapped = "organization_already_bootstrapped" {},
        InvalidBootstrapToken = "invalid_bootstrap_token" {},
        TimestampOutOfBallpark = "timestamp_out_of_ballpark" {
            ballpark_client_early_offset: f64,
            ballpark_client_late_offset: f64,
            client_timestamp: DateTime,
            server_timestamp: DateTime,
        },
    }
}
