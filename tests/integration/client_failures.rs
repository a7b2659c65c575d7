//! The reference client when the server or the network misbehaves: HTTP
//! errors (wiremock), replies past the deadline, unexpected statuses and
//! bodies, and a raw socket that drops connections. Each case ends in a
//! typed error, within the deadline, never a panic or a hang.

use parsec_mfa_reference::client::admin::{AdminClient, AdminError, UserRef};
use parsec_mfa_reference::client::login::{LoginError, login};
use parsec_mfa_reference::client::mfa::{MfaError, fetch_opaque_key};
use parsec_mfa_reference::client::{Connection, ConnectionError, RetryPolicy};
use parsec_mfa_reference::clock::SystemClock;
use parsec_mfa_reference::crypto::SecretKey;
use parsec_mfa_reference::protocol::addr::ServerAddr;
use parsec_mfa_reference::protocol::anonymous::totp_fetch_opaque_key as fetch;
use parsec_mfa_reference::protocol::{DateTime, TOTPOpaqueKeyID, UserID};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const FETCH_PATH: &str = "/anonymous/CoolOrg";

fn policy(deadline_ms: u64) -> RetryPolicy {
    RetryPolicy {
        deadline: Duration::from_millis(deadline_ms),
        attempt_timeout: Duration::from_millis(deadline_ms.min(300)),
        first_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(80),
    }
}

fn connection(base: &str, retry: RetryPolicy) -> Connection {
    Connection::new(
        ServerAddr::from_http_url(base).unwrap(),
        "CoolOrg".parse().unwrap(),
        retry,
        Arc::new(SystemClock),
    )
}

async fn fetch_key(conn: &Connection) -> Result<SecretKey, MfaError> {
    fetch_opaque_key(conn, UserID::new(), TOTPOpaqueKeyID::new(), "123456").await
}

fn ok_body(key: &SecretKey) -> Vec<u8> {
    fetch::Rep::Ok {
        opaque_key: key.clone(),
    }
    .dump()
}

fn msgpack(status: u16, body: Vec<u8>) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("Content-Type", "application/msgpack")
        .set_body_bytes(body)
}

#[tokio::test]
async fn gateway_errors_are_retried_until_the_server_answers() {
    let server = MockServer::start().await;
    let key = SecretKey::generate();
    Mock::given(method("POST"))
        .and(path(FETCH_PATH))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(FETCH_PATH))
        .and(header("Api-Version", "5.5"))
        .and(header("Content-Type", "application/msgpack"))
        .respond_with(msgpack(200, ok_body(&key)))
        .expect(1)
        .mount(&server)
        .await;
    let conn = connection(&server.uri(), policy(2_000));
    assert_eq!(fetch_key(&conn).await, Ok(key));
}

#[tokio::test]
async fn gateway_errors_past_the_deadline_are_unreachable() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&server)
        .await;
    let started = Instant::now();
    let result = fetch_key(&connection(&server.uri(), policy(300))).await;
    assert!(
        matches!(&result, Err(MfaError::Connection(ConnectionError::Unreachable(r))) if r.contains("502")),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    let attempts = server.received_requests().await.unwrap().len();
    assert!((2..=10).contains(&attempts), "{attempts} attempts within the deadline");
}

#[tokio::test]
async fn a_server_error_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(&server)
        .await;
    let result = fetch_key(&connection(&server.uri(), policy(2_000))).await;
    assert_eq!(
        result,
        Err(MfaError::Connection(ConnectionError::InvalidResponse(
            "HTTP 500 Internal Server Error".into()
        )))
    );
}

