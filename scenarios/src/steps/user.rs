//! The people of the scenarios: their organizations, their devices and
//! their phones (the authenticator app). What they then do is in
//! `enable_mfa`, `login`, `workspace` and `reset_link`; every action goes
//! through the scenario's client (`through_client` for a command client).

use super::through_client::{self, command_client};
use crate::authenticator::AuthenticatorApp;
use crate::world::Name;
use crate::world::{Device, Env, MfaWorld, Person};
use cucumber::gherkin::Step;
use cucumber::{given, when};
use parsec_mfa_reference::client::config_dir::ConfigDir;
use parsec_mfa_reference::client::connection::ConnectionError;
use parsec_mfa_reference::client::device_file::{KdfCost, protect};
use parsec_mfa_reference::client::enrollment::{
    NewIdentity, bootstrap_organization, bootstrap_organization_as, create_device, create_user,
};
use parsec_mfa_reference::client::mfa::MfaError;
use parsec_mfa_reference::protocol::addr::BootstrapAddr;
use parsec_mfa_reference::protocol::local_device::LocalDevice;
use parsec_mfa_reference::protocol::{HumanHandle, OrganizationID, UserID, UserProfile};

pub static ANCHOR: &str = "user steps";

pub(super) fn password_of(name: &str) -> String {
    format!("{name}'s P@ssw0rd.")
}

/// Saves a new device of `name` (password only) and returns it.
fn new_device(world: &MfaWorld, name: &str, keys: LocalDevice) -> Device {
    let env = world.started();
    let config = ConfigDir::new(env.home.join(name.to_lowercase()));
    let now = env.now();
    let file = protect(&keys, &password_of(name), KdfCost::Minimal, None, now, now);
    config.save_device(&file).expect("the device file is saved");
    Device::library(config, file, keys)
}

fn add_person(world: &mut MfaWorld, name: &str, organization: OrganizationID, device: Device, profile: UserProfile) {
    let email = Env::email_in(name, &organization);
    let person = Person::new(organization, email, password_of(name), device, profile);
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
    let device = match command_client(world, name) {
        // A user id of one's own choosing is not something a client offers.
        Some(client) if user_id.is_none() => {
            through_client::bootstrap(world, &client, name, &created.bootstrap_url, &email, &password_of(name)).await
        }
        _ => {
            let env = world.started();
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
            new_device(world, name, keys)
        }
    };
    add_person(world, name, organization, device, UserProfile::Admin);
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
    let user_id = world.person_ref(&victim).device().user_id();
    let organization = world.env().await.another_organization();
    bootstrap(world, &name, organization, Some(user_id)).await;
}

#[given(expr = "{person} is a member of the organization")]
async fn member(world: &mut MfaWorld, name: Name) {
    let admin = world.administrator().to_owned();
    if let Some(client) = command_client(world, &admin) {
        let organization = world.started().organization.clone();
        let email = world.started().email_of(&name);
        let code = phone_code(world, &admin).await;
        let device = through_client::create_user(world, &client, &admin, code, &name, &email).await;
        add_person(world, &name, organization, device, UserProfile::Standard);
        return;
    }
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
    add_person(world, &name, organization, device, UserProfile::Standard);
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
    // The same person: her email in her first organization.
    let email = world.person_ref(&name).email.clone();
    let device = match command_client(world, &name) {
        Some(client) => {
            let password = world.person_ref(&name).password.clone();
            through_client::bootstrap(world, &client, &name, &created.bootstrap_url, &email, &password).await
        }
        None => {
            let link = BootstrapAddr::parse_any(&created.bootstrap_url).expect("a bootstrap URL");
            let who = NewIdentity {
                human_handle: HumanHandle::new(&email, &name).expect("a valid identity"),
                device_label: format!("{name}'s laptop"),
            };
            let keys = bootstrap_organization(&env.connection_to(&organization), &link, &who)
                .await
                .expect("the organization is bootstrapped");
            new_device(world, &name, keys)
        }
    };
    world.person(&name).devices.push(device);
}

#[given(expr = "{person} has a second device")]
#[when(expr = "{person} adds a second device")]
async fn second_device(world: &mut MfaWorld, name: Name) {
    if let Some(client) = command_client(world, &name) {
        let code = phone_code(world, &name).await;
        let device = through_client::create_device(world, &client, &name, code).await;
        world.person(&name).devices.push(device);
        return;
    }
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

/// The line of a step, which its attachments name.
pub(super) fn line(step: &Step) -> u32 {
    step.position.line as u32
}

/// The code the app shows now. A phone whose clock is off shows it at the
/// start of a step (see [`crate::world::Env::fresh_step`]); one in sync
/// needs no wait: its code, one step old if it crosses a step boundary on
/// its way, is still in the server's window, and a wait would eat into a
/// lockout that a real-time scenario races.
pub(super) async fn app_code(world: &MfaWorld, name: &str) -> String {
    if world.person_ref(name).phone.clock_offset_seconds != 0 {
        // A command client's code reaches the server after a process start
        // and its prompts; the reference library's at once.
        let margin = match world.client.command() {
            Some(_) => std::time::Duration::from_secs(10),
            None => std::time::Duration::from_secs(2),
        };
        world.started().fresh_step(margin).await;
    }
    let person = world.person_ref(name);
    person
        .phone
        .code(person.device_organization().as_str(), world.started().now())
        .unwrap_or_else(|| format!("{name} has no authenticator entry for this organization"))
}

/// The code the person's app shows for the device's organization, if it
/// has an entry for it (what a person types when a client asks for one).
pub(super) async fn phone_code(world: &MfaWorld, name: &str) -> Option<String> {
    let org = world.person_ref(name).device_organization().clone();
    world
        .person_ref(name)
        .phone
        .entries()
        .iter()
        .any(|e| e.account == org.as_str())
        .then_some(())?;
    Some(app_code(world, name).await)
}

/// A code that is wrong now, whatever the window.
pub(super) fn wrong_code(world: &MfaWorld, name: &str) -> String {
    let person = world.person_ref(name);
    person
        .phone
        .wrong_code(person.device_organization().as_str(), world.started().now(), 0)
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
    /// The client contract's exit code for this refusal where it has no
    /// code of its own (1, any other error), so that a command client's
    /// refusal is checked at the contract's granularity; `None` where the
    /// contract's outcome is the reference library's.
    pub fn exit_code(self) -> Option<i32> {
        match self {
            Self::InvalidCode | Self::ResetLinkNotValid => None,
            Self::WrongSignature | Self::TooOld | Self::UnknownDevice | Self::Frozen | Self::Revoked => {
                Some(crate::client::contract::exit::GENERAL)
            }
        }
    }

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
