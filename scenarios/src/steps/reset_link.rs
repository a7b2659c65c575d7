//! The lost-phone recovery from the user's side: the reset link of the
//! email (or the administrator's output), its new key, the confirmation.

use super::enable_mfa::{attach_qr, scans};
use super::through_client::{self, command_client};
use super::user::{app_code, line, wrong_code};
use crate::client::not_run;
use crate::report::model::AttachmentKind;
use crate::world::{MfaWorld, Name};
use cucumber::gherkin::Step;
use cucumber::{given, then, when};
use parsec_mfa_reference::client::mfa::{self, MfaError};
use parsec_mfa_reference::protocol::addr::TotpResetAddr;
use parsec_mfa_reference::totp;

pub static ANCHOR: &str = "reset link steps";

async fn open_reset_link(world: &mut MfaWorld, name: &str, link: &str, at: u32) {
    world.attach_text(at, AttachmentKind::Url, format!("the reset link {name} opens"), link);
    let link = TotpResetAddr::parse_any(link).expect("a reset link");
    let (outcome, printed) = match command_client(world, name) {
        Some(client) => match through_client::open_reset_link(world, &client, name, &link).await {
            Ok((secret, uri)) => (Ok(secret), uri),
            Err(e) => (Err(e), None),
        },
        None => {
            let conn = world.started().connection_to(&link.organization_id);
            (mfa::reset_secret(&conn, &link).await, None)
        }
    };
    if let Ok(secret) = &outcome {
        attach_qr(
            world,
            at,
            name,
            "the reset link shows a new QR code",
            secret,
            printed.as_deref(),
        );
    }
    let person = world.person(name);
    person.shown_uri = printed;
    person.reset_link = Some(link);
    match outcome {
        Ok(secret) => {
            person.reset_secret = Some(secret);
            person.told_mfa(Ok(()));
        }
        Err(e) => {
            person.reset_secret = None;
            person.told_mfa(Err(e));
        }
    }
}

/// The reset link of the email read last.
fn email_link(world: &MfaWorld) -> String {
    reset_link_in(world.email.as_ref().expect("an email was read"))
}

fn reset_link_in(email: &crate::mailbox::Email) -> String {
    let link = email
        .links()
        .into_iter()
        .find(|l| l.contains("a=totp_reset"))
        .expect("the email has a reset link");
    assert!(link.starts_with("http://") || link.starts_with("https://"), "{link}");
    link
}

#[when(expr = "{person} opens the reset link from the email")]
async fn opens_email_link(world: &mut MfaWorld, name: Name, step: &Step) {
    let link = email_link(world);
    open_reset_link(world, &name, &link, line(step)).await;
}

/// The link of the first reset email the person received, even after a
/// later one was read.
#[when(expr = "{person} opens the reset link from the first email")]
async fn opens_first_email_link(world: &mut MfaWorld, name: Name, step: &Step) {
    let first = super::mailbox::emails_for(world, &name)
        .into_iter()
        .next()
        .expect("an email was received");
    let link = reset_link_in(&first);
    open_reset_link(world, &name, &link, line(step)).await;
}

#[when(expr = "{person} opens the reset link from the email with {person}'s user id put in it")]
async fn opens_edited_link(world: &mut MfaWorld, name: Name, other: Name, step: &Step) {
    let mut link = TotpResetAddr::parse_any(&email_link(world)).expect("a reset link");
    link.user_id = world.person_ref(&other).device().user_id();
    open_reset_link(world, &name, &link.to_string(), line(step)).await;
}

#[when(expr = "{person} opens the reset link from the email on two devices at the same time")]
async fn opens_link_twice_at_once(world: &mut MfaWorld, name: Name) {
    library_only(world, "two devices opening one link at the same instant");
    let link = TotpResetAddr::parse_any(&email_link(world)).expect("a reset link");
    let env = world.started();
    let (laptop, desktop) = (
        env.connection_to(&link.organization_id),
        env.connection_to(&link.organization_id),
    );
    let (a, b) = futures::join!(mfa::reset_secret(&laptop, &link), mfa::reset_secret(&desktop, &link));
    let person = world.person(&name);
    person.reset_link = Some(link);
    person.reset_secret = a.clone().ok().or_else(|| b.clone().ok());
    world.parallel_openings = vec![a, b];
}

#[then(expr = "both devices show the same new QR code")]
fn same_qr_on_both(world: &mut MfaWorld) {
    let [Ok(a), Ok(b)] = world.parallel_openings.as_slice() else {
        panic!("both openings show a key: {:?}", world.parallel_openings)
    };
    assert_eq!(totp::base32(a), totp::base32(b));
}

#[when(
    expr = "{person} confirms the reset on both devices at the same time with the code from her/his authenticator app"
)]
async fn confirms_twice_at_once(world: &mut MfaWorld, name: Name) {
    library_only(world, "two devices confirming one link at the same instant");
    let code = app_code(world, &name).await;
    let link = world.person_ref(&name).reset_link.clone().expect("a link was opened");
    let env = world.started();
    let (laptop, desktop) = (
        env.connection_to(&link.organization_id),
        env.connection_to(&link.organization_id),
    );
    let (a, b) = futures::join!(
        mfa::reset_confirm(&laptop, &link, &code),
        mfa::reset_confirm(&desktop, &link, &code)
    );
    world.parallel_confirmations = vec![a, b];
}

