//! The World: the state of one scenario, and nothing else. Steps (in
//! `steps/`, by actor) read and change it through the helpers below.

use crate::authenticator::AuthenticatorApp;
use crate::mailbox::{Email, Mailbox};
use crate::network::{Condition, Network};
use crate::report::Recorder;
use crate::report::model::{Attachment, AttachmentKind};
use crate::targets::{InProcess, Target, TargetFactory, TargetSpec};
use parsec_mfa_reference::client::Connection;
use parsec_mfa_reference::client::admin::{AdminClient, AdminError};
use parsec_mfa_reference::client::config_dir::ConfigDir;
use parsec_mfa_reference::client::login::LoginError;
use parsec_mfa_reference::client::mfa::{MfaError, SetupStatus};
use parsec_mfa_reference::clock::Clock;
use parsec_mfa_reference::protocol::addr::TotpResetAddr;
use parsec_mfa_reference::protocol::admin::ResetTotpRep;
use parsec_mfa_reference::protocol::local_device::{DeviceFilePassword, LocalDevice};
use parsec_mfa_reference::protocol::{DateTime, OrganizationID};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::exchange::retry_policy;

/// A person of the scenarios, as steps name them (`{person}`): an unknown
/// name makes the step undefined (the run fails saying so), not a panic.
#[derive(Debug, Clone, PartialEq, Eq, cucumber::Parameter)]
#[param(name = "person", regex = "Alice|Bob|Carol|Mallory")]
pub struct Name(pub String);

impl std::str::FromStr for Name {
    type Err = std::convert::Infallible;

    /// The parameter's regex has admitted only the known names.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Name(s.to_owned()))
    }
}

impl std::ops::Deref for Name {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One device of a person: where it lives, and what the harness knows of it.
pub struct Device {
    /// The person's computer: the config dir of the device's client.
    pub config: ConfigDir,
    pub organization: OrganizationID,
    pub held: Held,
}

/// What the harness holds of a device, by the client that made it.
pub enum Held {
    /// The reference client library's: the device file, and its keys as
    /// the running app holds them after a login (the login steps
    /// themselves always open the file). Boxed: large beside an id.
    Library(Box<(DeviceFilePassword, LocalDevice)>),
    /// A command client's, which keeps its files and keys to itself: the
    /// id it printed.
    Command {
        id: String,
        protected: bool,
        /// What `device show` printed, once read (`None`: not shown).
        ids: Option<crate::client::contract::ShownIds>,
    },
}

impl Device {
    fn shown_ids(&self) -> &crate::client::contract::ShownIds {
        match &self.held {
            Held::Command { ids: Some(ids), .. } => ids,
            _ => crate::client::not_run(
                "the step needs the device's ids, which the client does not show (`device show`)",
            ),
        }
    }

    /// The device's user, as its file says it (readable without a password).
    pub fn user_id(&self) -> parsec_mfa_reference::protocol::UserID {
        match &self.held {
            Held::Library(held) => held.0.user_id,
            Held::Command { .. } => self.shown_ids().user_id,
        }
    }

    pub fn device_id(&self) -> parsec_mfa_reference::protocol::DeviceID {
        match &self.held {
            Held::Library(held) => held.0.device_id,
            Held::Command { .. } => self.shown_ids().device_id,
        }
    }

    /// The opaque key protecting the device, when MFA does.
    pub fn opaque_key_id(&self) -> Option<parsec_mfa_reference::protocol::TOTPOpaqueKeyID> {
        match &self.held {
            Held::Library(held) => held.0.totp_opaque_key_id,
            Held::Command { .. } => self.shown_ids().opaque_key,
        }
    }

    /// A command client's device: what `device show` printed now.
    pub fn set_shown_ids(&mut self, shown: Option<crate::client::contract::ShownIds>) {
        if let Held::Command { ids, .. } = &mut self.held {
            *ids = shown;
        }
    }

    pub fn library(config: ConfigDir, file: DeviceFilePassword, keys: LocalDevice) -> Self {
        Device {
            config,
            organization: keys.organization_id.clone(),
            held: Held::Library(Box::new((file, keys))),
        }
    }

    /// The device file, which only the reference client library shows the
    /// harness: with another client, the step is not run.
    pub fn file(&self) -> &DeviceFilePassword {
        match &self.held {
            Held::Library(held) => &held.0,
            Held::Command { .. } => {
                crate::client::not_run("the step reads the device file, which a client under test keeps to itself")
            }
        }
    }

