//! Logging in: the code first, then the password, and what the login
//! screen says when it refuses.

use super::through_client::{self, CodeAtLogin, command_client};
use super::user::{Refusal, app_code, phone_code, wrong_code};
use crate::client::process::Prompt;
use crate::world::{MfaWorld, Name};
use cucumber::{given, then, when};
use parsec_mfa_reference::client::device_file::{UnlockError, unlock};
use parsec_mfa_reference::client::login::{LoginError, login};
use parsec_mfa_reference::client::mfa::MfaError;

pub static ANCHOR: &str = "login steps";

async fn log_in(world: &mut MfaWorld, name: &str, code: CodeAtLogin, password: Option<String>) {
    let password = password.unwrap_or_else(|| world.person_ref(name).password.clone());
    let sent = world.started().now();
    let outcome = match command_client(world, name) {
        Some(client) => through_client::login(world, &client, name, code, password).await,
        None => {
            let code = match code {
                CodeAtLogin::Typed(code) => code,
                CodeAtLogin::Argument(code) => Some(code),
            };
            let file = world.person_ref(name).device().file().clone();
            let conn = world.connection_of(name);
            login(&conn, &file, code.as_deref(), &password)
                .await
                .map(|session| world.person(name).session = Some(session.device))
        }
    };
    // A wrong code of the person's own counts as the last one, as an
    // attacker's does.
    if outcome == Err(LoginError::InvalidCode) {
        let answered = world.started().now();
        world.last_failure = Some(crate::world::Observed { sent, answered });
    }
    if outcome.is_ok()
        && let Some(last) = world.last_failure
        && let Some(late) = last.maybe_ended_before(sent, 1, world.started().target.clock_flows())
    {
        world.too_late = Some(late);
    }
    let person = world.person(name);
    if outcome.is_err() {
        person.session = None;
    }
    person.told_login(outcome);
}

#[given(expr = "{person} is logged in")]
#[when(expr = "{person} logs in with the code from her/his authenticator app and her/his password")]
pub(super) async fn logs_in(world: &mut MfaWorld, name: Name) {
    // A command client asks for the code only where MFA protects the
    // device: the person has it ready if the phone has an entry.
    let code = match command_client(world, &name) {
        Some(_) => phone_code(world, &name).await,
        None => match world.person_ref(&name).device().file().totp_opaque_key_id {
            Some(_) => Some(app_code(world, &name).await),
            None => None,
        },
    };
    log_in(world, &name, CodeAtLogin::Typed(code), None).await;
}

#[when(expr = "{person} logs in with her/his password only")]
async fn password_only(world: &mut MfaWorld, name: Name) {
    log_in(world, &name, CodeAtLogin::Typed(None), None).await;
}

#[when(expr = "{person} logs in with a wrong code and her/his password")]
async fn wrong_code_login(world: &mut MfaWorld, name: Name) {
    let code = wrong_code(world, &name);
    log_in(world, &name, CodeAtLogin::Typed(Some(code)), None).await;
}

#[when(expr = "{person} logs in with the code {string} and her/his password")]
async fn literal_code_login(world: &mut MfaWorld, name: Name, code: String) {
    // As typed, even empty: given on the command line to a command client.
    log_in(world, &name, CodeAtLogin::Argument(code), None).await;
}

#[when(expr = "{person} logs in with the code from her/his authenticator app and a wrong password")]
async fn wrong_password_login(world: &mut MfaWorld, name: Name) {
    let code = app_code(world, &name).await;
    log_in(
        world,
        &name,
        CodeAtLogin::Typed(Some(code)),
        Some("not the password".into()),
    )
    .await;
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
    log_in(world, &name, CodeAtLogin::Typed(Some(code)), None).await;
}

