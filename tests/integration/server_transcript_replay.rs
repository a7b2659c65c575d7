//! Replays every request of the lifecycle recorded against the official
//! server 3.9.3 (fixtures/transcripts/) against the reference server, in
//! order, and expects the recorded HTTP status and reply status of each.
//!
//! The simulated clock follows the recording's timeline (`at_unix` of each
//! exchange), so token ages and the throttle replay exactly. What the
//! reference server generates itself differs from the recording and is
//! substituted: the bootstrap token, TOTP secrets (codes are recomputed for
//! the same steps), the opaque key id and the reset token. Valid tokens are
//! re-signed with the recorded device key at the simulated time.
//!
//! One known divergence: authenticated `ping` gets 500 from the official
//! server (no handler); the reference answers `ok`.

use parsec_mfa_reference::crypto::SigningKey;
use parsec_mfa_reference::protocol::addr::{BootstrapAddr, TotpResetAddr};
use parsec_mfa_reference::protocol::anonymous::AnyCmdReq as AnonReq;
use parsec_mfa_reference::protocol::authenticated::AnyCmdReq as AuthReq;
use parsec_mfa_reference::protocol::codec::{Fields, decode_value};
use parsec_mfa_reference::protocol::token::AuthenticatedToken;
use parsec_mfa_reference::protocol::{AccessToken, DateTime, DeviceID, TOTPOpaqueKeyID};
use parsec_mfa_reference::server::{Faults, ManualClock, Store};
use parsec_mfa_reference::totp;
use parsec_mfa_scenarios::testing::server::InProcessServer;
use serde_json::Value as Json;

const TRANSCRIPT: &str = "fixtures/transcripts/official-3.9.3-mfa-lifecycle.json";

fn hex32(v: &Json) -> [u8; 32] {
    hex::decode(v.as_str().unwrap()).unwrap().try_into().unwrap()
}

/// What the replay learnt from the reference server's own answers.
#[derive(Default)]
struct Learnt {
    bootstrap_token: Option<AccessToken>,
    secret: Option<Vec<u8>>,
    opaque_key_id: Option<TOTPOpaqueKeyID>,
    reset_token: Option<AccessToken>,
}

fn reply_status(body: &[u8]) -> String {
    let value = decode_value(body).expect("msgpack reply");
    Fields::new(&value, &[]).unwrap().tag("status").unwrap().to_owned()
}

