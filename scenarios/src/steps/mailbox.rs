//! The mailbox: the email the server actually sent over SMTP.

use crate::world::MfaWorld;
use cucumber::then;
use std::time::Duration;

pub static ANCHOR: &str = "mailbox steps";

#[then(expr = "an email arrives for {word}")]
async fn email_arrives(world: &mut MfaWorld, name: String) {
    let address = world.person_ref(&name).email.clone();
    // The newest email to this address, once there is one not read yet.
    let seen = world.emails_seen.get(&address).copied().unwrap_or(0);
    let n = world.started().mailbox().emails_to(&address).len().max(seen + 1);
    let email = world
        .started()
        .mailbox()
        .wait_for_nth(&address, n, Duration::from_secs(5))
        .await
        .expect("the email arrives");
    world.emails_seen.insert(address, n);
    world.email = Some(email);
}

#[then(expr = "its subject is {string}")]
fn subject(world: &mut MfaWorld, expected: String) {
    let org = world.started().organization.as_str().to_owned();
    let expected = expected.replace("<organization>", &org);
    assert_eq!(world.email.as_ref().expect("an email").subject, expected);
}

#[then(expr = "it contains the reset link")]
fn contains_link(world: &mut MfaWorld) {
    let email = world.email.as_ref().expect("an email");
    let reset = world.admin_reset.as_ref().expect("a reset was made");
    assert!(
        email.links().contains(&reset.totp_reset_url_as_http_redirection),
        "{:?} in {:?}",
        reset.totp_reset_url_as_http_redirection,
        email.links()
    );
}

#[then(expr = "no email is sent to {word}")]
async fn no_email(world: &mut MfaWorld, name: String) {
    let address = world.person_ref(&name).email.clone();
    let mailbox = world.started().mailbox();
    assert!(mailbox.wait_for(&address, Duration::from_millis(100)).await.is_err());
}