    pub fn set_file(&mut self, new: DeviceFilePassword) {
        if let Held::Library(held) = &mut self.held {
            held.0 = new;
        }
    }

    /// The device's keys (see [`Device::file`]).
    pub fn keys(&self) -> &LocalDevice {
        match &self.held {
            Held::Library(held) => &held.1,
            Held::Command { .. } => {
                crate::client::not_run("the step needs the device's keys, which a client under test keeps to itself")
            }
        }
    }

    /// A command client's device: MFA now protects it (its `mfa enable`
    /// succeeded).
    pub fn mark_protected(&mut self) {
        if let Held::Command { protected, .. } = &mut self.held {
            *protected = true;
        }
    }

    /// Whether a command client's device is known to be MFA-protected.
    pub fn command_protected(&self) -> bool {
        matches!(self.held, Held::Command { protected: true, .. })
    }

    /// A command client's device id, as it printed it.
    pub fn command_id(&self) -> Option<&str> {
        match &self.held {
            Held::Library(_) => None,
            Held::Command { id, .. } => Some(id),
        }
    }
}

pub struct Person {
    /// Admin for who bootstrapped an organization, standard for a member.
    pub profile_in_organization: parsec_mfa_reference::protocol::UserProfile,
    /// The organization the person belongs to (the scenario's own, or
    /// another one on the same server).
    pub organization: OrganizationID,
    pub email: String,
    pub password: String,
    pub phone: AuthenticatorApp,
    pub devices: Vec<Device>,
    /// Which device the person is using.
    pub current: usize,
    /// Set while logged in (with the reference client library).
    pub session: Option<LocalDevice>,
    /// A command client's open processes: its workspace shell while
    /// logged in, and the screen it shows (an MFA section's key, a reset
    /// link's) until the person types the code.
    pub shell: Option<crate::client::process::ClientProcess>,
    pub screen: Option<crate::client::process::ClientProcess>,
    /// What the last login, and the last other MFA request, answered:
    /// set through [`Person::told_login`] and [`Person::told_mfa`].
    pub last_login: Option<Result<(), LoginError>>,
    pub last_mfa: Option<Result<(), MfaError>>,
    /// Which of the two came last, so that a check of what the person was
    /// just told does not read an earlier answer.
    pub latest: Latest,
    /// What the profile's MFA section showed last.
    pub profile: Option<SetupStatus>,
    /// What a command client asked at the last login, in order.
    pub login_prompts: Vec<crate::client::process::Prompt>,
    /// The `otpauth://` URI a command client printed beside its QR code,
    /// which the phone scans.
    pub shown_uri: Option<String>,
    /// The new secret shown by a reset link.
    pub reset_secret: Option<Vec<u8>>,
    /// Every key the profile's MFA section showed (before any reset).
    pub keys_shown: Vec<Vec<u8>>,
    pub reset_link: Option<TotpResetAddr>,
}

/// Which request a person made last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Latest {
    #[default]
    Nothing,
    Login,
    Mfa,
}

impl Person {
    /// A person with one device, a phone with no entry, nothing done yet.
    pub fn new(
        organization: OrganizationID,
        email: String,
        password: String,
        device: Device,
        profile_in_organization: parsec_mfa_reference::protocol::UserProfile,
    ) -> Person {
        Person {
            profile_in_organization,
            organization,
            email,
            password,
            phone: AuthenticatorApp::default(),
            devices: vec![device],
            current: 0,
            session: None,
            shell: None,
            screen: None,
            shown_uri: None,
            login_prompts: Vec::new(),
            last_login: None,
            last_mfa: None,
            latest: Latest::Nothing,
            profile: None,
            reset_secret: None,
            reset_link: None,
            keys_shown: Vec::new(),
        }
    }

    pub fn told_login(&mut self, outcome: Result<(), LoginError>) {
        self.last_login = Some(outcome);
        self.latest = Latest::Login;
    }

    pub fn told_mfa(&mut self, outcome: Result<(), MfaError>) {
        self.last_mfa = Some(outcome);
        self.latest = Latest::Mfa;
    }

    /// The organization of the device in use (a person may have devices in
    /// several organizations of the server, each with its own entry in the
    /// authenticator app).
    pub fn device_organization(&self) -> &OrganizationID {
        &self.device().organization
    }

    /// Whether the person is logged in, whichever client.
    pub fn logged_in(&self) -> bool {
        self.session.is_some() || self.shell.is_some()
    }

