//! Bad input to the reference server (issue 3): random bytes, truncated and
//! corrupted msgpack bodies, absurd `Content-Length` headers, oversized
//! bodies, wrong JSON types on the administration API. Each gets a clear
//! HTTP 4xx with a `detail`, the server keeps answering, and a refused
//! request changes nothing.

use parsec_mfa_reference::protocol::anonymous::{ping as anon_ping, totp_fetch_opaque_key as fetch};
use parsec_mfa_reference::protocol::anonymous_server::server_config;
use parsec_mfa_reference::protocol::authenticated::{
    ping as auth_ping, totp_setup_confirm as confirm, totp_setup_get_secret as get_secret,
};
use parsec_mfa_scenarios::testing::server::{ADMIN_TOKEN, Reply, TestServer};
use serde_json::{Value as Json, json};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BAD_CONTENT: &str = "Bad content type or invalid body or unknown command";

/// Deterministic pseudo-random bytes (xorshift64*): failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

fn auth_headers(s: &TestServer) -> Vec<(&'static str, String)> {
    let mut headers = TestServer::msgpack_headers();
    headers.push((
        "Authorization",
        format!("Bearer {}", s.token_for(&s.alice, s.now().unix_seconds())),
    ));
    headers
}

/// The server still runs commands: anonymous, authenticated and server-wide.
async fn assert_still_answers(s: &TestServer) {
    let rep = s.anonymous(anon_ping::Req { ping: "still".into() }.dump()).await;
    assert_eq!(rep.status, 200);
    assert_eq!(
        anon_ping::Rep::load(&rep.body).unwrap(),
        anon_ping::Rep::Ok { pong: "still".into() }
    );
    let rep = s.authenticated(auth_ping::Req { ping: "here".into() }.dump()).await;
    assert_eq!(rep.status, 200);
    let rep = s
        .post(
            "/anonymous_server",
            &TestServer::msgpack_headers(),
            server_config::Req {}.dump(),
        )
        .await;
    assert_eq!(rep.status, 200);
}

fn assert_bad_content(rep: &Reply, what: &str) {
    assert_eq!(rep.status, 415, "{what}");
    assert_eq!(rep.json()["detail"], BAD_CONTENT, "{what}");
    assert_eq!(rep.header("api-version").as_deref(), Some("5.5"), "{what}");
}

// ---------------------------------------------------------------- RPC bodies

#[tokio::test]
async fn random_bytes_to_every_rpc_endpoint_give_415() {
    let s = TestServer::start().await;
    let mut rng = Rng(0x5eed_0001);
    for i in 0..150 {
        let len = rng.below(200);
        let body = rng.bytes(len);
        let what = format!("body #{i}: {}", hex::encode(&body));
        assert_bad_content(&s.anonymous(body.clone()).await, &what);
        assert_bad_content(
            &s.post(&s.authenticated_path(), &auth_headers(&s), body.clone()).await,
            &what,
        );
        assert_bad_content(
            &s.post("/anonymous_server", &TestServer::msgpack_headers(), body).await,
            &what,
        );
    }
    assert_still_answers(&s).await;
}

#[tokio::test]
async fn every_truncation_of_a_valid_request_gives_415_and_changes_nothing() {
    let s = TestServer::start().await;
    let secret = s.setup_totp_as(&s.alice).await;
    let (key, opaque_key) = s.create_key_as(&s.alice).await;
    // A wrong code: a complete request would count a failure.
    let wrong = fetch::Req {
        user_id: s.alice.user_id,
        opaque_key_id: key,
        one_time_password: "00".into(),
    }
    .dump();
    for len in 0..wrong.len() {
        assert_bad_content(&s.anonymous(wrong[..len].to_vec()).await, &format!("{len} bytes"));
    }
    let confirm_body = confirm::Req {
        one_time_password: s.code(&secret, 0),
    }
    .dump();
    for len in 0..confirm_body.len() {
        let rep = s
            .post(&s.authenticated_path(), &auth_headers(&s), confirm_body[..len].to_vec())
            .await;
        assert_bad_content(&rep, &format!("{len} bytes"));
    }
    let config = server_config::Req {}.dump();
    for len in 0..config.len() {
        let rep = s
            .post(
                "/anonymous_server",
                &TestServer::msgpack_headers(),
                config[..len].to_vec(),
            )
            .await;
        assert_bad_content(&rep, &format!("{len} bytes"));
    }
    // No failure was counted: the right code opens the key at once.
    assert_eq!(
        s.fetch(s.alice.user_id, key, &s.code(&secret, 0)).await,
        fetch::Rep::Ok { opaque_key }
    );
    assert_still_answers(&s).await;
}

