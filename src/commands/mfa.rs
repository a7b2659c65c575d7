//! `parsec-mfa mfa status | enable | reset-confirm`: the profile's MFA
//! section and the lost-phone recovery link.

use super::client_faults::{self, ClientFault};
use super::common::{DeviceArgs, KdfCostArg, NetworkArgs, Policy, connection_for, open_device};
use super::failure::Failure;
use super::input::Input;
use clap::{Args, Subcommand};
use parsec_mfa_reference::client::device_file::protect;
use parsec_mfa_reference::client::mfa::{SetupStatus, enable_on_device, reset_confirm, reset_secret, setup_status};
use parsec_mfa_reference::client::{Connection, Signer};
use parsec_mfa_reference::clock::{Clock, SystemClock};
use parsec_mfa_reference::protocol::addr::TotpResetAddr;
use parsec_mfa_reference::totp;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum MfaCommand {
    /// Show whether MFA is set up for the user and enabled on this device.
    Status(DeviceArgs),
    /// Enable MFA on this device: shows the key and QR code to add to an
    /// authenticator app (the first time), then asks for a 6-digit code.
    Enable(EnableArgs),
    /// Finish an administrator's MFA reset with the link from the email:
    /// a new key and QR code, confirmed with a code of the new entry.
    ResetConfirm(ResetConfirmArgs),
}

#[derive(Args)]
pub struct EnableArgs {
    #[command(flatten)]
    pub device: DeviceArgs,
    #[arg(long, value_enum, default_value_t)]
    pub kdf_cost: KdfCostArg,
}

#[derive(Args)]
pub struct ResetConfirmArgs {
    #[command(flatten)]
    pub config: super::common::ConfigArgs,
    /// The reset link: `parsec3://…?a=totp_reset&p=…` or its http form.
    pub url: String,
    /// The 6-digit code of the new authenticator entry (asked otherwise).
    #[arg(long)]
    pub code: Option<String>,
    #[command(flatten)]
    pub network: NetworkArgs,
}

pub async fn run(command: MfaCommand) -> Result<(), Failure> {
    match command {
        MfaCommand::Status(args) => status(args).await,
        MfaCommand::Enable(args) => enable(args).await,
        MfaCommand::ResetConfirm(args) => confirm_reset(args).await,
    }
}

/// How the official client shows a new secret: the key to copy, the URI
/// behind the QR code, and the QR code.
fn show_secret(secret: &[u8], organization: &str) {
    let uri = totp::otpauth_uri(secret, organization);
    println!("1. Install an authentication app on your mobile.");
    println!("2. Scan the QR code or copy the key.");
    println!("Key: {}", totp::base32(secret));
    println!("URI: {uri}");
    let drawn = match client_faults::on(ClientFault::QrCodeOfAnotherKey) {
        true => totp::otpauth_uri(&parsec_mfa_reference::crypto::random_array::<20>(), organization),
        false => uri,
    };
    match totp::qr_for_terminal(&drawn) {
        Ok(qr) => println!("{qr}"),
        Err(e) => eprintln!("{e}"),
    }
}

/// The local half first, from the device file alone (nothing asked):
/// whether this device is MFA-protected and with which opaque key id. Then
/// what only the server knows (whether MFA is set up for the user), for
/// which it asks the code (an MFA device) and the password. On an MFA
/// device with no code (no `--code`, nothing typed), the local line stands
/// alone and the command succeeds, with a note that the server part needs
/// the code.
async fn status(args: DeviceArgs) -> Result<(), Failure> {
    let (_, file) = args.config.dir().find_device(&args.device)?;
    let email = &file.human_handle.email;
    match file.totp_opaque_key_id {
        Some(id) => println!("This device: protected by MFA (opaque key {})", id.hex()),
        None => println!("This device: not protected by MFA"),
    }
    let mut input = Input::new(args.password.password_stdin);
    let code = match file.totp_opaque_key_id {
        Some(_) => {
            eprintln!(
                "To see whether MFA is set up for {email}, the server needs the 6-digit code and the password of this device."
            );
            match input.code(
                args.code.as_deref(),
                "Enter the 6-digit code from your authenticator app",
            ) {
                Ok(code) => Some(code),
                Err(_) => {
                    eprintln!("MFA for {email}: not asked of the server (give the code with --code to see it).");
                    return Ok(());
                }
            }
        }
        None => {
            eprintln!("To see whether MFA is set up for {email}, the server needs the password of this device.");
            None
        }
    };
    let conn = connection_for(&file, &args.network)?;
    let device = open_device(&conn, &file, code.as_deref(), &mut input, Policy::Ignore).await?;
    let signer = Signer {
        device_id: device.device_id,
        signing_key: &device.signing_key,
    };
    match setup_status(&conn, signer).await? {
        SetupStatus::Unconfirmed { .. } => println!("MFA: not set up for {email}"),
        SetupStatus::Confirmed => println!("MFA: set up for {email}"),
    }
    Ok(())
}

