//! What people type at the command line: the guides' examples, as written,
//! through the real `parsec-mfa` binary (which plays `parsec-cli`).
//!
//! A step that quotes a guide names the page (`as quoted from PAGE:`); its
//! doc string holds the guide's lines verbatim, and `tests/guide_quotes.rs`
//! checks them against `features/guides/PAGE.quotes` and the page itself.
//! Only the example's server address (host and port), administration
//! token and organization are replaced by the target's, and in the output
//! the example's user id and the link's payload (`...`) by the real ones.

use super::user::line;
use crate::report::model::AttachmentKind;
use crate::world::MfaWorld;
use crate::world::Name;
use cucumber::gherkin::Step;
use cucumber::{given, then, when};
use parsec_mfa_reference::protocol::addr::TotpResetAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncWriteExt as _;

pub static ANCHOR: &str = "command-line steps";

/// The example's values in the administration guide, and what stands for
/// them against a target.
const EXAMPLE_PROGRAM: &str = "parsec-cli";
const EXAMPLE_SERVER: &str = "parsec3://example.com";
const EXAMPLE_TOKEN: &str = "s3cr3t";
const EXAMPLE_ORGANIZATION: &str = "MyOrganization";
const EXAMPLE_USER_ID: &str = "940a380aedd44127863d952a66cfce1e";
/// A command that hangs is a failure, not a stuck run.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

use crate::world::CommandRun;

/// The program the command-line steps run, registered by the `parsec-mfa`
/// main at start ([`register_program`]): this program, whatever its file
/// name (a renamed or wrapped binary).
static PROGRAM: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Registers `path` (the `parsec-mfa` main's `current_exe`) as the program
/// the command-line steps run. The first registration holds.
pub fn register_program(path: PathBuf) {
    let _ = PROGRAM.set(path);
}

/// The `parsec-mfa` binary: `PARSEC_MFA_BIN`, else the program registered
/// by the `parsec-mfa` main ([`register_program`], whatever its file name),
/// else this program when it is named `parsec-mfa`, else the one cargo
/// builds next to a test binary (`target/<profile>/deps/…` →
/// `target/<profile>/parsec-mfa`).
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("PARSEC_MFA_BIN") {
        return path.into();
    }
    if let Some(path) = PROGRAM.get() {
        return path.clone();
    }
    let exe = std::env::current_exe().unwrap_or_default();
    if exe.file_stem().is_some_and(|s| s == "parsec-mfa") {
        return exe;
    }
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).map(PathBuf::from);
    profile_dir
        .unwrap_or_default()
        .join(format!("parsec-mfa{}", std::env::consts::EXE_SUFFIX))
}