#[tokio::test]
async fn corrupted_requests_give_a_reply_or_415_never_a_server_error() {
    let s = TestServer::start().await;
    let secret = s.setup_totp_as(&s.alice).await;
    let (key, _) = s.create_key_as(&s.alice).await;
    let valid = fetch::Req {
        user_id: s.alice.user_id,
        opaque_key_id: key,
        one_time_password: s.code(&secret, 0),
    }
    .dump();
    let mut rng = Rng(0x5eed_0002);
    for i in 0..300 {
        let mut body = valid.clone();
        for _ in 0..=rng.below(3) {
            let at = rng.below(body.len());
            body[at] = rng.next() as u8;
        }
        let rep = s.anonymous(body.clone()).await;
        // A corrupted code or an unused byte still makes a request.
        assert!(
            rep.status == 200 || rep.status == 415,
            "#{i} {}: {} {:?}",
            hex::encode(&body),
            rep.status,
            rep.json()
        );
        if rep.status == 200 {
            assert!(fetch::Rep::load(&rep.body).is_ok(), "#{i}: a well-formed reply");
        }
        // Whatever the corruption counted, start the next one unthrottled.
        s.advance(1 << 20);
    }
    assert_still_answers(&s).await;
}

// ---------------------------------------------------------------- raw HTTP

/// Sends raw bytes on a fresh connection and reads the answer until the
/// server closes it (the requests say `Connection: close`). A timeout,
/// not a sleep: the server must answer without waiting for the body.
async fn raw(s: &TestServer, request: &[u8], half_close: bool) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", s.port)).await.unwrap();
    // The server may answer and close before reading everything we send.
    let _ = stream.write_all(request).await;
    if half_close {
        let _ = stream.shutdown().await;
    }
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no answer within 10 s");
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn request_head(path: &str, extra: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nApi-Version: 5.5\r\n\
         Content-Type: application/msgpack\r\n{extra}\r\n"
    )
    .into_bytes()
}

#[tokio::test]
async fn a_huge_content_length_gives_413_at_once() {
    let s = TestServer::start().await;
    let token = s.token_for(&s.alice, s.now().unix_seconds());
    for (path, auth) in [
        (s.anonymous_path(), String::new()),
        (s.authenticated_path(), format!("Authorization: Bearer {token}\r\n")),
        ("/anonymous_server".to_owned(), String::new()),
    ] {
        for length in ["99999999999", "1048577", "18446744073709551613"] {
            let mut request = request_head(&path, &format!("{auth}Content-Length: {length}\r\n"));
            request.push(0x80);
            let (status, body) = raw(&s, &request, false).await;
            assert_eq!(status, 413, "{path} Content-Length: {length}");
            assert_eq!(
                serde_json::from_str::<Json>(&body).unwrap()["detail"],
                "Request Entity Too Large",
                "{path}"
            );
        }
        // The two largest values are the HTTP layer's own markers: it
        // refuses them itself, with 431 (docs/reference.md, wire-level differences).
        let mut request = request_head(&path, &format!("{auth}Content-Length: 18446744073709551615\r\n"));
        request.push(0x80);
        assert_eq!(raw(&s, &request, false).await.0, 431, "{path}");
    }
    assert_still_answers(&s).await;
}

