//! Someone after a user's keys: an outsider with a copy of a device file
//! (not the phone) who guesses codes, forges links and signatures, or
//! replays requests; or another person of the scenario (a member of the
//! organization, or of another one) using their own valid code.

use super::user::{Refusal, app_code};
use crate::exchange::signer;
use crate::world::Name;
use crate::world::{MfaWorld, Observed};
use cucumber::{then, when};
use parsec_mfa_reference::client::Signer;
use parsec_mfa_reference::client::device_file::unlock;
use parsec_mfa_reference::client::login::LoginError;
use parsec_mfa_reference::client::mfa::{self, MfaError, fetch_opaque_key};
use parsec_mfa_reference::clock::Clock;
use parsec_mfa_reference::crypto::SigningKey;
use parsec_mfa_reference::protocol::addr::TotpResetAddr;
use parsec_mfa_reference::protocol::{AccessToken, DateTime, TOTPOpaqueKeyID};
use std::sync::Arc;

pub static ANCHOR: &str = "attacker steps";

/// The `n`-th code no phone shows now: certainly wrong.
fn guess(world: &MfaWorld, name: &str, n: u32) -> String {
    let person = world.person_ref(name);
    person
        .phone
        .wrong_code(person.organization.as_str(), world.started().now(), n)
}

/// What a copy of the device file shows in clear: its user, its opaque key.
fn key_of(world: &MfaWorld, name: &str) -> (parsec_mfa_reference::protocol::UserID, TOTPOpaqueKeyID) {
    let device = world.person_ref(name).device();
    (
        device.user_id(),
        device.opaque_key_id().expect("the device is protected by MFA"),
    )
}

/// One attempt; counts the reply. An attempt not refused `throttled`
/// although it left within a second of the last failure's request (the
/// shortest lockout) is one a real-time target may have received late:
/// noted in `too_late`.
async fn attempt(world: &mut MfaWorld, name: &str, code: String) -> Result<(), MfaError> {
    let (user_id, key_id) = key_of(world, name);
    let conn = world.connection_of(name);
    let sent = world.started().now();
    let outcome = fetch_opaque_key(&conn, user_id, key_id, &code).await.map(|_| ());
    if !matches!(outcome, Err(MfaError::Throttled { .. }))
        && let Some(last) = world.last_failure
        && let Some(late) = last.maybe_ended_before(sent, 1, world.started().target.clock_flows())
    {
        world.too_late = Some(late);
    }
    match &outcome {
        Err(MfaError::InvalidOneTimePassword) => {
            world.attack.0 += 1;
            let answered = world.started().now();
            world.last_failure = Some(Observed { sent, answered });
        }
        Err(MfaError::Throttled { wait_until }) => {
            world.attack.1 += 1;
            world.announced_wait = Some(*wait_until);
        }
        _ => {}
    }
    outcome
}

#[when(expr = "an attacker tries a wrong code on {person}'s device")]
async fn one_wrong(world: &mut MfaWorld, name: Name) {
    // A step of the scenario may follow within the 1 s lockout with a code
    // of the user's app: start early in a 30 s step, so reading that code
    // never waits for the next one (see `Env::fresh_step`).
    world.started().fresh_step(std::time::Duration::from_secs(2)).await;
    let code = guess(world, &name, 0);
    let _ = attempt(world, &name, code).await;
}

#[when(expr = "the attacker keeps trying wrong codes on {person}'s device until {int} are answered \"throttled\"")]
async fn wrong_until_throttled(world: &mut MfaWorld, name: Name, count: usize) {
    // Where time flows, an attempt may come after the wait (a slow
    // server): it is then a counted failure, which the next step allows for.
    // Bounded: the scenarios ask for a few `throttled` replies; 20 attempts
    // leave room for late ones, and more is a server that never throttles.
    const MOST_ATTEMPTS: u32 = 20;
    let start = world.attack.1;
    for n in 1..=MOST_ATTEMPTS {
        let code = guess(world, &name, n);
        match attempt(world, &name, code).await {
            Err(MfaError::InvalidOneTimePassword | MfaError::Throttled { .. }) => {}
            other => panic!("unexpected reply to a wrong code: {other:?}"),
        }
        if world.attack.1 - start == count {
            return;
        }
    }
    panic!(
        "{MOST_ATTEMPTS} wrong codes, {} answered `throttled`",
        world.attack.1 - start
    );
}

