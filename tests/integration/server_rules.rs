//! The rules of the catalogue (`docs/spec.md`: HS, the commands, THR, RST)
//! below what a user of the guides sees, each checked against the in-process
//! reference server on a simulated clock (no sleeps).

use parsec_mfa_reference::protocol::addr::TotpResetAddr;
use parsec_mfa_reference::protocol::anonymous::{
    totp_fetch_opaque_key as fetch, totp_setup_confirm as anon_confirm, totp_setup_get_secret as anon_get_secret,
};
use parsec_mfa_reference::protocol::authenticated::{
    ping as auth_ping, totp_create_opaque_key as create_key, totp_setup_confirm as confirm,
    totp_setup_get_secret as get_secret, user_revoke,
};
use parsec_mfa_reference::protocol::certif::{Certificate, RevokedUserCertificate};
use parsec_mfa_reference::protocol::{AccessToken, DeviceID, TOTPOpaqueKeyID, UserID};
use parsec_mfa_scenarios::testing::server::{Member, TestServer};
use serde_json::json;

const WRONG: &str = "000000";

fn ping_body() -> Vec<u8> {
    auth_ping::Req { ping: "hi".into() }.dump()
}

// ---------------------------------------------------------------- HS: the handshake

#[tokio::test]
async fn handshake_api_version_missing_or_invalid_gives_422_with_supported_versions() {
    let s = TestServer::start().await;
    for version in [None, Some("5"), Some("6.0")] {
        let mut headers = vec![("Content-Type", "application/msgpack".to_string())];
        if let Some(v) = version {
            headers.push(("Api-Version", v.into()));
        }
        let rep = s.post(&s.anonymous_path(), &headers, vec![0x80]).await;
        assert_eq!(rep.status, 422, "{version:?}");
        assert_eq!(
            rep.header("supported-api-versions").as_deref(),
            Some("5.5"),
            "{version:?}"
        );
        assert_eq!(rep.header("api-version"), None, "{version:?}");
    }
}

#[tokio::test]
async fn handshake_invalid_organization_id_gives_404() {
    let s = TestServer::start().await;
    let rep = s
        .post("/anonymous/Org.1", &TestServer::msgpack_headers(), vec![0x80])
        .await;
    assert_eq!(rep.status, 404);
    assert_eq!(rep.json()["detail"], "Organization not found");
}

#[tokio::test]
async fn handshake_content_type_with_charset_gives_415() {
    let s = TestServer::start().await;
    let headers = vec![
        ("Api-Version", "5.5".to_string()),
        ("Content-Type", "application/msgpack; charset=utf-8".to_string()),
    ];
    let rep = s.post(&s.anonymous_path(), &headers, vec![0x80]).await;
    assert_eq!(rep.status, 415);
}

#[tokio::test]
async fn handshake_bad_authorization_header_gives_401() {
    let s = TestServer::start().await;
    for auth in [None, Some("Dummy x"), Some("Bearer <dummy>")] {
        let mut headers = TestServer::msgpack_headers();
        if let Some(a) = auth {
            headers.push(("Authorization", a.into()));
        }
        let rep = s.post(&s.authenticated_path(), &headers, ping_body()).await;
        assert_eq!(rep.status, 401, "{auth:?}");
        assert_eq!(rep.json()["detail"], "Missing authentication info");
    }
}

#[tokio::test]
async fn handshake_body_over_one_mib_gives_413() {
    let s = TestServer::start().await;
    let mut headers = TestServer::msgpack_headers();
    headers.push((
        "Authorization",
        format!("Bearer {}", s.token_for(&s.alice, s.now().unix_seconds())),
    ));
    let rep = s
        .post(&s.authenticated_path(), &headers, vec![0; 1024 * 1024 + 1])
        .await;
    assert_eq!(rep.status, 413);
    let rep = s.anonymous(vec![0; 1024 * 1024 + 1]).await;
    assert_eq!(rep.status, 413);
}