#[tokio::test]
async fn a_reply_slower_than_the_deadline_is_unreachable_in_time() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(msgpack(200, ok_body(&SecretKey::generate())).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let started = Instant::now();
    let result = fetch_key(&connection(&server.uri(), policy(400))).await;
    assert_eq!(
        result,
        Err(MfaError::Connection(ConnectionError::Unreachable(
            "totp_fetch_opaque_key: no reply within 0.3 s".into()
        )))
    );
    assert!(
        started.elapsed() < Duration::from_millis(1_500),
        "{:?}",
        started.elapsed()
    );
    // Sent once: a request with no reply may have been processed (a wrong
    // code counted), so it is never sent again (issue 22, item 4).
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

/// A reply body over 1 MiB, declared (`Content-Length`) or streamed without
/// a length, ends the call with the typed error at once, without reading
/// it whole (issue 22, item 3).
#[tokio::test]
async fn a_reply_of_64_mib_is_refused_as_too_large() {
    const SIZE: usize = 64 << 20;
    let declared = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(msgpack(200, vec![0x80; SIZE]))
        .mount(&declared)
        .await;
    // Chunked, no length announced: the limit holds while reading.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let streamed = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let _ = socket.read(&mut buf).await;
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/msgpack\r\nTransfer-Encoding: chunked\r\n\r\n";
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = [
                    format!("{:x}\r\n", buf.len()).into_bytes(),
                    vec![0x80; buf.len()],
                    b"\r\n".to_vec(),
                ]
                .concat();
                for _ in 0..SIZE / buf.len() {
                    if socket.write_all(&chunk).await.is_err() {
                        return;
                    }
                }
                let _ = socket.write_all(b"0\r\n\r\n").await;
            });
        }
    });
    for base in [declared.uri(), streamed] {
        let started = Instant::now();
        let result = fetch_key(&connection(&base, policy(5_000))).await;
        assert_eq!(
            result,
            Err(MfaError::Connection(ConnectionError::ReplyTooLarge {
                command: "totp_fetch_opaque_key",
                limit: 1 << 20,
            })),
            "{base}"
        );
        assert_eq!(
            ConnectionError::ReplyTooLarge {
                command: "totp_fetch_opaque_key",
                limit: 1 << 20
            }
            .to_string(),
            "totp_fetch_opaque_key: reply over 1048576 bytes"
        );
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{base}: {:?}",
            started.elapsed()
        );
    }
    // Not retried: the answer would be the same.
    assert_eq!(declared.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_slow_reply_within_the_deadline_succeeds() {
    let server = MockServer::start().await;
    let key = SecretKey::generate();
    Mock::given(method("POST"))
        .respond_with(msgpack(200, ok_body(&key)).set_delay(Duration::from_millis(150)))
        .mount(&server)
        .await;
    assert_eq!(fetch_key(&connection(&server.uri(), policy(1_000))).await, Ok(key));
}

#[tokio::test]
async fn handshake_statuses_become_typed_errors() {
    let cases: Vec<(ResponseTemplate, ConnectionError)> = vec![
        (ResponseTemplate::new(404), ConnectionError::OrganizationNotFound),
        (ResponseTemplate::new(460), ConnectionError::OrganizationExpired),
        (ResponseTemplate::new(461), ConnectionError::UserRevoked),
        (ResponseTemplate::new(462), ConnectionError::UserFrozen),
        (ResponseTemplate::new(401), ConnectionError::BadAuthentication),
        (ResponseTemplate::new(403), ConnectionError::BadAuthentication),
        (ResponseTemplate::new(498), ConnectionError::TokenExpired),
        (ResponseTemplate::new(415), ConnectionError::BadContent),
        (
            ResponseTemplate::new(422).insert_header("Supported-Api-Versions", "4.0;6.1"),
            ConnectionError::UnsupportedApiVersion("4.0;6.1".into()),
        ),
        (
            ResponseTemplate::new(418),
            ConnectionError::InvalidResponse("HTTP 418 I'm a teapot".into()),
        ),
    ];
    for (response, expected) in cases {
        let server = MockServer::start().await;
        Mock::given(method("POST")).respond_with(response).mount(&server).await;
        let result = fetch_key(&connection(&server.uri(), policy(1_000))).await;
        assert_eq!(result, Err(MfaError::Connection(expected.clone())), "{expected:?}");
        assert_eq!(
            server.received_requests().await.unwrap().len(),
            1,
            "{expected:?} is not retried"
        );
    }
}

#[tokio::test]
async fn unexpected_bodies_become_typed_errors() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>proxy page</html>"))
        .mount(&server)
        .await;
    let result = fetch_key(&connection(&server.uri(), policy(1_000))).await;
    assert!(
        matches!(&result, Err(MfaError::Connection(ConnectionError::InvalidResponse(r))) if r.contains("not a valid Parsec message")),
        "{result:?}"
    );

    // A status this client does not know is reported by name.
    let server = MockServer::start().await;
    let unknown = vec![
        0x81, 0xa6, b's', b't', b'a', b't', b'u', b's', 0xa5, b'w', b'e', b'i', b'r', b'd',
    ];
    Mock::given(method("POST"))
        .respond_with(msgpack(200, unknown))
        .mount(&server)
        .await;
    assert_eq!(
        fetch_key(&connection(&server.uri(), policy(1_000))).await,
        Err(MfaError::UnknownStatus("weird".into()))
    );

    // A known status with a field of the wrong type.
    let server = MockServer::start().await;
    let bad_throttle = [
        &[0x82, 0xa6][..],
        b"status",
        &[0xa9],
        b"throttled",
        &[0xaa],
        b"wait_until",
        &[0xa3],
        b"now",
    ]
    .concat();
    Mock::given(method("POST"))
        .respond_with(msgpack(200, bad_throttle))
        .mount(&server)
        .await;
    assert!(matches!(
        fetch_key(&connection(&server.uri(), policy(1_000))).await,
        Err(MfaError::Connection(ConnectionError::InvalidResponse(_)))
    ));
}

#[tokio::test]
async fn throttled_carries_the_exact_wait() {
    let server = MockServer::start().await;
    let wait_until = DateTime::parse_rfc3339("2030-01-01T00:00:00Z").unwrap();
    Mock::given(method("POST"))
        .respond_with(msgpack(200, fetch::Rep::Throttled { wait_until }.dump()))
        .mount(&server)
        .await;
    assert_eq!(
        fetch_key(&connection(&server.uri(), policy(1_000))).await,
        Err(MfaError::Throttled { wait_until })
    );
}

