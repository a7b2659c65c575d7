//! Authenticated `user_create`: an administrator adds a user (with a first
//! device).

use crate::protocol::{Bytes, DateTime};

crate::protocol::command! {
    cmd = "user_create";
    req {
        user_certificate: Bytes,
        device_certificate: Bytes,
        redacted_user_certificate: Bytes,
        redacted_device_certificate: Bytes,
    }
    rep {
        Ok = "ok" {},
        AuthorNotAllowed = "author_not_allowed" {},
        ActiveUsersLimitReached = "active_users_limit_reached" {},
        UserAlreadyExists = "user_already_exists" {},
        HumanHandleAlreadyTaken = "human_handle_already_taken" {},
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