#[tokio::test]
async fn handshake_unknown_device_gives_403() {
    let s = TestServer::start().await;
    let stranger = Member {
        device_id: DeviceID::new(),
        ..s.alice.clone()
    };
    let rep = s.authenticated_as(&stranger, ping_body()).await;
    assert_eq!(rep.status, 403);
    assert_eq!(rep.json()["detail"], "Bad authentication info");
}

#[tokio::test]
async fn handshake_bad_signature_gives_403() {
    let s = TestServer::start().await;
    let forger = Member {
        device_key: parsec_mfa_reference::crypto::SigningKey::generate(),
        ..s.alice.clone()
    };
    let rep = s.authenticated_as(&forger, ping_body()).await;
    assert_eq!(rep.status, 403);
}

#[tokio::test]
async fn handshake_token_out_of_ballpark_gives_498() {
    let s = TestServer::start().await;
    let now = s.now().unix_seconds();
    for (age, expected) in [(321, 498), (-301, 498), (319, 200), (-299, 200)] {
        let mut headers = TestServer::msgpack_headers();
        headers.push(("Authorization", format!("Bearer {}", s.token_for(&s.alice, now - age))));
        let rep = s.post(&s.authenticated_path(), &headers, ping_body()).await;
        assert_eq!(rep.status, expected, "token {age} s old");
        if expected == 498 {
            assert_eq!(rep.json()["detail"], "Token expired");
        }
    }
}

#[tokio::test]
async fn handshake_frozen_user_gives_462() {
    let s = TestServer::start().await;
    assert_eq!(s.authenticated(ping_body()).await.status, 200);
    let rep = s
        .admin(
            &format!("/administration/organizations/{}/users/freeze", s.org),
            json!({ "user_id": s.alice.user_id.hex(), "frozen": true }),
        )
        .await;
    assert_eq!(rep.status, 200, "{:?}", rep.json());
    let rep = s.authenticated(ping_body()).await;
    assert_eq!(rep.status, 462);
    assert_eq!(rep.json()["detail"], "User frozen");
}

#[tokio::test]
async fn handshake_revoked_user_gives_461_before_the_signature_is_checked() {
    let s = TestServer::start().await;
    let bob = s.add_user("bob@example.com").await;
    assert_eq!(s.authenticated_as(&bob, ping_body()).await.status, 200);
    s.advance(1);
    let revoked = RevokedUserCertificate {
        author: s.alice.device_id,
        timestamp: s.now(),
        user_id: bob.user_id,
    };
    let req = user_revoke::Req {
        revoked_user_certificate: revoked.dump_and_sign(&s.alice.device_key).into(),
    };
    let rep = s.authenticated(req.dump()).await;
    assert_eq!(rep.status, 200);
    assert_eq!(user_revoke::Rep::load(&rep.body).unwrap(), user_revoke::Rep::Ok {});

    for body in [ping_body(), get_secret::Req {}.dump(), create_key::Req {}.dump()] {
        let rep = s.authenticated_as(&bob, body).await;
        assert_eq!(rep.status, 461);
        assert_eq!(rep.json()["detail"], "User revoked");
        assert_eq!(rep.header("api-version").as_deref(), Some("5.5"));
    }
    // The revocation is checked before the signature (HS-7).
    let forger = Member {
        device_key: parsec_mfa_reference::crypto::SigningKey::generate(),
        ..bob.clone()
    };
    assert_eq!(s.authenticated_as(&forger, ping_body()).await.status, 461);
    // Only bob is affected.
    assert_eq!(s.authenticated(ping_body()).await.status, 200);
}

