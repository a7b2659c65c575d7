//! Enabling MFA from the profile's MFA section: the key and its QR code,
//! the authenticator app's entry, the confirmation with a code.

use super::through_client::{self, command_client};
use super::user::{app_code, line, phone_code, wrong_code};
use crate::exchange::signer;
use crate::report::model::Attachment;
use crate::world::{Latest, MfaWorld, Name};
use cucumber::gherkin::Step;
use cucumber::{given, then, when};
use parsec_mfa_reference::client::device_file::{KdfCost, protect};
use parsec_mfa_reference::client::login::LoginError;
use parsec_mfa_reference::client::mfa::{self, MfaError, SetupStatus};
use parsec_mfa_reference::totp;

pub static ANCHOR: &str = "enable MFA steps";

#[given(expr = "{person} has enabled MFA")]
async fn has_enabled(world: &mut MfaWorld, name: Name, step: &Step) {
    show_profile(world, &name, Some(line(step))).await;
    scans(world, name.clone());
    confirms_with_app(world, name.clone()).await;
    assert_eq!(world.person(&name).last_mfa, Some(Ok(())));
}

#[when(expr = "{person} opens the MFA section of her/his profile")]
#[given(expr = "{person} opens the MFA section of her/his profile")]
async fn opens_profile(world: &mut MfaWorld, name: Name, step: &Step) {
    show_profile(world, &name, Some(line(step))).await;
}

/// Records the QR code a screen shows: the `otpauth://` URI a command
/// client printed, or the one of `secret` (the reference library's).
pub(super) fn attach_qr(world: &MfaWorld, at: u32, name: &str, label: &str, secret: &[u8], printed: Option<&str>) {
    let org = world.person_ref(name).device_organization().as_str().to_owned();
    let uri = printed.map_or_else(|| totp::otpauth_uri(secret, &org), str::to_owned);
    world.attach(
        at,
        Attachment::qr_code(format!("{label} (key {})", totp::base32(secret)), uri),
    );
}

/// Opens the profile's MFA section; the QR code it shows is recorded for
/// the step on `at`.
async fn show_profile(world: &mut MfaWorld, name: &str, at: Option<u32>) {
    let (outcome, printed) = match command_client(world, name) {
        Some(client) => match through_client::open_mfa_section(world, &client, name).await {
            Ok((status, uri)) => (Ok(status), uri),
            Err(e) => (Err(e), None),
        },
        None => {
            let keys = world.keys(name);
            let conn = world.connection_of(name);
            (mfa::setup_status(&conn, signer(&keys)).await, None)
        }
    };
    if let (Some(at), Ok(SetupStatus::Unconfirmed { secret })) = (at, &outcome) {
        attach_qr(
            world,
            at,
            name,
            &format!("{name}'s MFA section shows a QR code"),
            secret,
            printed.as_deref(),
        );
    }
    let person = world.person(name);
    person.shown_uri = printed;
    match outcome {
        Ok(status) => {
            if let SetupStatus::Unconfirmed { secret } = &status
                && !person.keys_shown.contains(secret)
            {
                person.keys_shown.push(secret.clone());
            }
            person.profile = Some(status);
            person.told_mfa(Ok(()));
        }
        // The section stays as it was; the refusal is what the user sees.
        Err(e) => person.told_mfa(Err(e)),
    }
}

fn shown_secret(world: &MfaWorld, name: &str) -> Vec<u8> {
    let person = world.person_ref(name);
    if let Some(secret) = &person.reset_secret {
        return secret.clone();
    }
    match &person.profile {
        Some(SetupStatus::Unconfirmed { secret }) => secret.clone(),
        other => panic!("{name}'s screen shows no key ({other:?})"),
    }
}

#[when(expr = "{person} scans the QR code with her/his authenticator app")]
#[when(expr = "{person} scans the new QR code with her/his authenticator app")]
pub(super) fn scans(world: &mut MfaWorld, name: Name) {
    // What a command client printed beside its QR code; the reference
    // library's screen draws the code of its secret.
    let uri = match world.person_ref(&name).shown_uri.clone() {
        Some(uri) => uri,
        None => {
            let secret = shown_secret(world, &name);
            let org = world.person_ref(&name).device_organization().as_str().to_owned();
            totp::otpauth_uri(&secret, &org)
        }
    };
    world.person(&name).phone.scan(&uri).expect("the QR code scans");
}

