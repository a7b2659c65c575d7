//! `parsec-mfa`: the conformance harness's command line.

mod commands;

use clap::{Parser, Subcommand};
use commands::failure::Failure;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "parsec-mfa",
    version,
    about = "Conformance harness for Parsec multi-factor authentication"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// A deliberate defect of the client commands (repeatable), to prove
    /// that the client rules' scenarios catch it (`self-check`).
    #[arg(long = "inject-client-fault", value_name = "NAME", global = true, hide = true)]
    inject_client_fault: Vec<commands::client_faults::ClientFault>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the features against a Parsec server and write the reports.
    Conformance(commands::conformance::ConformanceArgs),
    /// How long a stolen device holds: play an attacker against a Parsec
    /// server (the throttle, parallel guesses, the accepted codes) and write
    /// the odds over a year next to the throttle rule's.
    Attack(commands::attack::AttackArgs),
    /// Find divergences nobody wrote a scenario for: random operations,
    /// run against a Parsec server and the reference model in lockstep
    Explore(commands::explore::ExploreArgs),
    /// Run the features against the reference server with each deliberate
    /// defect, in each profile, and write the kill matrix.
    SelfCheck(commands::self_check::SelfCheckArgs),
    /// Run the reference server (flags named like the official `parsec run`).
    Serve(commands::serve::ServeArgs),
    /// Create or bootstrap an organization.
    #[command(subcommand)]
    Organization(commands::organization::OrganizationCommand),
    /// Device files of this computer.
    #[command(subcommand)]
    Device(commands::device::DeviceCommand),
    /// Multi-factor authentication of a device.
    #[command(subcommand)]
    Mfa(commands::mfa::MfaCommand),
    /// Log in with a device, then work in its local workspace.
    Login(commands::login::LoginArgs),
    /// Server administrator's user commands.
    #[command(subcommand)]
    User(commands::user::UserCommand),
    /// Measure a running server: `totp_fetch_opaque_key` requests per second.
    Bench(commands::bench::BenchArgs),
}

fn main() -> ExitCode {
    // reqwest is built without a TLS provider of its own (see Cargo.toml):
    // every HTTP client of this process (bench's too) needs it installed.
    parsec_mfa_reference::client::tls::install_crypto_provider();
    // The command-line steps run this program, whatever its file name.
    if let Ok(exe) = std::env::current_exe() {
        parsec_mfa_scenarios::steps::command_line::register_program(exe);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    commands::client_faults::activate(&cli.inject_client_fault);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Conformance(args) => commands::conformance::run_conformance(args).await,
            Command::SelfCheck(args) => commands::self_check::run(args).await,
            Command::Attack(args) => commands::attack::run(args).await,
            Command::Explore(args) => commands::explore::run(args).await,
            Command::Serve(args) => commands::serve::run(args)
                .await
                .map_err(|e| Failure::general(format!("{e:#}"))),
            Command::Organization(command) => commands::organization::run(command).await,
            Command::Device(command) => commands::device::run(command).await,
            Command::Mfa(command) => commands::mfa::run(command).await,
            Command::Login(args) => commands::login::run(args).await,
            Command::User(command) => commands::user::run(command).await,
            Command::Bench(args) => commands::bench::run(args)
                .await
                .map_err(|e| Failure::general(format!("{e:#}"))),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if !failure.message.is_empty() {
                eprintln!("Error: {}", failure.message);
            }
            ExitCode::from(failure.code)
        }
    }
}

/// Help and version as clap prints them; any other command-line mistake as
/// one `Error:` line, like every other failure of the command.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        e.exit()
    }
    let text = e.render().to_string();
    // clap's message is the part before the usage and the hint to --help.
    let message = text.split("\n\n").next().unwrap_or_default();
    let message = message.strip_prefix("error: ").unwrap_or(message);
    let line = message.split_whitespace().collect::<Vec<_>>().join(" ");
    eprintln!("Error: {line} (see --help)");
    ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2))
}
