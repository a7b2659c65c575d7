//! The mailbox: the email the server actually sent over SMTP.

use super::user::line;
use crate::mailbox::Email;
use crate::report::model::AttachmentKind;
use crate::world::MfaWorld;
use crate::world::Name;
use cucumber::gherkin::Step;
use cucumber::then;
use parsec_mfa_reference::protocol::admin::EmailSentStatus;
use std::time::Duration;

pub static ANCHOR: &str = "mailbox steps";

/// The emails the person received: to their address, about their
/// organization (an address may be in several organizations, and servers
/// shared by scenarios: the guide's `alice@example.com`).
pub fn emails_for(world: &MfaWorld, name: &str) -> Vec<Email> {
    let person = world.person_ref(name);
    world
        .started()
        .mailbox()
        .emails_to(&person.email)
        .into_iter()
        .filter(|e| about(e, person.organization.as_str()))
        .collect()
}

/// Whether an email is about `organization` (its subject names it).
fn about(email: &Email, organization: &str) -> bool {
    email.subject.contains(organization) || email.text.contains(organization)
}

/// Waits for an email the person has not read yet, and reads the newest.
/// Counted per person (address and organization), so that another
/// person's email, or one read before, does not pass for it.
#[then(expr = "an email arrives for {person}")]
pub(super) async fn email_arrives(world: &mut MfaWorld, name: Name, step: &Step) {
    let seen = world.emails_seen.get(&name.to_lowercase()).copied().unwrap_or(0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    // Bounded by the 5 s deadline: each wait below gets only what is left
    // of it, and fails the step once it is over.
    let emails = loop {
        let emails = emails_for(world, &name);
        if emails.len() > seen {
            break emails;
        }
        let address = world.person_ref(&name).email.clone();
        let next = emails.len() + 1;
        // Any email to the address wakes us; then it is checked again.
        let all = world.started().mailbox().emails_to(&address).len();
        let waited = world
            .started()
            .mailbox()
            .wait_for_nth(&address, all + 1, deadline - tokio::time::Instant::now())
            .await;
        assert!(
            waited.is_ok(),
            "no new email #{next} for {name} ({address}) arrived within 5 s"
        );
    };
    let email = emails.last().cloned().expect("one at least");
    world.emails_seen.insert(name.to_lowercase(), emails.len());
    let shown = format!(
        "From: {}\nTo: {}\nSubject: {}\n\n{}",
        email.envelope_from,
        email.envelope_to.join(", "),
        email.subject,
        email.text.replace("\r\n", "\n").trim_end()
    );
    world.attach_text(
        line(step),
        AttachmentKind::Email,
        format!("the email {name} receives"),
        shown,
    );
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

/// No wait is needed, nor would one prove anything: a server sends the
/// reset email before it answers (its answer says whether sending worked,
/// `email_sent_status`), and the mailbox stores a message before it
/// accepts it (`250` to `DATA`). Once the answer is back, an email sent
/// for this reset is already here.
#[then(expr = "no email is sent to {person}")]
fn no_email(world: &mut MfaWorld, name: Name) {
    let reset = world.admin_reset.as_ref().expect("the reset was answered");
    assert_eq!(
        reset.email_sent_status,
        EmailSentStatus::NotSentAsRequested,
        "the server's answer"
    );
    let seen = world.emails_seen.get(&name.to_lowercase()).copied().unwrap_or(0);
    let emails = emails_for(world, &name);
    assert_eq!(
        emails.len(),
        seen,
        "an email was sent: {:?}",
        emails.last().map(|e| &e.subject)
    );
}
