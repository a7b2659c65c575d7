//! What the server administrator does: advise protections when starting the
//! server, reset a user's MFA (the `user totp-reset` command), revoke and
//! freeze users; and what the server's configuration says.

use crate::report::model::AttachmentKind;
use crate::world::MfaWorld;
use crate::world::Name;
use cucumber::{gherkin::Step, given, then, when};
use parsec_mfa_reference::client::MAX_REPLY_BYTES;
use parsec_mfa_reference::client::admin::{AdminError, UserRef, plain, totp_reset_report};
use parsec_mfa_reference::client::enrollment::revoke_user;
use parsec_mfa_reference::protocol::anonymous_server::server_config;

pub static ANCHOR: &str = "administrator steps";

#[given(expr = "the server administrator advises {string}")]
fn advises(world: &mut MfaWorld, list: String) {
    assert!(
        world.env.is_none(),
        "advice is given when the server starts (before the organization)"
    );
    world.spec.advisory_device_file_protection = list.split(", ").map(str::to_owned).collect();
}

#[given(expr = "the server is started with the fault {string}")]
fn with_fault(world: &mut MfaWorld, fault: String) {
    assert!(world.env.is_none(), "faults are set when the server starts");
    world.spec.faults.push(fault);
}

async fn reset(world: &mut MfaWorld, organization: Option<&str>, user: UserRef, send_email: bool, token: Option<&str>) {
    let env = world.started();
    let org = organization
        .map(str::to_owned)
        .unwrap_or_else(|| env.organization.as_str().to_owned());
    let outcome = match token {
        None => env.admin.reset_totp(&org, &user, send_email).await,
        Some(token) => {
            crate::targets::Route::to(env.target.as_ref())
                .unwrap_or_else(|e| panic!("an HTTP client: {e}"))
                .admin(token)
                .reset_totp(&org, &user, send_email)
                .await
        }
    };
    world.admin_outcome = Some(
        outcome
            .as_ref()
            .map(|rep| totp_reset_report(rep, plain))
            .map_err(Clone::clone),
    );
    world.admin_reset = outcome.ok();
}

fn user_id_of(world: &MfaWorld, name: &str) -> String {
    world.person_ref(name).device().user_id().hex()
}

#[given(expr = "the administrator has reset {person}'s MFA by email")]
#[when(expr = "the administrator resets {person}'s MFA by email")]
pub(super) async fn reset_by_email_sent(world: &mut MfaWorld, name: Name, step: &Step) {
    let email = world.person_ref(&name).email.clone();
    reset(world, None, UserRef::Email(email), true, None).await;
    show_reset(world, step);
}

/// Shows the reset URL the administrator's command printed.
fn show_reset(world: &MfaWorld, step: &Step) {
    if let Some(reset) = &world.admin_reset {
        world.attach_text(
            super::user::line(step),
            AttachmentKind::Url,
            "the reset URL the administrator's command prints",
            reset.totp_reset_url.clone(),
        );
    }
}

#[when(expr = "the administrator resets {person}'s MFA by her/his email without --send-email")]
async fn reset_by_email_unsent(world: &mut MfaWorld, name: Name, step: &Step) {
    let email = world.person_ref(&name).email.clone();
    reset(world, None, UserRef::Email(email), false, None).await;
    show_reset(world, step);
}

#[when(expr = "the administrator resets {person}'s MFA by her/his user id with --send-email")]
async fn reset_by_id_sent(world: &mut MfaWorld, name: Name, step: &Step) {
    let id = user_id_of(world, &name);
    reset(world, None, UserRef::Id(id), true, None).await;
    show_reset(world, step);
}

#[when(expr = "the administrator resets {person}'s MFA by her/his user id")]
async fn reset_by_id(world: &mut MfaWorld, name: Name, step: &Step) {
    let id = user_id_of(world, &name);
    reset(world, None, UserRef::Id(id), false, None).await;
    show_reset(world, step);
}

#[when(expr = "the administrator resets the MFA of the email {string}")]
async fn reset_unknown_email(world: &mut MfaWorld, email: String) {
    reset(world, None, UserRef::Email(email), false, None).await;
}

#[when(expr = "the administrator resets the MFA of the user id {string}")]
async fn reset_unknown_id(world: &mut MfaWorld, id: String) {
    reset(world, None, UserRef::Id(id), false, None).await;
}

#[when(expr = "the administrator resets {person}'s MFA with the token {string}")]
async fn reset_bad_token(world: &mut MfaWorld, name: Name, token: String) {
    let email = world.person_ref(&name).email.clone();
    reset(world, None, UserRef::Email(email), false, Some(&token)).await;
}

#[when(expr = "the administrator resets {person}'s MFA by her/his email in {person}'s organization")]
async fn reset_through_other(world: &mut MfaWorld, name: Name, through: Name) {
    let email = world.person_ref(&name).email.clone();
    let org = world.person_ref(&through).organization.as_str().to_owned();
    reset(world, Some(&org), UserRef::Email(email), false, None).await;
}

#[when(expr = "the administrator resets {person}'s MFA in the organization {string}")]
async fn reset_other_org(world: &mut MfaWorld, name: Name, org: String) {
    let email = world.person_ref(&name).email.clone();
    reset(world, Some(&org), UserRef::Email(email), false, None).await;
}

