//! State changes are atomic under real concurrent HTTP requests (issue 3):
//! N concurrent wrong codes on one opaque key count exactly as many failures
//! as they are answered `invalid_one_time_password`, and a reset token opens
//! one setup confirmation only, even to N simultaneous requests.
//!
//! The server runs in process on a multi-threaded runtime, so requests are
//! handled in parallel; every test runs on both stores (memory and SQLite).
//! The clock is simulated and frozen during each burst.

use parsec_mfa_reference::protocol::addr::TotpResetAddr;
use parsec_mfa_reference::protocol::anonymous::{
    totp_fetch_opaque_key as fetch, totp_setup_confirm as anon_confirm, totp_setup_get_secret as anon_get_secret,
};
use parsec_mfa_reference::protocol::authenticated::totp_setup_get_secret as get_secret;
use parsec_mfa_reference::protocol::{DateTime, OrganizationID, TOTPOpaqueKeyID};
use parsec_mfa_reference::server::{Fault, Faults, StorageConfig, Store};
use parsec_mfa_scenarios::testing::server::TestServer;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::Barrier;

const N: usize = 16;

/// A SQLite file for one test, removed when dropped.
struct TempDb(PathBuf);

impl TempDb {
    fn new(name: &str) -> TempDb {
        let path = std::env::temp_dir().join(format!("parsec-mfa-concurrency-{}-{name}.sqlite", std::process::id()));
        let db = TempDb(path);
        db.remove();
        db
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.remove();
    }
}

/// The two stores every test runs on (the SQLite one with its file).
fn stores(name: &str) -> Vec<(Store, Option<TempDb>)> {
    let db = TempDb::new(name);
    let sqlite = Store::open(&StorageConfig::Sqlite(db.0.clone())).expect("a SQLite store in the temp dir");
    vec![(Store::memory(), None), (sqlite, Some(db))]
}