#[then(expr = "one device confirms the reset and the other is told the reset link is no longer valid")]
fn one_confirms(world: &mut MfaWorld) {
    let mut outcomes = world.parallel_confirmations.clone();
    outcomes.sort_by_key(|o| o.is_err());
    assert_eq!(outcomes, vec![Ok(()), Err(MfaError::BadToken)]);
}

#[when(expr = "{person} opens the reset link from the administrator's output")]
async fn opens_output_link(world: &mut MfaWorld, name: Name, step: &Step) {
    let link = world
        .admin_reset
        .as_ref()
        .expect("a reset was made")
        .totp_reset_url
        .clone();
    assert!(link.starts_with("parsec3://"), "{link}");
    open_reset_link(world, &name, &link, line(step)).await;
}

#[when(expr = "{person} opens the reset link again")]
async fn opens_link_again(world: &mut MfaWorld, name: Name, step: &Step) {
    let link = world
        .person_ref(&name)
        .reset_link
        .clone()
        .expect("a link was opened")
        .to_string();
    open_reset_link(world, &name, &link, line(step)).await;
}

#[then(expr = "{person} sees a new QR code")]
fn sees_new_qr(world: &mut MfaWorld, name: Name) {
    let person = world.person_ref(&name);
    assert_eq!(person.last_mfa, Some(Ok(())), "the link opened");
    let secret = person.reset_secret.clone().expect("a new key is shown");
    assert_eq!(totp::base32(&secret).len(), 32);
    assert!(
        !person.keys_shown.is_empty(),
        "{name} had set MFA up before the reset, with a key shown in the profile"
    );
    assert!(!person.keys_shown.contains(&secret), "the key is new");
}

async fn confirm_reset(world: &mut MfaWorld, name: &str, code: String) {
    if command_client(world, name).is_some() {
        if world.person_ref(name).screen.is_none() {
            let link = world.person_ref(name).reset_link.clone().expect("a link was opened");
            let client = command_client(world, name).expect("a command client");
            let _ = through_client::open_reset_link(world, &client, name, &link).await;
        }
        let outcome = through_client::type_code_on_screen(world, name, code).await;
        world.person(name).told_mfa(outcome);
        return;
    }
    let link = world.person_ref(name).reset_link.clone().expect("a link was opened");
    let conn = world.started().connection_to(&link.organization_id);
    let outcome = mfa::reset_confirm(&conn, &link, &code).await;
    world.person(name).told_mfa(outcome);
}

#[when(expr = "{person} confirms the reset with the code from her/his authenticator app")]
async fn confirms_reset(world: &mut MfaWorld, name: Name) {
    let code = app_code(world, &name).await;
    confirm_reset(world, &name, code).await;
}

#[when(expr = "{person} confirms the reset with a wrong code")]
async fn confirms_reset_wrong(world: &mut MfaWorld, name: Name) {
    let code = wrong_code(world, &name);
    confirm_reset(world, &name, code).await;
}

#[then(expr = "{person}'s reset is confirmed")]
fn reset_confirmed(world: &mut MfaWorld, name: Name) {
    let person = world.person_ref(&name);
    assert!(person.reset_link.is_some(), "{name} opened a reset link");
    assert_eq!(person.last_mfa, Some(Ok(())), "{name}'s confirmation");
}

#[then(expr = "{person} is told the reset link is no longer valid")]
fn link_invalid(world: &mut MfaWorld, name: Name) {
    assert_eq!(world.person_ref(&name).last_mfa, Some(Err(MfaError::BadToken)));
}

// ----- the reset recipe, as the guide tells it, in one step -----

/// The administrator resets the person's MFA with `--send-email`, and the
/// email arrives (read, as `an email arrives` reads it).
#[given(expr = "the administrator has reset {person}'s MFA and the email has arrived")]
async fn reset_and_email(world: &mut MfaWorld, name: Name, step: &Step) {
    super::administrator::reset_by_email_sent(world, name.clone(), step).await;
    super::mailbox::email_arrives(world, name, step).await;
}

/// The whole reset of the user guide's "Reset your MFA": the email, its
/// link, the new QR code scanned, confirmed with the app's code.
#[given(expr = "{person} has set MFA up again from the reset link")]
#[when(expr = "{person} sets MFA up again from the reset link")]
async fn set_up_again(world: &mut MfaWorld, name: Name, step: &Step) {
    reset_and_email(world, name.clone(), step).await;
    opens_email_link(world, name.clone(), step).await;
    assert_eq!(world.person_ref(&name).last_mfa, Some(Ok(())), "the link opened");
    scans(world, name.clone());
    confirms_reset(world, name.clone()).await;
    reset_confirmed(world, name);
}

/// A race the harness makes with two connections of the reference library:
/// a command client, one process per action, cannot be made to race.
fn library_only(world: &MfaWorld, what: &str) {
    if world.client.command().is_some() {
        not_run(format!(
            "{what} is raced with the reference library's connections, not through a client"
        ));
    }
}
