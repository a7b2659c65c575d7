//! What every client command shares: where the device files are, how long
//! to keep trying the network, and opening a device.

use super::client_faults::{self, ClientFault};
use super::failure::Failure;
use super::input::Input;
use clap::Args;
use parsec_mfa_reference::client::config_dir::ConfigDir;
use parsec_mfa_reference::client::device_file::{KdfCost, protect, unlock};
use parsec_mfa_reference::client::login::{LoginError, PolicyCheck, check_policy, fetch_key_with_code};
use parsec_mfa_reference::client::tls::HttpSettings;
use parsec_mfa_reference::client::{Connection, RetryPolicy};
use parsec_mfa_reference::clock::{Clock, SystemClock};
use parsec_mfa_reference::protocol::addr::ServerAddr;
use parsec_mfa_reference::protocol::local_device::{DeviceFilePassword, LocalDevice};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Args, Clone)]
pub struct ConfigArgs {
    /// Where device files and local workspaces are kept
    /// [default: $XDG_CONFIG_HOME/parsec-mfa]
    #[arg(long, env = "PARSEC_MFA_CONFIG_DIR", global = true)]
    pub config_dir: Option<PathBuf>,
}

impl ConfigArgs {
    pub fn dir(&self) -> ConfigDir {
        ConfigDir::new(self.config_dir.clone().unwrap_or_else(ConfigDir::default_location))
    }
}

#[derive(Args)]
pub struct DeviceArgs {
    /// Device id (or its first characters), or the user's email.
    #[arg(long)]
    pub device: String,
    /// The 6-digit code, when MFA protects this device (asked otherwise).
    #[arg(long)]
    pub code: Option<String>,
    #[command(flatten)]
    pub password: PasswordArgs,
    #[command(flatten)]
    pub network: NetworkArgs,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Args, Clone)]
pub struct NetworkArgs {
    /// Keep retrying a slow or failing connection for this many seconds.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    pub deadline: f64,
    #[command(flatten)]
    pub tls: TlsArgs,
}

/// Which authorities a TLS server's certificate must come from.
#[derive(Args, Clone, Default)]
pub struct TlsArgs {
    /// Trust only the authorities in this PEM file (a private authority)
    /// for `https://` and `parsec3://` addresses without `no_ssl`.
    /// Default: the system's authorities.
    #[arg(long, env = "PARSEC_MFA_CA_CERT", value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
}

impl TlsArgs {
    pub fn settings(&self) -> Result<HttpSettings, Failure> {
        match &self.ca_cert {
            None => Ok(HttpSettings::default()),
            Some(path) => HttpSettings::trusting_file(path).map_err(|e| Failure::general(format!("--ca-cert {e}"))),
        }
    }

    pub fn http(&self) -> Result<reqwest::Client, Failure> {
        self.settings()?.client().map_err(Failure::general)
    }
}

impl NetworkArgs {
    /// The connection's HTTP client (see [`TlsArgs`]).
    pub fn http(&self) -> Result<reqwest::Client, Failure> {
        self.tls.http()
    }

    pub fn retry(&self) -> Result<RetryPolicy, Failure> {
        if !(self.deadline.is_finite() && self.deadline > 0.0 && self.deadline <= 3600.0) {
            return Err(Failure::general("--deadline must be between 0 and 3600 seconds."));
        }
        let deadline = Duration::from_secs_f64(self.deadline);
        if client_faults::on(ClientFault::NoRetry) {
            // A first wait as long as the deadline: no second attempt.
            let once = deadline.min(Duration::from_secs(10));
            return Ok(RetryPolicy {
                deadline: once,
                attempt_timeout: once,
                first_backoff: once,
                max_backoff: once,
            });
        }
        Ok(RetryPolicy {
            deadline,
            attempt_timeout: deadline.min(Duration::from_secs(10)),
            ..RetryPolicy::default()
        })
    }
}