#[tokio::test]
async fn handshake_extra_key_in_a_unit_request_gives_415() {
    let s = TestServer::start().await;
    // {"cmd": "totp_setup_get_secret", "x": 1}
    let mut body = vec![0x82, 0xa3];
    body.extend(b"cmd");
    body.push(0xa0 + 21);
    body.extend(b"totp_setup_get_secret");
    body.extend([0xa1, b'x', 0x01]);
    let rep = s.authenticated(body).await;
    assert_eq!(rep.status, 415);
    // Control: without the extra key it runs.
    assert_eq!(s.authenticated(get_secret::Req {}.dump()).await.status, 200);
}

// ---------------------------------------------------------------- SECRET, CONFIRM, CREATE, FETCH

#[tokio::test]
async fn setup_secret_is_stable_until_confirmed() {
    let s = TestServer::start().await;
    let first = s.get_secret_as(&s.alice).await;
    s.advance(100);
    assert_eq!(s.get_secret_as(&s.alice).await, first);
    let get_secret::Rep::Ok { totp_secret } = first else {
        panic!()
    };
    assert_eq!(totp_secret.0.len(), 20);
    assert_eq!(
        s.confirm_as(&s.alice, s.code(&totp_secret.0, 0)).await,
        confirm::Rep::Ok {}
    );
    assert_eq!(s.get_secret_as(&s.alice).await, get_secret::Rep::AlreadySetup {});
}

#[tokio::test]
async fn setup_confirm_without_a_secret_is_invalid_one_time_password() {
    let s = TestServer::start().await;
    assert_eq!(
        s.confirm_as(&s.alice, "123456".into()).await,
        confirm::Rep::InvalidOneTimePassword {}
    );
}

#[tokio::test]
async fn setup_confirm_with_a_wrong_code_is_invalid_and_not_throttled() {
    let s = TestServer::start().await;
    let get_secret::Rep::Ok { totp_secret } = s.get_secret_as(&s.alice).await else {
        panic!()
    };
    let wrong = s.wrong_code(&totp_secret.0);
    for _ in 0..3 {
        assert_eq!(
            s.confirm_as(&s.alice, wrong.clone()).await,
            confirm::Rep::InvalidOneTimePassword {}
        );
    }
    assert_eq!(
        s.confirm_as(&s.alice, s.code(&totp_secret.0, 0)).await,
        confirm::Rep::Ok {}
    );
}

#[tokio::test]
async fn setup_confirm_when_completed_is_already_setup_for_any_code() {
    let s = TestServer::start().await;
    let secret = s.setup_totp_as(&s.alice).await;
    assert_eq!(
        s.confirm_as(&s.alice, s.code(&secret, 0)).await,
        confirm::Rep::AlreadySetup {}
    );
    assert_eq!(s.confirm_as(&s.alice, "x".into()).await, confirm::Rep::AlreadySetup {});
}

#[tokio::test]
async fn create_opaque_key_gives_distinct_keys_even_without_setup() {
    let s = TestServer::start().await;
    let (id1, key1) = s.create_key_as(&s.alice).await;
    let (id2, key2) = s.create_key_as(&s.alice).await;
    assert_ne!(id1, id2);
    assert_ne!(key1.0, key2.0);
}

#[tokio::test]
async fn fetch_accepts_the_previous_step_but_not_two_steps_back() {
    let s = TestServer::start().await;
    let secret = s.setup_totp_as(&s.alice).await;
    let (id, key) = s.create_key_as(&s.alice).await;
    s.advance(15);
    assert_eq!(
        s.fetch(s.alice.user_id, id, &s.code(&secret, -30)).await,
        fetch::Rep::Ok {
            opaque_key: key.clone()
        }
    );
    assert_eq!(
        s.fetch(s.alice.user_id, id, &s.code(&secret, 30)).await,
        fetch::Rep::Ok {
            opaque_key: key.clone()
        }
    );
    assert_eq!(
        s.fetch(s.alice.user_id, id, &s.code(&secret, -60)).await,
        fetch::Rep::InvalidOneTimePassword {}
    );
}