/// A client that writes a whole body over 1 MiB before it reads (as
/// Python's HTTP clients do) reads the 413 the official server answers:
/// the server reads the rest of the body first, instead of closing the
/// connection under a client still sending (which then sees a broken pipe
/// or a reset, never the 413).
#[tokio::test]
async fn a_whole_body_over_one_mib_gets_a_413_the_client_can_read() {
    let s = TestServer::start().await;
    let token = s.token_for(&s.alice, s.now().unix_seconds());
    for size in [MIB + 1, 2 * MIB, 16 * MIB] {
        for (path, auth) in [
            (s.anonymous_path(), String::new()),
            (s.authenticated_path(), format!("Authorization: Bearer {token}\r\n")),
            ("/anonymous_server".to_owned(), String::new()),
        ] {
            let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", s.port)).await.unwrap();
            // Kept alive, as a client library's pooled connection is.
            let mut request = format!(
                "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nApi-Version: 5.5\r\n\
                 Content-Type: application/msgpack\r\n{auth}Content-Length: {size}\r\n\r\n"
            )
            .into_bytes();
            request.resize(request.len() + size, 0x80);
            stream
                .write_all(&request)
                .await
                .unwrap_or_else(|e| panic!("{path}, {size} bytes: the server stopped reading: {e}"));
            // The connection stays open: read the answer's head and body.
            let mut answer = vec![0u8; 4096];
            let got = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer))
                .await
                .expect("an answer within 10 s")
                .unwrap_or_else(|e| panic!("{path}, {size} bytes: {e}"));
            let text = String::from_utf8_lossy(&answer[..got]);
            assert!(text.starts_with("HTTP/1.1 413 "), "{path}, {size} bytes: {text}");
            assert!(text.contains("Request Entity Too Large"), "{text}");
        }
    }
    assert_still_answers(&s).await;
}

const MIB: usize = 1024 * 1024;

/// The same with `Connection: close`, as Python's `urllib` asks on every
/// request: the client writes its whole body, then reads the 413 and the
/// close (issue 22, item 2). A blocking `std` client, as `urllib` is: it
/// writes everything before it reads a byte.
#[tokio::test]
async fn a_whole_body_over_one_mib_with_connection_close_gets_a_413_the_client_can_read() {
    let s = TestServer::start().await;
    let token = s.token_for(&s.alice, s.now().unix_seconds());
    for size in [MIB + 1, 2 * MIB, 16 * MIB] {
        for (path, auth) in [
            (s.anonymous_path(), String::new()),
            (s.authenticated_path(), format!("Authorization: Bearer {token}\r\n")),
            ("/anonymous_server".to_owned(), String::new()),
        ] {
            let port = s.port;
            let what = format!("{path}, {size} bytes");
            let text = tokio::task::spawn_blocking(move || close_and_read(port, &path, &auth, size))
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(text.starts_with("HTTP/1.1 413 "), "{what}: {text}");
            assert!(text.contains("Request Entity Too Large"), "{what}: {text}");
        }
    }
    assert_still_answers(&s).await;
}

/// Writes a `Connection: close` request with a body of `size` bytes whole,
/// then reads the answer until the server closes.
fn close_and_read(port: u16, path: &str, auth: &str, size: usize) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nApi-Version: 5.5\r\n\
         Content-Type: application/msgpack\r\n{auth}Content-Length: {size}\r\n\r\n"
    )
    .into_bytes();
    request.resize(request.len() + size, 0x80);
    stream.write_all(&request)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

/// What Python's `urllib` gets for a body of 1 MiB + 1 byte posted to
/// `url`: `413 <detail>`, or the exception it raised.
fn urllib_post(url: &str) -> String {
    let script = r#"
import sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[1], data=b"\x80" * (1024 * 1024 + 1), method="POST",
    headers={"Api-Version": "5.5", "Content-Type": "application/msgpack"})
try:
    with urllib.request.urlopen(req, timeout=20) as r:
        print(r.status, r.read()[:200])
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode("utf-8", "replace"))
except Exception as e:
    print("error:", repr(e))
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script, url])
        .output()
        .expect("python3 runs");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Issue 22, item 2, as its reporter saw it: Python's `urllib` (which asks
/// `Connection: close`) posting 1 MiB + 1 byte reads the reference
/// server's 413, and the official server's where it is installed.
#[tokio::test]
async fn python_urllib_reads_the_413_of_a_body_over_one_mib() {
    let s = TestServer::start().await;
    let url = format!("http://127.0.0.1:{}{}", s.port, s.anonymous_path());
    let got = tokio::task::spawn_blocking(move || urllib_post(&url)).await.unwrap();
    assert!(
        got.starts_with("413 ") && got.contains("Request Entity Too Large"),
        "the reference server, through urllib: {got}"
    );
    assert_still_answers(&s).await;
}

