//! `parsec-mfa device list | create`.

use super::common::{ConfigArgs, DeviceArgs, KdfCostArg, Policy, connection_for, open_device, save_new_device};
use super::failure::Failure;
use super::input::Input;
use clap::{Args, Subcommand};
use parsec_mfa_reference::client::enrollment::create_device;

#[derive(Subcommand)]
pub enum DeviceCommand {
    /// The device files of the config directory.
    List(ConfigArgs),
    /// A new device for the same user (its own keys and password). MFA is
    /// enabled on it separately, with the same authenticator entry.
    Create(CreateArgs),
    /// The ids written in clear in a device file (no password needed):
    /// its device, its user, its organization and, when MFA protects it,
    /// its opaque key.
    Show(ShowArgs),
}

#[derive(Args)]
pub struct ShowArgs {
    /// Device id (or its first characters), or the user's email.
    #[arg(long)]
    pub device: String,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Args)]
pub struct CreateArgs {
    /// An existing device of the user, opened to sign the new one.
    #[command(flatten)]
    pub existing: DeviceArgs,
    #[arg(long)]
    pub label: String,
    #[arg(long, value_enum, default_value_t)]
    pub kdf_cost: KdfCostArg,
}

pub async fn run(command: DeviceCommand) -> Result<(), Failure> {
    match command {
        DeviceCommand::List(config) => list(config),
        DeviceCommand::Create(args) => create(args).await,
        DeviceCommand::Show(args) => show(args),
    }
}

fn show(args: ShowArgs) -> Result<(), Failure> {
    let (_, file) = args.config.dir().find_device(&args.device)?;
    println!("Device ID: {}", file.device_id.hex());
    println!("User ID: {}", file.user_id.hex());
    println!("Organization: {}", file.organization_id.as_str());
    if let Some(id) = file.totp_opaque_key_id {
        println!("Opaque key: {}", id.hex());
    }
    Ok(())
}

fn list(config: ConfigArgs) -> Result<(), Failure> {
    let devices = config.dir().devices()?;
    if devices.is_empty() {
        println!("No device in {}", config.dir().root().display());
    }
    for (_, file) in devices {
        println!(
            "{}  {}  {}  {}  {}",
            file.device_id.hex(),
            file.organization_id.as_str(),
            file.human_handle.email,
            file.device_label,
            if file.totp_opaque_key_id.is_some() {
                "password+MFA"
            } else {
                "password"
            }
        );
    }
    Ok(())
}

async fn create(args: CreateArgs) -> Result<(), Failure> {
    let from = &args.existing;
    let dir = from.config.dir();
    let (_, file) = dir.find_device(&from.device)?;
    let conn = connection_for(&file, &from.network)?;
    let mut input = Input::new(from.password.password_stdin);
    let existing = open_device(&conn, &file, from.code.as_deref(), &mut input, Policy::Ignore).await?;
    let password = input.new_password("Choose a password for the new device")?;
    let device = create_device(&conn, &existing, &args.label)
        .await
        .map_err(|e| Failure::general(format!("The device could not be created: {e}.")))?;
    println!("{}", save_new_device(&dir, &device, &password, args.kdf_cost.into())?);
    Ok(())
}