#[tokio::test]
async fn fetch_precondition_failures_are_invalid_and_not_counted() {
    let s = TestServer::start().await;
    let bob = s.add_user("bob@example.com").await;
    // Bob never completed the setup.
    let (bob_key, _) = s.create_key_as(&bob).await;
    let secret = s.setup_totp_as(&s.alice).await;
    let (alice_key, alice_opaque) = s.create_key_as(&s.alice).await;
    let bob_secret_rep = s.get_secret_as(&bob).await;
    let get_secret::Rep::Ok {
        totp_secret: bob_secret,
    } = bob_secret_rep
    else {
        panic!()
    };
    for _ in 0..5 {
        // Unknown key.
        assert_eq!(
            s.fetch(s.alice.user_id, TOTPOpaqueKeyID::new(), &s.code(&secret, 0))
                .await,
            fetch::Rep::InvalidOneTimePassword {}
        );
        // Another user's key.
        assert_eq!(
            s.fetch(s.alice.user_id, bob_key, &s.code(&secret, 0)).await,
            fetch::Rep::InvalidOneTimePassword {}
        );
        assert_eq!(
            s.fetch(bob.user_id, alice_key, WRONG).await,
            fetch::Rep::InvalidOneTimePassword {}
        );
        // Setup not completed (even with the right code for the pending secret).
        assert_eq!(
            s.fetch(bob.user_id, bob_key, &s.code(&bob_secret.0, 0)).await,
            fetch::Rep::InvalidOneTimePassword {}
        );
        // Unknown user.
        assert_eq!(
            s.fetch(UserID::new(), alice_key, &s.code(&secret, 0)).await,
            fetch::Rep::InvalidOneTimePassword {}
        );
    }
    // None counted: both keys open at once, without throttle.
    assert_eq!(
        s.fetch(s.alice.user_id, alice_key, &s.code(&secret, 0)).await,
        fetch::Rep::Ok {
            opaque_key: alice_opaque
        }
    );
    assert_eq!(s.confirm_as(&bob, s.code(&bob_secret.0, 0)).await, confirm::Rep::Ok {});
    assert!(matches!(
        s.fetch(bob.user_id, bob_key, &s.code(&bob_secret.0, 0)).await,
        fetch::Rep::Ok { .. }
    ));
}

#[tokio::test]
async fn create_opaque_key_with_an_extra_key_gives_415() {
    let s = TestServer::start().await;
    let mut body = vec![0x82, 0xa3];
    body.extend(b"cmd");
    body.push(0xa0 + 22);
    body.extend(b"totp_create_opaque_key");
    body.extend([0xa1, b'x', 0x01]);
    assert_eq!(s.authenticated(body).await.status, 415);
    assert_eq!(s.authenticated(create_key::Req {}.dump()).await.status, 200);
}

// ---------------------------------------------------------------- THR: the throttle

#[tokio::test]
async fn throttle_three_failures_wait_until_is_last_failure_plus_four_seconds_inclusive() {
    let s = TestServer::start().await;
    let secret = s.setup_totp_as(&s.alice).await;
    let (id, key) = s.create_key_as(&s.alice).await;
    let (id2, key2) = s.create_key_as(&s.alice).await;
    let t = s.now();
    let user = s.alice.user_id;
    assert_eq!(s.fetch(user, id, "00").await, fetch::Rep::InvalidOneTimePassword {});
    s.advance(2);
    assert_eq!(s.fetch(user, id, "00").await, fetch::Rep::InvalidOneTimePassword {});
    s.advance(3);
    assert_eq!(s.fetch(user, id, "00").await, fetch::Rep::InvalidOneTimePassword {});
    let throttled = fetch::Rep::Throttled {
        wait_until: t.add_seconds(9),
    };
    assert_eq!(s.fetch(user, id, &s.code(&secret, 0)).await, throttled);
    // Throttled replies do not count: the deadline does not move.
    for _ in 0..3 {
        assert_eq!(s.fetch(user, id, WRONG).await, throttled);
    }
    // A second key of the same user is unaffected.
    assert_eq!(s.fetch(user, id2, "00").await, fetch::Rep::InvalidOneTimePassword {});
    // Inclusive bound: still throttled at exactly T+9.
    s.advance(4);
    assert_eq!(s.now(), t.add_seconds(9));
    assert_eq!(s.fetch(user, id, &s.code(&secret, 0)).await, throttled);
    s.advance_micros(1);
    assert_eq!(
        s.fetch(user, id, &s.code(&secret, 0)).await,
        fetch::Rep::Ok { opaque_key: key }
    );
    // key2 had one failure at T+5 (wait 1 s), long over.
    assert_eq!(
        s.fetch(user, id2, &s.code(&secret, 0)).await,
        fetch::Rep::Ok { opaque_key: key2 }
    );
}

