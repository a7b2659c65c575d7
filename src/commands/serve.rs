//! `parsec-mfa serve`: the reference server, with flags named like the
//! official `parsec run` (and their `PARSEC_*` environment variables).

use anyhow::{Context as _, bail, ensure};
use clap::Args;
use parsec_mfa_reference::protocol::addr::ServerAddr;
use parsec_mfa_reference::protocol::anonymous_server::server_config::AdvisoryDeviceFileProtection;
use parsec_mfa_reference::server::{
    AppState, Clock, EmailConfig, Faults, ManualClock, ServerConfig, StorageConfig, Store, SystemClock,
};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Args)]
pub struct ServeArgs {
    #[arg(long, default_value = "127.0.0.1", env = "PARSEC_HOST")]
    host: IpAddr,
    #[arg(long, default_value_t = 6777, env = "PARSEC_PORT")]
    port: u16,
    /// `MOCKED` (in memory), `sqlite:PATH`, or a path. Default: a SQLite file
    /// in the user's data directory, so state survives restarts.
    #[arg(long, env = "PARSEC_DB")]
    db: Option<String>,
    #[arg(long, env = "PARSEC_ADMINISTRATION_TOKEN")]
    administration_token: String,
    /// Public address used in links, e.g. `parsec3://parsec.example.com`.
    /// Default: this server's own address over plain HTTP.
    #[arg(long, env = "PARSEC_SERVER_ADDR")]
    server_addr: Option<String>,
    /// SMTP host, or `MOCKED` to print emails instead of sending them.
    #[arg(long, default_value = "MOCKED", env = "PARSEC_EMAIL_HOST")]
    email_host: String,
    #[arg(long, default_value_t = 25, env = "PARSEC_EMAIL_PORT")]
    email_port: u16,
    #[arg(long, default_value = "no-reply@parsec.localhost", env = "PARSEC_EMAIL_SENDER")]
    email_sender: String,
    /// Advised device file protection (repeatable): PASSWORD, PASSWORD+TOTP,
    /// KEYRING, KEYRING+TOTP, PKI, PKI+TOTP, OPENBAO, OPENBAO+TOTP,
    /// ACCOUNT_VAULT, ACCOUNT_VAULT+TOTP.
    #[arg(long = "advisory-device-file-protection", value_parser = parse_advisory)]
    advisory_device_file_protection: Vec<AdvisoryDeviceFileProtection>,
    /// Organizations are created by their first bootstrap, without a token.
    #[arg(long)]
    spontaneous_organization_bootstrap: bool,
    /// Simulated clock, frozen at start-up and moved through `/testing/clock`.
    /// Only on a loopback address.
    #[arg(long)]
    test_clock: bool,
    /// Serve over TLS with this PEM certificate chain (with --ssl-keyfile).
    #[arg(long, env = "PARSEC_SSL_CERTFILE", requires = "ssl_keyfile", value_name = "FILE")]
    ssl_certfile: Option<PathBuf>,
    /// The PEM private key of --ssl-certfile.
    #[arg(long, env = "PARSEC_SSL_KEYFILE", requires = "ssl_certfile", value_name = "FILE")]
    ssl_keyfile: Option<PathBuf>,
    /// Deliberate defect for mutation testing of a conformance suite, one of
    /// `Faults::NAMES` (each with the rule it breaks in docs/spec.md).
    #[arg(long = "inject-fault", hide = true)]
    inject_fault: Vec<String>,
}

fn parse_advisory(s: &str) -> Result<AdvisoryDeviceFileProtection, parsec_mfa_reference::protocol::ValueError> {
    s.parse()
}

fn default_db_path() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("parsec-mfa").join("server.sqlite")
}

/// A `--db` that is neither MOCKED, `sqlite:PATH` nor a file path.
#[derive(Debug, thiserror::Error)]
#[error("--db `{0}`: expected MOCKED, sqlite:PATH or a file path")]
struct UnsupportedDb(String);

