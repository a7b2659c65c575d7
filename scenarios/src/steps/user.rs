//! What a user does: from the guide's profile page, login screen, reset
//! link, and workspace.

use crate::authenticator::AuthenticatorApp;
use crate::report::model::{Attachment, AttachmentKind};
use crate::world::Name;
use crate::world::{Device, Env, Latest, MfaWorld, Person, signer};
use cucumber::gherkin::Step;
use cucumber::{given, then, when};
use parsec_mfa_reference::client::config_dir::ConfigDir;
use parsec_mfa_reference::client::connection::ConnectionError;
use parsec_mfa_reference::client::device_file::{KdfCost, UnlockError, protect, unlock};
use parsec_mfa_reference::client::enrollment::{
    NewIdentity, bootstrap_organization, bootstrap_organization_as, create_device, create_user,
};
use parsec_mfa_reference::client::login::{LoginError, login};
use parsec_mfa_reference::client::mfa::{self, MfaError, SetupStatus};
use parsec_mfa_reference::client::workspace::Workspace;
use parsec_mfa_reference::protocol::addr::{BootstrapAddr, TotpResetAddr};
use parsec_mfa_reference::protocol::local_device::LocalDevice;
use parsec_mfa_reference::protocol::{HumanHandle, OrganizationID, UserID, UserProfile};
use parsec_mfa_reference::totp;

pub static ANCHOR: &str = "user steps";

fn password_of(name: &str) -> String {
    format!("{name}'s P@ssw0rd.")
}

/// Saves a new device of `name` (password only) and returns it.
fn new_device(world: &MfaWorld, name: &str, keys: LocalDevice) -> Device {
    let env = world.started();
    let config = ConfigDir::new(env.home.join(name.to_lowercase()));
    let now = env.now();
    let file = protect(&keys, &password_of(name), KdfCost::Minimal, None, now, now);
    config.save_device(&file).expect("the device file is saved");
    Device { config, file, keys }
}

fn add_person(world: &mut MfaWorld, name: &str, organization: OrganizationID, device: Device) {
    let person = Person {
        email: Env::email_in(name, &organization),
        organization,
        password: password_of(name),
        phone: AuthenticatorApp::default(),
        devices: vec![device],
        current: 0,
        session: None,
        last_login: None,
        last_mfa: None,
        latest: Latest::Nothing,
        profile: None,
        reset_secret: None,
        reset_link: None,
        keys_shown: Vec::new(),
    };
    world.people.insert(name.to_lowercase(), person);
}

/// Creates an organization through the administration API and bootstraps
/// it: `name` becomes its administrator, with `user_id` if given.
async fn bootstrap(world: &mut MfaWorld, name: &str, organization: OrganizationID, user_id: Option<UserID>) {
    let email = Env::email_in(name, &organization);
    bootstrap_with_email(world, name, organization, user_id, email).await;
}

async fn bootstrap_with_email(
    world: &mut MfaWorld,
    name: &str,
    organization: OrganizationID,
    user_id: Option<UserID>,
    email: String,
) {
    let env = world.env().await;
    let created = env
        .admin
        .create_organization(organization.as_str())
        .await
        .expect("the organization is created");
    let link = BootstrapAddr::parse_any(&created.bootstrap_url).expect("a bootstrap URL");
    let who = NewIdentity {
        human_handle: HumanHandle::new(&email, name).expect("a valid identity"),
        device_label: format!("{name}'s laptop"),
    };
    let conn = env.connection_to(&organization);
    let keys = match user_id {
        None => bootstrap_organization(&conn, &link, &who).await,
        Some(user_id) => bootstrap_organization_as(&conn, &link, &who, user_id).await,
    }
    .expect("the organization is bootstrapped");
    let device = new_device(world, name, keys);
    add_person(world, name, organization, device);
    world.person(name).email = email;
}

