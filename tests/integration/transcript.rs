//! The wire layer against a full MFA lifecycle recorded on the official
//! server 3.9.3 (`fixtures/transcripts/official-3.9.3-mfa-lifecycle.json`).
//!
//! - every request body, and every response body the server sent as
//!   msgpack, decodes with the right type to the value written below (the
//!   administration API's JSON bodies with `reference::protocol::admin`);
//! - every msgpack request and every HTTP 200 msgpack response re-encodes to
//!   the recorded bytes (and the administration JSON replies too);
//! - the bootstrap certificates verify with the recorded root key, and
//!   re-signing them gives the recorded bytes (Ed25519 is deterministic);
//! - the `Authorization` tokens parse, verify with the recorded device key
//!   (except the two the recording made invalid on purpose) and rebuild to
//!   the recorded strings;
//! - the bootstrap and reset URLs, the base32 secrets and the TOTP codes are
//!   the recorded ones.

use crate::vectors::{Message, unhex, unhex_array};
use parsec_mfa_reference as reference;
use reference::crypto::{PrivateKey, SecretKey, SigningKey};
use reference::protocol::addr::{BootstrapAddr, ServerAddr, TotpResetAddr};
use reference::protocol::admin::{
    CreateOrganizationRep, CreateOrganizationReq, EmailSentStatus, ErrorDetail, ResetTotpRep, ResetTotpReq,
};
use reference::protocol::anonymous_server::server_config::{
    AccountConfig, CryptPadConfig, OpenBaoConfig, OrganizationBootstrapConfig, ServerConfig,
};
use reference::protocol::certif::{Certificate, CertificateSigner, DeviceCertificate, DevicePurpose, UserCertificate};
use reference::protocol::token::AuthenticatedToken;
use reference::protocol::{
    AccessToken, Bytes, DateTime, DecodeError, DeviceID, HumanHandle, OrganizationID, TOTPOpaqueKeyID, UserID,
    UserProfile, anonymous, anonymous_server, authenticated,
};
use reference::totp;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;

const TRANSCRIPT: &str = "transcripts/official-3.9.3-mfa-lifecycle.json";
const EXCHANGE_COUNT: usize = 45;

struct Transcript {
    json: Json,
}

impl Transcript {
    fn load() -> Self {
        let json = crate::vectors::load_json(TRANSCRIPT);
        assert_eq!(json["exchanges"].as_array().map(Vec::len), Some(EXCHANGE_COUNT));
        Transcript { json }
    }

    fn key(&self, name: &str) -> &str {
        self.json["keys"][name]
            .as_str()
            .unwrap_or_else(|| panic!("no key `{name}` in the transcript"))
    }

    fn exchanges(&self) -> impl Iterator<Item = Exchange<'_>> {
        self.json["exchanges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|json| Exchange { json })
    }

    fn exchange(&self, name: &str) -> Exchange<'_> {
        let mut found = self.exchanges().filter(|e| e.name() == name);
        let e = found.next().unwrap_or_else(|| panic!("no exchange `{name}`"));
        assert!(found.next().is_none(), "two exchanges named `{name}`");
        e
    }

    // The recorded keys, typed.
    fn organization_id(&self) -> OrganizationID {
        self.key("organization_id").parse().unwrap()
    }
    fn user_id(&self) -> UserID {
        UserID::from_hex(self.key("user_id")).unwrap()
    }
    fn device_id(&self) -> DeviceID {
        DeviceID::from_hex(self.key("device_id")).unwrap()
    }
    fn root_signing_key(&self) -> SigningKey {
        SigningKey(unhex_array(self.key("root_signing_key")))
    }
    fn device_signing_key(&self) -> SigningKey {
        SigningKey(unhex_array(self.key("device_signing_key")))
    }
    fn user_private_key(&self) -> PrivateKey {
        PrivateKey(unhex_array(self.key("user_private_key")))
    }
    fn certificates_timestamp(&self) -> DateTime {
        DateTime::parse_rfc3339(self.key("certificates_timestamp")).unwrap()
    }
    fn secret_1(&self) -> Vec<u8> {
        unhex(self.key("totp_secret_1"))
    }
    fn secret_2(&self) -> Vec<u8> {
        unhex(self.key("totp_secret_2"))
    }
    fn opaque_key_id(&self) -> TOTPOpaqueKeyID {
        TOTPOpaqueKeyID::from_hex(self.key("opaque_key_id")).unwrap()
    }
    fn opaque_key(&self) -> SecretKey {
        SecretKey(unhex_array(self.key("opaque_key")))
    }
    fn reset_token_1(&self) -> AccessToken {
        AccessToken::from_hex(self.key("reset_token_1")).unwrap()
    }
    /// The bootstrap token, from the `p` parameter of the bootstrap URL.
    fn bootstrap_token(&self) -> AccessToken {
        BootstrapAddr::parse_any(self.key("bootstrap_url"))
            .unwrap()
            .token
            .expect("a bootstrap token")
    }
    fn server(&self) -> ServerAddr {
        ServerAddr {
            hostname: "127.0.0.1".into(),
            port: Some(6777),
            use_ssl: false,
        }
    }
}

