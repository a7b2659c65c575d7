//! Handlers of the anonymous_server commands.

use super::AppState;
use crate::protocol::anonymous_server::server_config::{
    AccountConfig, CryptPadConfig, OpenBaoConfig, OrganizationBootstrapConfig, Rep as ConfigRep, ServerConfig,
};
use crate::protocol::anonymous_server::{AnyCmdReq, ping};

pub fn dispatch(state: &AppState, req: AnyCmdReq) -> Vec<u8> {
    match req {
        AnyCmdReq::Ping(req) => ping::Rep::Ok { pong: req.ping }.dump(),
        AnyCmdReq::ServerConfig(_) => server_config(state).dump(),
    }
}

/// Only MFA-related settings vary; accounts, OpenBao and CryptPad are off.
fn server_config(state: &AppState) -> ConfigRep {
    let config = &state.config;
    ConfigRep::Ok(ServerConfig {
        account: AccountConfig::Disabled,
        // ADV-1: the advice, always present (an empty list for none).
        advisory_device_file_protection: Some(match state.faults.serves_advice() {
            true => config
                .advisory_device_file_protection
                .iter()
                .map(ToString::to_string)
                .collect(),
            false => vec![],
        }),
        cryptpad: Some(CryptPadConfig::Disabled),
        openbao: OpenBaoConfig::Disabled,
        organization_bootstrap: if config.spontaneous_organization_bootstrap {
            OrganizationBootstrapConfig::Spontaneous
        } else {
            OrganizationBootstrapConfig::WithBootstrapToken
        },
    })
}
