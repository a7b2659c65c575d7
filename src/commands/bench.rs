//! `parsec-mfa bench`: how many `totp_fetch_opaque_key` requests a running
//! Parsec server answers per second, and how fast.
//!
//! It creates a fresh organization through the administration API,
//! bootstraps it with real certificates, enables MFA for its first user,
//! creates an opaque key, then fetches that key with a valid code (so the
//! throttle never applies) from N connections at once. The code follows
//! the clock: client and server are expected to share it (same machine).
//! Works against any server speaking the official protocol, e.g. the
//! official `parsec run` and `parsec-mfa serve`.

use super::common::TlsArgs;
use anyhow::{Context as _, anyhow, bail};
use clap::Args;
use parsec_mfa_reference::client::admin::{AdminClient, AdminError};
use parsec_mfa_reference::client::enrollment::{NewIdentity, bootstrap_organization};
use parsec_mfa_reference::client::mfa::{self, SetupStatus};
use parsec_mfa_reference::client::tls::{HttpSettings, TlsSetupError};
use parsec_mfa_reference::client::{Connection, RetryPolicy, Signer};
use parsec_mfa_reference::clock::{Clock, SystemClock};
use parsec_mfa_reference::crypto::SecretKey;
use parsec_mfa_reference::protocol::addr::{BootstrapAddr, ServerAddr};
use parsec_mfa_reference::protocol::anonymous::totp_fetch_opaque_key as fetch;
use parsec_mfa_reference::protocol::{
    API_VERSION_STR, CONTENT_TYPE_MSGPACK, DateTime, HumanHandle, TOTPOpaqueKeyID, UserID,
};
use parsec_mfa_reference::totp;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct BenchArgs {
    /// HTTP address of the server.
    #[arg(long, default_value = "http://127.0.0.1:6777")]
    addr: String,
    /// The server's administration token.
    #[arg(long, env = "PARSEC_ADMINISTRATION_TOKEN")]
    admin_token: String,
    /// Concurrent connections, each sending its next request as soon as
    /// the previous one is answered.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1024))]
    connections: u16,
    /// How long to measure: `10s`, `500ms`, `1m` (a bare number is seconds).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Stop after this many requests instead of after `--duration`.
    #[arg(long, conflicts_with = "duration")]
    requests: Option<u64>,
    /// Organization to create (default: a new random name).
    #[arg(long)]
    organization: Option<String>,
    #[command(flatten)]
    tls: TlsArgs,
}

/// A `--duration` that clap refuses, with the reason.
#[derive(Debug, PartialEq, thiserror::Error)]
enum BadDuration {
    #[error("`{0}` is not a duration")]
    NotANumber(String),
    #[error("`{0}`: the unit is ms, s or m")]
    Unit(String),
    #[error("`{0}` is not a positive duration")]
    NotPositive(String),
}

fn parse_duration(text: &str) -> Result<Duration, BadDuration> {
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let value: f64 = number.parse().map_err(|_| BadDuration::NotANumber(text.to_owned()))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(BadDuration::Unit(text.to_owned())),
    };
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| BadDuration::NotPositive(text.to_owned()))
}

/// What a run measured.
struct Report {
    elapsed: Duration,
    /// Latencies of the answered requests, in microseconds, sorted.
    latencies: Vec<u32>,
    errors: u64,
    first_error: Option<String>,
}

impl Report {
    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        f64::from(self.latencies[rank.clamp(1, self.latencies.len()) - 1]) / 1000.0
    }
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let base = args.addr.trim_end_matches('/').to_owned();
    let organization = args
        .organization
        .clone()
        .unwrap_or_else(|| format!("Bench{}", &UserID::new().hex()[..12]));
    // `https://` addresses: the system's authorities, or --ca-cert's.
    let tls = args.tls.settings().map_err(|failure| anyhow!(failure.message))?;
    let target = Arc::new(setup(&base, &args.admin_token, &organization, &tls).await?);
    eprintln!(
        "parsec-mfa bench: totp_fetch_opaque_key on {base} (organization {organization}), {} connections, {}",
        args.connections,
        match args.requests {
            Some(n) => format!("{n} requests"),
            None => format!("{:?}", args.duration),
        }
    );
    let report = hammer(&target, &args, &tls).await;
    let answered = report.latencies.len() as u64;
    let seconds = report.elapsed.as_secs_f64();
    println!("requests: {}", answered + report.errors);
    println!("errors: {}", report.errors);
    println!("elapsed: {seconds:.2} s");
    println!("throughput: {:.0} requests/s", answered as f64 / seconds);
    println!("latency p50: {:.3} ms", report.percentile_ms(50.0));
    println!("latency p99: {:.3} ms", report.percentile_ms(99.0));
    match report.first_error {
        Some(first) => bail!("{} requests failed, the first: {first}", report.errors),
        None => Ok(()),
    }
}

