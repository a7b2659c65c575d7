//! Commands sent to `POST /anonymous/{organization_id}` (no authentication).

crate::protocol::family!(
    /// Any request of the anonymous family.
    AnyCmdReq {
        OrganizationBootstrap(organization_bootstrap),
        Ping(ping),
        TotpSetupGetSecret(totp_setup_get_secret),
        TotpSetupConfirm(totp_setup_confirm),
        TotpFetchOpaqueKey(totp_fetch_opaque_key),
    }
);