#[derive(Args, Clone)]
pub struct PasswordArgs {
    /// Read passwords (and codes not given by --code) from stdin, one line each.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Default)]
pub enum KdfCostArg {
    /// 64 MiB Argon2id, for real use.
    #[default]
    Interactive,
    /// The cheapest Argon2id: for test suites only.
    Minimal,
}

impl From<KdfCostArg> for KdfCost {
    fn from(c: KdfCostArg) -> Self {
        match c {
            KdfCostArg::Interactive => KdfCost::Interactive,
            KdfCostArg::Minimal => KdfCost::Minimal,
        }
    }
}

/// Protects a device just made (bootstrap, new device) with its password
/// and saves it; returns the line that tells where.
pub fn save_new_device(
    dir: &ConfigDir,
    device: &LocalDevice,
    password: &str,
    cost: KdfCost,
) -> Result<String, Failure> {
    let now = SystemClock.now();
    let path = dir.save_device(&protect(device, password, cost, None, now, now))?;
    Ok(format!(
        "Device {} ({}) saved in {}",
        device.device_id.hex(),
        device.device_label,
        path.display()
    ))
}

pub fn parse_server_addr(text: &str) -> Result<ServerAddr, Failure> {
    text.parse::<ServerAddr>()
        .or_else(|_| ServerAddr::from_http_url(text))
        .map_err(|e| Failure::general(format!("`{text}` is not a server address: {e}")))
}

/// A connection to the device's organization.
pub fn connection_for(file: &DeviceFilePassword, network: &NetworkArgs) -> Result<Connection, Failure> {
    let server = ServerAddr::from_http_url(&file.server_url).map_err(|e| {
        Failure::general(format!(
            "the device file's server `{}` is invalid: {e}",
            file.server_url
        ))
    })?;
    Ok(Connection::new(
        server,
        file.organization_id.clone(),
        network.retry()?,
        Arc::new(SystemClock),
    )
    .with_http(network.http()?))
}

/// Whether opening a device applies the server's protection advice: a
/// login does; `mfa enable` must not, since it is how a device comes to
/// follow that advice.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    Enforce,
    Ignore,
}

/// Opens a device in the user guide's order: when MFA protects it, the
/// code is asked and checked by the server (which releases the opaque key)
/// before the password is asked, so a refused code asks no password.
pub async fn open_device(
    conn: &Connection,
    file: &DeviceFilePassword,
    code: Option<&str>,
    input: &mut Input,
    policy: Policy,
) -> Result<LocalDevice, Failure> {
    let password_prompt = format!("Password of {}", file.human_handle.email);
    let early_password = match client_faults::on(ClientFault::PasswordFirst) {
        true => Some(input.password(&password_prompt)?),
        false => None,
    };
    let opaque_key = match file.totp_opaque_key_id {
        Some(id) if client_faults::on(ClientFault::OpaqueKeyOnDisk) && cached_key(file, id).is_some() => {
            cached_key(file, id)
        }
        Some(id) => {
            let code = input.code(code, "Enter the 6-digit code from your authenticator app")?;
            let mut fetched = fetch_key_with_code(conn, file, &code).await;
            if client_faults::on(ClientFault::RefusedCodeRetried) && fetched == Err(LoginError::InvalidCode) {
                fetched = fetch_key_with_code(conn, file, &code).await;
            }
            if client_faults::on(ClientFault::PasswordAfterRefusedCode) && fetched.is_err() && early_password.is_none()
            {
                let _ = input.password(&password_prompt);
            }
            let key = fetched?;
            if client_faults::on(ClientFault::OpaqueKeyOnDisk)
                && let Some(key) = &key
            {
                let _ = std::fs::write(cached_key_path(file, id), key.as_bytes());
            }
            key
        }
        None => None,
    };
    let password = match early_password {
        Some(password) => password,
        None => input.password(&password_prompt)?,
    };
    let device = unlock(file, &password, opaque_key.as_ref()).map_err(LoginError::from)?;
    let policy = match client_faults::on(ClientFault::AdviceIgnored) {
        true => Policy::Ignore,
        false => policy,
    };
    if policy == Policy::Enforce && check_policy(conn, file).await? == PolicyCheck::ServerUnreachable {
        eprintln!("Note: the server is unreachable; its device protection advice will be checked at the next login.");
    }
    Ok(device)
}

/// The `opaque-key-on-disk` defect's cache: the key in clear, in the config
/// directory as the environment names it (the harness's way; a defect
/// needs no more).
fn cached_key_path(file: &DeviceFilePassword, id: parsec_mfa_reference::protocol::TOTPOpaqueKeyID) -> PathBuf {
    let dir = std::env::var_os("PARSEC_MFA_CONFIG_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(ConfigDir::default_location);
    dir.join(format!("opaque-key-{}-{}", file.device_id.hex(), id.hex()))
}

fn cached_key(
    file: &DeviceFilePassword,
    id: parsec_mfa_reference::protocol::TOTPOpaqueKeyID,
) -> Option<parsec_mfa_reference::crypto::SecretKey> {
    let bytes: [u8; 32] = std::fs::read(cached_key_path(file, id)).ok()?.try_into().ok()?;
    Some(parsec_mfa_reference::crypto::SecretKey(bytes))
}