/// Everything a connection needs to fetch the key.
struct Target {
    /// Parsed once: the URL is the same for every request.
    url: reqwest::Url,
    user_id: UserID,
    opaque_key_id: TOTPOpaqueKeyID,
    secret: Vec<u8>,
    /// The exact reply of a successful fetch (the same every time).
    expected_reply: Vec<u8>,
    opaque_key: SecretKey,
}

fn now() -> DateTime {
    SystemClock.now()
}

fn code_now(secret: &[u8]) -> String {
    totp::code_at(secret, now().unix_seconds().max(0) as u64)
}

async fn post(http: &reqwest::Client, url: reqwest::Url, body: Vec<u8>, what: &str) -> anyhow::Result<Vec<u8>> {
    let response = http
        .post(url)
        .header("Api-Version", API_VERSION_STR)
        .header("Content-Type", CONTENT_TYPE_MSGPACK)
        .body(body)
        .send()
        .await
        .context(what.to_owned())?;
    let status = response.status();
    let bytes = parsec_mfa_reference::client::read_bounded(response, parsec_mfa_reference::client::MAX_REPLY_BYTES)
        .await
        .context(what.to_owned())?;
    if status != reqwest::StatusCode::OK {
        bail!("{what}: HTTP {status} {}", String::from_utf8_lossy(&bytes));
    }
    Ok(bytes.to_vec())
}

/// A new organization, its administrator with MFA enabled, and one key,
/// set up with the reference client.
async fn setup(base: &str, admin_token: &str, organization: &str, tls: &HttpSettings) -> anyhow::Result<Target> {
    let server = ServerAddr::from_http_url(base).with_context(|| format!("--addr `{base}`"))?;
    let http = tls.client().map_err(anyhow::Error::msg)?;
    let created = AdminClient::new(server.clone(), admin_token)
        .with_http(http.clone())
        .create_organization(organization)
        .await
        .map_err(|e| match e {
            AdminError::Refused { status, detail } => anyhow!("create organization: HTTP {status} {detail}"),
            other => anyhow!("create organization on {base}: {other}"),
        })?;
    let link = BootstrapAddr::parse_any(&created.bootstrap_url)
        .with_context(|| format!("bootstrap URL `{}`", created.bootstrap_url))?;
    let conn = Connection::new(
        server,
        link.organization_id.clone(),
        RetryPolicy::once(Duration::from_secs(30)),
        Arc::new(SystemClock),
    )
    .with_http(http.clone());
    let who = NewIdentity {
        human_handle: HumanHandle::new("bench@example.com", "Bench").map_err(anyhow::Error::msg)?,
        device_label: "bench".into(),
    };
    let device = bootstrap_organization(&conn, &link, &who)
        .await
        .context("organization_bootstrap")?;
    let signer = Signer {
        device_id: device.device_id,
        signing_key: &device.signing_key,
    };
    let secret = match mfa::setup_status(&conn, signer).await {
        Ok(SetupStatus::Unconfirmed { secret }) => secret,
        other => bail!("totp_setup_get_secret: {other:?}"),
    };
    mfa::setup_confirm(&conn, signer, &code_now(&secret))
        .await
        .context("totp_setup_confirm")?;
    let (opaque_key_id, opaque_key) = mfa::create_opaque_key(&conn, signer)
        .await
        .context("totp_create_opaque_key")?;

    // One fetch first: it must work, and its bytes are what to expect.
    let anonymous = format!("{base}/anonymous/{organization}");
    let mut target = Target {
        url: reqwest::Url::parse(&anonymous).with_context(|| anonymous.clone())?,
        user_id: device.user_id,
        opaque_key_id,
        secret,
        expected_reply: Vec::new(),
        opaque_key,
    };
    let rep = post(&http, target.url.clone(), target.fetch_body(), "totp_fetch_opaque_key").await?;
    target.check_reply(&rep)?;
    target.expected_reply = rep;
    Ok(target)
}