/// Runs `make(i)` for i in 0..N as N tasks released together, and returns
/// their results in order.
async fn burst<T, F>(make: impl Fn(usize) -> F) -> Vec<T>
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(N));
    let tasks: Vec<_> = (0..N)
        .map(|i| {
            let barrier = barrier.clone();
            let request = make(i);
            tokio::spawn(async move {
                barrier.wait().await;
                request.await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(N);
    for task in tasks {
        results.push(task.await.expect("a request task panicked"));
    }
    results
}

/// The stored throttle of an opaque key: (failed attempts, last failure).
fn stored_throttle(s: &TestServer, key: TOTPOpaqueKeyID) -> (u32, Option<DateTime>) {
    let org: OrganizationID = s.org.parse().unwrap();
    s.state.store.read(|orgs| {
        let key = &orgs[&org].opaque_keys[&key];
        (key.failed_attempts, key.last_failed_attempt)
    })
}

/// Sends the same wrong code N times at once on one key and returns the
/// replies.
async fn wrong_code_burst(s: &Arc<TestServer>, key: TOTPOpaqueKeyID, wrong: &str) -> Vec<fetch::Rep> {
    burst(|_| {
        let s = s.clone();
        let wrong = wrong.to_owned();
        async move { s.fetch(s.alice.user_id, key, &wrong).await }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_wrong_codes_are_each_either_counted_or_throttled() {
    for (store, _db) in stores("wrong-codes") {
        let s = Arc::new(TestServer::start_with("RaceOrg", store, Faults::default()).await);
        let secret = s.setup_totp_as(&s.alice).await;
        for _ in 0..KEYS {
            let (key, _) = s.create_key_as(&s.alice).await;
            throttle_rounds(&s, &secret, key).await;
        }
    }
}

/// Several keys and rounds: the more bursts, the likelier a race shows.
const KEYS: usize = 4;
const ROUNDS: u32 = 6;

async fn throttle_rounds(s: &Arc<TestServer>, secret: &[u8], key: TOTPOpaqueKeyID) {
    // Each round starts after the previous wait is over. The clock is frozen
    // during a burst, so once one wrong code is counted, every other request
    // of the burst is throttled by it: a burst counts exactly one failure.
    // A non-atomic check-then-update lets several requests pass the
    // throttle check and loses increments: more `invalid` replies than the
    // counter grew by.
    let mut counted = 0u32;
    for round in 1..=ROUNDS {
        let burst_at = s.now();
        let replies = wrong_code_burst(s, key, &s.wrong_code(secret)).await;
        let invalid = replies
            .iter()
            .filter(|r| **r == fetch::Rep::InvalidOneTimePassword {})
            .count() as u32;
        let throttled: Vec<DateTime> = replies
            .iter()
            .filter_map(|r| match r {
                fetch::Rep::Throttled { wait_until } => Some(*wait_until),
                _ => None,
            })
            .collect();
        assert_eq!(
            invalid as usize + throttled.len(),
            N,
            "round {round}: only invalid or throttled: {replies:?}"
        );
        counted += invalid;
        // The counter as the wire shows it: wait = last failure + 2^(n-1) s.
        let expected_wait = burst_at.add_seconds(1 << (counted - 1));
        assert!(
            throttled.iter().all(|w| *w == expected_wait),
            "round {round}: {invalid} counted, {counted} in total, but throttled until {throttled:?}"
        );
        assert_eq!(invalid, 1, "round {round}: {replies:?}");
        assert_eq!(stored_throttle(s, key), (counted, Some(burst_at)), "round {round}");
        s.advance((1 << (counted - 1)) + 1);
    }
    // A single request afterwards sees the same counter.
    s.advance(-1);
    let at = s.now();
    let reply = s.fetch(s.alice.user_id, key, &s.code(secret, 0)).await;
    assert_eq!(
        reply,
        fetch::Rep::Throttled { wait_until: at },
        "the wait of the last failure ends exactly now (inclusive)"
    );
    s.advance(1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_wrong_codes_evaluated_together_all_count() {
    // A lost increment needs two requests inside the same few microseconds:
    // many bursts make that likely if the update is not atomic.
    const BURSTS: u32 = 80;
    // With the throttle decision switched off (a deliberate fault that only
    // skips the check), all N wrong codes of a burst are evaluated at the
    // same time, on the same stored counter: every one must be counted.
    let lockout_disabled = Faults::of(&[Fault::LockoutDisabled]);
    for (store, db) in stores("all-count") {
        let s = Arc::new(TestServer::start_with("RaceOrg", store, lockout_disabled.clone()).await);
        let secret = s.setup_totp_as(&s.alice).await;
        let (key, _) = s.create_key_as(&s.alice).await;
        let wrong = s.wrong_code(&secret);
        for round in 1..=BURSTS {
            let replies = wrong_code_burst(&s, key, &wrong).await;
            assert!(
                replies.iter().all(|r| *r == fetch::Rep::InvalidOneTimePassword {}),
                "{replies:?}"
            );
            assert_eq!(stored_throttle(&s, key), (round * N as u32, Some(s.now())));
        }
        if let Some(db) = db {
            // What was persisted matches what was answered.
            let reopened = Store::open(&StorageConfig::Sqlite(db.0.clone())).unwrap();
            let org: OrganizationID = s.org.parse().unwrap();
            let persisted = reopened.read(|orgs| orgs[&org].opaque_keys[&key].failed_attempts);
            assert_eq!(persisted, BURSTS * N as u32);
        }
    }
}

async fn anon_confirm(s: &TestServer, addr: &TotpResetAddr, otp: String) -> anon_confirm::Rep {
    let req = anon_confirm::Req {
        user_id: addr.user_id,
        token: addr.token,
        one_time_password: otp,
    };
    let rep = s.anonymous(req.dump()).await;
    assert_eq!(rep.status, 200);
    anon_confirm::Rep::load(&rep.body).unwrap()
}

async fn anon_get_secret(s: &TestServer, addr: &TotpResetAddr) -> anon_get_secret::Rep {
    let req = anon_get_secret::Req {
        user_id: addr.user_id,
        token: addr.token,
    };
    let rep = s.anonymous(req.dump()).await;
    assert_eq!(rep.status, 200);
    anon_get_secret::Rep::load(&rep.body).unwrap()
}

/// Reset cycles per store: a double use needs two requests inside the same
/// few microseconds, so give it many chances.
const CYCLES: usize = 30;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reset_token_confirms_one_setup_among_concurrent_requests() {
    for (store, _db) in stores("reset-token") {
        let s = Arc::new(TestServer::start_with("RaceOrg", store, Faults::default()).await);
        s.setup_totp_as(&s.alice).await;
        for cycle in 0..CYCLES {
            let addr = Arc::new(s.reset(&s.alice).await);
            let anon_get_secret::Rep::Ok { totp_secret } = anon_get_secret(&s, &addr).await else {
                panic!("the reset link gives a secret")
            };
            let code = s.code(&totp_secret.0, 0);

            let replies = burst(|_| {
                let (s, addr, code) = (s.clone(), addr.clone(), code.clone());
                async move { anon_confirm(&s, &addr, code).await }
            })
            .await;
            let ok = replies.iter().filter(|r| **r == anon_confirm::Rep::Ok {}).count();
            let bad_token = replies.iter().filter(|r| **r == anon_confirm::Rep::BadToken {}).count();
            assert_eq!((ok, bad_token), (1, N - 1), "cycle {cycle}: {replies:?}");

            // The token is spent and the setup is complete.
            assert_eq!(anon_get_secret(&s, &addr).await, anon_get_secret::Rep::BadToken {});
            assert_eq!(s.get_secret_as(&s.alice).await, get_secret::Rep::AlreadySetup {});
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_secret_requests_all_get_the_one_stored_secret() {
    for (store, _db) in stores("lazy-secret") {
        let s = Arc::new(TestServer::start_with("RaceOrg", store, Faults::default()).await);
        // Authenticated: the secret is created by the first request only.
        let replies = burst(|_| {
            let s = s.clone();
            async move { s.get_secret_as(&s.alice).await }
        })
        .await;
        assert!(matches!(replies[0], get_secret::Rep::Ok { .. }), "{:?}", replies[0]);
        assert!(replies.iter().all(|r| *r == replies[0]), "{replies:?}");

        // Anonymous, through reset links: the same.
        for cycle in 0..CYCLES {
            let addr = Arc::new(s.reset(&s.alice).await);
            let replies = burst(|_| {
                let (s, addr) = (s.clone(), addr.clone());
                async move { anon_get_secret(&s, &addr).await }
            })
            .await;
            let anon_get_secret::Rep::Ok { totp_secret } = &replies[0] else {
                panic!("cycle {cycle}: {:?}", replies[0])
            };
            assert!(replies.iter().all(|r| *r == replies[0]), "cycle {cycle}: {replies:?}");
            // And it is the secret the server verifies codes against.
            assert_eq!(
                anon_confirm(&s, &addr, s.code(&totp_secret.0, 0)).await,
                anon_confirm::Rep::Ok {},
                "cycle {cycle}"
            );
        }
    }
}
