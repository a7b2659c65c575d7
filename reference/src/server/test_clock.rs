//! The test control surface of the clock, mounted only with
//! `parsec-mfa serve --test-clock` (refused on a non-loopback address):
//!
//! - `GET  /testing/clock` → `{"now": "<RFC 3339>", "now_us": <µs since epoch>}`
//! - `POST /testing/clock` with `{"set_us": <µs>}` or `{"advance_seconds": <n>}`
//!   → the new time, same shape.

use super::AppState;
use super::http::{json_detail, json_response};
use crate::protocol::DateTime;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use std::sync::Arc;

pub const PATH: &str = "/testing/clock";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Move {
    set_us: Option<i64>,
    advance_seconds: Option<i64>,
}

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route(PATH, get(read).post(move_clock))
}

fn now_response(state: &AppState) -> Response {
    let now = state.clock.now();
    json_response(
        200,
        &serde_json::json!({ "now": now.to_rfc3339(), "now_us": now.as_micros() }),
    )
}

async fn read(State(state): State<Arc<AppState>>) -> Response {
    now_response(&state)
}

async fn move_clock(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let Some(clock) = &state.test_clock else {
        return json_detail(404, "Not Found");
    };
    match serde_json::from_slice::<Move>(&body) {
        Ok(Move {
            set_us: Some(us),
            advance_seconds: None,
        }) => clock.set(DateTime::from_micros(us)),
        Ok(Move {
            set_us: None,
            advance_seconds: Some(s),
        }) => clock.advance_seconds(s),
        _ => {
            return json_detail(422, "expected {\"set_us\": <int>} or {\"advance_seconds\": <int>}");
        }
    }
    now_response(&state)
}
