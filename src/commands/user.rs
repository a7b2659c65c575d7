//! `parsec-mfa user totp-reset`: the server administrator's MFA reset, with
//! the flags and output of the official `parsec-cli user totp-reset`; and
//! `parsec-mfa user create`: an organization's administrator adds a member.

use super::common::{
    ConfigArgs, DeviceArgs, KdfCostArg, Policy, TlsArgs, connection_for, open_device, parse_server_addr,
    save_new_device,
};
use super::failure::Failure;
use super::input::Input;
use super::organization::admin_failure;
use clap::{Args, Subcommand};
use parsec_mfa_reference::client::admin::{AdminClient, Emphasis, UserRef, totp_reset_report};
use parsec_mfa_reference::client::enrollment::{NewIdentity, create_user};
use parsec_mfa_reference::protocol::UserID;
use parsec_mfa_reference::protocol::{HumanHandle, UserProfile};
use std::io::IsTerminal;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Reset a user's MFA (TOTP) setup: prints the reset URL, and emails it
    /// with --send-email.
    TotpReset(TotpResetArgs),
    /// A new member of the organization (by one of its administrators): the
    /// member's first device, saved in the member's config directory
    /// (`--new-config-dir`, their computer), protected by their password.
    Create(CreateArgs),
}

#[derive(Args)]
pub struct CreateArgs {
    /// The administrator's device, opened to sign the new user.
    #[command(flatten)]
    pub admin: DeviceArgs,
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub name: String,
    #[arg(long, default_value = "laptop")]
    pub device_label: String,
    /// The new member's config directory (their computer).
    #[arg(long, value_name = "DIR")]
    pub new_config_dir: std::path::PathBuf,
    #[arg(long, value_enum, default_value_t)]
    pub kdf_cost: KdfCostArg,
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
        UserCommand::Create(args) => create(args).await,
    }
}

/// The administrator's device is opened as at login (the code first when
/// MFA protects it, then its password); then the new member's password is
/// asked, and their device saved in their own config directory.
async fn create(args: CreateArgs) -> Result<(), Failure> {
    let from = &args.admin;
    let dir = from.config.dir();
    let (_, file) = dir.find_device(&from.device)?;
    let conn = connection_for(&file, &from.network)?;
    let mut input = Input::new(from.password.password_stdin);
    let admin = open_device(&conn, &file, from.code.as_deref(), &mut input, Policy::Ignore).await?;
    let who = NewIdentity {
        human_handle: HumanHandle::new(&args.email, &args.name).map_err(Failure::general)?,
        device_label: args.device_label.clone(),
    };
    let password = input.new_password(&format!("Choose a password for {}", args.email))?;
    let device = create_user(&conn, &admin, &who, UserProfile::Standard)
        .await
        .map_err(|e| Failure::general(format!("The user could not be created: {e}.")))?;
    let member_dir = ConfigArgs {
        config_dir: Some(args.new_config_dir.clone()),
    }
    .dir();
    println!("User {} created", args.email);
    println!(
        "{}",
        save_new_device(&member_dir, &device, &password, args.kdf_cost.into())?
    );
    Ok(())
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
