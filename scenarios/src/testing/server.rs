//! The reference server in this process on a simulated clock: bare
//! ([`InProcessServer`], what the harness's in-process target and the
//! transcript replay start), or with a bootstrapped organization (alice,
//! admin) and helpers to talk to it ([`TestServer`], for the server's tests).

use parsec_mfa_reference::crypto::{PrivateKey, SecretKey, SigningKey};
use parsec_mfa_reference::protocol::addr::{BootstrapAddr, TotpResetAddr};
use parsec_mfa_reference::protocol::anonymous::{organization_bootstrap, totp_fetch_opaque_key as fetch};
use parsec_mfa_reference::protocol::authenticated::{
    totp_create_opaque_key as create_key, totp_setup_confirm as confirm, totp_setup_get_secret as get_secret,
    user_create,
};
use parsec_mfa_reference::protocol::certif::{Certificate, DeviceCertificate, DevicePurpose, UserCertificate};
use parsec_mfa_reference::protocol::token::AuthenticatedToken;
use parsec_mfa_reference::protocol::{DateTime, DeviceID, HumanHandle, TOTPOpaqueKeyID, UserID, UserProfile};
use parsec_mfa_reference::server::{AppState, EmailConfig, Faults, ManualClock, ServerConfig, Store};
use parsec_mfa_reference::totp;
use serde_json::Value as Json;
use std::net::SocketAddr;
use std::sync::Arc;

pub use super::ADMIN_TOKEN;