/// Runs `parsec-mfa` with `args`, `stdin` typed in; records what the
/// terminal shows for the report.
async fn run(world: &mut MfaWorld, at: u32, args: &[String], stdin: &str) -> CommandRun {
    let binary = binary();
    let mut command = tokio::process::Command::new(&binary);
    // A target behind TLS: the authority the harness was given.
    if let Some(ca) = world
        .env
        .as_ref()
        .and_then(|e| e.target.tls())
        .and_then(|t| t.ca_file.as_ref())
    {
        command.env("PARSEC_MFA_CA_CERT", ca);
    }
    let mut child = command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
    if let Some(mut input) = child.stdin.take() {
        // A command that stops reading early closes its end: not an error.
        let _ = input.write_all(stdin.as_bytes()).await;
    }
    let output = tokio::time::timeout(COMMAND_TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("`parsec-mfa {}` did not end within {COMMAND_TIMEOUT:?}", args.join(" ")))
        .expect("the command's output is read");
    let run = CommandRun {
        shown: format!("parsec-mfa {}", args.join(" ")),
        status: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    let mut terminal = format!("$ {}\n{}", run.shown, run.stdout);
    if !run.stderr.is_empty() {
        terminal.push_str(&format!("(stderr)\n{}", run.stderr));
    }
    world.attach_text(at, AttachmentKind::Text, "the terminal", terminal.trim_end());
    world.command = Some(run.clone());
    run
}

/// The doc string's lines, each trimmed, blank ones left out.
fn quoted_lines(step: &Step) -> Vec<String> {
    step.docstring
        .as_deref()
        .expect("the quoted lines")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

// ----- the administration guide -----

/// The guide's flags for `parsec run`, quoted (`--advisory-device-file-protection
/// PASSWORD+TOTP \`): the server is started with them.
#[given(expr = "the server is started with the flags, as quoted from {word}:")]
fn server_flags(world: &mut MfaWorld, _page: String, step: &Step) {
    assert!(world.env.is_none(), "flags are given when the server starts");
    let words: Vec<String> = quoted_lines(step)
        .iter()
        .flat_map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .filter(|w| w != "\\")
        .collect();
    let mut advice = Vec::new();
    let mut words = words.into_iter();
    while let Some(word) = words.next() {
        match word.as_str() {
            "--advisory-device-file-protection" => advice.push(words.next().expect("the flag's value")),
            other => panic!("the harness does not pass `{other}` to the server"),
        }
    }
    world.spec.advisory_device_file_protection = advice;
}

/// The guide's `parsec-cli user totp-reset …` line, run as written but for
/// the server's address, token and organization.
#[when(expr = "the administrator runs, as quoted from {word}:")]
async fn runs_quoted(world: &mut MfaWorld, _page: String, step: &Step) {
    let [command] = quoted_lines(step).try_into().expect("one command line");
    let env = world.started();
    let server = match env.target.tls() {
        Some(tls) => format!("parsec3://{}:{}", tls.server_name, env.target.socket_addr().port()),
        None => format!("parsec3://{}?no_ssl=true", env.target.socket_addr()),
    };
    let (token, organization) = (
        env.target.administration_token().to_owned(),
        env.organization.as_str().to_owned(),
    );
    let mut words = command.split_whitespace();
    assert_eq!(words.next(), Some(EXAMPLE_PROGRAM), "the guide's program");
    let args: Vec<String> = words
        .map(|word| match word {
            EXAMPLE_SERVER => server.clone(),
            EXAMPLE_TOKEN => token.clone(),
            EXAMPLE_ORGANIZATION => organization.clone(),
            other => other.to_owned(),
        })
        .collect();
    run(world, line(step), &args, "").await;
}

/// A quoted output line as a pattern: the example's values replaced by
/// what the target's may be.
fn output_pattern(quoted: &str, organization: &str, user_id: &str) -> regex::Regex {
    let mut pattern = regex::escape(quoted)
        .replace(&regex::escape(EXAMPLE_USER_ID), user_id)
        .replace(&regex::escape(EXAMPLE_ORGANIZATION), organization);
    // The server's own address (its `--server-addr`), and the flag that
    // says it has no TLS (RST-11); the link's payload.
    pattern = pattern
        .replace(&regex::escape(EXAMPLE_SERVER), "parsec3://[^/?\\s]+")
        .replace(&regex::escape("?a=totp_reset"), "\\?(no_ssl=true&)?a=totp_reset")
        .replace(&regex::escape("..."), "\\S+");
    regex::Regex::new(&format!("^{pattern}$")).expect("a valid pattern")
}

#[then(expr = "the command prints, as quoted from {word}:")]
fn prints_quoted(world: &mut MfaWorld, _page: String, step: &Step) {
    let run = world.command.clone().expect("a command ran");
    assert_eq!(run.status, Some(0), "the command failed: {}", run.stderr);
    let organization = world.started().organization.as_str().to_owned();
    let printed: Vec<&str> = run.stdout.lines().collect();
    let quoted = quoted_lines(step);
    assert_eq!(printed.len(), quoted.len(), "printed:\n{}", run.stdout);
    let user_id = printed
        .first()
        .and_then(|l| l.rsplit(' ').next())
        .unwrap_or_default()
        .to_owned();
    for (printed, quoted) in printed.iter().zip(&quoted) {
        let pattern = output_pattern(quoted, &organization, &regex::escape(&user_id));
        assert!(pattern.is_match(printed), "`{printed}` is not the guide's `{quoted}`");
    }
    // The user the command named by email is the one reset.
    let email = run
        .shown
        .split_whitespace()
        .skip_while(|w| *w != "--user-email")
        .nth(1)
        .expect("the command names the user by email");
    let person = world
        .people
        .values()
        .find(|p| p.email == email)
        .expect("a person of the scenario has the example's email");
    assert_eq!(user_id, person.device().user_id().hex(), "the user reset");
    let url = printed
        .iter()
        .find_map(|l| l.strip_prefix("Reset URL: "))
        .expect("a Reset URL line");
    world.printed_reset_url = Some(url.to_owned());
}

/// The link in the email is the one the command printed (its HTTP
/// redirection form), for the same user, organization and token.
#[then(expr = "the email's link is the reset URL the command printed")]
fn email_link_is_printed(world: &mut MfaWorld) {
    let printed = world.printed_reset_url.clone().expect("a Reset URL was printed");
    let printed = TotpResetAddr::parse_any(&printed).expect("the printed URL is a reset link");
    let email = world.email.as_ref().expect("an email was read");
    let links: Vec<TotpResetAddr> = email
        .links()
        .iter()
        .filter_map(|l| TotpResetAddr::parse_any(l).ok())
        .collect();
    assert!(
        links.iter().any(|l| l.to_string() == printed.to_string()),
        "{printed} not in {:?}",
        email.links()
    );
}

// ----- the user guide: `parsec-mfa login` -----

async fn login(world: &mut MfaWorld, name: &str, code: String, at: u32) {
    // The guide's example is the reference client's command line, on a
    // device of its own making; a client under test has the client rules
    // (CLIENT-1) for the same promise.
    if super::through_client::command_client(world, name).is_some() {
        crate::client::not_run(
            "the user guide's example runs the reference command line, which reads only its own device files",
        );
    }
    let person = world.person_ref(name);
    let dir = person.device().config.root().display().to_string();
    let device = person.device().device_id().hex();
    let typed = format!("{code}\n{}\nexit\n", person.password);
    let args = [
        "login",
        "--device",
        &device,
        "--password-stdin",
        "--config-dir",
        &dir,
        "--deadline",
        "30",
    ]
    .map(str::to_owned);
    run(world, at, &args, &typed).await;
}

#[when(
    expr = "{person} runs parsec-mfa login and types the code from her/his authenticator app, then her/his password"
)]
async fn login_with_code(world: &mut MfaWorld, name: Name, step: &Step) {
    let code = super::user::app_code(world, &name).await;
    login(world, &name, code, line(step)).await;
}