#[when(expr = "an attacker tries {int} wrong codes on {person}'s device, each as soon as allowed")]
async fn wrong_as_soon_as_allowed(world: &mut MfaWorld, count: usize, name: Name) {
    // Bounded by the rule checked (THR-1, THR-5): after each wait the next
    // attempt is allowed, so each failure comes after at most one
    // `throttled` reply (the wait of the failure before, or of earlier
    // steps): at most 2 × `count` attempts. A server that throttles again
    // once its wait is over, or names a wait already past, fails the step
    // at once instead of keeping it looping.
    let most_attempts = 2 * count;
    let mut failures = 0;
    let mut n = 0;
    let mut waited_for: Option<DateTime> = None;
    while failures < count {
        assert!(
            (n as usize) < most_attempts,
            "{n} attempts for {count} wrong codes: more `throttled` replies than one per failure"
        );
        let code = guess(world, &name, n);
        n += 1;
        let sent = world.started().now();
        match attempt(world, &name, code).await {
            Err(MfaError::InvalidOneTimePassword) => {
                failures += 1;
                waited_for = None;
            }
            Err(MfaError::Throttled { wait_until }) => {
                assert!(
                    wait_until >= sent,
                    "throttled until a time already past: {wait_until} (the attempt left at {sent})"
                );
                if let Some(previous) = waited_for {
                    panic!(
                        "throttled again (until {wait_until}) after the wait it named (until {previous}) was over: a lockout that outlasts the rule"
                    );
                }
                waited_for = Some(wait_until);
                let now = world.started().now().as_micros();
                let wait = wait_until.as_micros() + 1 - now;
                world
                    .started()
                    .target
                    .advance(wait.max(0))
                    .await
                    .unwrap_or_else(|e| panic!("the clock moves: {e}"));
            }
            other => panic!("unexpected reply to a wrong code: {other:?}"),
        }
    }
}

/// Test-only, unlisted: with `1`, the codes of a burst "at once" leave one
/// after another, each after the previous reply, so that no two requests
/// ever interleave in the server's store. A server that loses concurrent
/// increments then passes "Wrong codes sent at the same time are all
/// accounted for": `tests/conformance_postgresql.rs` uses it to show that
/// an expected failure that passes fails the run.
pub const SEQUENTIAL_BURSTS_ENV: &str = "PARSEC_MFA_TEST_SEQUENTIAL_BURSTS";

/// `count` wrong codes sent at once (see [`SEQUENTIAL_BURSTS_ENV`]); the
/// replies counted in `world.attack` and as one more of `world.bursts`.
/// Returns the latest `wait_until` the server announced.
async fn burst(world: &mut MfaWorld, name: &str, count: usize) -> Option<DateTime> {
    let (user_id, key_id) = key_of(world, name);
    let conn = world.connection_of(name);
    let first = world.bursts.len() as u32 * count as u32;
    let codes: Vec<String> = (0..count as u32)
        .map(|i| guess(world, name, (first + i) * 101))
        .collect();
    let sent = world.started().now();
    let replies = match std::env::var(SEQUENTIAL_BURSTS_ENV).as_deref() {
        Ok("1") => {
            let mut replies = Vec::new();
            for code in &codes {
                replies.push(fetch_opaque_key(&conn, user_id, key_id, code).await);
            }
            replies
        }
        _ => futures::future::join_all(codes.iter().map(|code| fetch_opaque_key(&conn, user_id, key_id, code))).await,
    };
    let answered = world.started().now();
    let mut counted = (0, 0);
    let mut latest_wait = None;
    for reply in replies {
        match reply {
            Err(MfaError::InvalidOneTimePassword) => {
                counted.0 += 1;
                world.last_failure = Some(Observed { sent, answered });
            }
            Err(MfaError::Throttled { wait_until }) => {
                counted.1 += 1;
                latest_wait = latest_wait.max(Some(wait_until));
            }
            other => panic!("unexpected reply to a wrong code: {other:?}"),
        }
    }
    world.attack.0 += counted.0;
    world.attack.1 += counted.1;
    world.bursts.push(counted);
    latest_wait
}

#[when(expr = "an attacker tries {int} wrong codes on {person}'s device at once")]
async fn wrong_at_once(world: &mut MfaWorld, count: usize, name: Name) {
    burst(world, &name, count).await;
}

#[when(
    expr = "an attacker tries {int} wrong codes on {person}'s device at once, {int} times, each time the wait is over"
)]
async fn wrong_at_once_again(world: &mut MfaWorld, count: usize, name: Name, times: usize) {
    for n in 1..=times {
        let latest_wait = burst(world, &name, count).await;
        // Past the latest wait announced, by a microsecond: a server that
        // counted every failure it answered accepts the next code.
        if n < times
            && let Some(wait_until) = latest_wait
        {
            let wait = wait_until.as_micros() + 1 - world.started().now().as_micros();
            world
                .started()
                .target
                .advance(wait.max(0))
                .await
                .unwrap_or_else(|e| panic!("the clock moves: {e}"));
        }
    }
}