#[tokio::test]
async fn the_official_lifecycle_replays_with_the_recorded_outcomes() {
    let transcript: Json = serde_json::from_str(&std::fs::read_to_string(TRANSCRIPT).unwrap()).unwrap();
    let keys = &transcript["keys"];
    let device_key = SigningKey(hex32(&keys["device_signing_key"]));
    let device_id = DeviceID::from_hex(keys["device_id"].as_str().unwrap()).unwrap();
    let recorded_key_id = TOTPOpaqueKeyID::from_hex(keys["opaque_key_id"].as_str().unwrap()).unwrap();
    let recorded_reset_token = AccessToken::from_hex(keys["reset_token_1"].as_str().unwrap()).unwrap();

    let exchanges = transcript["exchanges"].as_array().unwrap();
    let at = |e: &Json| DateTime::from_micros((e["at_unix"].as_f64().unwrap() * 1e6) as i64);
    let clock = ManualClock::new(at(&exchanges[0]));
    let server = InProcessServer::start(clock.clone(), Store::memory(), Faults::default(), |config| {
        config.advisory_device_file_protection = vec!["PASSWORD+TOTP".parse().unwrap(), "PKI".parse().unwrap()];
        config.spontaneous_organization_bootstrap = true;
    })
    .await
    .unwrap();
    let port = server.addr.port();
    parsec_mfa_reference::client::tls::install_crypto_provider();
    let http = reqwest::Client::new();
    let mut learnt = Learnt::default();

    for e in exchanges {
        let name = e["name"].as_str().unwrap();
        clock.set(at(e));
        let now = at(e).unix_seconds();
        let path = e["path"].as_str().unwrap();
        let mut body = match e["request_body_hex"].as_str() {
            Some(h) if !h.is_empty() => hex::decode(h).unwrap(),
            _ => vec![],
        };
        if name == "handshake_body_too_large" {
            body = vec![0; 1024 * 1024 + 1];
        }
        // Substitute what the reference server generated in place of the
        // official server's values.
        let code_for =
            |offset: i64, learnt: &Learnt| totp::code_at(learnt.secret.as_deref().unwrap(), (now + offset) as u64);
        if path.starts_with("/anonymous/") && !body.is_empty() && name != "handshake_body_too_large" {
            let req = AnonReq::load(&body).unwrap_or_else(|err| panic!("{name}: {err}"));
            body = match req {
                AnonReq::OrganizationBootstrap(mut r) => {
                    r.bootstrap_token = learnt.bootstrap_token;
                    r.dump()
                }
                AnonReq::TotpFetchOpaqueKey(mut r) => {
                    if r.opaque_key_id == recorded_key_id {
                        r.opaque_key_id = learnt.opaque_key_id.unwrap();
                    }
                    r.one_time_password = match name {
                        "anonymous_totp_fetch_opaque_key_previous_step" => code_for(-30, &learnt),
                        "anonymous_totp_fetch_opaque_key_two_steps_back" => code_for(-60, &learnt),
                        // The lost phone's code: computed from the old secret.
                        "anonymous_totp_fetch_opaque_key_old_secret_after_reset" => r.one_time_password,
                        _ => code_for(0, &learnt),
                    };
                    r.dump()
                }
                AnonReq::TotpSetupGetSecret(mut r) => {
                    if r.token == recorded_reset_token {
                        r.token = learnt.reset_token.unwrap();
                    }
                    r.dump()
                }
                AnonReq::TotpSetupConfirm(mut r) => {
                    if r.token == recorded_reset_token {
                        r.token = learnt.reset_token.unwrap();
                    }
                    if r.one_time_password != "000000" {
                        r.one_time_password = code_for(0, &learnt);
                    }
                    r.dump()
                }
                AnonReq::Ping(r) => r.dump(),
            };
        }
        if path.starts_with("/authenticated/")
            && name == "authenticated_totp_setup_confirm"
            && let AuthReq::TotpSetupConfirm(mut r) = AuthReq::load(&body).unwrap()
        {
            r.one_time_password = code_for(0, &learnt);
            body = r.dump();
        }

        let mut request = http.request(
            e["method"].as_str().unwrap().parse().unwrap(),
            format!("http://127.0.0.1:{port}{path}"),
        );
        for (header, value) in e["request_headers"].as_object().unwrap() {
            let mut value = value.as_str().unwrap().to_owned();
            if header == "Authorization" && value.starts_with("Bearer PARSEC-SIGN-ED25519.") {
                let token = AuthenticatedToken::parse(&value["Bearer ".len()..]).unwrap();
                // Re-sign the valid tokens; keep the deliberately bad ones.
                if token.device_id == device_id && token.verify(&device_key.verify_key()) && token.timestamp == now {
                    value = format!("Bearer {}", AuthenticatedToken::build(device_id, &device_key, now));
                }
            }
            request = request.header(header, value);
        }
        let response = request.body(body).send().await.unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let bytes = response.bytes().await.unwrap();

        if name == "authenticated_ping" {
            assert_eq!(e["status"], 500, "the recording shows the official 500");
            assert_eq!(
                (status, reply_status(&bytes).as_str()),
                (200, "ok"),
                "{name}: reference answers ping"
            );
            continue;
        }
        assert_eq!(status, e["status"].as_u64().unwrap() as u16, "{name}: HTTP status");
        if content_type == "application/msgpack" {
            let recorded = hex::decode(e["response_body_hex"].as_str().unwrap()).unwrap();
            assert_eq!(reply_status(&bytes), reply_status(&recorded), "{name}: reply status");
            let value = decode_value(&bytes).unwrap();
            let fields = Fields::new(&value, &[]).unwrap();
            if let Some(secret) = fields.get("totp_secret") {
                learnt.secret = Some(secret.as_slice().unwrap().to_vec());
            }
            if name == "authenticated_totp_create_opaque_key" {
                learnt.opaque_key_id = Some(fields.required("opaque_key_id").unwrap());
            }
            if name == "anonymous_totp_fetch_opaque_key_throttled" {
                // One failure at the previous exchange: wait 1 s from it.
                let failure = at(&exchanges[25]);
                assert_eq!(
                    fields.required::<DateTime>("wait_until").unwrap(),
                    failure.add_seconds(1)
                );
            }
            if name == "anonymous_server_server_config" {
                assert_eq!(bytes.as_ref(), recorded.as_slice(), "server_config is byte-identical");
            }
        } else {
            let json: Json = serde_json::from_slice(&bytes).unwrap_or_else(|_| panic!("{name}: JSON body"));
            let recorded: Json =
                serde_json::from_slice(&hex::decode(e["response_body_hex"].as_str().unwrap()).unwrap()).unwrap();
            if let Some(detail) = recorded.get("detail") {
                assert_eq!(json.get("detail"), Some(detail), "{name}: detail");
            }
            if name == "admin_create_organization" {
                let url = json["bootstrap_url"].as_str().unwrap();
                learnt.bootstrap_token = BootstrapAddr::parse_any(url).unwrap().token;
                assert!(url.starts_with(&format!(
                    "parsec3://127.0.0.1:{port}/GoldenOrg21520?no_ssl=true&a=bootstrap_organization&p="
                )));
            }
            if name.starts_with("admin_reset_totp_by") {
                assert_eq!(json["user_id"], recorded["user_id"]);
                assert_eq!(json["user_email"], recorded["user_email"]);
                assert_eq!(json["email_sent_status"], recorded["email_sent_status"]);
                let addr = TotpResetAddr::parse_any(json["totp_reset_url"].as_str().unwrap()).unwrap();
                assert_eq!(
                    TotpResetAddr::parse_any(json["totp_reset_url_as_http_redirection"].as_str().unwrap()).unwrap(),
                    addr
                );
                learnt.reset_token = Some(addr.token);
            }
        }
    }
}