/// The guide's example address (`alice@example.com`): servers shared by
/// scenarios keep each organization's users apart, and the mailbox steps
/// read the emails about the person's organization.
#[given(expr = "an organization whose administrator is {person}, whose email is {string}")]
async fn organization_with_admin_email(world: &mut MfaWorld, name: Name, email: String) {
    let organization = world.env().await.organization.clone();
    bootstrap_with_email(world, &name, organization, None, email).await;
}

#[given(expr = "an organization whose administrator is {person}")]
async fn organization_with_admin(world: &mut MfaWorld, name: Name) {
    let organization = world.env().await.organization.clone();
    bootstrap(world, &name, organization, None).await;
}

#[given(expr = "{person} is the administrator of another organization on the same server")]
async fn other_organization(world: &mut MfaWorld, name: Name) {
    let organization = world.env().await.another_organization();
    bootstrap(world, &name, organization, None).await;
}

#[given(expr = "{person} bootstraps another organization on the same server, taking {person}'s user id as her/his own")]
async fn other_organization_same_id(world: &mut MfaWorld, name: Name, victim: Name) {
    let user_id = world.keys(&victim).user_id;
    let organization = world.env().await.another_organization();
    bootstrap(world, &name, organization, Some(user_id)).await;
}

#[given(expr = "{person} is a member of the organization")]
async fn member(world: &mut MfaWorld, name: Name) {
    let admin = world.administrator_keys();
    let who = NewIdentity {
        human_handle: HumanHandle::new(&world.started().email_of(&name), &name).expect("a valid identity"),
        device_label: format!("{name}'s laptop"),
    };
    let conn = world.started().connection();
    let keys = create_user(&conn, &admin, &who, UserProfile::Standard)
        .await
        .expect("the user is created");
    let device = new_device(world, &name, keys);
    let organization = world.started().organization.clone();
    add_person(world, &name, organization, device);
}

/// A device of the same person in another organization of the server,
/// which the person bootstraps (another user, by Parsec's model).
#[given(expr = "{person} has a second device, in another organization on the same server")]
async fn device_in_other_organization(world: &mut MfaWorld, name: Name) {
    let organization = world.env().await.another_organization();
    let env = world.started();
    let created = env
        .admin
        .create_organization(organization.as_str())
        .await
        .expect("the organization is created");
    let link = BootstrapAddr::parse_any(&created.bootstrap_url).expect("a bootstrap URL");
    // The same person: her email in her first organization.
    let email = world.person_ref(&name).email.clone();
    let who = NewIdentity {
        human_handle: HumanHandle::new(&email, &name).expect("a valid identity"),
        device_label: format!("{name}'s laptop"),
    };
    let keys = bootstrap_organization(&env.connection_to(&organization), &link, &who)
        .await
        .expect("the organization is bootstrapped");
    let device = new_device(world, &name, keys);
    world.person(&name).devices.push(device);
}

#[given(expr = "{person} has a second device")]
#[when(expr = "{person} adds a second device")]
async fn second_device(world: &mut MfaWorld, name: Name) {
    let existing = world.keys(&name);
    let conn = world.connection_of(&name);
    let keys = create_device(&conn, &existing, "desktop")
        .await
        .expect("the device is created");
    let device = new_device(world, &name, keys);
    world.person(&name).devices.push(device);
}

#[when(expr = "{person} uses her/his second device")]
#[given(expr = "{person} uses her/his second device")]
fn use_second(world: &mut MfaWorld, name: Name) {
    world.person(&name).current = 1;
}

#[when(expr = "{person} uses her/his first device")]
#[given(expr = "{person} uses her/his first device")]
fn use_first(world: &mut MfaWorld, name: Name) {
    world.person(&name).current = 0;
}

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

/// The line of a step, which its attachments name.
pub(super) fn line(step: &Step) -> u32 {
    step.position.line as u32
}

/// Records the QR code a screen shows (`otpauth://` URI of `secret`).
fn attach_qr(world: &MfaWorld, at: u32, name: &str, label: &str, secret: &[u8]) {
    let org = world.person_ref(name).device_organization().as_str().to_owned();
    let uri = totp::otpauth_uri(secret, &org);
    world.attach(
        at,
        Attachment::qr_code(format!("{label} (key {})", totp::base32(secret)), uri),
    );
}