/// The API called with a raw JSON body (what the CLI never sends: both
/// selectors, or neither).
async fn reset_raw(world: &mut MfaWorld, body: serde_json::Value) {
    let env = world.started();
    let route = crate::targets::Route::to(env.target.as_ref()).unwrap_or_else(|e| panic!("an HTTP client: {e}"));
    let url = route.server.to_http_url(&format!(
        "administration/organizations/{}/users/reset_totp",
        env.organization.as_str()
    ));
    let response = route
        .http()
        .post(url)
        .bearer_auth(env.target.administration_token())
        .json(&body)
        .send()
        .await
        .expect("the server answers");
    let status = response.status().as_u16();
    let json: serde_json::Value = match parsec_mfa_reference::client::read_bounded(response, MAX_REPLY_BYTES).await {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
        Err(e) => panic!("reset_totp: {e}"),
    };
    world.admin_outcome = Some(Err(AdminError::Refused {
        status,
        detail: json["detail"].as_str().unwrap_or_default().to_owned(),
    }));
}

#[when(expr = "the administrator asks to reset {person}'s MFA giving both her/his user id and email")]
async fn reset_both(world: &mut MfaWorld, name: Name) {
    let body = serde_json::json!({
        "user_id": user_id_of(world, &name),
        "user_email": world.person_ref(&name).email,
    });
    reset_raw(world, body).await;
}

#[when(expr = "the administrator asks to reset an MFA giving neither a user id nor an email")]
async fn reset_neither(world: &mut MfaWorld) {
    reset_raw(world, serde_json::json!({"send_email": true})).await;
}

#[then(expr = "the command prints:")]
fn prints(world: &mut MfaWorld, step: &Step) {
    if let Some(Ok(lines)) = &world.admin_outcome {
        world.attach_text(
            super::user::line(step),
            AttachmentKind::Text,
            "the administrator's command prints",
            lines.join("\n"),
        );
    }
    let org = world.started().organization.as_str().to_owned();
    let reset = world.admin_reset.clone().expect("the reset succeeded");
    let expected: Vec<String> = step
        .docstring()
        .expect("the expected output")
        .trim()
        .lines()
        .map(|l| {
            l.trim()
                .replace("<user id>", &reset.user_id)
                .replace("<reset url>", &reset.totp_reset_url)
                .replace("<email>", &reset.user_email)
                .replace("<organization>", &org)
        })
        .collect();
    let printed = world
        .admin_outcome
        .clone()
        .expect("a command ran")
        .expect("it succeeded");
    assert_eq!(printed, expected);
    assert!(reset.totp_reset_url.starts_with("parsec3://") && reset.totp_reset_url.contains("a=totp_reset&p="));
}

#[then(expr = "the command fails with {string}")]
fn fails_with(world: &mut MfaWorld, detail: String) {
    match world.admin_outcome.clone().expect("a command ran") {
        Err(AdminError::Refused { detail: got, .. }) => assert_eq!(got, detail),
        other => panic!("expected `Error: {detail}`, got {other:?}"),
    }
}

#[then(expr = "the server answers HTTP {int}")]
fn answers_status(world: &mut MfaWorld, status: u16) {
    match world.admin_outcome.clone().expect("a command ran") {
        Err(AdminError::Refused { status: got, .. }) => assert_eq!(got, status),
        other => panic!("expected HTTP {status}, got {other:?}"),
    }
}

#[given(expr = "the administrator has revoked {person}")]
#[when(expr = "the administrator revokes {person}")]
async fn revokes(world: &mut MfaWorld, name: Name) {
    let admin = world.administrator_keys();
    let user_id = world.person_ref(&name).device().keys().user_id;
    let conn = world.started().connection();
    revoke_user(&conn, &admin, user_id).await.expect("the user is revoked");
}

async fn freeze(world: &mut MfaWorld, name: &str, frozen: bool) {
    let person = world.person_ref(name);
    let (email, org) = (person.email.clone(), person.organization.as_str().to_owned());
    let rep = world
        .started()
        .admin
        .freeze_user(&org, &UserRef::Email(email), frozen)
        .await
        .expect("the server answers");
    assert_eq!(rep.frozen, frozen, "the server's answer");
}

#[given(expr = "the administrator has frozen {person}")]
#[when(expr = "the administrator freezes {person}")]
async fn freezes(world: &mut MfaWorld, name: Name) {
    freeze(world, &name, true).await;
}

#[when(expr = "the administrator unfreezes {person}")]
async fn unfreezes(world: &mut MfaWorld, name: Name) {
    freeze(world, &name, false).await;
}

#[when(expr = "the administrator creates {person}'s organization again")]
async fn creates_again(world: &mut MfaWorld, name: Name) {
    let org = world.person_ref(&name).organization.as_str().to_owned();
    let outcome = world.started().admin.create_organization(&org).await;
    world.admin_outcome = Some(outcome.map(|rep| vec![rep.bootstrap_url]));
}

#[when(expr = "a client asks the server for its configuration")]
async fn asks_config(world: &mut MfaWorld) {
    let conn = world.env().await.connection();
    match conn.server_config().await.expect("the server answers") {
        server_config::Rep::Ok(config) => {
            world.server_advice = Some(config.advisory_device_file_protection.unwrap_or_default())
        }
        other => panic!("server_config answered {}", other.status()),
    }
}

#[then(expr = "the configuration advises {string}")]
fn config_advises(world: &mut MfaWorld, list: String) {
    let expected: Vec<String> = list.split(", ").map(str::to_owned).collect();
    assert_eq!(
        world.server_advice.clone().expect("the configuration was read"),
        expected
    );
}

#[then(expr = "the configuration advises nothing")]
fn config_nothing(world: &mut MfaWorld) {
    assert_eq!(
        world.server_advice.clone().expect("the configuration was read"),
        Vec::<String>::new()
    );
}