/// A TCP server that drops the first `drops` connections without a word,
/// then answers every request with `reply`.
async fn dropping_server(drops: usize, reply: Vec<u8>) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let reply = reply.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                // Read the request (headers and the small body) first, so the
                // drop happens mid-exchange, after the client has sent.
                let _ = stream.read(&mut buf).await;
                if n < drops {
                    return; // dropped: the connection closes with no answer
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/msgpack\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    reply.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&reply).await;
            });
        }
    });
    (base, accepted)
}

#[tokio::test]
async fn dropped_connections_are_retried() {
    let key = SecretKey::generate();
    let (base, accepted) = dropping_server(3, ok_body(&key)).await;
    assert_eq!(fetch_key(&connection(&base, policy(3_000))).await, Ok(key));
    assert!(accepted.load(Ordering::SeqCst) >= 4);
}

#[tokio::test]
async fn a_server_that_always_drops_is_unreachable_within_the_deadline() {
    let (base, _) = dropping_server(usize::MAX, vec![]).await;
    let started = Instant::now();
    let result = fetch_key(&connection(&base, policy(400))).await;
    assert!(
        matches!(&result, Err(MfaError::Connection(ConnectionError::Unreachable(_)))),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn no_server_at_all_is_unreachable_within_the_deadline() {
    let port = parsec_mfa_scenarios::servers::free_port();
    let started = Instant::now();
    let result = fetch_key(&connection(&format!("http://127.0.0.1:{port}"), policy(300))).await;
    assert_eq!(
        result,
        Err(MfaError::Connection(ConnectionError::Unreachable(
            "totp_fetch_opaque_key: connection refused or failed".into()
        )))
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn an_offline_mfa_login_says_offline_and_a_password_login_still_works() {
    use parsec_mfa_reference::client::device_file::{KdfCost, TotpLayer, protect};
    use parsec_mfa_reference::client::login::PolicyCheck;
    use parsec_mfa_reference::protocol::local_device::LocalDevice;
    let port = parsec_mfa_scenarios::servers::free_port();
    let conn = connection(&format!("http://127.0.0.1:{port}"), policy(200));
    let device = LocalDevice {
        server_url: format!("http://127.0.0.1:{port}/"),
        organization_id: "CoolOrg".parse().unwrap(),
        root_verify_key: parsec_mfa_reference::crypto::SigningKey::generate().verify_key(),
        user_id: UserID::new(),
        device_id: parsec_mfa_reference::protocol::DeviceID::new(),
        device_label: "laptop".into(),
        human_handle: parsec_mfa_reference::protocol::HumanHandle::new("a@b.c", "A").unwrap(),
        signing_key: parsec_mfa_reference::crypto::SigningKey::generate(),
        private_key: parsec_mfa_reference::crypto::PrivateKey::generate(),
        initial_profile: parsec_mfa_reference::protocol::UserProfile::Standard,
        user_realm_id: parsec_mfa_reference::protocol::VlobID::new(),
        user_realm_key: SecretKey::generate(),
        local_symkey: SecretKey::generate(),
    };
    let now = DateTime::from_micros(0);
    let layer = TotpLayer {
        opaque_key_id: TOTPOpaqueKeyID::new(),
        opaque_key: SecretKey::generate(),
    };
    let mfa = protect(&device, "pw", KdfCost::Minimal, Some(&layer), now, now);
    assert!(matches!(
        login(&conn, &mfa, Some("123456"), "pw").await,
        Err(LoginError::Offline(_))
    ));
    let plain = protect(&device, "pw", KdfCost::Minimal, None, now, now);
    let session = login(&conn, &plain, None, "pw").await.unwrap();
    assert_eq!(session.policy, PolicyCheck::ServerUnreachable);
}

#[tokio::test]
async fn admin_refusals_keep_the_server_detail() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/administration/organizations/Acme/users/reset_totp"))
        .respond_with(ResponseTemplate::new(404).set_body_json(serde_json::json!({"detail": "User not found"})))
        .mount(&server)
        .await;
    let admin = AdminClient::new(ServerAddr::from_http_url(&server.uri()).unwrap(), "t");
    let result = admin.reset_totp("Acme", &UserRef::Email("x@y.z".into()), true).await;
    assert_eq!(
        result,
        Err(AdminError::Refused {
            status: 404,
            detail: "User not found".into()
        })
    );
    assert_eq!(result.unwrap_err().to_string(), "User not found");
    let sent: serde_json::Value = server.received_requests().await.unwrap()[0].body_json().unwrap();
    assert_eq!(sent, serde_json::json!({"user_email": "x@y.z", "send_email": true}));
}

#[tokio::test]
async fn admin_answers_without_a_string_detail_are_unexpected() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(422).set_body_json(serde_json::json!({"detail": [{"loc": ["body"]}]})))
        .mount(&server)
        .await;
    let admin = AdminClient::new(ServerAddr::from_http_url(&server.uri()).unwrap(), "t");
    let error = admin.create_organization("Acme").await.unwrap_err();
    assert!(matches!(error, AdminError::Unexpected { .. }));
    assert!(
        error
            .to_string()
            .starts_with("Unexpected response from server, status=422 Unprocessable Entity ("),
        "{error}"
    );
}