#[derive(Debug, thiserror::Error)]
pub enum InProcessServerError {
    #[error("cannot listen on a loopback port: {0}")]
    Listen(#[source] std::io::Error),
    #[error("{0}")]
    Address(#[source] std::io::Error),
    #[error("cannot build the server address: {0}")]
    ServerAddr(#[source] parsec_mfa_reference::protocol::addr::AddrError),
}

/// The reference server serving on a loopback port of this process, on a
/// clock that moves only when told; stopped when dropped.
pub struct InProcessServer {
    pub addr: SocketAddr,
    pub clock: ManualClock,
    pub state: Arc<AppState>,
    task: tokio::task::JoinHandle<()>,
}

impl InProcessServer {
    /// Serves on a fresh port: [`ADMIN_TOKEN`], its own address in links,
    /// mocked email, no advice; `configure` changes any of it (it knows the
    /// port). `faults` are deliberate defects (none: `Faults::default()`).
    pub async fn start(
        clock: ManualClock,
        store: Store,
        faults: Faults,
        configure: impl FnOnce(&mut ServerConfig),
    ) -> Result<InProcessServer, InProcessServerError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(InProcessServerError::Listen)?;
        let addr = listener.local_addr().map_err(InProcessServerError::Address)?;
        let mut config = ServerConfig {
            administration_token: ADMIN_TOKEN.into(),
            server_addr: format!("parsec3://127.0.0.1:{}?no_ssl=true", addr.port())
                .parse()
                .map_err(InProcessServerError::ServerAddr)?,
            email: EmailConfig::Mocked,
            advisory_device_file_protection: vec![],
            spontaneous_organization_bootstrap: false,
        };
        configure(&mut config);
        let mut state = AppState::new(config, store, Arc::new(clock.clone()));
        state.faults = faults;
        let state = Arc::new(state);
        let serving = state.clone();
        let task = tokio::spawn(async move {
            let _ = parsec_mfa_reference::server::serve(listener, serving).await;
        });
        Ok(InProcessServer {
            addr,
            clock,
            state,
            task,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn http_base(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for InProcessServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
/// 2000-01-02T00:00:00Z, the start of a 30 s TOTP step.
pub const START_UNIX: i64 = 946_771_200;

pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Json {
        serde_json::from_slice(&self.body).unwrap_or(Json::Null)
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).map(|v| v.to_str().unwrap().to_owned())
    }
}

/// A user with a device that can sign authenticated requests.
#[derive(Clone)]
pub struct Member {
    pub user_id: UserID,
    pub device_id: DeviceID,
    pub device_key: SigningKey,
    pub email: String,
}

pub struct TestServer {
    pub clock: ManualClock,
    pub port: u16,
    pub base: String,
    pub org: String,
    pub http: reqwest::Client,
    pub root: SigningKey,
    pub alice: Member,
    /// The server's state, for tests that check what was stored.
    pub state: Arc<AppState>,
    /// Serving until the test server is dropped.
    _server: InProcessServer,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with_org("RulesOrg").await
    }

    pub async fn start_with_org(org: &str) -> TestServer {
        Self::start_with(org, Store::memory(), Faults::default()).await
    }

    /// A server on the given store, with deliberate defects if any.
    pub async fn start_with(org: &str, store: Store, faults: Faults) -> TestServer {
        let clock = ManualClock::new(DateTime::from_micros(START_UNIX * 1_000_000));
        let server = InProcessServer::start(clock.clone(), store, faults, |_| {})
            .await
            .expect("the in-process server starts");
        let port = server.addr.port();
        let mut server = TestServer {
            clock,
            port,
            base: server.http_base(),
            org: org.to_owned(),
            http: {
                parsec_mfa_reference::client::tls::install_crypto_provider();
                reqwest::Client::new()
            },
            root: SigningKey::generate(),
            alice: Member {
                user_id: UserID::new(),
                device_id: DeviceID::new(),
                device_key: SigningKey::generate(),
                email: "alice@example.com".into(),
            },
            state: server.state.clone(),
            _server: server,
        };
        server.bootstrap().await;
        server
    }

    async fn bootstrap(&mut self) {
        let created = self
            .admin(
                "/administration/organizations",
                serde_json::json!({ "organization_id": self.org }),
            )
            .await;
        assert_eq!(created.status, 200, "create organization: {:?}", created.json());
        let url = created.json()["bootstrap_url"].as_str().unwrap().to_owned();
        let token = BootstrapAddr::parse_any(&url).unwrap().token;
        let now = self.now();
        let (user, device) = certificates(&self.alice, now, None, UserProfile::Admin);
        let req = organization_bootstrap::Req {
            bootstrap_token: token,
            root_verify_key: self.root.verify_key(),
            user_certificate: user.dump_and_sign(&self.root).into(),
            device_certificate: device.dump_and_sign(&self.root).into(),
            redacted_user_certificate: user.redacted().dump_and_sign(&self.root).into(),
            redacted_device_certificate: device.redacted().dump_and_sign(&self.root).into(),
            sequester_authority_certificate: None,
        };
        let rep = self.anonymous(req.dump()).await;
        assert_eq!(rep.status, 200);
        assert_eq!(
            organization_bootstrap::Rep::load(&rep.body).unwrap(),
            organization_bootstrap::Rep::Ok {}
        );
    }

    /// Alice (admin) creates another user with one device.
    pub async fn add_user(&self, email: &str) -> Member {
        self.advance(1);
        let member = Member {
            user_id: UserID::new(),
            device_id: DeviceID::new(),
            device_key: SigningKey::generate(),
            email: email.into(),
        };
        let (user, device) = certificates(&member, self.now(), Some(self.alice.device_id), UserProfile::Standard);
        let key = &self.alice.device_key;
        let req = user_create::Req {
            user_certificate: user.dump_and_sign(key).into(),
            device_certificate: device.dump_and_sign(key).into(),
            redacted_user_certificate: user.redacted().dump_and_sign(key).into(),
            redacted_device_certificate: device.redacted().dump_and_sign(key).into(),
        };
        let rep = self.authenticated(req.dump()).await;
        assert_eq!(rep.status, 200);
        assert_eq!(user_create::Rep::load(&rep.body).unwrap(), user_create::Rep::Ok {});
        member
    }

    pub fn now(&self) -> DateTime {
        use parsec_mfa_reference::server::Clock;
        self.clock.now()
    }

    pub fn advance(&self, seconds: i64) {
        self.clock.advance_seconds(seconds);
    }

    pub fn advance_micros(&self, micros: i64) {
        self.clock.advance_micros(micros);
    }

    pub fn anonymous_path(&self) -> String {
        format!("/anonymous/{}", self.org)
    }

    pub fn authenticated_path(&self) -> String {
        format!("/authenticated/{}", self.org)
    }

    /// A raw POST: the caller sets every header.
    pub async fn post(&self, path: &str, headers: &[(&str, String)], body: Vec<u8>) -> Reply {
        let mut request = self.http.post(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.body(body).send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        // Bounded: the server under test is the reference, but a test's
        // reader is no place to trust a reply's size.
        let body = parsec_mfa_reference::client::read_bounded(response, parsec_mfa_reference::client::MAX_REPLY_BYTES)
            .await
            .unwrap();
        Reply { status, headers, body }
    }

    pub fn msgpack_headers() -> Vec<(&'static str, String)> {
        vec![
            ("Api-Version", "5.5".into()),
            ("Content-Type", "application/msgpack".into()),
        ]
    }

    pub async fn anonymous(&self, body: Vec<u8>) -> Reply {
        self.post(&self.anonymous_path(), &Self::msgpack_headers(), body).await
    }

    pub fn token_for(&self, member: &Member, unix_seconds: i64) -> String {
        AuthenticatedToken::build(member.device_id, &member.device_key, unix_seconds)
    }

    pub async fn authenticated_as(&self, member: &Member, body: Vec<u8>) -> Reply {
        let mut headers = Self::msgpack_headers();
        headers.push((
            "Authorization",
            format!("Bearer {}", self.token_for(member, self.now().unix_seconds())),
        ));
        self.post(&self.authenticated_path(), &headers, body).await
    }

    pub async fn authenticated(&self, body: Vec<u8>) -> Reply {
        self.authenticated_as(&self.alice, body).await
    }

    pub async fn admin_with_token(&self, path: &str, token: &str, json: Json) -> Reply {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {token}"))
            .json(&json)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        // Bounded: the server under test is the reference, but a test's
        // reader is no place to trust a reply's size.
        let body = parsec_mfa_reference::client::read_bounded(response, parsec_mfa_reference::client::MAX_REPLY_BYTES)
            .await
            .unwrap();
        Reply { status, headers, body }
    }

    pub async fn admin(&self, path: &str, json: Json) -> Reply {
        self.admin_with_token(path, ADMIN_TOKEN, json).await
    }

    pub fn reset_path(&self) -> String {
        format!("/administration/organizations/{}/users/reset_totp", self.org)
    }

    /// Admin TOTP reset by user id; returns the parsed reset address.
    pub async fn reset(&self, member: &Member) -> TotpResetAddr {
        let rep = self
            .admin(
                &self.reset_path(),
                serde_json::json!({ "user_id": member.user_id.hex() }),
            )
            .await;
        assert_eq!(rep.status, 200, "{:?}", rep.json());
        TotpResetAddr::parse_any(rep.json()["totp_reset_url"].as_str().unwrap()).unwrap()
    }

    pub fn code(&self, secret: &[u8], offset_seconds: i64) -> String {
        totp::code_at(secret, (self.now().unix_seconds() + offset_seconds) as u64)
    }

    /// A code `secret` does not show within three steps of the server's time.
    pub fn wrong_code(&self, secret: &[u8]) -> String {
        super::wrong_code(secret, self.now().unix_seconds())
    }

    pub async fn get_secret_as(&self, member: &Member) -> get_secret::Rep {
        let rep = self.authenticated_as(member, get_secret::Req {}.dump()).await;
        assert_eq!(rep.status, 200);
        get_secret::Rep::load(&rep.body).unwrap()
    }

    pub async fn confirm_as(&self, member: &Member, otp: String) -> confirm::Rep {
        let rep = self
            .authenticated_as(member, confirm::Req { one_time_password: otp }.dump())
            .await;
        assert_eq!(rep.status, 200);
        confirm::Rep::load(&rep.body).unwrap()
    }

    /// get_secret + confirm with the current code: the secret.
    pub async fn setup_totp_as(&self, member: &Member) -> Vec<u8> {
        let get_secret::Rep::Ok { totp_secret } = self.get_secret_as(member).await else {
            panic!("no secret")
        };
        let secret = totp_secret.0;
        assert_eq!(
            self.confirm_as(member, self.code(&secret, 0)).await,
            confirm::Rep::Ok {}
        );
        secret
    }

    pub async fn create_key_as(&self, member: &Member) -> (TOTPOpaqueKeyID, SecretKey) {
        let rep = self.authenticated_as(member, create_key::Req {}.dump()).await;
        assert_eq!(rep.status, 200);
        let create_key::Rep::Ok {
            opaque_key_id,
            opaque_key,
        } = create_key::Rep::load(&rep.body).unwrap()
        else {
            panic!("create_opaque_key")
        };
        (opaque_key_id, opaque_key)
    }

    pub async fn fetch(&self, user_id: UserID, opaque_key_id: TOTPOpaqueKeyID, otp: &str) -> fetch::Rep {
        let req = fetch::Req {
            user_id,
            opaque_key_id,
            one_time_password: otp.into(),
        };
        let rep = self.anonymous(req.dump()).await;
        assert_eq!(rep.status, 200);
        fetch::Rep::load(&rep.body).unwrap()
    }
}

fn certificates(
    member: &Member,
    now: DateTime,
    author: Option<DeviceID>,
    profile: UserProfile,
) -> (UserCertificate, DeviceCertificate) {
    let user = UserCertificate {
        author,
        timestamp: now,
        user_id: member.user_id,
        human_handle: Some(HumanHandle::new(&member.email, "Someone").unwrap()),
        public_key: PrivateKey::generate().public_key(),
        profile,
    };
    let device = DeviceCertificate {
        purpose: Some(DevicePurpose::Standard),
        author,
        timestamp: now,
        user_id: member.user_id,
        device_id: member.device_id,
        device_label: Some("laptop".into()),
        verify_key: member.device_key.verify_key(),
    };
    (user, device)
}