    pub fn device(&self) -> &Device {
        &self.devices[self.current]
    }

    pub fn device_mut(&mut self) -> &mut Device {
        &mut self.devices[self.current]
    }
}

/// The running target and what surrounds it.
pub struct Env {
    pub target: Box<dyn Target>,
    pub network: Network,
    /// How the client reaches the server through the Network (TLS or not).
    pub route: crate::targets::Route,
    /// Unique to the scenario (servers may be shared).
    pub organization: OrganizationID,
    pub admin: AdminClient,
    /// The scenario's device files and workspaces, removed when it ends.
    pub home: PathBuf,
}

impl Drop for Env {
    fn drop(&mut self) {
        // Nothing reads them after the scenario; a self-check makes
        // thousands.
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

impl Env {
    /// The client's connection to the scenario's organization, through the
    /// Network.
    pub fn connection(&self) -> Connection {
        self.connection_to(&self.organization)
    }

    /// The client's connection to an organization of this server, through
    /// the Network.
    pub fn connection_to(&self, organization: &OrganizationID) -> Connection {
        self.connection_with_clock(organization, self.target.clock())
    }

    /// As [`Env::connection_to`], signing requests with `clock`'s time.
    pub fn connection_with_clock(&self, organization: &OrganizationID, clock: Arc<dyn Clock>) -> Connection {
        let retry = retry_policy(self.network.condition());
        self.route.connection(organization.clone(), retry, clock)
    }

    /// The harness's own connection to the server, around the Network (its
    /// checks do not go down with the person's connection).
    pub fn direct_connection_to(&self, organization: &OrganizationID) -> Connection {
        let route = crate::targets::Route::to(self.target.as_ref()).expect("checked when the route was made");
        route.connection(organization.clone(), retry_policy(Condition::Up), self.target.clock())
    }

    /// A new organization id, unique like the scenario's own.
    pub fn another_organization(&self) -> OrganizationID {
        let unique = hex::encode(parsec_mfa_reference::crypto::random_array::<6>());
        format!("Org{unique}").parse().expect("a valid organization id")
    }

    pub fn now(&self) -> DateTime {
        self.target.clock().now()
    }

    /// Where time flows by itself, a code read in the last seconds of its
    /// 30 s step may reach the server in the next step, one step older than
    /// the scenario means: like a user who waits for a fresh code, wait for
    /// the next step first. Where the clock stands still, nothing to wait.
    /// (Only a phone whose clock is off needs it: see `app_code`.)
    ///
    /// `margin`: how long the code may take to reach the server (a client
    /// process started, its prompts answered: seconds on a loaded machine).
    pub async fn fresh_step(&self, margin: Duration) {
        const STEP_US: i64 = parsec_mfa_reference::totp::STEP_SECONDS as i64 * 1_000_000;
        let margin_us = margin.as_micros() as i64;
        if !self.target.clock_flows() {
            return;
        }
        let into_step = self.now().as_micros().rem_euclid(STEP_US);
        if into_step >= STEP_US - margin_us {
            // Bounded: at most the margin + 0.1 s, once.
            let wait = STEP_US - into_step + 100_000;
            tokio::time::sleep(Duration::from_micros(wait as u64)).await;
        }
    }

    /// Where the server's email arrives (shared with other scenarios when
    /// the server is: addresses are unique to the scenario).
    pub fn mailbox(&self) -> &Mailbox {
        self.target.mailbox()
    }

    /// `name`'s email address in the scenario's organization, unique to it.
    pub fn email_of(&self, name: &str) -> String {
        Self::email_in(name, &self.organization)
    }

    /// `name`'s email address in `organization`, unique to it.
    pub fn email_in(name: &str, organization: &OrganizationID) -> String {
        format!(
            "{}.{}@example.com",
            name.to_lowercase(),
            organization.as_str().to_lowercase()
        )
    }
}

/// When the server answered a request: between the moment it was sent and
/// the moment its reply arrived, on the target's clock (the same instant
/// where that clock stands still).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observed {
    pub sent: DateTime,
    pub answered: DateTime,
}

impl Observed {
    /// Where time flows, why a request sent at `sent` may have arrived after
    /// a lockout of `seconds` from this failure had ended (a slow target or
    /// a loaded machine in real time): a check that then finds no lockout
    /// cannot tell a defect from lateness, and says so.
    pub fn maybe_ended_before(&self, sent: DateTime, seconds: i64, clock_flows: bool) -> Option<String> {
        let earliest_end = self.sent.as_micros() + seconds * 1_000_000;
        (clock_flows && sent.as_micros() >= earliest_end).then(|| {
            format!(
                "inconclusive in real time: the request left {} ms after the wrong code, when its {seconds} s lockout may already have ended (the target or this machine is too slow for this check in real time; a target whose clock the harness controls checks it exactly)",
                (sent.as_micros() - self.sent.as_micros()) / 1_000
            )
        })
    }