fn storage_config(db: Option<&str>) -> Result<StorageConfig, UnsupportedDb> {
    let unsupported = || UnsupportedDb(db.unwrap_or_default().to_owned());
    Ok(match db {
        None => StorageConfig::Sqlite(default_db_path()),
        Some("MOCKED") => StorageConfig::Memory,
        Some("") | Some("sqlite:") => return Err(unsupported()),
        Some(other) => match other.strip_prefix("sqlite:") {
            Some(path) => StorageConfig::Sqlite(PathBuf::from(path)),
            // `postgresql://...` and the like: another database, not a
            // file name to create (a one-letter scheme may be a drive).
            None if has_url_scheme(other) => return Err(unsupported()),
            None => StorageConfig::Sqlite(PathBuf::from(other)),
        },
    })
}

fn has_url_scheme(s: &str) -> bool {
    s.split_once(':').is_some_and(|(scheme, _)| {
        scheme.len() > 1
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

/// Nothing matches on its errors: the command prints one `Error:` line,
/// each cause after its context (`{:#}`).
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    if args.test_clock && !args.host.is_loopback() {
        bail!("--test-clock is refused on a non-loopback address ({})", args.host);
    }
    ensure!(
        !args.administration_token.is_empty(),
        "--administration-token must not be empty"
    );
    let server_addr = match &args.server_addr {
        Some(addr) => addr
            .parse::<ServerAddr>()
            .with_context(|| format!("--server-addr `{addr}`"))?,
        None => format!(
            "parsec3://{}:{}{}",
            args.host,
            args.port,
            if args.ssl_certfile.is_some() {
                ""
            } else {
                "?no_ssl=true"
            }
        )
        .parse()
        .context("cannot build the server address")?,
    };
    let email = if args.email_host == "MOCKED" {
        EmailConfig::Mocked
    } else {
        EmailConfig::Smtp {
            host: args.email_host.clone(),
            port: args.email_port,
            sender: args.email_sender.clone(),
        }
    };
    let mut faults = Faults::default();
    for fault in &args.inject_fault {
        faults.enable(fault)?;
    }
    let storage = storage_config(args.db.as_deref())?;
    let store = Store::open(&storage)?;
    let test_clock = args.test_clock.then(ManualClock::starting_now);
    let clock: Arc<dyn Clock> = match &test_clock {
        Some(manual) => Arc::new(manual.clone()),
        None => Arc::new(SystemClock),
    };
    let config = ServerConfig {
        administration_token: args.administration_token,
        server_addr,
        email,
        advisory_device_file_protection: args.advisory_device_file_protection,
        spontaneous_organization_bootstrap: args.spontaneous_organization_bootstrap,
    };
    let mut state = AppState::new(config, store, clock);
    state.test_clock = test_clock;
    state.faults = faults;
    state.tls = args.ssl_certfile.is_some();
    // Before listening: a bad certificate or key is a start-up error.
    let tls = match (&args.ssl_certfile, &args.ssl_keyfile) {
        (Some(cert), Some(key)) => Some(
            // Its loader reports text.
            parsec_mfa_reference::server::tls::server_config(cert, key).map_err(anyhow::Error::msg)?,
        ),
        _ => None,
    };
    let listener = tokio::net::TcpListener::bind((args.host, args.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", args.host, args.port))?;
    let storage_text = match &storage {
        StorageConfig::Memory => "in memory (MOCKED)".to_owned(),
        StorageConfig::Sqlite(path) => format!("SQLite {}", path.display()),
    };
    eprintln!(
        "parsec-mfa serving on {}://{} (state: {storage_text}{})",
        if tls.is_some() { "https" } else { "http" },
        listener.local_addr()?,
        if args.test_clock { ", simulated clock" } else { "" }
    );
    let served = match tls {
        Some(config) => parsec_mfa_reference::server::serve_tls(listener, config, Arc::new(state)).await,
        None => parsec_mfa_reference::server::serve(listener, Arc::new(state)).await,
    };
    served.context("server stopped")
}