#[when(expr = "{person} runs parsec-mfa login and types a wrong code, then her/his password")]
async fn login_with_wrong_code(world: &mut MfaWorld, name: Name, step: &Step) {
    let code = super::user::wrong_code(world, &name);
    login(world, &name, code, line(step)).await;
}

const CODE_PROMPT: &str = "Enter the 6-digit code from your authenticator app: ";
const PASSWORD_PROMPT: &str = "Password of ";

#[then(expr = "the command asks for the code, then for the password")]
fn asks_code_then_password(world: &mut MfaWorld) {
    let run = world.command.clone().expect("a command ran");
    let code = run.stderr.find(CODE_PROMPT).expect("the code is asked");
    let password = run.stderr.find(PASSWORD_PROMPT).expect("the password is asked");
    assert!(code < password, "the password was asked first: {}", run.stderr);
}

#[then(expr = "the command asks for the code only")]
fn asks_code_only(world: &mut MfaWorld) {
    let run = world.command.clone().expect("a command ran");
    assert!(run.stderr.contains(CODE_PROMPT), "the code is asked: {}", run.stderr);
    assert!(
        !run.stderr.contains(PASSWORD_PROMPT),
        "the password was asked: {}",
        run.stderr
    );
}

#[then(expr = "the command says {person} is logged in")]
fn says_logged_in(world: &mut MfaWorld, name: Name) {
    let run = world.command.clone().expect("a command ran");
    assert_eq!(run.status, Some(0), "the command failed: {}", run.stderr);
    let email = world.person_ref(&name).email.clone();
    assert!(
        run.stdout.starts_with(&format!("Logged in as {email} on ")),
        "{}",
        run.stdout
    );
}

#[then(expr = "the command fails with the message {string}")]
fn fails_with_message(world: &mut MfaWorld, message: String) {
    let run = world.command.clone().expect("a command ran");
    assert_ne!(run.status, Some(0), "the command succeeded: {}", run.stdout);
    // The prompts end without a line break: the error follows them.
    assert!(
        run.stderr.trim_end().ends_with(&format!("Error: {message}")),
        "{}",
        run.stderr
    );
}