    /// Whether the server's own instant `at` can be this one.
    pub fn could_be(&self, at: DateTime) -> bool {
        self.sent.as_micros() <= at.as_micros() && at.as_micros() <= self.answered.as_micros()
    }

    /// As [`Observed::assert_waits_until`], for a `wait_until` told to the
    /// second (a client's message): the failure's instant, truncated.
    pub fn assert_waits_until_to_the_second(&self, wait_until: DateTime, seconds: i64) {
        let failed_at = wait_until.as_micros() - seconds * 1_000_000;
        let earliest = self.sent.as_micros().div_euclid(1_000_000) * 1_000_000;
        assert!(
            earliest <= failed_at && failed_at <= self.answered.as_micros(),
            "wait until {wait_until:?} (to the second) is not {seconds} s after the last wrong code, answered {self:?}"
        );
    }

    /// A throttle's `wait_until` is `seconds` after this failure, as the
    /// server saw it.
    pub fn assert_waits_until(&self, wait_until: DateTime, seconds: i64) {
        let failed_at = DateTime::from_micros(wait_until.as_micros() - seconds * 1_000_000);
        assert!(
            self.could_be(failed_at),
            "wait until {wait_until:?} is not {seconds} s after the last wrong code, answered {self:?}"
        );
    }
}

#[derive(Default, cucumber::World)]
#[world(init = Self::new)]
pub struct MfaWorld {
    /// Set by the runner before the first step.
    pub factory: Option<Arc<dyn TargetFactory>>,
    /// Who plays the people (set by the runner; the reference library by default).
    pub client: crate::client::ClientChoice,
    /// Whether a step ran the command client (a scenario that never does
    /// says nothing of it).
    pub client_used: std::sync::atomic::AtomicBool,
    /// Where the steps record what they show the reader (set by the runner).
    pub recorder: Recorder,
    pub spec: TargetSpec,
    pub env: Option<Env>,
    /// The target's and organization's names once [`Self::end_env`] ran:
    /// what a failed scenario's report shows.
    pub ended_env: Option<(String, String)>,
    pub people: BTreeMap<String, Person>,
    pub admin_outcome: Option<Result<Vec<String>, AdminError>>,
    pub admin_reset: Option<ResetTotpRep>,
    /// The email read last.
    pub email: Option<Email>,
    /// How many emails were read, per person (an address in an organization).
    pub emails_seen: BTreeMap<String, usize>,
    /// Replies of the attacker's last burst: (invalid, throttled).
    pub attack: (usize, usize),
    /// Replies of each of the attacker's bursts, in order: (invalid, throttled).
    pub bursts: Vec<(usize, usize)>,
    /// What the attacker (someone who is not a user of the scenario) got
    /// with their last try: `Ok` when the server gave them something.
    pub attacker_outcome: Option<Result<(), MfaError>>,
    /// Two devices using one reset link at the same time: what each got.
    pub parallel_openings: Vec<Result<Vec<u8>, MfaError>>,
    pub parallel_confirmations: Vec<Result<(), MfaError>>,
    /// When the last wrong code was answered `invalid_one_time_password`.
    pub last_failure: Option<Observed>,
    /// Set when a request meant to meet a lockout left so late that the
    /// lockout may have ended (see [`Observed::maybe_ended_before`]).
    pub too_late: Option<String>,
    /// The `wait_until` of the last `throttled` answer.
    pub announced_wait: Option<DateTime>,
    pub server_advice: Option<Vec<String>>,
    /// The last command run through the `parsec-mfa` binary.
    pub command: Option<CommandRun>,
    /// The `Reset URL:` the administrator's command printed.
    pub printed_reset_url: Option<String>,
    /// What the explorer knows of the server, in a scenario it wrote.
    pub explorer: Option<crate::lockstep::side::Side>,
}

impl std::fmt::Debug for MfaWorld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaWorld")
            .field("target", &self.env_names().map(|(target, _)| target))
            .field("organization", &self.env_names().map(|(_, organization)| organization))
            .field("people", &self.people.keys().collect::<Vec<_>>())
            .field("admin_outcome", &self.admin_outcome)
            .field("attack", &self.attack)
            .finish()
    }
}