/// The same against the official 3.9.3, where its virtualenv is installed
/// (`cargo test --test deployments` installs it; `PARSEC_MFA_REQUIRE_OFFICIAL=1`
/// makes its absence a failure).
#[test]
fn python_urllib_reads_the_official_servers_413_too() {
    use parsec_mfa_scenarios::servers::{
        ServerOptions, cargo_target_dir, official_installed, official_venv, start_official,
    };
    let target_dir = cargo_target_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let installed = if official_installed(&target_dir, "3.9.3") {
        Ok(())
    } else {
        Err(format!(
            "no virtualenv in {}",
            official_venv(&target_dir, "3.9.3").display()
        ))
    };
    match parsec_mfa_scenarios::testing::available(
        "the official server 3.9.3",
        installed,
        "PARSEC_MFA_REQUIRE_OFFICIAL",
    ) {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => panic!("{e}"),
    }
    let log_dir = std::env::temp_dir().join("parsec-mfa-urllib-413");
    std::fs::create_dir_all(&log_dir).unwrap();
    let options = ServerOptions {
        administration_token: ADMIN_TOKEN.into(),
        smtp_port: None,
        advisory_device_file_protection: Vec::new(),
        log_dir,
    };
    let server = start_official(&official_venv(&target_dir, "3.9.3"), &options).unwrap();
    // An organization that exists: the official server looks it up before
    // it reads the body (an unknown one is 404).
    let created = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, json, urllib.request as u; u.urlopen(u.Request(sys.argv[1], data=json.dumps({'organization_id': 'UrllibOrg'}).encode(), headers={'Authorization': 'Bearer ' + sys.argv[2], 'Content-Type': 'application/json'}), timeout=20)",
            &format!("http://127.0.0.1:{}/administration/organizations", server.port),
            ADMIN_TOKEN,
        ])
        .status()
        .expect("python3 runs");
    assert!(created.success(), "the organization is created");
    let got = urllib_post(&format!("http://127.0.0.1:{}/anonymous/UrllibOrg", server.port));
    drop(server);
    assert!(got.starts_with("413 "), "the official server, through urllib: {got}");
}

#[tokio::test]
async fn an_unparsable_content_length_gives_400() {
    // The official server answers 413; the HTTP layer here refuses the
    // request before the handshake (docs/reference.md, wire-level differences).
    let s = TestServer::start().await;
    for length in ["99999999999999999999999", "abc", "-1", "1, 2"] {
        let mut request = request_head(&s.anonymous_path(), &format!("Content-Length: {length}\r\n"));
        request.push(0x80);
        let (status, _) = raw(&s, &request, false).await;
        assert_eq!(status, 400, "Content-Length: {length}");
    }
    assert_still_answers(&s).await;
}