async fn enable(args: EnableArgs) -> Result<(), Failure> {
    let dir = args.device.config.dir();
    let (_, file) = dir.find_device(&args.device.device)?;
    if file.totp_opaque_key_id.is_some() {
        return Err(Failure::general("MFA is already enabled on this device."));
    }
    let conn = connection_for(&file, &args.device.network)?;
    let mut input = Input::new(args.device.password.password_stdin);
    let password = input.password(&format!("Enter your current password ({})", file.human_handle.email))?;
    // The password is checked locally first, as the profile page does.
    let device = parsec_mfa_reference::client::device_file::unlock(&file, &password, None)
        .map_err(|e| Failure::from(parsec_mfa_reference::client::login::LoginError::from(e)))?;
    let signer = Signer {
        device_id: device.device_id,
        signing_key: &device.signing_key,
    };
    let status = setup_status(&conn, signer).await?;
    match &status {
        SetupStatus::Unconfirmed { secret } => {
            if client_faults::on(ClientFault::SecretOnDisk) {
                let _ = std::fs::write(dir.root().join("totp-key.txt"), totp::base32(secret));
            }
            show_secret(secret, file.organization_id.as_str())
        }
        SetupStatus::Confirmed if client_faults::on(ClientFault::NewKeyOnSecondDevice) => show_secret(
            &parsec_mfa_reference::crypto::random_array::<20>(),
            file.organization_id.as_str(),
        ),
        SetupStatus::Confirmed => println!(
            "MFA is already set up for {}: use the same entry of your authenticator app.",
            file.human_handle.email
        ),
    }
    let code = input.code(
        args.device.code.as_deref(),
        "Enter the 6-digit code from your authenticator app",
    )?;
    let layer = enable_on_device(&conn, signer, device.user_id, &status, &code).await?;
    let now = SystemClock.now();
    let protected = protect(
        &device,
        &password,
        args.kdf_cost.into(),
        Some(&layer),
        file.created_on,
        now,
    );
    dir.save_device(&protected)?;
    println!(
        "Multi-factor authentication has been successfully enabled and will now be required to log in to this organization."
    );
    Ok(())
}

async fn confirm_reset(args: ResetConfirmArgs) -> Result<(), Failure> {
    let link = TotpResetAddr::parse_any(args.url.trim()).map_err(|e| {
        Failure::general(format!(
            "This link is not a valid Multi-Factor Authentication reset link ({e})."
        ))
    })?;
    let conn = Connection::new(
        link.server.clone(),
        link.organization_id.clone(),
        args.network.retry()?,
        Arc::new(SystemClock),
    )
    .with_http(args.network.http()?);
    let secret = reset_secret(&conn, &link).await?;
    println!(
        "Multi-Factor Authentication (MFA) for {}",
        link.organization_id.as_str()
    );
    show_secret(&secret, link.organization_id.as_str());
    let mut input = Input::new(false);
    let code = input.code(
        args.code.as_deref(),
        "Enter the 6-digit code from your authenticator app",
    )?;
    reset_confirm(&conn, &link, &code).await?;
    if client_faults::on(ClientFault::ResetWipesLocalFiles) {
        let config = args.config.dir();
        for (_, device) in config.devices().unwrap_or_default() {
            let _ = std::fs::remove_dir_all(config.workspace_dir(device.device_id));
        }
    }
    println!(
        "Multi-factor authentication has been successfully enabled and will now be required to log in to this organization."
    );
    Ok(())
}