#[tokio::test]
async fn throttle_twenty_failures_wait_two_to_the_nineteen_seconds() {
    let s = TestServer::start().await;
    let secret = s.setup_totp_as(&s.alice).await;
    let (id, _) = s.create_key_as(&s.alice).await;
    let user = s.alice.user_id;
    for f in 1..=20u32 {
        let wrong = s.wrong_code(&secret);
        assert_eq!(
            s.fetch(user, id, &wrong).await,
            fetch::Rep::InvalidOneTimePassword {},
            "failure {f}"
        );
        let last = s.now();
        let wait = 1i64 << (f - 1);
        assert_eq!(
            s.fetch(user, id, &s.code(&secret, 0)).await,
            fetch::Rep::Throttled {
                wait_until: last.add_seconds(wait)
            },
            "after failure {f}"
        );
        if f == 20 {
            assert_eq!(wait, 524_288);
        } else {
            s.advance(wait + 1);
        }
    }
}

#[tokio::test]
async fn throttle_a_success_clears_it() {
    let s = TestServer::start().await;
    let secret = s.setup_totp_as(&s.alice).await;
    let (id, key) = s.create_key_as(&s.alice).await;
    let user = s.alice.user_id;
    for wait in [1, 2, 4] {
        assert_eq!(s.fetch(user, id, "00").await, fetch::Rep::InvalidOneTimePassword {});
        s.advance(wait + 1);
    }
    assert_eq!(
        s.fetch(user, id, &s.code(&secret, 0)).await,
        fetch::Rep::Ok { opaque_key: key }
    );
    // The next failure waits 1 s again.
    assert_eq!(s.fetch(user, id, "00").await, fetch::Rep::InvalidOneTimePassword {});
    let last = s.now();
    assert_eq!(
        s.fetch(user, id, "00").await,
        fetch::Rep::Throttled {
            wait_until: last.add_seconds(1)
        }
    );
}

#[tokio::test]
async fn throttle_an_admin_reset_clears_it() {
    let s = TestServer::start().await;
    s.setup_totp_as(&s.alice).await;
    let (id, key) = s.create_key_as(&s.alice).await;
    let user = s.alice.user_id;
    for _ in 0..10 {
        let _ = s.fetch(user, id, "00").await;
    }
    assert!(matches!(s.fetch(user, id, "00").await, fetch::Rep::Throttled { .. }));
    let addr = s.reset(&s.alice).await;
    let secret = anonymous_setup(&s, &addr).await;
    assert_eq!(
        s.fetch(user, id, &s.code(&secret, 0)).await,
        fetch::Rep::Ok { opaque_key: key }
    );
}

// ---------------------------------------------------------------- RST: the reset

/// Anonymous get_secret + confirm with the reset token: the new secret.
async fn anonymous_setup(s: &TestServer, addr: &TotpResetAddr) -> Vec<u8> {
    let rep = s
        .anonymous(
            anon_get_secret::Req {
                user_id: addr.user_id,
                token: addr.token,
            }
            .dump(),
        )
        .await;
    assert_eq!(rep.status, 200);
    let anon_get_secret::Rep::Ok { totp_secret } = anon_get_secret::Rep::load(&rep.body).unwrap() else {
        panic!("anonymous get_secret")
    };
    let secret = totp_secret.0;
    assert_eq!(
        anon_confirm_rep(s, addr, s.code(&secret, 0)).await,
        anon_confirm::Rep::Ok {}
    );
    secret
}

