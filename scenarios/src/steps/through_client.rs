//! The user's actions through a command client (`--client cmd=…`), one
//! process per action, as `docs/porting-a-client.md` says: the steps of
//! `user.rs` call these when the scenario's client is not the reference
//! library, and check the same outcomes.
//!
//! The person answers the client's prompts (the code from the phone, the
//! password) as they come; what the client prints and its exit code are
//! turned into the outcomes the steps already check ([`MfaError`],
//! [`LoginError`]), at the contract's granularity: its exit codes.

use crate::client::contract::ShownIds;
use crate::client::contract::{self, exit};
use crate::client::process::{Answer, ClientEnv, ClientProcess, Ended, Prompt, Stop};
use crate::client::{CommandClient, not_run};
use crate::world::{Device, Held, MfaWorld};
use parsec_mfa_reference::client::ConnectionError;
use parsec_mfa_reference::client::config_dir::ConfigDir;
use parsec_mfa_reference::client::login::LoginError;
use parsec_mfa_reference::client::mfa::{MfaError, SetupStatus};
use parsec_mfa_reference::protocol::OrganizationID;
use parsec_mfa_reference::protocol::addr::{BootstrapAddr, TotpResetAddr};
use std::time::Duration;

/// The longest a client may take to prompt, print or end: a network
/// action is bounded by the client's own deadline (30 s for the
/// reference), plus a start.
pub const ACTION_TIMEOUT: Duration = Duration::from_secs(60);

/// The command client that plays `name`, if the scenario has one: the
/// person is not yet in the scenario (the client will make their device),
/// or their device is the client's. A person of the scenario whose device
/// the reference library made (an attacker's own organization) stays with
/// the library.
pub fn command_client(world: &MfaWorld, name: &str) -> Option<CommandClient> {
    let client = world.client.command()?;
    match world.people.get(&name.to_lowercase()) {
        Some(person) if person.device().command_id().is_none() => None,
        _ => Some(client.clone()),
    }
}

/// The folder of `name`'s computer.
pub fn computer(world: &MfaWorld, name: &str) -> std::path::PathBuf {
    world.started().home.join(format!("{}-computer", name.to_lowercase()))
}

fn client_env(world: &MfaWorld, name: &str) -> ClientEnv {
    let env = world.started();
    ClientEnv {
        config_dir: computer(world, name),
        clock: env.target.clock(),
        clock_flows: env.target.clock_flows(),
        ca_file: env.target.tls().and_then(|t| t.ca_file.clone()),
        timeout: ACTION_TIMEOUT,
    }
}

/// What every command that asks passwords gets: passwords on stdin, and
/// the cheap key derivation a test suite may use.
const SECRETS_ON_STDIN: [&str; 3] = ["--password-stdin", "--kdf-cost", "minimal"];

/// How long a client keeps retrying a connection (`--deadline`, given to
/// every command that talks to the server): long enough for the scenarios'
/// slow and intermittent connections, short enough that an offline login
/// is told at once, as a person would wait.
pub const CLIENT_DEADLINE_SECONDS: &str = "5";

async fn spawn(world: &MfaWorld, name: &str, client: &CommandClient, args: &[String]) -> ClientProcess {
    world.client_used.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut args = args.to_vec();
    // `device list` and `device show` read the client's own files only.
    let local = args.first().is_some_and(|a| a == "device") && args.get(1).is_some_and(|a| a == "list" || a == "show");
    if !local {
        args.extend(["--deadline".to_owned(), CLIENT_DEADLINE_SECONDS.to_owned()]);
    }
    match ClientProcess::spawn(client, &args, &client_env(world, name)).await {
        Ok(process) => process,
        // A machine without libfaketime cannot run a client on a simulated clock.
        Err(e @ crate::client::process::ClientError::NoFaketime(_)) => not_run(e),
        Err(e) => panic!("{e}"),
    }
}

/// The client's verdict on an action it ended: a command it does not
/// implement skips the scenario.
fn check_implemented(ended: &Ended) {
    if ended.code == Some(exit::UNIMPLEMENTED) {
        not_run(format!(
            "the client does not implement `{}` (exit 89): {}",
            ended.shown,
            ended.message()
        ));
    }
}

async fn end(process: ClientProcess) -> Ended {
    let ended = process.end().await.unwrap_or_else(|e| panic!("{e}"));
    check_implemented(&ended);
    ended
}

