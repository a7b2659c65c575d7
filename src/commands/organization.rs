//! `parsec-mfa organization create | bootstrap`.

use super::common::{ConfigArgs, KdfCostArg, NetworkArgs, PasswordArgs, TlsArgs, parse_server_addr, save_new_device};
use super::failure::Failure;
use super::input::Input;
use clap::{Args, Subcommand};
use parsec_mfa_reference::client::ConnectionError;
use parsec_mfa_reference::client::admin::AdminClient;
use parsec_mfa_reference::client::enrollment::EnrollmentError;
use parsec_mfa_reference::client::enrollment::{NewIdentity, bootstrap_organization};
use parsec_mfa_reference::client::{Connection, admin::AdminError};
use parsec_mfa_reference::clock::SystemClock;
use parsec_mfa_reference::protocol::HumanHandle;
use parsec_mfa_reference::protocol::addr::BootstrapAddr;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum OrganizationCommand {
    /// Create an organization (server administrator): prints its bootstrap URL.
    Create(CreateArgs),
    /// Bootstrap an organization from its bootstrap URL: its first user
    /// (an administrator) and device, saved in the config directory.
    Bootstrap(BootstrapArgs),
}

#[derive(Args)]
pub struct CreateArgs {
    pub organization_id: String,
    /// Server address, e.g. `parsec3://127.0.0.1:6777?no_ssl=true`.
    #[arg(short, long, env = "PARSEC_SERVER_ADDR")]
    pub addr: String,
    /// Administration token.
    #[arg(short, long, env = "PARSEC_ADMINISTRATION_TOKEN")]
    pub token: String,
    #[command(flatten)]
    pub tls: TlsArgs,
}

#[derive(Args)]
pub struct BootstrapArgs {
    /// The `parsec3://…?a=bootstrap_organization…` URL, or its http form.
    pub url: String,
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub name: String,
    #[arg(long, default_value = "laptop")]
    pub device_label: String,
    #[arg(long, value_enum, default_value_t)]
    pub kdf_cost: KdfCostArg,
    #[command(flatten)]
    pub password: PasswordArgs,
    #[command(flatten)]
    pub network: NetworkArgs,
    #[command(flatten)]
    pub config: ConfigArgs,
}

pub async fn run(command: OrganizationCommand) -> Result<(), Failure> {
    match command {
        OrganizationCommand::Create(args) => create(args).await,
        OrganizationCommand::Bootstrap(args) => bootstrap(args).await,
    }
}

async fn create(args: CreateArgs) -> Result<(), Failure> {
    let admin = AdminClient::new(parse_server_addr(&args.addr)?, args.token).with_http(args.tls.http()?);
    let created = admin
        .create_organization(&args.organization_id)
        .await
        .map_err(admin_failure)?;
    println!("Organization {} created", args.organization_id);
    println!("Bootstrap URL: {}", created.bootstrap_url);
    Ok(())
}

/// The official CLI's way of reporting a refusal: `Error: <detail>`; an
/// untrusted server has its own exit code.
pub fn admin_failure(e: AdminError) -> Failure {
    match e {
        AdminError::Tls(_) => Failure::new(super::failure::exit::UNTRUSTED_SERVER, e.to_string()),
        e => Failure::general(e.to_string()),
    }
}

async fn bootstrap(args: BootstrapArgs) -> Result<(), Failure> {
    let link = BootstrapAddr::parse_any(&args.url)
        .map_err(|e| Failure::general(format!("This is not a valid bootstrap link: {e}")))?;
    let who = NewIdentity {
        human_handle: HumanHandle::new(&args.email, &args.name).map_err(Failure::general)?,
        device_label: args.device_label.clone(),
    };
    let mut input = Input::new(args.password.password_stdin);
    let password = input.new_password("Choose a password for this device")?;
    let conn = Connection::new(
        link.server.clone(),
        link.organization_id.clone(),
        args.network.retry()?,
        Arc::new(SystemClock),
    )
    .with_http(args.network.http()?);
    let device = bootstrap_organization(&conn, &link, &who).await.map_err(|e| match e {
        // An untrusted server has its own exit code.
        EnrollmentError::Connection(e @ ConnectionError::Tls(_)) => Failure::from(e),
        e => Failure::general(format!("The bootstrap failed: {e}.")),
    })?;
    let saved = save_new_device(&args.config.dir(), &device, &password, args.kdf_cost.into())?;
    println!("Organization {} bootstrapped", device.organization_id.as_str());
    println!("{saved}");
    Ok(())
}
