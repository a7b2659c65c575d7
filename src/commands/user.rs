//! `parsec-mfa user totp-reset`: the server administrator's MFA reset, with
//! the flags and output of the official `parsec-cli user totp-reset`.

use super::common::{TlsArgs, parse_server_addr};
use super::failure::Failure;
use super::organization::admin_failure;
use clap::{Args, Subcommand};
use parsec_mfa_reference::client::admin::{AdminClient, Emphasis, UserRef, totp_reset_report};
use parsec_mfa_reference::protocol::UserID;
use std::io::IsTerminal;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Reset a user's MFA (TOTP) setup: prints the reset URL, and emails it
    /// with --send-email.
    TotpReset(TotpResetArgs),
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("user_ref").required(true).args(["user_id", "user_email"])))]
pub struct TotpResetArgs {
    /// Server address, e.g. `parsec3://127.0.0.1:6777?no_ssl=true`.
    #[arg(short, long, env = "PARSEC_SERVER_ADDR")]
    pub addr: String,
    /// Administration token.
    #[arg(short, long, env = "PARSEC_ADMINISTRATION_TOKEN")]
    pub token: String,
    /// Organization id.
    #[arg(short, long, env = "PARSEC_ORGANIZATION_ID")]
    pub organization: String,
    /// The user's id (hex).
    #[arg(long)]
    pub user_id: Option<String>,
    /// The user's email address.
    #[arg(long)]
    pub user_email: Option<String>,
    /// Email the reset URL to the user.
    #[arg(long)]
    pub send_email: bool,
    #[command(flatten)]
    pub tls: TlsArgs,
}

pub async fn run(command: UserCommand) -> Result<(), Failure> {
    match command {
        UserCommand::TotpReset(args) => totp_reset(args).await,
    }
}

/// The official CLI's colours, only on a terminal.
fn paint(emphasis: Emphasis, text: &str) -> String {
    if !std::io::stdout().is_terminal() {
        return text.to_owned();
    }
    let color = match emphasis {
        Emphasis::UserId => "\x1b[92m",
        Emphasis::Value => "\x1b[33m",
    };
    format!("{color}{text}\x1b[39m")
}

async fn totp_reset(args: TotpResetArgs) -> Result<(), Failure> {
    let user = match (args.user_id, args.user_email) {
        (Some(id), None) => {
            let id = UserID::from_hex(&id).map_err(|_| Failure::general(format!("Invalid user id `{id}`")))?;
            UserRef::Id(id.hex())
        }
        (None, Some(email)) => UserRef::Email(email),
        _ => return Err(Failure::general("Give exactly one of --user-id and --user-email.")),
    };
    let admin = AdminClient::new(parse_server_addr(&args.addr)?, args.token).with_http(args.tls.http()?);
    let rep = admin
        .reset_totp(&args.organization, &user, args.send_email)
        .await
        .map_err(admin_failure)?;
    for line in totp_reset_report(&rep, paint) {
        println!("{line}");
    }
    Ok(())
}