async fn anon_confirm_rep(s: &TestServer, addr: &TotpResetAddr, otp: String) -> anon_confirm::Rep {
    let rep = s
        .anonymous(
            anon_confirm::Req {
                user_id: addr.user_id,
                token: addr.token,
                one_time_password: otp,
            }
            .dump(),
        )
        .await;
    assert_eq!(rep.status, 200);
    anon_confirm::Rep::load(&rep.body).unwrap()
}

async fn anon_get_secret_rep(s: &TestServer, user_id: UserID, token: AccessToken) -> anon_get_secret::Rep {
    let rep = s.anonymous(anon_get_secret::Req { user_id, token }.dump()).await;
    assert_eq!(rep.status, 200);
    anon_get_secret::Rep::load(&rep.body).unwrap()
}

#[tokio::test]
async fn reset_by_email_and_by_id_return_the_url_built_from_server_addr() {
    let s = TestServer::start().await;
    let by_email = s
        .admin(&s.reset_path(), json!({ "user_email": "alice@example.com" }))
        .await;
    let by_id = s
        .admin(
            &s.reset_path(),
            json!({ "user_id": s.alice.user_id.hex(), "send_email": false }),
        )
        .await;
    for rep in [by_email, by_id] {
        assert_eq!(rep.status, 200, "{:?}", rep.json());
        let j = rep.json();
        assert_eq!(j["user_id"], s.alice.user_id.hex());
        assert_eq!(j["user_email"], "alice@example.com");
        assert_eq!(j["email_sent_status"], "NOT_SENT_AS_REQUESTED");
        let url = j["totp_reset_url"].as_str().unwrap();
        let prefix = format!("parsec3://127.0.0.1:{}/{}?no_ssl=true&a=totp_reset&p=", s.port, s.org);
        assert!(url.starts_with(&prefix), "{url}");
        assert_eq!(url.len(), prefix.len() + 50);
        let http = j["totp_reset_url_as_http_redirection"].as_str().unwrap();
        assert!(
            http.starts_with(&format!(
                "http://127.0.0.1:{}/redirect/{}?a=totp_reset&p=",
                s.port, s.org
            )),
            "{http}"
        );
        let addr = TotpResetAddr::parse_any(url).unwrap();
        assert_eq!(addr.user_id, s.alice.user_id);
        assert_eq!(TotpResetAddr::parse_any(http).unwrap(), addr);
    }
}

#[tokio::test]
async fn reset_admin_errors() {
    let s = TestServer::start().await;
    let path = s.reset_path();
    let uid = s.alice.user_id.hex();
    let rep = s
        .admin(&path, json!({ "user_id": uid, "user_email": "alice@example.com" }))
        .await;
    assert_eq!(rep.status, 400);
    assert_eq!(
        rep.json()["detail"],
        "Both `user_id` and `user_email` fields are provided"
    );
    let rep = s.admin(&path, json!({})).await;
    assert_eq!(rep.status, 400);
    assert_eq!(rep.json()["detail"], "Missing either `user_id` or `user_email` field");
    let rep = s.admin(&path, json!({ "user_email": "nobody@example.com" })).await;
    assert_eq!(
        (rep.status, rep.json()["detail"].clone()),
        (404, json!("User not found"))
    );
    let rep = s
        .admin(&path, json!({ "user_id": "d51589e233c0451e9d2fa1c7b9a8b08b" }))
        .await;
    assert_eq!(
        (rep.status, rep.json()["detail"].clone()),
        (404, json!("User not found"))
    );
    let rep = s
        .admin(
            "/administration/organizations/DummyOrg/users/reset_totp",
            json!({ "user_id": uid }),
        )
        .await;
    assert_eq!(
        (rep.status, rep.json()["detail"].clone()),
        (404, json!("Organization not found"))
    );
    let rep = s.admin_with_token(&path, "wrong", json!({ "user_id": uid })).await;
    assert_eq!(
        (rep.status, rep.json()["detail"].clone()),
        (403, json!("Bad authorization token"))
    );
    let rep = s.admin(&path, json!({ "user_id": 42 })).await;
    assert_eq!(rep.status, 422);
}