impl Target {
    fn fetch_body(&self) -> Vec<u8> {
        fetch::Req {
            user_id: self.user_id,
            opaque_key_id: self.opaque_key_id,
            one_time_password: code_now(&self.secret),
        }
        .dump()
    }

    /// Byte comparison first: decoding every reply would cost the client
    /// more than the server spends on it.
    fn check_reply(&self, rep: &[u8]) -> anyhow::Result<()> {
        if rep == self.expected_reply {
            return Ok(());
        }
        match fetch::Rep::load(rep) {
            Ok(fetch::Rep::Ok { opaque_key }) if opaque_key == self.opaque_key => Ok(()),
            other => Err(anyhow!("totp_fetch_opaque_key: {other:?}")),
        }
    }
}

async fn hammer(target: &Arc<Target>, args: &BenchArgs, tls: &HttpSettings) -> Report {
    let issued = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + args.duration;
    let workers: Vec<_> = (0..args.connections)
        .map(|_| {
            let (target, issued, limit, tls) = (target.clone(), issued.clone(), args.requests, tls.clone());
            tokio::spawn(async move { connection(&target, &issued, limit, deadline, &tls).await })
        })
        .collect();
    let mut report = Report {
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
        errors: 0,
        first_error: None,
    };
    for worker in workers {
        let (latencies, errors, first_error) = worker
            .await
            .unwrap_or_else(|e| (Vec::new(), 1, Some(format!("a connection task failed: {e}"))));
        report.latencies.extend(latencies);
        report.errors += errors;
        report.first_error = report.first_error.or(first_error);
    }
    report.elapsed = start.elapsed();
    report.latencies.sort_unstable();
    report
}

/// One connection: sends requests one after the other until the deadline
/// or the request budget; returns (latencies µs, errors, first error).
async fn connection(
    target: &Target,
    issued: &AtomicU64,
    limit: Option<u64>,
    deadline: Instant,
    tls: &HttpSettings,
) -> (Vec<u32>, u64, Option<String>) {
    let mut latencies = Vec::with_capacity(1 << 16);
    let (mut errors, mut first_error) = (0, None);
    let built = tls.builder().and_then(|builder| {
        builder
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(1)
            .build()
            .map_err(|e| TlsSetupError::Client(e.to_string()))
    });
    let http = match built {
        Ok(http) => http,
        Err(e) => return (latencies, 1, Some(e.to_string())),
    };
    // The body only changes with the 30 s TOTP step.
    let mut step = u64::MAX;
    let mut body = Vec::new();
    loop {
        match limit {
            Some(n) if issued.fetch_add(1, Ordering::Relaxed) >= n => break,
            None if Instant::now() >= deadline => break,
            _ => {}
        }
        let current = now().unix_seconds().max(0) as u64 / totp::STEP_SECONDS;
        if current != step {
            step = current;
            body = target.fetch_body();
        }
        let sent = Instant::now();
        let outcome = post(&http, target.url.clone(), body.clone(), "totp_fetch_opaque_key")
            .await
            .and_then(|rep| target.check_reply(&rep));
        match outcome {
            Ok(()) => latencies.push(sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32),
            Err(e) => {
                errors += 1;
                first_error.get_or_insert_with(|| format!("{e:#}"));
            }
        }
    }
    (latencies, errors, first_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5m"), Ok(Duration::from_secs(90)));
        for bad in ["", "0s", "-1s", "10h", "s", "1e9999s", "ten"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn percentiles_of_sorted_latencies() {
        let report = Report {
            elapsed: Duration::from_secs(1),
            latencies: (1..=100).map(|ms| ms * 1000).collect(),
            errors: 0,
            first_error: None,
        };
        assert_eq!(report.percentile_ms(50.0), 50.0);
        assert_eq!(report.percentile_ms(99.0), 99.0);
        assert_eq!(report.percentile_ms(100.0), 100.0);
        let empty = Report {
            latencies: vec![],
            ..report
        };
        assert_eq!(empty.percentile_ms(99.0), 0.0);
    }
}