/// A URL the server made, pointed at the Network the person's client goes
/// through (the server's own address in its links is not the person's
/// way to it).
fn bootstrap_through_network(world: &MfaWorld, url: &str) -> String {
    let mut link = BootstrapAddr::parse_any(url).expect("a bootstrap URL");
    link.server = world.started().route.server.clone();
    link.to_string()
}

pub fn reset_link_through_network(world: &MfaWorld, link: &TotpResetAddr) -> String {
    let mut link = link.clone();
    link.server = world.started().route.server.clone();
    link.to_string()
}

fn device_arg(world: &MfaWorld, name: &str) -> String {
    world
        .person_ref(name)
        .device()
        .command_id()
        .expect("a device the client under test made")
        .to_owned()
}

fn saved_device(ended: &Ended, organization: OrganizationID, config: ConfigDir) -> Device {
    assert_eq!(
        ended.code,
        Some(exit::OK),
        "`{}` failed: {}",
        ended.shown,
        ended.message()
    );
    let id = contract::saved_device(&ended.stdout)
        .unwrap_or_else(|| panic!("`{}` printed no `Device … saved in …` line", ended.shown));
    Device {
        config,
        organization,
        held: Held::Command {
            id,
            protected: false,
            ids: None,
        },
    }
}

/// `device show --device D`: the ids written in clear in the device file;
/// `None` when the client does not show them (exit 89, or lines missing).
async fn show_ids(world: &MfaWorld, client: &CommandClient, computer_of: &str, id: &str) -> Option<ShownIds> {
    let args = ["device", "show", "--device", id].map(str::to_owned);
    let process = spawn(world, computer_of, client, &args).await;
    let ended = process.end().await.unwrap_or_else(|e| panic!("{e}"));
    if ended.code != Some(exit::OK) {
        return None;
    }
    contract::shown_ids(&ended.stdout)
}

/// The device just saved, with the ids its client shows.
async fn with_ids(world: &MfaWorld, client: &CommandClient, computer_of: &str, mut device: Device) -> Device {
    let id = device.command_id().expect("a command client's device").to_owned();
    device.set_shown_ids(show_ids(world, client, computer_of, &id).await);
    device
}

/// `organization bootstrap URL --email E --name N`: the person's first
/// device, on their own computer.
pub async fn bootstrap(
    world: &MfaWorld,
    client: &CommandClient,
    name: &str,
    bootstrap_url: &str,
    email: &str,
    password: &str,
) -> Device {
    let link = bootstrap_through_network(world, bootstrap_url);
    let organization = BootstrapAddr::parse_any(&link)
        .expect("a bootstrap URL")
        .organization_id;
    let args = [
        "organization",
        "bootstrap",
        &link,
        "--email",
        email,
        "--name",
        name,
        "--device-label",
        &format!("{name}'s laptop"),
    ]
    .into_iter()
    .chain(SECRETS_ON_STDIN)
    .map(str::to_owned)
    .collect::<Vec<_>>();
    let mut process = spawn(world, name, client, &args).await;
    let typed = password.to_owned();
    drive_to_end(&mut process, &mut |_| Answer::Type(typed.clone())).await;
    let ended = end(process).await;
    let device = saved_device(&ended, organization, ConfigDir::new(computer(world, name)));
    with_ids(world, client, name, device).await
}

/// `device create --device D --label desktop`: the person's existing
/// device signs a new one (the code when MFA protects it, its password,
/// the new one's).
pub async fn create_device(world: &MfaWorld, client: &CommandClient, name: &str, code: Option<String>) -> Device {
    let password = world.person_ref(name).password.clone();
    let args = [
        "device",
        "create",
        "--device",
        &device_arg(world, name),
        "--label",
        "desktop",
    ]
    .into_iter()
    .chain(SECRETS_ON_STDIN)
    .map(str::to_owned)
    .collect::<Vec<_>>();
    let mut process = spawn(world, name, client, &args).await;
    drive_to_end(&mut process, &mut answers(code, password)).await;
    let ended = end(process).await;
    let organization = world.person_ref(name).device().organization.clone();
    let device = saved_device(&ended, organization, ConfigDir::new(computer(world, name)));
    with_ids(world, client, name, device).await
}