#[tokio::test]
async fn reset_refuses_the_old_code_and_the_token_is_single_use() {
    let s = TestServer::start().await;
    let old_secret = s.setup_totp_as(&s.alice).await;
    let (id, key) = s.create_key_as(&s.alice).await;
    let addr = s.reset(&s.alice).await;
    // Old code refused (setup no longer completed); authenticated get_secret gives a fresh secret.
    assert_eq!(
        s.fetch(s.alice.user_id, id, &s.code(&old_secret, 0)).await,
        fetch::Rep::InvalidOneTimePassword {}
    );
    // A wrong OTP keeps the token valid.
    assert_eq!(
        anon_confirm_rep(&s, &addr, "abc".into()).await,
        anon_confirm::Rep::InvalidOneTimePassword {}
    );
    // A wrong token is bad_token.
    assert_eq!(
        anon_get_secret_rep(&s, s.alice.user_id, AccessToken::new()).await,
        anon_get_secret::Rep::BadToken {}
    );
    let new_secret = anonymous_setup(&s, &addr).await;
    assert_ne!(new_secret, old_secret);
    // Single use.
    assert_eq!(
        anon_get_secret_rep(&s, addr.user_id, addr.token).await,
        anon_get_secret::Rep::BadToken {}
    );
    assert_eq!(
        anon_confirm_rep(&s, &addr, s.code(&new_secret, 0)).await,
        anon_confirm::Rep::BadToken {}
    );
    assert_eq!(s.get_secret_as(&s.alice).await, get_secret::Rep::AlreadySetup {});
    // The key created before the reset opens with the new secret's code, not the old one's.
    if s.code(&old_secret, 0) != s.code(&new_secret, 0) {
        assert_eq!(
            s.fetch(s.alice.user_id, id, &s.code(&old_secret, 0)).await,
            fetch::Rep::InvalidOneTimePassword {}
        );
        s.advance(2);
    }
    assert_eq!(
        s.fetch(s.alice.user_id, id, &s.code(&new_secret, 0)).await,
        fetch::Rep::Ok { opaque_key: key }
    );
}

#[tokio::test]
async fn reset_a_second_reset_invalidates_the_first_token() {
    let s = TestServer::start().await;
    let first = s.reset(&s.alice).await;
    let second = s.reset(&s.alice).await;
    assert_ne!(first.token, second.token);
    assert_eq!(
        anon_get_secret_rep(&s, first.user_id, first.token).await,
        anon_get_secret::Rep::BadToken {}
    );
    assert!(matches!(
        anon_get_secret_rep(&s, second.user_id, second.token).await,
        anon_get_secret::Rep::Ok { .. }
    ));
}

#[tokio::test]
async fn reset_authenticated_confirm_clears_the_pending_reset_token() {
    let s = TestServer::start().await;
    let addr = s.reset(&s.alice).await;
    // The user confirms through the authenticated flow instead of the link.
    let secret = s.setup_totp_as(&s.alice).await;
    assert_eq!(
        anon_get_secret_rep(&s, addr.user_id, addr.token).await,
        anon_get_secret::Rep::BadToken {}
    );
    assert_eq!(
        anon_confirm_rep(&s, &addr, s.code(&secret, 0)).await,
        anon_confirm::Rep::BadToken {}
    );
}