impl MfaWorld {
    pub fn new() -> Self {
        Self::default()
    }

    /// The scenario's environment ends: its server goes (a clock scenario's
    /// back to the idle ones), its proxy stops, its files are removed.
    pub fn end_env(&mut self) {
        self.ended_env = self.env_names();
        self.env = None;
    }

    fn env_names(&self) -> Option<(String, String)> {
        match &self.env {
            Some(env) => Some((env.target.name().to_owned(), env.organization.as_str().to_owned())),
            None => self.ended_env.clone(),
        }
    }

    /// The running target; started on first use with the scenario's spec.
    pub async fn env(&mut self) -> &mut Env {
        if self.env.is_none() {
            let factory = self.factory.clone().unwrap_or_else(|| Arc::new(InProcess::default()));
            let target = factory
                .start(self.spec.clone())
                .await
                .unwrap_or_else(|e| panic!("the target starts: {e}"));
            let network = Network::start(target.socket_addr())
                .await
                .expect("the network proxy listens");
            let route = crate::targets::Route::new(target.tls(), network.addr())
                .unwrap_or_else(|e| panic!("an HTTP client: {e}"));
            let admin = crate::targets::Route::to(target.as_ref())
                .unwrap_or_else(|e| panic!("an HTTP client: {e}"))
                .admin(target.administration_token());
            let unique = hex::encode(parsec_mfa_reference::crypto::random_array::<6>());
            let home = std::env::temp_dir().join("parsec-mfa-scenarios").join(&unique);
            self.env = Some(Env {
                target,
                network,
                route,
                organization: format!("Org{unique}").parse().expect("a valid organization id"),
                admin,
                home,
            });
        }
        self.env.as_mut().expect("just started")
    }

    pub fn started(&self) -> &Env {
        self.env
            .as_ref()
            .expect("the organization exists (a Given step starts it)")
    }

    /// Records, for the report, what the step on `step_line` showed.
    pub fn attach(&self, step_line: u32, attachment: Attachment) {
        self.recorder.attach(step_line, attachment);
    }

    /// Records a text for the report (an email, a command's output, a jump of the clock).
    pub fn attach_text(
        &self,
        step_line: u32,
        kind: AttachmentKind,
        label: impl Into<String>,
        content: impl Into<String>,
    ) {
        self.attach(step_line, Attachment::text(kind, label, content));
    }

    pub fn person(&mut self, name: &str) -> &mut Person {
        self.people
            .get_mut(&name.to_lowercase())
            .unwrap_or_else(|| panic!("{name} is not in this scenario"))
    }

    pub fn person_ref(&self, name: &str) -> &Person {
        self.people
            .get(&name.to_lowercase())
            .unwrap_or_else(|| panic!("{name} is not in this scenario"))
    }

    /// The name of the administrator of the scenario's organization (who
    /// bootstrapped it).
    pub fn administrator(&self) -> &str {
        let organization = &self.started().organization;
        self.people
            .iter()
            .find(|(_, p)| {
                p.organization == *organization
                    && p.profile_in_organization == parsec_mfa_reference::protocol::UserProfile::Admin
            })
            .map(|(name, _)| name.as_str())
            .expect("an administrator exists")
    }

    /// The keys of the administrator of the scenario's organization (who
    /// bootstrapped it).
    pub fn administrator_keys(&self) -> LocalDevice {
        let organization = &self.started().organization;
        self.people
            .values()
            .find(|p| {
                p.organization == *organization
                    && p.device().keys().initial_profile == parsec_mfa_reference::protocol::UserProfile::Admin
            })
            .map(|p| p.device().keys().clone())
            .expect("an administrator exists")
    }

    /// The connection of `name`'s app: to the organization of the device in use.
    pub fn connection_of(&self, name: &str) -> Connection {
        self.started()
            .connection_to(self.person_ref(name).device_organization())
    }

    /// The keys of the person's current device (as the logged-in app has them).
    pub fn keys(&self, name: &str) -> LocalDevice {
        self.person_ref(name).device().keys().clone()
    }
}

/// What a command of the command-line steps did (`steps/command_line.rs`).
#[derive(Debug, Clone)]
pub struct CommandRun {
    /// As shown to the reader: `parsec-mfa user totp-reset …`.
    pub shown: String,
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}
