//! Commands sent to `POST /anonymous_server` (no organization).

crate::protocol::family!(
    /// Any request of the anonymous_server family.
    AnyCmdReq {
        Ping(ping),
        ServerConfig(server_config),
    }
);
