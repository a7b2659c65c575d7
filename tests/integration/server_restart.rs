//! The `parsec-mfa serve` process, killed with SIGKILL and restarted on the
//! same SQLite file, keeps its MFA state: the opaque key still opens with a
//! valid code, and the throttle earned before the crash still applies.

use parsec_mfa_reference::crypto::{PrivateKey, SigningKey};
use parsec_mfa_reference::protocol::anonymous::{organization_bootstrap, totp_fetch_opaque_key as fetch};
use parsec_mfa_reference::protocol::authenticated::{
    totp_create_opaque_key as create_key, totp_setup_confirm as confirm, totp_setup_get_secret as get_secret,
};
use parsec_mfa_reference::protocol::certif::{Certificate, DeviceCertificate, DevicePurpose, UserCertificate};
use parsec_mfa_reference::protocol::token::AuthenticatedToken;
use parsec_mfa_reference::protocol::{DateTime, DeviceID, HumanHandle, UserID, UserProfile};
use parsec_mfa_reference::totp;
use parsec_mfa_scenarios::servers::free_port;
use parsec_mfa_scenarios::testing::ADMIN_TOKEN;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    base: String,
    http: reqwest::Client,
}

impl Server {
    async fn start(db: &std::path::Path, port: u16) -> Server {
        let child = Command::new(env!("CARGO_BIN_EXE_parsec-mfa"))
            .args([
                "serve",
                "--port",
                &port.to_string(),
                "--administration-token",
                ADMIN_TOKEN,
            ])
            .arg("--db")
            .arg(format!("sqlite:{}", db.display()))
            .args(["--test-clock", "--spontaneous-organization-bootstrap"])
            .stderr(Stdio::null())
            .spawn()
            .expect("the parsec-mfa binary starts");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http: {
                parsec_mfa_reference::client::tls::install_crypto_provider();
                reqwest::Client::new()
            },
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while server
            .http
            .get(format!("{}/testing/clock", server.base))
            .send()
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "server did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        server
    }

    async fn now(&self) -> DateTime {
        let v: serde_json::Value = self
            .http
            .get(format!("{}/testing/clock", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        DateTime::from_micros(v["now_us"].as_i64().unwrap())
    }

    async fn advance(&self, seconds: i64) {
        let r = self
            .http
            .post(format!("{}/testing/clock", self.base))
            .json(&serde_json::json!({ "advance_seconds": seconds }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    async fn rpc(&self, path: &str, body: Vec<u8>, auth: Option<String>) -> Vec<u8> {
        let mut r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Api-Version", "5.5")
            .header("Content-Type", "application/msgpack");
        if let Some(token) = auth {
            r = r.header("Authorization", format!("Bearer {token}"));
        }
        let response = r.body(body).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.bytes().await.unwrap().to_vec()
    }

    fn kill(mut self) {
        // SIGKILL: no chance to flush or close anything.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

#[tokio::test]
async fn state_survives_a_sigkill_restart_on_the_same_sqlite_file() {
    let dir = std::env::temp_dir().join(format!("parsec-mfa-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let db = dir.join("server.sqlite");
    let port = free_port();
    let server = Server::start(&db, port).await;

    // Spontaneous bootstrap of a new organization by alice.
    let root = SigningKey::generate();
    let device_key = SigningKey::generate();
    let (user_id, device_id) = (UserID::new(), DeviceID::new());
    let now = server.now().await;
    let user = UserCertificate {
        author: None,
        timestamp: now,
        user_id,
        human_handle: Some(HumanHandle::new("alice@example.com", "Alice").unwrap()),
        public_key: PrivateKey::generate().public_key(),
        profile: UserProfile::Admin,
    };
    let device = DeviceCertificate {
        purpose: Some(DevicePurpose::Standard),
        author: None,
        timestamp: now,
        user_id,
        device_id,
        device_label: Some("laptop".into()),
        verify_key: device_key.verify_key(),
    };
    let req = organization_bootstrap::Req {
        bootstrap_token: None,
        root_verify_key: root.verify_key(),
        user_certificate: user.dump_and_sign(&root).into(),
        device_certificate: device.dump_and_sign(&root).into(),
        redacted_user_certificate: user.redacted().dump_and_sign(&root).into(),
        redacted_device_certificate: device.redacted().dump_and_sign(&root).into(),
        sequester_authority_certificate: None,
    };
    let rep = server.rpc("/anonymous/RestartOrg", req.dump(), None).await;
    assert_eq!(
        organization_bootstrap::Rep::load(&rep).unwrap(),
        organization_bootstrap::Rep::Ok {}
    );

    // Enable MFA and protect a device.
    let token = |at: DateTime| Some(AuthenticatedToken::build(device_id, &device_key, at.unix_seconds()));
    let rep = server
        .rpc("/authenticated/RestartOrg", get_secret::Req {}.dump(), token(now))
        .await;
    let get_secret::Rep::Ok { totp_secret } = get_secret::Rep::load(&rep).unwrap() else {
        panic!("no secret")
    };
    let secret = totp_secret.0;
    let code = totp::code_at(&secret, now.unix_seconds() as u64);
    let rep = server
        .rpc(
            "/authenticated/RestartOrg",
            confirm::Req {
                one_time_password: code,
            }
            .dump(),
            token(now),
        )
        .await;
    assert_eq!(confirm::Rep::load(&rep).unwrap(), confirm::Rep::Ok {});
    let rep = server
        .rpc("/authenticated/RestartOrg", create_key::Req {}.dump(), token(now))
        .await;
    let create_key::Rep::Ok {
        opaque_key,
        opaque_key_id,
    } = create_key::Rep::load(&rep).unwrap()
    else {
        panic!()
    };

    // Five wrong codes, each after the previous wait: the next wait is 16 s.
    for wait in [0, 1, 2, 4, 8] {
        server.advance(wait + 1).await;
        let req = fetch::Req {
            user_id,
            opaque_key_id,
            one_time_password: "000000".into(),
        };
        let rep = server.rpc("/anonymous/RestartOrg", req.dump(), None).await;
        assert_eq!(fetch::Rep::load(&rep).unwrap(), fetch::Rep::InvalidOneTimePassword {});
    }
    let last_failure = server.now().await;
    server.kill();

    let server = Server::start(&db, port).await;
    // The restarted test clock starts from the real time, before the
    // simulated one: move it to just after the last failure.
    let restart_now = server.now().await;
    server
        .advance(last_failure.unix_seconds() - restart_now.unix_seconds() + 1)
        .await;
    let now = server.now().await;
    let valid = |at: DateTime| totp::code_at(&secret, at.unix_seconds() as u64);
    let req = fetch::Req {
        user_id,
        opaque_key_id,
        one_time_password: valid(now),
    };
    let rep = fetch::Rep::load(&server.rpc("/anonymous/RestartOrg", req.dump(), None).await).unwrap();
    let fetch::Rep::Throttled { wait_until } = rep else {
        panic!("throttle lost in the restart: {rep:?}")
    };
    assert_eq!(wait_until, last_failure.add_seconds(16));

    server.advance(17).await;
    let now = server.now().await;
    let req = fetch::Req {
        user_id,
        opaque_key_id,
        one_time_password: valid(now),
    };
    let rep = fetch::Rep::load(&server.rpc("/anonymous/RestartOrg", req.dump(), None).await).unwrap();
    assert_eq!(rep, fetch::Rep::Ok { opaque_key });
    server.kill();
    let _ = std::fs::remove_dir_all(&dir);
}