#[derive(Clone, Copy)]
struct Exchange<'a> {
    json: &'a Json,
}

impl Exchange<'_> {
    fn name(&self) -> &str {
        self.json["name"].as_str().unwrap()
    }
    fn path(&self) -> &str {
        self.json["path"].as_str().unwrap()
    }
    fn status(&self) -> u64 {
        self.json["status"].as_u64().unwrap()
    }
    fn at_unix(&self) -> f64 {
        self.json["at_unix"].as_f64().unwrap()
    }
    fn request_header(&self, name: &str) -> Option<&str> {
        self.json["request_headers"][name].as_str()
    }
    fn response_content_type(&self) -> &str {
        self.json["response_headers"]["content-type"].as_str().unwrap()
    }
    fn request_body(&self) -> Vec<u8> {
        unhex(self.json["request_body_hex"].as_str().unwrap())
    }
    fn response_body(&self) -> Vec<u8> {
        unhex(self.json["response_body_hex"].as_str().unwrap())
    }
    fn is_msgpack_response(&self) -> bool {
        self.response_content_type() == "application/msgpack"
    }
}

// ---------------------------------------------------------------------------
// Bodies: decode to the expected value, re-encode to the recorded bytes

/// The request decodes to `expected` and re-encodes to the recorded bytes.
fn request<T: Message>(e: Exchange<'_>, expected: T) {
    let name = e.name();
    let body = e.request_body();
    assert_eq!(T::load(&body).as_ref(), Ok(&expected), "{name}: request");
    assert_eq!(
        hex::encode(expected.dump()),
        hex::encode(&body),
        "{name}: request bytes"
    );
}

/// A msgpack reply decodes to `expected`; an HTTP 200 one also re-encodes to
/// the recorded bytes.
fn reply<T: Message>(e: Exchange<'_>, expected: T) {
    let name = e.name();
    assert!(e.is_msgpack_response(), "{name}: a msgpack reply");
    assert_eq!(e.status(), 200, "{name}: RPC replies are HTTP 200");
    let body = e.response_body();
    assert_eq!(T::load(&body).as_ref(), Ok(&expected), "{name}: reply");
    assert_eq!(hex::encode(expected.dump()), hex::encode(&body), "{name}: reply bytes");
}

