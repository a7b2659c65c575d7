//! Authenticated `device_create`: a user adds one of their own devices.

use crate::protocol::{Bytes, DateTime};

crate::protocol::command! {
    cmd = "device_create";
    req {
        device_certificate: Bytes,
        redacted_device_certificate: Bytes,
    }
    rep {
        Ok = "ok" {},
        InvalidCertificate = "invalid_certificate" {},
        DeviceAlreadyExists = "device_already_exists" {},
        TimestampOutOfBallpark = "timestamp_out_of_ballpark" {
            ballpark_client_early_offset: f64,
            ballpark_client_late_offset: f64,
            client_timestamp: DateTime,
            server_timestamp: DateTime,
        },
        RequireGreaterTimestamp = "require_greater_timestamp" { strictly_greater_than: DateTime },
    }
}