/// `user create --device ADMIN --email E --name N --new-config-dir DIR`:
/// the administrator's client adds `name` to the organization, with a
/// first device on `name`'s own computer.
pub async fn create_user(
    world: &MfaWorld,
    client: &CommandClient,
    admin: &str,
    code: Option<String>,
    name: &str,
    email: &str,
) -> Device {
    let member_computer = computer(world, name);
    let args = [
        "user",
        "create",
        "--device",
        &device_arg(world, admin),
        "--email",
        email,
        "--name",
        name,
        "--device-label",
        &format!("{name}'s laptop"),
        "--new-config-dir",
        &member_computer.display().to_string(),
    ]
    .into_iter()
    .chain(SECRETS_ON_STDIN)
    .map(str::to_owned)
    .collect::<Vec<_>>();
    let mut process = spawn(world, admin, client, &args).await;
    // The administrator's code and password open their device; then the
    // new member's password is asked.
    let admin_password = world.person_ref(admin).password.clone();
    let member_password = super::user::password_of(name);
    let mut passwords = 0;
    let mut answer = |prompt: Prompt| match prompt {
        Prompt::Code => code.clone().map_or(Answer::Close, Answer::Type),
        Prompt::Password => {
            passwords += 1;
            Answer::Type(match passwords {
                1 => admin_password.clone(),
                _ => member_password.clone(),
            })
        }
    };
    drive_to_end(&mut process, &mut answer).await;
    let ended = end(process).await;
    let organization = world.person_ref(admin).device().organization.clone();
    let device = saved_device(&ended, organization, ConfigDir::new(member_computer));
    with_ids(world, client, name, device).await
}

/// What the person types: the code when asked for one (nothing if they
/// have none), the password when asked for it.
fn answers(code: Option<String>, password: String) -> impl FnMut(Prompt) -> Answer {
    move |prompt| match (prompt, &code) {
        (Prompt::Code, Some(code)) => Answer::Type(code.clone()),
        (Prompt::Code, None) => Answer::Close,
        (Prompt::Password, _) => Answer::Type(password.clone()),
    }
}