/// Opens the profile's MFA section; the QR code it shows is recorded for
/// the step on `at`.
async fn show_profile(world: &mut MfaWorld, name: &str, at: Option<u32>) {
    let keys = world.keys(name);
    let conn = world.connection_of(name);
    let outcome = mfa::setup_status(&conn, signer(&keys)).await;
    if let (Some(at), Ok(SetupStatus::Unconfirmed { secret })) = (at, &outcome) {
        attach_qr(
            world,
            at,
            name,
            &format!("{name}'s MFA section shows a QR code"),
            secret,
        );
    }
    let person = world.person(name);
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
fn scans(world: &mut MfaWorld, name: Name) {
    let secret = shown_secret(world, &name);
    let org = world.person_ref(&name).device_organization().as_str().to_owned();
    let uri = totp::otpauth_uri(&secret, &org);
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

/// The code the app shows now. A phone whose clock is off shows it at the
/// start of a step (see [`crate::world::Env::fresh_step`]); one in sync
/// needs no wait: its code, one step old if it crosses a step boundary on
/// its way, is still in the server's window, and a wait would eat into a
/// lockout that a real-time scenario races.
pub(super) async fn app_code(world: &MfaWorld, name: &str) -> String {
    if world.person_ref(name).phone.clock_offset_seconds != 0 {
        world.started().fresh_step().await;
    }
    let person = world.person_ref(name);
    person
        .phone
        .code(person.device_organization().as_str(), world.started().now())
        .unwrap_or_else(|| format!("{name} has no authenticator entry for this organization"))
}

/// A code that is wrong now, whatever the window.
pub(super) fn wrong_code(world: &MfaWorld, name: &str) -> String {
    let person = world.person_ref(name);
    person
        .phone
        .wrong_code(person.device_organization().as_str(), world.started().now(), 0)
}

async fn confirm(world: &mut MfaWorld, name: &str, code: String) {
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
            let file = protect(
                &device.keys,
                &password,
                KdfCost::Minimal,
                Some(&layer),
                device.file.created_on,
                device.file.protected_on,
            );
            device.config.save_device(&file).expect("the device file is saved");
            person.device_mut().file = file;
            person.told_mfa(Ok(()));
        }
        Err(e) => person.told_mfa(Err(e)),
    }
}

