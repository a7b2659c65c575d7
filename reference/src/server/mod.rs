//! The reference server: the MFA lifecycle on the official wire protocol.
//!
//! Layout: [`rpc`] (handshake and routing of commands), one file per command
//! under `anonymous/`, `authenticated/`, `anonymous_server/`, the
//! administration API under `administration/`, state in [`store`], time in
//! [`clock`], email in [`mailer`]; the decisions several commands share in
//! `rules.rs`, and the deliberate defects that can replace them in
//! [`faults`].

// Handlers return an early `Response` as their error: the idiom of axum.
#![allow(clippy::result_large_err)]

pub mod administration;
mod anonymous;
mod anonymous_server;
mod authenticated;
mod certificates;
pub use crate::clock;
pub mod faults;
mod http;
pub mod mailer;
pub mod rpc;
mod rules;
pub mod store;
mod test_clock;
pub mod tls;

pub use crate::clock::{Clock, ManualClock, OffsetClock, SystemClock};
pub use faults::{Fault, FaultError, Faults};
pub use mailer::EmailConfig;
pub use rules::Barred;
pub use store::{StorageConfig, Store};

use crate::protocol::addr::{ServerAddr, redirect_target};
use crate::protocol::anonymous_server::server_config::AdvisoryDeviceFileProtection;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::sync::Arc;

/// What `parsec-mfa serve` is started with.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub administration_token: String,
    /// The public address, used in reset links and redirections.
    pub server_addr: ServerAddr,
    pub email: EmailConfig,
    pub advisory_device_file_protection: Vec<AdvisoryDeviceFileProtection>,
    pub spontaneous_organization_bootstrap: bool,
}

/// Everything a request handler can reach.
pub struct AppState {
    pub config: ServerConfig,
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    /// Set when the clock may be moved through the test control surface.
    pub test_clock: Option<ManualClock>,
    /// Deliberate defects for mutation testing of the conformance suite;
    /// none unless asked for.
    pub faults: Faults,
    /// Served over TLS: the links built from a request's `Host` are TLS
    /// addresses.
    pub tls: bool,
}

impl AppState {
    pub fn new(config: ServerConfig, store: Store, clock: Arc<dyn Clock>) -> Self {
        AppState {
            config,
            store,
            clock,
            test_clock: None,
            faults: Faults::default(),
            tls: false,
        }
    }
}

/// The whole HTTP surface.
pub fn router(state: Arc<AppState>) -> Router {
    let mut router = Router::new()
        .route(
            "/anonymous/{*organization_id}",
            get(rpc::anonymous_endpoint).post(rpc::anonymous_endpoint),
        )
        .route("/authenticated/{*organization_id}", post(rpc::authenticated_endpoint))
        .route("/anonymous_server", post(rpc::anonymous_server_endpoint))
        .route(
            "/administration/organizations",
            post(administration::create_organization::handle),
        )
        .route(
            "/administration/organizations/{organization_id}/users/reset_totp",
            post(administration::reset_totp::handle),
        )
        .route(
            "/administration/organizations/{organization_id}/users/freeze",
            post(administration::freeze_user::handle),
        )
        .route("/redirect/{*path}", get(redirect))
        .fallback(rpc::not_found);
    if state.test_clock.is_some() {
        router = router.merge(test_clock::routes());
    }
    router.with_state(state)
}

/// `GET /redirect/<path>`: 302 to the `parsec3://` form of the link.
async fn redirect(
    State(state): State<Arc<AppState>>,
    axum::extract::Path(path): axum::extract::Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let encoded = percent_encoding::utf8_percent_encode(&path, percent_encoding::CONTROLS).to_string();
    let target = redirect_target(&state.config.server_addr, &encoded, query.as_deref().unwrap_or(""));
    match HeaderValue::from_str(&target) {
        Ok(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
        Err(_) => http::json_detail(400, "Invalid redirection"),
    }
}

/// Serves until the listener fails.
pub async fn serve(listener: tokio::net::TcpListener, state: Arc<AppState>) -> std::io::Result<()> {
    axum::serve(listener, router(state)).await
}

/// Serves over TLS (see [`tls`]) until the listener fails.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    config: Arc<rustls::ServerConfig>,
    state: Arc<AppState>,
) -> std::io::Result<()> {
    axum::serve(tls::TlsListener::new(listener, config)?, router(state)).await
}
