//! Authenticated `user_revoke`: an administrator revokes a user.

use crate::protocol::{Bytes, DateTime};

crate::protocol::command! {
    cmd = "user_revoke";
    req { revoked_user_certificate: Bytes }
    rep {
        Ok = "ok" {},
        AuthorNotAllowed = "author_not_allowed" {},
        UserNotFound = "user_not_found" {},
        UserAlreadyRevoked = "user_already_revoked" { last_common_certificate_timestamp: DateTime },
        InvalidCertificate = "invalid_certificate" {},
        TimestampOutOfBallpark = "timestamp_out_of_ballpark" {
            ballpark_client_early_offset: f64,
            ballpark_client_late_offset: f64,
            client_timestamp: DateTime,
            server_timestamp: DateTime,
        },
        RequireGreaterTimestamp = "require_greater_timestamp" { strictly_greater_than: DateTime },
    }
}