#[when(expr = "{person} confirms with the code from her/his authenticator app")]
#[when(expr = "{person} enables MFA with the code from her/his authenticator app")]
#[given(expr = "{person} enables MFA with the code from her/his authenticator app")]
async fn confirms_with_app(world: &mut MfaWorld, name: Name) {
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

#[then(expr = "MFA is enabled on {person}'s device")]
fn enabled_on_device(world: &mut MfaWorld, name: Name) {
    let person = world.person_ref(&name);
    assert_eq!(person.last_mfa, Some(Ok(())), "the last MFA step");
    assert!(
        person.device().file.totp_opaque_key_id.is_some(),
        "the device file is MFA-protected"
    );
}

#[then(expr = "MFA is not enabled on {person}'s device")]
fn not_enabled_on_device(world: &mut MfaWorld, name: Name) {
    assert!(world.person_ref(&name).device().file.totp_opaque_key_id.is_none());
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
    let uri = totp::otpauth_uri(&shown, org);
    assert_eq!(
        uri,
        format!("otpauth://totp/parsec.cloud:{org}?secret={key}&issuer=parsec.cloud")
    );
    assert!(totp::qr_for_terminal(&uri).is_ok());
}

#[then(expr = "{person}'s MFA section shows the same key as before")]
async fn same_key(world: &mut MfaWorld, name: Name) {
    let before = world.person_ref(&name).profile.clone();
    show_profile(world, &name, None).await;
    let after = world.person_ref(&name).profile.clone();
    assert!(matches!(before, Some(SetupStatus::Unconfirmed { .. })));
    assert_eq!(before, after);
}

#[then(expr = "{person}'s MFA section says MFA is set up")]
async fn says_set_up(world: &mut MfaWorld, name: Name) {
    show_profile(world, &name, None).await;
    assert_eq!(world.person_ref(&name).profile, Some(SetupStatus::Confirmed));
}

#[then(expr = "{person}'s MFA section offers to set MFA up")]
async fn offers_setup(world: &mut MfaWorld, name: Name) {
    show_profile(world, &name, None).await;
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

#[given(expr = "{person}'s phone clock is {int} seconds behind")]
#[when(expr = "{person}'s phone clock is {int} seconds behind")]
fn phone_behind(world: &mut MfaWorld, name: Name, seconds: i64) {
    world.person(&name).phone.clock_offset_seconds = -seconds;
}

#[given(expr = "{person}'s phone clock is {int} seconds ahead")]
#[when(expr = "{person}'s phone clock is {int} seconds ahead")]
fn phone_ahead(world: &mut MfaWorld, name: Name, seconds: i64) {
    world.person(&name).phone.clock_offset_seconds = seconds;
}

#[given(expr = "{person} lost her/his phone")]
#[when(expr = "{person} loses her/his phone")]
#[given(expr = "{person} loses her/his phone")]
fn loses_phone(world: &mut MfaWorld, name: Name) {
    let person = world.person(&name);
    let mut phone = AuthenticatorApp::default();
    phone.clock_offset_seconds = person.phone.clock_offset_seconds;
    person.phone = phone;
}

async fn log_in(world: &mut MfaWorld, name: &str, code: Option<String>, password: Option<String>) {
    let person = world.person_ref(name);
    let file = person.device().file.clone();
    let password = password.unwrap_or_else(|| person.password.clone());
    let conn = world.connection_of(name);
    let sent = world.started().now();
    let outcome = login(&conn, &file, code.as_deref(), &password).await;
    if outcome.is_ok()
        && let Some(last) = world.last_failure
        && let Some(late) = last.maybe_ended_before(sent, 1, world.started().target.clock_flows())
    {
        world.too_late = Some(late);
    }
    let person = world.person(name);
    match outcome {
        Ok(session) => {
            person.session = Some(session.device);
            person.told_login(Ok(()));
        }
        Err(e) => {
            person.session = None;
            person.told_login(Err(e));
        }
    }
}

#[given(expr = "{person} is logged in")]
#[when(expr = "{person} logs in with the code from her/his authenticator app and her/his password")]
async fn logs_in(world: &mut MfaWorld, name: Name) {
    let mfa = world.person_ref(&name).device().file.totp_opaque_key_id.is_some();
    let code = match mfa {
        true => Some(app_code(world, &name).await),
        false => None,
    };
    log_in(world, &name, code, None).await;
}

#[when(expr = "{person} logs in with her/his password only")]
async fn password_only(world: &mut MfaWorld, name: Name) {
    log_in(world, &name, None, None).await;
}

#[when(expr = "{person} logs in with a wrong code and her/his password")]
async fn wrong_code_login(world: &mut MfaWorld, name: Name) {
    let code = wrong_code(world, &name);
    log_in(world, &name, Some(code), None).await;
}

#[when(expr = "{person} logs in with the code {string} and her/his password")]
async fn literal_code_login(world: &mut MfaWorld, name: Name, code: String) {
    log_in(world, &name, Some(code), None).await;
}

#[when(expr = "{person} logs in with the code from her/his authenticator app and a wrong password")]
async fn wrong_password_login(world: &mut MfaWorld, name: Name) {
    let code = app_code(world, &name).await;
    log_in(world, &name, Some(code), Some("not the password".into())).await;
}

#[when(expr = "{person} logs in with a code from her/his old authenticator entry")]
async fn old_entry_login(world: &mut MfaWorld, name: Name) {
    let org = world.person_ref(&name).device_organization().as_str().to_owned();
    let now = world.started().now();
    let code = world
        .person_ref(&name)
        .phone
        .previous_code(&org, now)
        .expect("an old entry exists");
    log_in(world, &name, Some(code), None).await;
}

#[then(expr = "{person} is logged in")]
fn is_logged_in(world: &mut MfaWorld, name: Name) {
    let person = world.person_ref(&name);
    assert_eq!(person.last_login, Some(Ok(())));
    assert!(person.session.is_some());
}

/// Why a login was refused, in the words of the login screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, cucumber::Parameter)]
#[param(
    name = "login_refusal",
    regex = "the code is invalid|of too many attempts|the password is wrong|a code is needed|the server cannot be reached|MFA is required|passwords are not allowed"
)]
pub enum LoginRefusal {
    InvalidCode,
    TooManyAttempts,
    WrongPassword,
    CodeNeeded,
    Offline,
    MfaRequired,
    PasswordsNotAllowed,
}