#[tokio::test]
async fn a_chunked_body_over_one_mib_gives_413() {
    let s = TestServer::start().await;
    let mut request = request_head(&s.anonymous_path(), "Transfer-Encoding: chunked\r\n");
    let chunk = vec![0u8; 64 * 1024];
    for _ in 0..16 {
        request.extend(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend(&chunk);
        request.extend(b"\r\n");
    }
    request.extend(b"1\r\n\x00\r\n0\r\n\r\n");
    let (status, body) = raw(&s, &request, false).await;
    assert_eq!(status, 413);
    assert_eq!(
        serde_json::from_str::<Json>(&body).unwrap()["detail"],
        "Request Entity Too Large"
    );
    assert_still_answers(&s).await;
}

#[tokio::test]
async fn a_body_cut_short_by_the_client_gives_413() {
    let s = TestServer::start().await;
    let mut request = request_head(&s.anonymous_path(), "Content-Length: 100\r\n");
    request.extend([0x81, 0xa3]);
    let (status, _) = raw(&s, &request, true).await;
    assert_eq!(status, 413);
    assert_still_answers(&s).await;
}

#[tokio::test]
async fn malformed_headers_and_paths_give_their_handshake_status() {
    let s = TestServer::start().await;
    let body = anon_ping::Req { ping: "x".into() }.dump();
    let cases: Vec<(Vec<u8>, u16)> = vec![
        // Non-ASCII version: 422.
        (
            [
                format!(
                    "POST {} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n",
                    s.anonymous_path()
                )
                .as_bytes(),
                b"Api-Version: 5.\xff\r\nContent-Type: application/msgpack\r\n",
            ]
            .concat(),
            422,
        ),
        // Not UTF-8 once percent-decoded, or not an organization ID: 404.
        (request_head("/anonymous/Org%C0", ""), 404),
        (request_head("/anonymous/%", ""), 404),
        (request_head("/anonymous/", ""), 404),
        // Non-ASCII authorization: 401.
        (
            [
                request_head(&s.authenticated_path(), "")[..]
                    .strip_suffix(b"\r\n")
                    .unwrap(),
                b"Authorization: Bearer \xc3\xa9\r\n",
            ]
            .concat(),
            401,
        ),
    ];
    for (head, expected) in cases {
        let mut request = head;
        request.extend(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
        request.extend(&body);
        let (status, reply) = raw(&s, &request, false).await;
        assert_eq!(status, expected, "{}", String::from_utf8_lossy(&request));
        assert!(
            serde_json::from_str::<Json>(&reply).is_ok_and(|j| j["detail"].is_string()),
            "{reply:?}"
        );
    }
    assert_still_answers(&s).await;
}

// ---------------------------------------------------------------- administration

/// A POST with a raw body and an optional content type.
async fn admin_raw(s: &TestServer, path: &str, content_type: Option<&str>, body: Vec<u8>) -> Reply {
    let mut headers = vec![("Authorization", format!("Bearer {ADMIN_TOKEN}"))];
    if let Some(ct) = content_type {
        headers.push(("Content-Type", ct.to_owned()));
    }
    s.post(path, &headers, body).await
}

/// A 422 with FastAPI's shape: a list of errors with `type`, `loc`, `msg`.
fn assert_unprocessable(rep: &Reply, what: &str) {
    assert_eq!(rep.status, 422, "{what}: {:?}", rep.json());
    let detail = rep.json()["detail"].clone();
    let errors = detail.as_array().unwrap_or_else(|| panic!("{what}: {detail}"));
    assert!(!errors.is_empty(), "{what}");
    for e in errors {
        assert!(
            e["type"].is_string() && e["loc"].is_array() && e["msg"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: {e}"
        );
    }
}

/// Bodies that are not a JSON object of the right shape, for any endpoint.
fn malformed_bodies() -> Vec<(Option<&'static str>, Vec<u8>)> {
    let json = Some("application/json");
    vec![
        (json, b"".to_vec()),
        (json, b"{".to_vec()),
        (json, b"{\"user_id\": ".to_vec()),
        (json, b"not json".to_vec()),
        (json, b"\xff\xfe\x00".to_vec()),
        (json, b"null".to_vec()),
        (json, b"[]".to_vec()),
        (json, b"[{}]".to_vec()),
        (json, b"\"text\"".to_vec()),
        (json, b"42".to_vec()),
        // A JSON object sent without saying it is JSON.
        (None, b"{}".to_vec()),
        (Some("text/plain"), b"{}".to_vec()),
    ]
}

async fn organization_exists(s: &TestServer, org: &str) -> bool {
    let response = s
        .http
        .get(format!("{}/anonymous/{org}", s.base))
        .header("Api-Version", "5.5")
        .header("Content-Type", "application/msgpack")
        .send()
        .await
        .unwrap();
    match response.status().as_u16() {
        200 => true,
        404 => false,
        other => panic!("GET /anonymous/{org}: {other}"),
    }
}

#[tokio::test]
async fn create_organization_with_bad_input_gives_4xx_and_creates_nothing() {
    let s = TestServer::start().await;
    let path = "/administration/organizations";
    let org = "BadInputOrg";
    for (content_type, body) in malformed_bodies() {
        let rep = admin_raw(&s, path, content_type, body.clone()).await;
        assert_unprocessable(&rep, &format!("{content_type:?} {}", String::from_utf8_lossy(&body)));
    }
    for body in [
        json!({}),
        json!({ "id": org }),
        json!({ "organization_id": 5 }),
        json!({ "organization_id": null }),
        json!({ "organization_id": [org] }),
        json!({ "organization_id": "Bad.Org" }),
        json!({ "organization_id": "" }),
        json!({ "organization_id": "x".repeat(33) }),
        json!({ "organization_id": org, "user_profile_outsider_allowed": "yes" }),
        json!({ "organization_id": org, "user_profile_outsider_allowed": 1 }),
        json!({ "organization_id": org, "active_users_limit": -1 }),
        json!({ "organization_id": org, "active_users_limit": "10" }),
        json!({ "organization_id": org, "active_users_limit": 1.5 }),
        json!({ "organization_id": org, "realm_minimum_archiving_period_before_deletion": -5 }),
        json!({ "organization_id": org, "tos": "https://example.com" }),
        json!({ "organization_id": org, "tos": { "fr_FR": 5 } }),
    ] {
        assert_unprocessable(&s.admin(path, body.clone()).await, &body.to_string());
    }
    // Not authenticated: 403 before the body is validated, nothing done.
    let rep = s
        .admin_with_token(path, "wrong", json!({ "organization_id": org }))
        .await;
    assert_eq!(
        (rep.status, rep.json()["detail"].clone()),
        (403, json!("Bad authorization token"))
    );
    for org in [org, "x", "Bad.Org"] {
        assert!(!organization_exists(&s, org).await, "{org} was created");
    }
    // The endpoint still works.
    assert_eq!(s.admin(path, json!({ "organization_id": org })).await.status, 200);
    assert!(organization_exists(&s, org).await);
    assert_still_answers(&s).await;
}

/// Alice's MFA is set up with a protected key; checks it is untouched.
struct AliceMfa {
    secret: Vec<u8>,
    key: parsec_mfa_reference::protocol::TOTPOpaqueKeyID,
    opaque_key: parsec_mfa_reference::crypto::SecretKey,
}

impl AliceMfa {
    async fn set_up(s: &TestServer) -> AliceMfa {
        let secret = s.setup_totp_as(&s.alice).await;
        let (key, opaque_key) = s.create_key_as(&s.alice).await;
        AliceMfa {
            secret,
            key,
            opaque_key,
        }
    }

    async fn assert_untouched(&self, s: &TestServer) {
        assert_eq!(s.get_secret_as(&s.alice).await, get_secret::Rep::AlreadySetup {});
        assert_eq!(
            s.fetch(s.alice.user_id, self.key, &s.code(&self.secret, 0)).await,
            fetch::Rep::Ok {
                opaque_key: self.opaque_key.clone()
            }
        );
        assert_eq!(
            s.authenticated(auth_ping::Req { ping: "p".into() }.dump()).await.status,
            200
        );
    }
}

#[tokio::test]
async fn reset_totp_with_bad_input_gives_4xx_and_leaves_the_setup_working() {
    let s = TestServer::start().await;
    let alice = AliceMfa::set_up(&s).await;
    let path = s.reset_path();
    let id = s.alice.user_id.hex();
    for (content_type, body) in malformed_bodies() {
        let rep = admin_raw(&s, &path, content_type, body.clone()).await;
        assert_unprocessable(&rep, &format!("{content_type:?} {}", String::from_utf8_lossy(&body)));
    }
    for body in [
        json!({ "user_id": 5 }),
        json!({ "user_id": [id] }),
        json!({ "user_id": { "hex": id } }),
        json!({ "user_id": "<>" }),
        json!({ "user_id": &id[..30] }),
        json!({ "user_id": id, "send_email": "yes" }),
        json!({ "user_id": id, "send_email": 1 }),
        json!({ "user_id": id, "send_email": null }),
        json!({ "user_email": 5 }),
        json!({ "user_email": "<>" }),
        json!({ "user_email": true }),
    ] {
        assert_unprocessable(&s.admin(&path, body.clone()).await, &body.to_string());
    }
    // Business refusals: a 4xx with a text detail.
    for (body, status, detail) in [
        (json!({}), 400, "Missing either `user_id` or `user_email` field"),
        (
            json!({ "user_id": null, "user_email": null }),
            400,
            "Missing either `user_id` or `user_email` field",
        ),
        (
            json!({ "user_id": id, "user_email": s.alice.email }),
            400,
            "Both `user_id` and `user_email` fields are provided",
        ),
        (json!({ "user_email": "nobody@example.com" }), 404, "User not found"),
        (
            json!({ "user_id": "d51589e233c0451e9d2fa1c7b9a8b08b" }),
            404,
            "User not found",
        ),
    ] {
        let rep = s.admin(&path, body.clone()).await;
        assert_eq!(
            (rep.status, rep.json()["detail"].clone()),
            (status, json!(detail)),
            "{body}"
        );
    }
    let rep = s
        .admin(
            "/administration/organizations/Bad.Org/users/reset_totp",
            json!({ "user_id": id }),
        )
        .await;
    assert_eq!(
        (rep.status, rep.json()["detail"].clone()),
        (404, json!("Invalid organization ID"))
    );
    let rep = s.admin_with_token(&path, "wrong", json!({ "user_id": id })).await;
    assert_eq!(rep.status, 403);
    // A body that is not JSON at all is refused before the token is
    // looked at (ADM-2); a badly typed one after it.
    let not_json = vec![
        ("Authorization", "Bearer wrong".to_owned()),
        ("Content-Type", "application/json".to_owned()),
    ];
    assert_unprocessable(&s.post(&path, &not_json, b"{".to_vec()).await, "bad token, not JSON");
    let rep = s.admin_with_token(&path, "wrong", json!({ "user_id": 5 })).await;
    assert_eq!(rep.status, 403);

    alice.assert_untouched(&s).await;
}

#[tokio::test]
async fn freeze_with_bad_input_gives_4xx_and_freezes_nobody() {
    let s = TestServer::start().await;
    let alice = AliceMfa::set_up(&s).await;
    let path = format!("/administration/organizations/{}/users/freeze", s.org);
    let id = s.alice.user_id.hex();
    for (content_type, body) in malformed_bodies() {
        let rep = admin_raw(&s, &path, content_type, body.clone()).await;
        assert_unprocessable(&rep, &format!("{content_type:?} {}", String::from_utf8_lossy(&body)));
    }
    for body in [
        json!({ "user_id": id }),
        json!({ "user_id": id, "frozen": "true" }),
        json!({ "user_id": id, "frozen": 1 }),
        json!({ "user_id": id, "frozen": null }),
        json!({ "user_id": 5, "frozen": true }),
        json!({ "user_email": ["a@example.com"], "frozen": true }),
    ] {
        assert_unprocessable(&s.admin(&path, body.clone()).await, &body.to_string());
    }
    let rep = s.admin(&path, json!({ "frozen": true })).await;
    assert_eq!(rep.status, 400);
    alice.assert_untouched(&s).await;
}

#[tokio::test]
async fn oversized_administration_bodies_give_413_with_a_detail() {
    let s = TestServer::start().await;
    let alice = AliceMfa::set_up(&s).await;
    for size in [100 * 1024, 3 * 1024 * 1024] {
        // Valid JSON, padded with an ignored key.
        let body = json!({ "user_id": s.alice.user_id.hex(), "pad": "x".repeat(size) }).to_string();
        let rep = admin_raw(&s, &s.reset_path(), Some("application/json"), body.into_bytes()).await;
        assert_eq!(rep.status, 413, "{size} bytes");
        assert_eq!(rep.json()["detail"], "Request Entity Too Large", "{size} bytes");
    }
    alice.assert_untouched(&s).await;
}

#[tokio::test]
async fn random_bytes_to_the_administration_api_give_4xx() {
    let s = TestServer::start().await;
    let alice = AliceMfa::set_up(&s).await;
    let paths = [
        "/administration/organizations".to_owned(),
        s.reset_path(),
        format!("/administration/organizations/{}/users/freeze", s.org),
    ];
    let mut rng = Rng(0x5eed_0003);
    for i in 0..60 {
        let len = rng.below(120);
        let body = rng.bytes(len);
        let path = &paths[i % paths.len()];
        let content_type = [Some("application/json"), None, Some("application/msgpack")][rng.below(3)];
        let rep = admin_raw(&s, path, content_type, body.clone()).await;
        assert_unprocessable(&rep, &format!("{path} {content_type:?} {}", hex::encode(&body)));
    }
    alice.assert_untouched(&s).await;
}