#[when(expr = "{person} copies the key into her/his authenticator app")]
fn copies_key(world: &mut MfaWorld, name: Name) {
    let key = totp::base32(&shown_secret(world, &name));
    let org = world.person_ref(&name).device_organization().as_str().to_owned();
    world
        .person(&name)
        .phone
        .add_key("parsec.cloud", &org, &key)
        .expect("the key is typed");
}

async fn confirm(world: &mut MfaWorld, name: &str, code: String) {
    if command_client(world, name).is_some() {
        if world.person_ref(name).screen.is_none() {
            show_profile(world, name, None).await;
            // The section did not open: its refusal is what the person was told.
            if world.person_ref(name).screen.is_none() {
                return;
            }
        }
        let outcome = through_client::type_code_on_screen(world, name, code).await;
        world.person(name).told_mfa(outcome);
        return;
    }
    let keys = world.keys(name);
    let status = world
        .person_ref(name)
        .profile
        .clone()
        .expect("the MFA section was opened");
    let conn = world.connection_of(name);
    let outcome = mfa::enable_on_device(&conn, signer(&keys), keys.user_id, &status, &code).await;
    let person = world.person(name);
    match outcome {
        Ok(layer) => {
            let password = person.password.clone();
            let device = person.device_mut();
            let (created_on, protected_on) = (device.file().created_on, device.file().protected_on);
            let file = protect(
                device.keys(),
                &password,
                KdfCost::Minimal,
                Some(&layer),
                created_on,
                protected_on,
            );
            device.config.save_device(&file).expect("the device file is saved");
            device.set_file(file);
            person.told_mfa(Ok(()));
        }
        Err(e) => person.told_mfa(Err(e)),
    }
}

#[when(expr = "{person} confirms with the code from her/his authenticator app")]
#[when(expr = "{person} enables MFA with the code from her/his authenticator app")]
#[given(expr = "{person} enables MFA with the code from her/his authenticator app")]
pub(super) async fn confirms_with_app(world: &mut MfaWorld, name: Name) {
    let code = app_code(world, &name).await;
    confirm(world, &name, code).await;
}

#[when(expr = "{person} confirms with a wrong code")]
async fn confirms_wrong(world: &mut MfaWorld, name: Name) {
    let code = wrong_code(world, &name);
    confirm(world, &name, code).await;
}

#[when(expr = "{person} confirms the setup again with the code from her/his authenticator app")]
async fn confirms_again(world: &mut MfaWorld, name: Name) {
    let keys = world.keys(&name);
    let code = app_code(world, &name).await;
    let conn = world.connection_of(&name);
    let outcome = mfa::setup_confirm(&conn, signer(&keys), &code).await;
    world.person(&name).told_mfa(outcome);
}

/// Whether the person's device is MFA-protected: its file says so (the
/// reference library's), or the client's `mfa status` does.
async fn device_protected(world: &MfaWorld, name: &str) -> bool {
    match command_client(world, name) {
        Some(client) => through_client::device_protected(world, &client, name).await,
        None => world.person_ref(name).device().file().totp_opaque_key_id.is_some(),
    }
}

#[then(expr = "MFA is enabled on {person}'s device")]
async fn enabled_on_device(world: &mut MfaWorld, name: Name) {
    assert_eq!(world.person_ref(&name).last_mfa, Some(Ok(())), "the last MFA step");
    assert!(device_protected(world, &name).await, "the device is MFA-protected");
}

#[then(expr = "MFA is not enabled on {person}'s device")]
async fn not_enabled_on_device(world: &mut MfaWorld, name: Name) {
    assert!(!device_protected(world, &name).await, "the device is not MFA-protected");
}

/// Reads only the person's latest answer: an earlier login's refusal must
/// not pass for the confirmation's.
#[then(expr = "{person} is told the code is invalid")]
fn told_invalid(world: &mut MfaWorld, name: Name) {
    let person = world.person_ref(&name);
    let ok = match person.latest {
        Latest::Mfa => person.last_mfa == Some(Err(MfaError::InvalidOneTimePassword)),
        Latest::Login => person.last_login == Some(Err(LoginError::InvalidCode)),
        Latest::Nothing => false,
    };
    assert!(
        ok,
        "the latest answer ({:?}) is not `invalid code`: mfa: {:?}, login: {:?}",
        person.latest, person.last_mfa, person.last_login
    );
}

#[then(expr = "{person} is told MFA is already set up")]
fn told_already(world: &mut MfaWorld, name: Name) {
    assert_eq!(world.person_ref(&name).last_mfa, Some(Err(MfaError::AlreadySetup)));
}