impl std::str::FromStr for LoginRefusal {
    type Err = super::UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "the code is invalid" => Self::InvalidCode,
            "of too many attempts" => Self::TooManyAttempts,
            "the password is wrong" => Self::WrongPassword,
            "a code is needed" => Self::CodeNeeded,
            "the server cannot be reached" => Self::Offline,
            "MFA is required" => Self::MfaRequired,
            "passwords are not allowed" => Self::PasswordsNotAllowed,
            other => {
                return Err(super::UnknownName {
                    what: "no login refusal reads",
                    text: other.to_owned(),
                });
            }
        })
    }
}

impl LoginRefusal {
    fn matches(self, error: &LoginError) -> bool {
        match self {
            Self::InvalidCode => *error == LoginError::InvalidCode,
            Self::TooManyAttempts => matches!(error, LoginError::Throttled { .. }),
            Self::WrongPassword => *error == LoginError::WrongPassword,
            Self::CodeNeeded => *error == LoginError::CodeNeeded,
            Self::Offline => matches!(error, LoginError::Offline(_)),
            Self::MfaRequired => *error == LoginError::MfaRequired,
            Self::PasswordsNotAllowed => *error == LoginError::MethodNotAllowed,
        }
    }
}

#[then(expr = "{person}'s login is refused because {login_refusal}")]
fn login_refused(world: &mut MfaWorld, name: Name, reason: LoginRefusal) {
    let outcome = world.person_ref(&name).last_login.clone();
    let Some(Err(error)) = outcome else {
        if reason == LoginRefusal::TooManyAttempts
            && let Some(late) = &world.too_late
        {
            panic!("{name}'s login was not refused: {late}");
        }
        panic!("{name}'s login was not refused: {outcome:?}")
    };
    assert!(reason.matches(&error), "refused because {reason:?}? got {error:?}");
    assert!(world.person_ref(&name).session.is_none());
}

/// Why the server turned a request away, as the person or the attacker is
/// told it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, cucumber::Parameter)]
#[param(
    name = "refusal",
    regex = "the code is invalid|the reset link is not valid|the signature is wrong|the request is too old|the device is unknown there|the account is frozen|the account is revoked"
)]
pub enum Refusal {
    InvalidCode,
    ResetLinkNotValid,
    WrongSignature,
    TooOld,
    UnknownDevice,
    Frozen,
    Revoked,
}

impl std::str::FromStr for Refusal {
    type Err = super::UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "the code is invalid" => Self::InvalidCode,
            "the reset link is not valid" => Self::ResetLinkNotValid,
            "the signature is wrong" => Self::WrongSignature,
            "the request is too old" => Self::TooOld,
            "the device is unknown there" => Self::UnknownDevice,
            "the account is frozen" => Self::Frozen,
            "the account is revoked" => Self::Revoked,
            other => {
                return Err(super::UnknownName {
                    what: "no refusal reads",
                    text: other.to_owned(),
                });
            }
        })
    }
}

impl Refusal {
    /// What the server answers for this reason.
    pub fn error(self) -> MfaError {
        match self {
            Self::InvalidCode => MfaError::InvalidOneTimePassword,
            Self::ResetLinkNotValid => MfaError::BadToken,
            Self::WrongSignature | Self::UnknownDevice => MfaError::Connection(ConnectionError::BadAuthentication),
            Self::TooOld => MfaError::Connection(ConnectionError::TokenExpired),
            Self::Frozen => MfaError::Connection(ConnectionError::UserFrozen),
            Self::Revoked => MfaError::Connection(ConnectionError::UserRevoked),
        }
    }
}

