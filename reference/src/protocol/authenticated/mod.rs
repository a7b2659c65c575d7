//! Commands sent to `POST /authenticated/{organization_id}`, signed by a device.

crate::protocol::family!(
    /// Any request of the authenticated family.
    AnyCmdReq {
        Ping(ping),
        TotpSetupGetSecret(totp_setup_get_secret),
        TotpSetupConfirm(totp_setup_confirm),
        TotpCreateOpaqueKey(totp_create_opaque_key),
        UserCreate(user_create),
        DeviceCreate(device_create),
        UserRevoke(user_revoke),
    }
);