#[then(expr = "the MFA section shows a key of {int} characters and its QR code")]
fn shows_key(world: &mut MfaWorld, length: usize) {
    let shown = world
        .people
        .values()
        .find_map(|p| match &p.profile {
            Some(SetupStatus::Unconfirmed { secret }) => Some(secret.clone()),
            _ => None,
        })
        .expect("a key is shown");
    let key = totp::base32(&shown);
    assert_eq!(key.len(), length, "{key}");
    assert!(key.chars().all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c)));
    let org = world.started().organization.as_str();
    // What a command client printed, else the reference library's screen.
    let printed = world.people.values().find_map(|p| p.shown_uri.clone());
    let uri = printed.unwrap_or_else(|| totp::otpauth_uri(&shown, org));
    assert_eq!(
        uri,
        format!("otpauth://totp/parsec.cloud:{org}?secret={key}&issuer=parsec.cloud")
    );
    assert!(totp::qr_for_terminal(&uri).is_ok());
}

/// The QR code a command client drew, read by a real decoder, holds the
/// `otpauth://` URI it printed beside it (what a phone would scan).
#[then(expr = "{person}'s QR code reads as the URI shown beside it")]
async fn qr_reads_as_uri(world: &mut MfaWorld, name: Name) {
    if command_client(world, &name).is_none() {
        crate::client::not_run("the QR code read is a command client's drawing");
    }
    let read = through_client::read_screen_qr(world, &name).await;
    let uri = world
        .person_ref(&name)
        .shown_uri
        .clone()
        .expect("the client printed a `URI:` line");
    assert_eq!(read, Some(uri), "what the QR code reads");
}

/// The user's setup is confirmed (another device did it): the section
/// shows no new key, the same authenticator entry serves.
#[then(expr = "{person}'s MFA section shows no key")]
fn shows_no_key(world: &mut MfaWorld, name: Name) {
    let person = world.person_ref(&name);
    assert_eq!(person.last_mfa, Some(Ok(())), "the MFA section opened");
    assert_eq!(
        person.profile,
        Some(SetupStatus::Confirmed),
        "the MFA section shows a key"
    );
}

#[then(expr = "{person}'s MFA section shows the same key as before")]
async fn same_key(world: &mut MfaWorld, name: Name) {
    let before = world.person_ref(&name).profile.clone();
    show_profile(world, &name, None).await;
    world.person(&name).screen = None;
    let after = world.person_ref(&name).profile.clone();
    assert!(matches!(before, Some(SetupStatus::Unconfirmed { .. })));
    assert_eq!(before, after);
}

#[then(expr = "{person}'s MFA section says MFA is set up")]
async fn says_set_up(world: &mut MfaWorld, name: Name) {
    if let Some(client) = command_client(world, &name) {
        let code = phone_code(world, &name).await;
        let set_up = through_client::status(world, &client, &name, code).await;
        assert_eq!(set_up, Some(true), "`mfa status` says MFA is set up for the user");
        return;
    }
    show_profile(world, &name, None).await;
    assert_eq!(world.person_ref(&name).profile, Some(SetupStatus::Confirmed));
}

#[then(expr = "{person}'s MFA section offers to set MFA up")]
async fn offers_setup(world: &mut MfaWorld, name: Name) {
    show_profile(world, &name, None).await;
    world.person(&name).screen = None;
    assert!(matches!(
        world.person_ref(&name).profile,
        Some(SetupStatus::Unconfirmed { .. })
    ));
}

#[then(expr = "{person}'s authenticator app has {int} entry/entries")]
fn app_entries(world: &mut MfaWorld, name: Name, count: usize) {
    assert_eq!(world.person_ref(&name).phone.entries().len(), count);
}

#[then(expr = "{person}'s entries hold different keys")]
fn entries_hold_different_keys(world: &mut MfaWorld, name: Name) {
    let entries = world.person_ref(&name).phone.entries();
    let keys: std::collections::BTreeSet<&[u8]> = entries.iter().map(|entry| entry.secret.as_slice()).collect();
    assert_eq!(keys.len(), entries.len(), "two of {name}'s entries hold the same key");
}

#[then(expr = "{person} and {person} have different keys")]
fn different_keys(world: &mut MfaWorld, a: Name, b: Name) {
    let key = |n: &str| world.person_ref(n).phone.entries().last().map(|e| e.secret.clone());
    assert!(key(&a).is_some() && key(&b).is_some());
    assert_ne!(key(&a), key(&b));
}