fn json_body<T: DeserializeOwned>(bytes: &[u8], what: &str) -> T {
    serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// A handshake refusal: a bare HTTP status with a JSON `detail`.
fn refusal(e: Exchange<'_>, status: u64, detail: &str) {
    let name = e.name();
    assert_eq!(e.status(), status, "{name}");
    assert_eq!(e.response_content_type(), "application/json", "{name}");
    let body = e.response_body();
    let decoded: ErrorDetail = json_body(&body, name);
    assert_eq!(decoded.detail, detail, "{name}");
    // serde_json writes the same compact JSON as the official server.
    assert_eq!(serde_json::to_vec(&decoded).unwrap(), body, "{name}: JSON bytes");
}

/// A JSON reply re-encodes (compact, fields in declaration order) to the
/// recorded bytes.
fn json_reply<T: DeserializeOwned + serde::Serialize + PartialEq + std::fmt::Debug>(e: Exchange<'_>, expected: T) {
    let name = e.name();
    assert_eq!(e.status(), 200, "{name}");
    assert_eq!(e.response_content_type(), "application/json", "{name}");
    let body = e.response_body();
    assert_eq!(json_body::<T>(&body, name), expected, "{name}");
    assert_eq!(
        String::from_utf8(serde_json::to_vec(&expected).unwrap()).unwrap(),
        String::from_utf8(body).unwrap(),
        "{name}: JSON bytes"
    );
}

/// `{cmd: "ping", ping: "hello"}` on the authenticated route.
fn hello_ping() -> authenticated::AnyCmdReq {
    authenticated::AnyCmdReq::Ping(authenticated::ping::Req { ping: "hello".into() })
}

fn fetch(user_id: UserID, opaque_key_id: TOTPOpaqueKeyID, code: &str) -> anonymous::AnyCmdReq {
    anonymous::AnyCmdReq::TotpFetchOpaqueKey(anonymous::totp_fetch_opaque_key::Req {
        user_id,
        opaque_key_id,
        one_time_password: code.into(),
    })
}

fn auth_get_secret() -> authenticated::AnyCmdReq {
    authenticated::AnyCmdReq::TotpSetupGetSecret(authenticated::totp_setup_get_secret::Req {})
}

fn auth_confirm(code: &str) -> authenticated::AnyCmdReq {
    authenticated::AnyCmdReq::TotpSetupConfirm(authenticated::totp_setup_confirm::Req {
        one_time_password: code.into(),
    })
}

fn anon_get_secret(user_id: UserID, token: AccessToken) -> anonymous::AnyCmdReq {
    anonymous::AnyCmdReq::TotpSetupGetSecret(anonymous::totp_setup_get_secret::Req { user_id, token })
}

fn anon_confirm(user_id: UserID, token: AccessToken, code: &str) -> anonymous::AnyCmdReq {
    anonymous::AnyCmdReq::TotpSetupConfirm(anonymous::totp_setup_confirm::Req {
        user_id,
        token,
        one_time_password: code.into(),
    })
}

/// The bootstrap request, rebuilt from the recorded keys: certificates
/// signed by the recorded root key.
fn expected_bootstrap(t: &Transcript) -> anonymous::organization_bootstrap::Req {
    let root = t.root_signing_key();
    let (user, device) = expected_certificates(t);
    anonymous::organization_bootstrap::Req {
        bootstrap_token: Some(t.bootstrap_token()),
        root_verify_key: root.verify_key(),
        user_certificate: Bytes(user.dump_and_sign(&root)),
        device_certificate: Bytes(device.dump_and_sign(&root)),
        redacted_user_certificate: Bytes(user.redacted().dump_and_sign(&root)),
        redacted_device_certificate: Bytes(device.redacted().dump_and_sign(&root)),
        sequester_authority_certificate: None,
    }
}

/// What the bootstrap certificates say, from the keys section (the labels
/// are the recording's choice).
fn expected_certificates(t: &Transcript) -> (UserCertificate, DeviceCertificate) {
    let user = UserCertificate {
        author: None,
        timestamp: t.certificates_timestamp(),
        user_id: t.user_id(),
        human_handle: Some(HumanHandle::new("alice@example.com", "Alice").unwrap()),
        public_key: t.user_private_key().public_key(),
        profile: UserProfile::Admin,
    };
    let device = DeviceCertificate {
        purpose: Some(DevicePurpose::Standard),
        author: None,
        timestamp: t.certificates_timestamp(),
        user_id: t.user_id(),
        device_id: t.device_id(),
        device_label: Some("Alice laptop".into()),
        verify_key: t.device_signing_key().verify_key(),
    };
    (user, device)
}

#[test]
fn every_body_decodes_and_reencodes_to_the_recorded_bytes() {
    use anonymous::organization_bootstrap::Rep as BootstrapRep;
    use anonymous::totp_fetch_opaque_key::Rep as FetchRep;
    use authenticated::totp_create_opaque_key::Rep as CreateKeyRep;

    let t = Transcript::load();
    let user = t.user_id();
    let key_id = t.opaque_key_id();
    let opaque_key = || FetchRep::Ok {
        opaque_key: t.opaque_key(),
    };
    let invalid_code = || FetchRep::InvalidOneTimePassword {};
    let secret = |s: Vec<u8>| authenticated::totp_setup_get_secret::Rep::Ok { totp_secret: Bytes(s) };
    let mut seen = 0;

    for e in t.exchanges() {
        seen += 1;
        let name = e.name();
        match name {
            "admin_create_organization" => {
                let req: CreateOrganizationReq = json_body(&e.request_body(), name);
                assert_eq!(
                    req,
                    CreateOrganizationReq {
                        organization_id: t.key("organization_id").into(),
                        ..Default::default()
                    }
                );
                json_reply(
                    e,
                    CreateOrganizationRep {
                        bootstrap_url: t.key("bootstrap_url").into(),
                        bootstrap_url_as_http_redirection: BootstrapAddr::parse_any(t.key("bootstrap_url"))
                            .unwrap()
                            .to_http_redirection_url(),
                    },
                );
            }
            "admin_create_organization_bad_token" => {
                let req: CreateOrganizationReq = json_body(&e.request_body(), name);
                assert_eq!(req.organization_id, format!("{}x", t.key("organization_id")));
                refusal(e, 403, "Bad authorization token");
            }
            "anonymous_server_server_config" => {
                request(
                    e,
                    anonymous_server::AnyCmdReq::ServerConfig(anonymous_server::server_config::Req {}),
                );
                // The server ran with `--advisory-device-file-protection
                // PASSWORD+TOTP --advisory-device-file-protection PKI
                // --spontaneous-organization-bootstrap`.
                reply(
                    e,
                    anonymous_server::server_config::Rep::Ok(ServerConfig {
                        account: AccountConfig::Disabled,
                        advisory_device_file_protection: Some(vec!["PASSWORD+TOTP".into(), "PKI".into()]),
                        cryptpad: Some(CryptPadConfig::Disabled),
                        openbao: OpenBaoConfig::Disabled,
                        organization_bootstrap: OrganizationBootstrapConfig::Spontaneous,
                    }),
                );
            }
            "anonymous_organization_bootstrap" => {
                request(e, anonymous::AnyCmdReq::OrganizationBootstrap(expected_bootstrap(&t)));
                request(e, expected_bootstrap(&t));
                reply(e, BootstrapRep::Ok {});
            }
            "anonymous_organization_bootstrap_again" => {
                request(e, anonymous::AnyCmdReq::OrganizationBootstrap(expected_bootstrap(&t)));
                reply(e, BootstrapRep::OrganizationAlreadyBootstrapped {});
            }
            "authenticated_ping" => {
                request(e, hello_ping());
                // Official 3.9.3 has no handler for the authenticated ping:
                // HTTP 500 with a plain-text body, nothing to decode.
                assert_eq!(e.status(), 500);
                assert!(!e.is_msgpack_response());
                assert_eq!(e.response_body(), b"Internal Server Error");
            }
            "handshake_missing_authorization" => {
                request(e, hello_ping());
                refusal(e, 401, "Missing authentication info");
            }
            "handshake_bad_signature" | "handshake_unknown_device" => {
                request(e, hello_ping());
                refusal(e, 403, "Bad authentication info");
            }
            "handshake_old_token_timestamp" => {
                request(e, hello_ping());
                refusal(e, 498, "Token expired");
            }
            "handshake_unknown_organization" => {
                request(e, hello_ping());
                refusal(e, 404, "Organization not found");
            }
            "handshake_bad_api_version" | "handshake_missing_api_version" => {
                request(e, hello_ping());
                refusal(e, 422, "Unprocessable Entity");
            }
            "handshake_bad_content_type" => {
                request(e, hello_ping());
                refusal(e, 415, "Bad content type or invalid body or unknown command");
            }
            "handshake_garbage_body" => {
                // `{cmd: "nothing"}`: valid msgpack, unknown command.
                assert_eq!(
                    authenticated::AnyCmdReq::load(&e.request_body()),
                    Err(DecodeError::UnknownCommand("nothing".into()))
                );
                refusal(e, 415, "Bad content type or invalid body or unknown command");
            }
            "handshake_body_too_large" => {
                // The 1 MiB + 1 zero bytes are elided from the recording.
                assert!(e.request_body().is_empty());
                assert!(
                    e.json["request_body_note"]
                        .as_str()
                        .unwrap()
                        .contains("1048577 zero bytes")
                );
                let too_large = vec![0u8; 1_048_577];
                assert!(too_large.len() > reference::protocol::MAX_CONTENT_LENGTH);
                refusal(e, 413, "Request Entity Too Large");
            }
            "authenticated_totp_setup_get_secret" | "authenticated_totp_setup_get_secret_again_before_confirm" => {
                request(e, auth_get_secret());
                request(e, authenticated::totp_setup_get_secret::Req {});
                reply(e, secret(t.secret_1()));
            }
            "authenticated_totp_setup_confirm_wrong_code" => {
                request(e, auth_confirm("000000"));
                reply(e, authenticated::totp_setup_confirm::Rep::InvalidOneTimePassword {});
            }
            "authenticated_totp_setup_confirm" => {
                request(e, auth_confirm("753367"));
                reply(e, authenticated::totp_setup_confirm::Rep::Ok {});
            }
            "authenticated_totp_setup_confirm_again" => {
                request(e, auth_confirm("753367"));
                reply(e, authenticated::totp_setup_confirm::Rep::AlreadySetup {});
            }
            "authenticated_totp_setup_get_secret_after_confirm" => {
                request(e, auth_get_secret());
                reply(e, authenticated::totp_setup_get_secret::Rep::AlreadySetup {});
            }
            "authenticated_totp_create_opaque_key" => {
                request(
                    e,
                    authenticated::AnyCmdReq::TotpCreateOpaqueKey(authenticated::totp_create_opaque_key::Req {}),
                );
                reply(
                    e,
                    CreateKeyRep::Ok {
                        opaque_key: t.opaque_key(),
                        opaque_key_id: key_id,
                    },
                );
            }
            "anonymous_totp_fetch_opaque_key" | "anonymous_totp_fetch_opaque_key_after_wait" => {
                request(e, fetch(user, key_id, "753367"));
                reply(e, opaque_key());
            }
            "anonymous_totp_fetch_opaque_key_previous_step" => {
                request(e, fetch(user, key_id, "096117"));
                reply(e, opaque_key());
            }
            "anonymous_totp_fetch_opaque_key_two_steps_back" => {
                request(e, fetch(user, key_id, "736011"));
                reply(e, invalid_code());
            }
            "anonymous_totp_fetch_opaque_key_throttled" => {
                request(e, fetch(user, key_id, "753367"));
                let wait_until = DateTime::from_micros(1_795_421_521_392_102);
                assert_eq!(wait_until.to_rfc3339(), "2026-11-23T08:12:01.392102Z");
                reply(e, FetchRep::Throttled { wait_until });
            }
            "anonymous_totp_fetch_opaque_key_unknown_key" => {
                let unknown = TOTPOpaqueKeyID::from_hex("b133aa0eab5c430c8c8f893f472add0f").unwrap();
                request(e, fetch(user, unknown, "753367"));
                reply(e, invalid_code());
            }
            "anonymous_totp_fetch_opaque_key_unknown_user" => {
                let unknown = UserID::from_hex("21e7a389315d46a5b9cf60b69f97756d").unwrap();
                request(e, fetch(unknown, key_id, "753367"));
                reply(e, invalid_code());
            }
            "admin_reset_totp_bad_token" | "admin_reset_totp_unknown_org" => {
                let req: ResetTotpReq = json_body(&e.request_body(), name);
                assert_eq!(
                    req,
                    ResetTotpReq {
                        user_email: Some("alice@example.com".into()),
                        ..Default::default()
                    }
                );
                if name == "admin_reset_totp_bad_token" {
                    refusal(e, 403, "Bad authorization token");
                } else {
                    assert!(e.path().contains("/NoSuchOrg/"));
                    refusal(e, 404, "Organization not found");
                }
            }
            "admin_reset_totp_no_user" => {
                let req: ResetTotpReq = json_body(&e.request_body(), name);
                assert_eq!(req, ResetTotpReq::default());
                refusal(e, 400, "Missing either `user_id` or `user_email` field");
            }
            "admin_reset_totp_both" => {
                let req: ResetTotpReq = json_body(&e.request_body(), name);
                assert_eq!(
                    req,
                    ResetTotpReq {
                        user_id: Some(user.hex()),
                        user_email: Some("alice@example.com".into()),
                        send_email: false,
                    }
                );
                refusal(e, 400, "Both `user_id` and `user_email` fields are provided");
            }
            "admin_reset_totp_unknown_email" => {
                let req: ResetTotpReq = json_body(&e.request_body(), name);
                assert_eq!(req.user_email.as_deref(), Some("nobody@example.com"));
                refusal(e, 404, "User not found");
            }
            "admin_reset_totp_by_email_send_email" => {
                let req: ResetTotpReq = json_body(&e.request_body(), name);
                assert_eq!(
                    req,
                    ResetTotpReq {
                        user_id: None,
                        user_email: Some("alice@example.com".into()),
                        send_email: true,
                    }
                );
                let addr = TotpResetAddr::parse_any(t.key("reset_url_1")).unwrap();
                json_reply(
                    e,
                    ResetTotpRep {
                        user_id: user.hex(),
                        user_email: "alice@example.com".into(),
                        totp_reset_url: addr.to_string(),
                        totp_reset_url_as_http_redirection: addr.to_http_redirection_url(),
                        email_sent_status: EmailSentStatus::SentAsRequested,
                    },
                );
            }
            "admin_reset_totp_by_user_id_no_email" => {
                let req: ResetTotpReq = json_body(&e.request_body(), name);
                assert_eq!(
                    req,
                    ResetTotpReq {
                        user_id: Some(user.hex()),
                        ..Default::default()
                    }
                );
                // A second reset: a new token (checked in the URL test).
                let rep: ResetTotpRep = json_body(&e.response_body(), name);
                assert_eq!(rep.email_sent_status, EmailSentStatus::NotSentAsRequested);
                json_reply(e, rep);
            }
            "anonymous_totp_fetch_opaque_key_old_secret_after_reset" => {
                request(e, fetch(user, key_id, "753367"));
                reply(e, invalid_code());
            }
            "authenticated_totp_setup_get_secret_after_reset" => {
                request(e, auth_get_secret());
                reply(e, secret(t.secret_2()));
            }
            "anonymous_totp_setup_get_secret_bad_token" => {
                let wrong = AccessToken::from_hex("c34682710fd339e49f924c5ed90c86bd").unwrap();
                request(e, anon_get_secret(user, wrong));
                reply(e, anonymous::totp_setup_get_secret::Rep::BadToken {});
            }
            "anonymous_totp_setup_get_secret" => {
                request(e, anon_get_secret(user, t.reset_token_1()));
                request(
                    e,
                    anonymous::totp_setup_get_secret::Req {
                        user_id: user,
                        token: t.reset_token_1(),
                    },
                );
                reply(
                    e,
                    anonymous::totp_setup_get_secret::Rep::Ok {
                        totp_secret: Bytes(t.secret_2()),
                    },
                );
            }
            "anonymous_totp_setup_confirm_wrong_code" => {
                request(e, anon_confirm(user, t.reset_token_1(), "000000"));
                reply(e, anonymous::totp_setup_confirm::Rep::InvalidOneTimePassword {});
            }
            "anonymous_totp_setup_confirm" => {
                request(e, anon_confirm(user, t.reset_token_1(), "841818"));
                reply(e, anonymous::totp_setup_confirm::Rep::Ok {});
            }
            "anonymous_totp_setup_get_secret_token_used" => {
                request(e, anon_get_secret(user, t.reset_token_1()));
                reply(e, anonymous::totp_setup_get_secret::Rep::BadToken {});
            }
            "anonymous_totp_fetch_opaque_key_new_secret_same_key" => {
                request(e, fetch(user, key_id, "841818"));
                reply(e, opaque_key());
            }
            other => panic!("exchange `{other}` is not checked by this test"),
        }
    }
    assert_eq!(seen, EXCHANGE_COUNT);
}

/// Every msgpack body, whatever the exchange, decodes with its family's
/// type, chosen by the route alone (no knowledge of the expected value).
#[test]
fn every_msgpack_body_decodes_with_the_type_of_its_route() {
    let t = Transcript::load();
    let mut requests = 0;
    for e in t.exchanges() {
        let body = e.request_body();
        if e.path().starts_with("/administration/") || body.is_empty() {
            continue;
        }
        let name = e.name();
        let dumped = if e.path() == "/anonymous_server" {
            anonymous_server::AnyCmdReq::load(&body).map(|r| r.dump())
        } else if e.path().starts_with("/anonymous/") {
            anonymous::AnyCmdReq::load(&body).map(|r| r.dump())
        } else if e.path().starts_with("/authenticated/") {
            authenticated::AnyCmdReq::load(&body).map(|r| r.dump())
        } else {
            panic!("{name}: unexpected route {}", e.path())
        };
        match dumped {
            Ok(dumped) => assert_eq!(dumped, body, "{name}"),
            Err(err) => {
                assert_eq!(name, "handshake_garbage_body", "{name}: {err}");
                assert_eq!(err, DecodeError::UnknownCommand("nothing".into()));
            }
        }
        requests += 1;
    }
    // 45 exchanges, 9 of the administration API, 1 with its body elided.
    assert_eq!(requests, 35);
}

// ---------------------------------------------------------------------------
// Certificates of the bootstrap

#[test]
fn bootstrap_certificates_verify_with_the_root_key_and_resign_identically() {
    let t = Transcript::load();
    let e = t.exchange("anonymous_organization_bootstrap");
    let req = anonymous::organization_bootstrap::Req::load(&e.request_body()).unwrap();
    let root = t.root_signing_key();
    assert_eq!(req.root_verify_key, root.verify_key());
    assert_eq!(req.bootstrap_token, Some(t.bootstrap_token()));
    assert_eq!(req.sequester_authority_certificate, None);
    let vk = root.verify_key();
    let ts = Some(t.certificates_timestamp());

    let user = UserCertificate::verify_and_load(&req.user_certificate.0, &vk, CertificateSigner::Root, ts).unwrap();
    let redacted_user =
        UserCertificate::verify_and_load(&req.redacted_user_certificate.0, &vk, CertificateSigner::Root, ts).unwrap();
    let device =
        DeviceCertificate::verify_and_load(&req.device_certificate.0, &vk, CertificateSigner::Root, ts).unwrap();
    let redacted_device =
        DeviceCertificate::verify_and_load(&req.redacted_device_certificate.0, &vk, CertificateSigner::Root, ts)
            .unwrap();

    // Who they are about: the keys section.
    assert_eq!(user.user_id, t.user_id());
    assert_eq!(device.user_id, t.user_id());
    assert_eq!(device.device_id, t.device_id());
    assert_eq!(user.public_key, t.user_private_key().public_key());
    assert_eq!(device.verify_key, t.device_signing_key().verify_key());
    assert_eq!(user.profile, UserProfile::Admin);
    assert_eq!(redacted_user, user.redacted());
    assert_eq!(redacted_device, device.redacted());
    let (expected_user, expected_device) = expected_certificates(&t);
    assert_eq!(user, expected_user);
    assert_eq!(device, expected_device);

    // Ed25519 is deterministic: re-signing gives the recorded bytes, which
    // proves msgpack, zstd framing and signature layout byte for byte.
    for (what, recorded, resigned) in [
        ("user", &req.user_certificate, user.dump_and_sign(&root)),
        (
            "redacted user",
            &req.redacted_user_certificate,
            redacted_user.dump_and_sign(&root),
        ),
        ("device", &req.device_certificate, device.dump_and_sign(&root)),
        (
            "redacted device",
            &req.redacted_device_certificate,
            redacted_device.dump_and_sign(&root),
        ),
    ] {
        assert_eq!(hex::encode(resigned), hex::encode(&recorded.0), "{what} certificate");
    }

    // The device key is not the root key.
    assert!(
        UserCertificate::verify_and_load(
            &req.user_certificate.0,
            &t.device_signing_key().verify_key(),
            CertificateSigner::Root,
            ts
        )
        .is_err()
    );
}

// ---------------------------------------------------------------------------
// Authorization tokens

#[test]
fn authorization_tokens_parse_verify_and_rebuild() {
    let t = Transcript::load();
    let device_key = t.device_signing_key();
    let mut count = 0;
    for e in t.exchanges() {
        let Some(header) = e.request_header("Authorization") else {
            continue;
        };
        if e.path().starts_with("/administration/") {
            continue; // the administration token, not a device token
        }
        count += 1;
        let name = e.name();
        let token = header.strip_prefix("Bearer ").expect("Bearer scheme");
        let parsed = AuthenticatedToken::parse(token).unwrap_or_else(|err| panic!("{name}: {err}"));
        let (device_id, timestamp, valid) = match name {
            // A token of the right device whose signature was tampered with.
            "handshake_bad_signature" => (t.device_id(), 1_795_421_520, false),
            // A device id the organization does not know (signed with the
            // recorded device key: well formed and valid, refused by lookup).
            "handshake_unknown_device" => (
                DeviceID::from_hex("b2505323c7394df1a63f5db54fe2908c").unwrap(),
                1_795_421_520,
                true,
            ),
            "handshake_old_token_timestamp" => (t.device_id(), 1_795_421_520 - 3600, true),
            "authenticated_totp_setup_get_secret_after_reset" => (t.device_id(), 1_795_421_522, true),
            _ => (t.device_id(), 1_795_421_520, true),
        };
        assert_eq!(parsed.device_id, device_id, "{name}");
        assert_eq!(parsed.timestamp, timestamp, "{name}");
        assert_eq!(parsed.verify(&device_key.verify_key()), valid, "{name}");
        assert_eq!(
            parsed.signed_part,
            format!("PARSEC-SIGN-ED25519.{}.{timestamp}", device_id.hex()),
            "{name}"
        );
        if valid {
            assert_eq!(
                AuthenticatedToken::build(device_id, &device_key, timestamp),
                token,
                "{name}: rebuilt token"
            );
        }
        // The recorded clock against the token's time.
        let now = e.at_unix().floor() as i64;
        assert_eq!(
            parsed.in_ballpark(now),
            name != "handshake_old_token_timestamp",
            "{name}"
        );
    }
    assert_eq!(count, 17);
}

// ---------------------------------------------------------------------------
// URLs, secrets and codes

#[test]
fn bootstrap_url_parses_and_renders_identically() {
    let t = Transcript::load();
    let url = t.key("bootstrap_url");
    let addr = BootstrapAddr::parse_any(url).unwrap();
    assert_eq!(addr.server, t.server());
    assert_eq!(addr.organization_id, t.organization_id());
    let token = addr.token.expect("a token");
    // The token is the one the bootstrap request carries.
    let e = t.exchange("anonymous_organization_bootstrap");
    let req = anonymous::organization_bootstrap::Req::load(&e.request_body()).unwrap();
    assert_eq!(req.bootstrap_token, Some(token));
    assert_eq!(addr.to_string(), url);

    let rep: CreateOrganizationRep = json_body(&t.exchange("admin_create_organization").response_body(), "create");
    assert_eq!(rep.bootstrap_url, url);
    assert_eq!(addr.to_http_redirection_url(), rep.bootstrap_url_as_http_redirection);
    assert_eq!(
        BootstrapAddr::parse_any(&rep.bootstrap_url_as_http_redirection),
        Ok(addr)
    );
}

#[test]
fn reset_urls_parse_to_the_recorded_user_and_token() {
    let t = Transcript::load();
    let expected = TotpResetAddr {
        server: t.server(),
        organization_id: t.organization_id(),
        user_id: t.user_id(),
        token: t.reset_token_1(),
    };
    let url = t.key("reset_url_1");
    assert_eq!(TotpResetAddr::parse_any(url).as_ref(), Ok(&expected));
    assert_eq!(expected.to_string(), url);

    // First reset (email sent): the same link, in both forms.
    let first: ResetTotpRep = json_body(
        &t.exchange("admin_reset_totp_by_email_send_email").response_body(),
        "reset",
    );
    assert_eq!(first.totp_reset_url, url);
    assert_eq!(TotpResetAddr::parse_any(&first.totp_reset_url).as_ref(), Ok(&expected));
    assert_eq!(
        TotpResetAddr::parse_any(&first.totp_reset_url_as_http_redirection).as_ref(),
        Ok(&expected)
    );
    assert_eq!(
        expected.to_http_redirection_url(),
        first.totp_reset_url_as_http_redirection
    );

    // The email carries the http redirection form (text and HTML parts).
    let email = t.json["reset_email"]["data"].as_str().unwrap();
    assert_eq!(email.matches(&first.totp_reset_url_as_http_redirection).count(), 4);
    let in_text = email
        .lines()
        .find(|l| l.starts_with("http://") && l.contains("a=totp_reset"))
        .expect("the link line of the text part");
    assert_eq!(TotpResetAddr::parse_any(in_text).as_ref(), Ok(&expected));

    // Second reset (no email): same user, a new token.
    let second: ResetTotpRep = json_body(
        &t.exchange("admin_reset_totp_by_user_id_no_email").response_body(),
        "reset 2",
    );
    let addr = TotpResetAddr::parse_any(&second.totp_reset_url).unwrap();
    assert_eq!(addr.user_id, t.user_id());
    assert_eq!(addr.server, t.server());
    assert_eq!(addr.organization_id, t.organization_id());
    assert_ne!(addr.token, t.reset_token_1());
    assert_eq!(addr.to_string(), second.totp_reset_url);
    assert_eq!(
        addr.to_http_redirection_url(),
        second.totp_reset_url_as_http_redirection
    );
    assert_eq!(
        TotpResetAddr::parse_any(&second.totp_reset_url_as_http_redirection),
        Ok(addr)
    );
}

#[test]
fn base32_secrets_are_the_recorded_ones() {
    let t = Transcript::load();
    assert_eq!(totp::base32(&t.secret_1()), t.key("totp_secret_1_base32"));
    assert_eq!(totp::base32(&t.secret_2()), t.key("totp_secret_2_base32"));
    assert_eq!(
        totp::secret_from_base32(t.key("totp_secret_1_base32")),
        Ok(t.secret_1())
    );
    assert_eq!(t.secret_1().len(), totp::SECRET_SIZE);
    assert_eq!(t.secret_2().len(), totp::SECRET_SIZE);
}

#[test]
fn recorded_codes_are_the_rfc6238_codes_of_the_recorded_secrets() {
    let t = Transcript::load();
    let e = t.exchange("authenticated_totp_setup_confirm");
    // "code 753367 computed at unix 1795421520.38…"
    assert!(
        e.json["note"]
            .as_str()
            .unwrap()
            .starts_with("code 753367 computed at unix 1795421520.")
    );
    let now = 1_795_421_520;
    assert_eq!(totp::code_at(&t.secret_1(), now), "753367");
    // The skew-window probes: previous step accepted, two steps back not.
    assert_eq!(totp::code_at(&t.secret_1(), now - 30), "096117");
    assert_eq!(totp::code_at(&t.secret_1(), now - 60), "736011");
    assert!(totp::verify(&t.secret_1(), "096117", now));
    assert!(!totp::verify(&t.secret_1(), "736011", now));
    // After the reset, with the new secret, two seconds later.
    let confirm = t.exchange("anonymous_totp_setup_confirm");
    assert_eq!(totp::code_at(&t.secret_2(), confirm.at_unix() as u64), "841818");

    // The throttle's `wait_until` is the failure time + 2^0 s.
    let failure = t.exchange("anonymous_totp_fetch_opaque_key_two_steps_back").at_unix();
    let wait_until = 1_795_421_521.392_102;
    assert!((wait_until - (failure + 1.0)).abs() < 0.05, "{failure}");
}