#[then(expr = "{person} is logged in")]
fn is_logged_in(world: &mut MfaWorld, name: Name) {
    let person = world.person_ref(&name);
    assert_eq!(person.last_login, Some(Ok(())));
    assert!(person.logged_in());
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
    /// `exact`: told apart as the reference library tells them; otherwise
    /// at the client contract's granularity, where the two refusals of the
    /// advice share one exit code (7).
    fn matches(self, error: &LoginError, exact: bool) -> bool {
        if !exact && matches!(self, Self::MfaRequired | Self::PasswordsNotAllowed) {
            return matches!(error, LoginError::MfaRequired | LoginError::MethodNotAllowed);
        }
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
    let exact = command_client(world, &name).is_none();
    assert!(
        reason.matches(&error, exact),
        "refused because {reason:?}? got {error:?}"
    );
    assert!(!world.person_ref(&name).logged_in());
}

#[then(expr = "{person} is refused because {refusal}")]
fn refused(world: &mut MfaWorld, name: Name, reason: Refusal) {
    let told = world.person_ref(&name).last_mfa.clone();
    match (command_client(world, &name), reason.exit_code()) {
        (None, _) | (Some(_), None) => assert_eq!(told, Some(Err(reason.error()))),
        // At the contract's granularity: its exit code for this refusal.
        (Some(_), Some(code)) => assert!(
            matches!(&told, Some(Err(MfaError::UnknownStatus(said))) if said.contains(&format!("exit Some({code})"))),
            "refused because {reason:?} (exit {code})? got {told:?}"
        ),
    }
}

#[then(expr = "{person} must wait until {int} second(s) after the last wrong code")]
fn must_wait(world: &mut MfaWorld, name: Name, seconds: i64) {
    let outcome = world.person_ref(&name).last_login.clone();
    let Some(Err(LoginError::Throttled { wait_until })) = outcome else {
        panic!("not throttled: {outcome:?}")
    };
    let last = world.last_failure.expect("a wrong code was answered");
    match command_client(world, &name) {
        None => last.assert_waits_until(wait_until, seconds),
        // A client tells the time to the second, as a person reads it.
        Some(_) => last.assert_waits_until_to_the_second(wait_until, seconds),
    }
}

#[then(expr = "{person}'s device cannot be opened with her/his password alone")]
async fn password_alone(world: &mut MfaWorld, name: Name) {
    if let Some(client) = command_client(world, &name) {
        // Only the password to give: the client must not open the device.
        let password = world.person_ref(&name).password.clone();
        let opened = through_client::login(world, &client, &name, CodeAtLogin::Typed(None), password).await;
        assert!(opened.is_err(), "the device opened with the password alone");
        through_client::logout(world, &name).await;
        return;
    }
    let person = world.person_ref(&name);
    assert_eq!(
        unlock(person.device().file(), &person.password, None),
        Err(UnlockError::OpaqueKeyNeeded)
    );
}

#[when(expr = "{person} logs out")]
#[given(expr = "{person} logs out")]
async fn logs_out(world: &mut MfaWorld, name: Name) {
    world.person(&name).session = None;
    through_client::logout(world, &name).await;
}

#[then(expr = "each of {person}'s devices logs in with the code from her/his authenticator app")]
async fn every_device(world: &mut MfaWorld, name: Name) {
    let count = world.person_ref(&name).devices.len();
    for index in 0..count {
        logs_out(world, name.clone()).await;
        world.person(&name).current = index;
        logs_in(world, name.clone()).await;
        is_logged_in(world, name.clone());
    }
    world.person(&name).current = 0;
}

/// The prompts of a command client's last login (a client rule: the code
/// first, no password once the code is refused).
fn login_prompts(world: &MfaWorld, name: &str) -> Vec<Prompt> {
    if command_client(world, name).is_none() {
        crate::client::not_run("the prompts are a command client's; the reference library asks nothing");
    }
    world.person_ref(name).login_prompts.clone()
}

#[then(expr = "{person} was asked for the code, then for her/his password")]
fn asked_code_then_password(world: &mut MfaWorld, name: Name) {
    let prompts = login_prompts(world, &name);
    assert_eq!(
        prompts,
        [Prompt::Code, Prompt::Password],
        "what the client asked, in order"
    );
}

#[then(expr = "{person} was not asked for her/his password")]
fn not_asked_password(world: &mut MfaWorld, name: Name) {
    let prompts = login_prompts(world, &name);
    assert!(
        !prompts.contains(&Prompt::Password),
        "the client asked for the password after the code was refused: {prompts:?}"
    );
}