async fn drive_to_end(process: &mut ClientProcess, answer: &mut dyn FnMut(Prompt) -> Answer) {
    process
        .drive("end", answer, &|_| false)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

/// `mfa enable --device D`: the MFA section of the profile, as shown until
/// the person types a code: the key to scan, or none where the user's
/// setup is already confirmed (another device). The process is kept in
/// the person's `screen`.
pub async fn open_mfa_section(
    world: &mut MfaWorld,
    client: &CommandClient,
    name: &str,
) -> Result<(SetupStatus, Option<String>), MfaError> {
    world.person(name).screen = None;
    if world.person_ref(name).device().command_protected() {
        not_run("the contract has no command that opens the MFA section of a device MFA already protects");
    }
    let password = world.person_ref(name).password.clone();
    let args = ["mfa", "enable", "--device", &device_arg(world, name)]
        .into_iter()
        .chain(SECRETS_ON_STDIN)
        .map(str::to_owned)
        .collect::<Vec<_>>();
    let mut process = spawn(world, name, client, &args).await;
    let shown = |out: &str| contract::shown_uri(out).is_some() || contract::already_set_up(out);
    let mut answer = move |prompt| match prompt {
        Prompt::Password => Answer::Type(password.clone()),
        // The code is typed later, once the person has the key.
        Prompt::Code => Answer::Leave,
    };
    let stop = process
        .drive("show the MFA section", &mut answer, &shown)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // Asked for the code: what it shows is on stdout already.
    let showing = match stop {
        Stop::Done => true,
        Stop::Prompted(_) => process
            .wait_for_stdout("show the MFA section", &shown)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        Stop::Ended => false,
    };
    if !showing {
        let ended = end(process).await;
        return Err(mfa_error(&ended));
    }
    let out = process.stdout();
    let status = match contract::shown_key(&out) {
        Some(key) => SetupStatus::Unconfirmed {
            secret: parsec_mfa_reference::totp::secret_from_base32(&key)
                .unwrap_or_else(|_| panic!("`{}` shows a key that is not base32: {key}", process.shown)),
        },
        None => SetupStatus::Confirmed,
    };
    let uri = contract::shown_uri(&out);
    world.person(name).screen = Some(process);
    Ok((status, uri))
}

/// What the QR code on the person's open screen reads, once drawn (it comes
/// with the key, before the code is asked; a client that draws none fails
/// at the timeout).
pub async fn read_screen_qr(world: &mut MfaWorld, name: &str) -> Option<String> {
    let screen = world
        .person(name)
        .screen
        .as_mut()
        .unwrap_or_else(|| panic!("{name} has no screen open"));
    let drawn = screen
        .wait_for_stdout("draw its QR code", &|out| {
            crate::client::qr::decode_terminal_qr(out).is_some()
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    drawn
        .then(|| crate::client::qr::decode_terminal_qr(&screen.stdout()))
        .flatten()
}

/// Types `code` in the screen the person has open (an MFA section, a
/// reset link's), and reads the outcome.
pub async fn type_code_on_screen(world: &mut MfaWorld, name: &str, code: String) -> Result<(), MfaError> {
    let mut process = world
        .person(name)
        .screen
        .take()
        .unwrap_or_else(|| panic!("{name} has no screen open that asks for a code"));
    let password = world.person_ref(name).password.clone();
    drive_to_end(&mut process, &mut answers(Some(code), password)).await;
    let ended = end(process).await;
    match ended.code {
        Some(exit::OK) => {
            // `mfa enable` protects the device (a reset link's confirmation
            // leaves it as it was).
            if ended.shown.contains(" mfa enable ") {
                world.person(name).device_mut().mark_protected();
                // Its file now names an opaque key.
                if let Some(client) = command_client(world, name) {
                    let id = device_arg(world, name);
                    let ids = show_ids(world, &client, name, &id).await;
                    world.person(name).device_mut().set_shown_ids(ids);
                }
            }
            Ok(())
        }
        _ => Err(mfa_error(&ended)),
    }
}

/// `mfa status --device D`: whether MFA is set up for the user, as far as
/// the client said (this device's own protection is `device list`'s, see
/// [`device_protected`]).
pub async fn status(world: &MfaWorld, client: &CommandClient, name: &str, code: Option<String>) -> Option<bool> {
    let password = world.person_ref(name).password.clone();
    let args = [
        "mfa",
        "status",
        "--device",
        &device_arg(world, name),
        "--password-stdin",
    ]
    .map(str::to_owned);
    let mut process = spawn(world, name, client, &args).await;
    drive_to_end(&mut process, &mut answers(code, password)).await;
    contract::status_set_up(&end(process).await.stdout)
}

/// `device list`: whether this device is MFA-protected, from the line
/// that starts with its id (`… password+MFA` or `… password`): the
/// client's local knowledge, no server asked.
pub async fn device_protected(world: &MfaWorld, client: &CommandClient, name: &str) -> bool {
    let id = device_arg(world, name);
    let process = spawn(world, name, client, &["device".to_owned(), "list".to_owned()]).await;
    let ended = end(process).await;
    let line = ended
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with(&id))
        .unwrap_or_else(|| panic!("`{}` does not list the device {id}", ended.shown));
    contract::listed_protection(line).unwrap_or_else(|| {
        panic!(
            "`{}` lists {id} without `password` or `password+MFA`: {line}",
            ended.shown
        )
    })
}

/// How the person gives the code at login.
pub enum CodeAtLogin {
    /// Typed when the client asks for it (`None`: they have no code).
    Typed(Option<String>),
    /// Given on the command line (`--code C`), as typed, even empty.
    Argument(String),
}

/// `login --device D`: the code and the password as asked; the shell,
/// once logged in, is kept in the person's `shell`.
pub async fn login(
    world: &mut MfaWorld,
    client: &CommandClient,
    name: &str,
    code: CodeAtLogin,
    password: String,
) -> Result<(), LoginError> {
    world.person(name).shell = None;
    let mut args = vec![
        "login".to_owned(),
        "--device".into(),
        device_arg(world, name),
        "--password-stdin".into(),
    ];
    let typed = match code {
        CodeAtLogin::Typed(code) => code,
        CodeAtLogin::Argument(code) => {
            args.extend(["--code".to_owned(), code]);
            None
        }
    };
    let no_code = typed.is_none();
    let mut process = spawn(world, name, client, &args).await;
    let stop = process
        .drive("log in", &mut answers(typed, password), &contract::logged_in)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    if stop == Stop::Done {
        let person = world.person(name);
        person.login_prompts = process.prompts().to_vec();
        person.shell = Some(process);
        return Ok(());
    }
    let ended = end(process).await;
    world.person(name).login_prompts = ended.prompts.clone();
    Err(login_error(&ended, no_code))
}

static NEXT_MARK: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// One line of the workspace shell; the lines it printed. `echo MARK`
/// after it tells where its output ends.
pub async fn shell(world: &mut MfaWorld, name: &str, line: &str) -> Vec<String> {
    let n = NEXT_MARK.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mark = format!("parsec-mfa-harness-mark-{n}");
    let person = world.person(name);
    let shell = person
        .shell
        .as_mut()
        .unwrap_or_else(|| panic!("{name} is not logged in"));
    let before = shell.stdout().len();
    shell.type_line(Some(line)).await.unwrap_or_else(|e| panic!("{e}"));
    shell
        .type_line(Some(&format!("echo {mark}")))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let marked = |out: &str| {
        out.get(before..)
            .is_some_and(|new| new.lines().any(|l| l.trim() == mark))
    };
    let done = shell
        .wait_for_stdout("answer in its workspace shell", &marked)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    if !done {
        let ended = end(person.shell.take().expect("the shell")).await;
        panic!(
            "the workspace shell ended on `{line}`: exit {:?}, {}",
            ended.code,
            ended.message()
        );
    }
    let out = shell.stdout();
    out[before..]
        .lines()
        .take_while(|l| l.trim() != mark)
        .map(str::to_owned)
        .collect()
}

/// `exit` in the shell: the session ends as the client says.
pub async fn logout(world: &mut MfaWorld, name: &str) {
    let Some(mut shell) = world.person(name).shell.take() else {
        return;
    };
    shell.type_line(Some("exit")).await.unwrap_or_else(|e| panic!("{e}"));
    let ended = end(shell).await;
    assert_eq!(
        ended.code,
        Some(exit::OK),
        "the workspace shell ended with a failure: {}",
        ended.message()
    );
}

/// `mfa reset-confirm URL`: the link opened, its new key shown until the
/// person types a code (kept in the person's `screen`).
pub async fn open_reset_link(
    world: &mut MfaWorld,
    client: &CommandClient,
    name: &str,
    link: &TotpResetAddr,
) -> Result<(Vec<u8>, Option<String>), MfaError> {
    world.person(name).screen = None;
    let url = reset_link_through_network(world, link);
    let args = ["mfa", "reset-confirm", &url].map(str::to_owned);
    let mut process = spawn(world, name, client, &args).await;
    let showing = process
        .wait_for_stdout("show the reset link's key", &|out| contract::shown_uri(out).is_some())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    if !showing {
        let ended = end(process).await;
        return Err(mfa_error(&ended));
    }
    let out = process.stdout();
    let key = contract::shown_key(&out).unwrap_or_else(|| panic!("`{}` shows no `Key:`", process.shown));
    let secret = parsec_mfa_reference::totp::secret_from_base32(&key)
        .unwrap_or_else(|_| panic!("`{}` shows a key that is not base32: {key}", process.shown));
    let uri = contract::shown_uri(&out);
    world.person(name).screen = Some(process);
    Ok((secret, uri))
}

/// An MFA request's refusal, from the client's exit code.
fn mfa_error(ended: &Ended) -> MfaError {
    let message = ended.message();
    match ended.code {
        Some(exit::INVALID_CODE) => MfaError::InvalidOneTimePassword,
        Some(exit::THROTTLED) => MfaError::Throttled {
            wait_until: contract::throttled_until(&ended.stderr)
                .unwrap_or_else(|| panic!("`{}` was throttled but gave no time: {message}", ended.shown)),
        },
        Some(exit::UNREACHABLE) => MfaError::Connection(ConnectionError::Unreachable(message)),
        Some(exit::BAD_RESET_LINK) => MfaError::BadToken,
        Some(exit::UNTRUSTED_SERVER) => MfaError::Connection(ConnectionError::Tls(message)),
        code => MfaError::UnknownStatus(format!("`{}` exit {code:?}: {message}", ended.shown)),
    }
}

/// A login's refusal, from the client's exit code. `no_code`: the person
/// had no code to type, so a refusal after asking for one is the client
/// saying a code is needed.
fn login_error(ended: &Ended, no_code: bool) -> LoginError {
    let message = ended.message();
    match ended.code {
        _ if no_code && ended.prompts.contains(&Prompt::Code) && ended.code != Some(exit::OK) => LoginError::CodeNeeded,
        Some(exit::INVALID_CODE) => LoginError::InvalidCode,
        Some(exit::THROTTLED) => LoginError::Throttled {
            wait_until: contract::throttled_until(&ended.stderr)
                .unwrap_or_else(|| panic!("`{}` was throttled but gave no time: {message}", ended.shown)),
        },
        Some(exit::WRONG_PASSWORD) => LoginError::WrongPassword,
        Some(exit::UNREACHABLE) => LoginError::Offline(message),
        // The contract's one code for both refusals of the advice.
        Some(exit::POLICY) => LoginError::MfaRequired,
        Some(exit::UNTRUSTED_SERVER) => LoginError::Refused(ConnectionError::Tls(message)),
        code => LoginError::DeviceFile(format!("`{}` exit {code:?}: {message}", ended.shown)),
    }
}