#[then(expr = "{person} is refused because {refusal}")]
fn refused(world: &mut MfaWorld, name: Name, reason: Refusal) {
    assert_eq!(world.person_ref(&name).last_mfa, Some(Err(reason.error())));
}

#[then(expr = "{person} must wait until {int} second(s) after the last wrong code")]
fn must_wait(world: &mut MfaWorld, name: Name, seconds: i64) {
    let outcome = world.person_ref(&name).last_login.clone();
    let Some(Err(LoginError::Throttled { wait_until })) = outcome else {
        panic!("not throttled: {outcome:?}")
    };
    let last = world.last_failure.expect("a wrong code was answered");
    last.assert_waits_until(wait_until, seconds);
}

#[then(expr = "{person}'s device cannot be opened with her/his password alone")]
fn password_alone(world: &mut MfaWorld, name: Name) {
    let person = world.person_ref(&name);
    assert_eq!(
        unlock(&person.device().file, &person.password, None),
        Err(UnlockError::OpaqueKeyNeeded)
    );
}

fn workspace(world: &MfaWorld, name: &str) -> Workspace {
    let person = world.person_ref(name);
    let session = person
        .session
        .as_ref()
        .unwrap_or_else(|| panic!("{name} is not logged in"));
    let device = person.device();
    Workspace::open(
        device.config.workspace_dir(session.device_id),
        session.local_symkey.clone(),
    )
}

#[given(expr = "{person} writes {string} in the file {string}")]
#[when(expr = "{person} writes {string} in the file {string}")]
fn writes(world: &mut MfaWorld, name: Name, text: String, file: String) {
    workspace(world, &name)
        .write(&file, text.as_bytes())
        .expect("the file is written");
}

#[then(expr = "{person} reads {string} in the file {string}")]
fn reads(world: &mut MfaWorld, name: Name, text: String, file: String) {
    let content = workspace(world, &name).read(&file).expect("the file is read");
    assert_eq!(String::from_utf8_lossy(&content), text);
}

#[then(expr = "{person}'s workspace lists {string}")]
fn lists(world: &mut MfaWorld, name: Name, listing: String) {
    let expected: Vec<String> = listing.split(", ").map(str::to_owned).collect();
    assert_eq!(workspace(world, &name).list().expect("the workspace lists"), expected);
}

#[when(expr = "{person} logs out")]
#[given(expr = "{person} logs out")]
fn logs_out(world: &mut MfaWorld, name: Name) {
    world.person(&name).session = None;
}

#[then(expr = "each of {person}'s devices logs in with the code from her/his authenticator app")]
async fn every_device(world: &mut MfaWorld, name: Name) {
    let count = world.person_ref(&name).devices.len();
    for index in 0..count {
        world.person(&name).current = index;
        logs_in(world, name.clone()).await;
        is_logged_in(world, name.clone());
    }
    world.person(&name).current = 0;
}

async fn open_reset_link(world: &mut MfaWorld, name: &str, link: &str, at: u32) {
    world.attach_text(at, AttachmentKind::Url, format!("the reset link {name} opens"), link);
    let link = TotpResetAddr::parse_any(link).expect("a reset link");
    let conn = world.started().connection_to(&link.organization_id);
    let outcome = mfa::reset_secret(&conn, &link).await;
    if let Ok(secret) = &outcome {
        attach_qr(world, at, name, "the reset link shows a new QR code", secret);
    }
    let person = world.person(name);
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
    link.user_id = world.keys(&other).user_id;
    open_reset_link(world, &name, &link.to_string(), line(step)).await;
}

#[when(expr = "{person} opens the reset link from the email on two devices at the same time")]
async fn opens_link_twice_at_once(world: &mut MfaWorld, name: Name) {
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