#[then(expr = "each time, {int} attempt(s) was/were answered \"invalid_one_time_password\" and {int} \"throttled\"")]
fn each_burst_answered(world: &mut MfaWorld, invalid: usize, throttled: usize) {
    assert!(!world.bursts.is_empty(), "no burst was sent");
    let bursts = &world.bursts;
    if let Some((n, got)) = bursts.iter().enumerate().find(|(_, b)| **b != (invalid, throttled)) {
        panic!(
            "burst {} of {}: {} answered invalid_one_time_password and {} throttled, where {invalid} and {throttled} must be (every burst: {bursts:?})",
            n + 1,
            bursts.len(),
            got.0,
            got.1
        );
    }
}

/// What the server answered a wrong code, as the protocol names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, cucumber::Parameter)]
#[param(name = "reply", regex = "\"invalid_one_time_password\"|\"throttled\"")]
pub enum Reply {
    Invalid,
    Throttled,
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Invalid => "invalid_one_time_password",
            Self::Throttled => "throttled",
        })
    }
}

impl std::str::FromStr for Reply {
    type Err = super::UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim_matches('"') {
            "invalid_one_time_password" => Ok(Self::Invalid),
            "throttled" => Ok(Self::Throttled),
            other => Err(super::UnknownName {
                what: "no reply is named",
                text: other.to_owned(),
            }),
        }
    }
}

#[then(expr = "{int} attempt(s) was/were answered {reply}")]
fn answered(world: &mut MfaWorld, count: usize, reply: Reply) {
    let got = match reply {
        Reply::Invalid => world.attack.0,
        Reply::Throttled => world.attack.1,
    };
    if got != count
        && let Some(late) = &world.too_late
    {
        panic!("{got} attempts answered {reply}, {count} expected: {late}");
    }
    assert_eq!(got, count, "{reply}");
}

#[then(expr = "the next attempt on {person}'s device must wait until {int} second(s) after the last wrong code")]
async fn next_must_wait(world: &mut MfaWorld, name: Name, seconds: i64) {
    let code = guess(world, &name, 77);
    let before = world.attack.1;
    let last = world.last_failure.expect("a wrong code was answered");
    let sent = world.started().now();
    let outcome = attempt(world, &name, code).await;
    let Err(MfaError::Throttled { wait_until }) = outcome else {
        match last.maybe_ended_before(sent, seconds, world.started().target.clock_flows()) {
            Some(late) => panic!("not throttled: {late}"),
            None => panic!("not throttled: {outcome:?}"),
        }
    };
    world.attack.1 = before;
    last.assert_waits_until(wait_until, seconds);
}

#[then(expr = "the wait the server announces counts only the wrong codes answered \"invalid_one_time_password\"")]
fn announced_wait_counts(world: &mut MfaWorld) {
    let failures = world.attack.0 as u32;
    assert!(failures >= 1, "a wrong code was counted");
    let wait_until = world.announced_wait.expect("an attempt was answered `throttled`");
    let last = world.last_failure.expect("a wrong code was answered");
    // Read from the last `throttled` answer: no further attempt racing the
    // end of the wait on a slow server.
    last.assert_waits_until(wait_until, 1i64 << (failures - 1));
}

#[then(expr = "the lockout of {person}'s device lasts about {int} days")]
async fn lockout_days(world: &mut MfaWorld, name: Name, days: i64) {
    let code = guess(world, &name, 55);
    let outcome = attempt(world, &name, code).await;
    let Err(MfaError::Throttled { wait_until }) = outcome else {
        panic!("not throttled: {outcome:?}")
    };
    let last = world.last_failure.expect("a wrong code was answered");
    let seconds = (wait_until.as_micros() - last.answered.as_micros()) / 1_000_000;
    assert!((seconds - days * 86_400).abs() < 86_400, "{seconds} s");
}

/// `asker`'s own valid code, sent with `asker`'s user id for the opaque key
/// of `owner`'s device (whose id the asker read in a copy of its file), to
/// the organization of `through`.
async fn ask_for_key(world: &mut MfaWorld, asker: &str, owner: &str, through: &str) {
    let code = app_code(world, asker).await;
    let user_id = world.person_ref(asker).device().user_id();
    let (_, key_id) = key_of(world, owner);
    let conn = world.connection_of(through);
    let outcome = fetch_opaque_key(&conn, user_id, key_id, &code).await.map(|_| ());
    world.person(asker).told_mfa(outcome);
}

#[when(expr = "{person} asks for the key of {person}'s device with her/his own code")]
async fn asks_with_own_code(world: &mut MfaWorld, asker: Name, owner: Name) {
    ask_for_key(world, &asker, &owner, &asker).await;
}

#[when(expr = "{person} asks {person}'s organization for the key of her/his device with her/his own code")]
async fn asks_other_organization(world: &mut MfaWorld, asker: Name, owner: Name) {
    ask_for_key(world, &asker, &owner, &owner).await;
}

#[when(
    expr = "{person} tries the key her/his own code opens on a copy of {person}'s device file, knowing its password"
)]
async fn tries_own_key(world: &mut MfaWorld, asker: Name, owner: Name) {
    let code = app_code(world, &asker).await;
    let (user_id, key_id) = key_of(world, &asker);
    let conn = world.connection_of(&asker);
    let own_key = fetch_opaque_key(&conn, user_id, key_id, &code)
        .await
        .expect("the asker's own code opens the asker's own key");
    let victim = world.person_ref(&owner);
    let opened = unlock(victim.device().file(), &victim.password, Some(&own_key));
    world
        .person(&asker)
        .told_login(opened.map(|_| ()).map_err(LoginError::from));
}

#[then(expr = "{person} cannot open the device file")]
fn cannot_open(world: &mut MfaWorld, name: Name) {
    let outcome = world.person_ref(&name).last_login.clone();
    assert!(matches!(outcome, Some(Err(_))), "{name} opened it: {outcome:?}");
}

#[when(expr = "an attacker who saw {person}'s code tries it with {int} made-up key ids")]
async fn made_up_key_ids(world: &mut MfaWorld, name: Name, count: usize) {
    let code = app_code(world, &name).await;
    let user_id = world.person_ref(&name).device().user_id();
    let conn = world.connection_of(&name);
    let mut outcome = Err(MfaError::InvalidOneTimePassword);
    for _ in 0..count {
        let tried = fetch_opaque_key(&conn, user_id, TOTPOpaqueKeyID::new(), &code).await;
        outcome = tried.map(|_| ());
        if outcome.is_ok() {
            break;
        }
    }
    world.attacker_outcome = Some(outcome);
}

#[when(expr = "an attacker opens a reset link for {person} with a made-up token")]
async fn forged_link(world: &mut MfaWorld, name: Name) {
    let env = world.started();
    let person = world.person_ref(&name);
    let link = TotpResetAddr {
        server: env.route.server.clone(),
        organization_id: person.organization.clone(),
        user_id: person.device().user_id(),
        token: AccessToken::new(),
    };
    let conn = world.connection_of(&name);
    world.attacker_outcome = Some(mfa::reset_secret(&conn, &link).await.map(|_| ()));
}

#[when(expr = "an attacker who knows {person}'s device id signs a request with a key of her/his own")]
async fn forged_signature(world: &mut MfaWorld, name: Name) {
    let device_id = world.person_ref(&name).device().device_id();
    let own_key = SigningKey::generate();
    let conn = world.connection_of(&name);
    let forged = Signer {
        device_id,
        signing_key: &own_key,
    };
    world.attacker_outcome = Some(mfa::setup_status(&conn, forged).await.map(|_| ()));
}

/// The target's time, some seconds earlier.
struct Earlier {
    clock: Arc<dyn Clock>,
    seconds: i64,
}

impl Clock for Earlier {
    fn now(&self) -> DateTime {
        self.clock.now().add_seconds(-self.seconds)
    }
}

#[when(expr = "an attacker replays a request {person}'s device signed {int} minutes ago")]
async fn replayed_request(world: &mut MfaWorld, name: Name, minutes: i64) {
    let keys = world.keys(&name);
    let env = world.started();
    let clock = Arc::new(Earlier {
        clock: env.target.clock(),
        seconds: minutes * 60,
    });
    let conn = env.connection_with_clock(&world.person_ref(&name).organization, clock);
    world.attacker_outcome = Some(mfa::setup_status(&conn, signer(&keys)).await.map(|_| ()));
}

#[when(expr = "{person} uses her/his device to open the MFA section in {person}'s organization")]
async fn device_in_other_organization(world: &mut MfaWorld, name: Name, owner: Name) {
    let keys = world.keys(&name);
    let conn = world.connection_of(&owner);
    let outcome = mfa::setup_status(&conn, signer(&keys)).await.map(|_| ());
    world.person(&name).told_mfa(outcome);
}

#[then(expr = "the attacker is refused because {refusal}")]
fn attacker_refused(world: &mut MfaWorld, reason: Refusal) {
    assert_eq!(world.attacker_outcome, Some(Err(reason.error())));
}
