//! How the harness talks to a target, for every part that does (the
//! World, the targets' checks, the attacker, the explorer): how long a
//! reply may take, what is retried, the address of a plain-HTTP server, a
//! device's signer. Below all of them, so that none imports another's.

use crate::network::Condition;
use parsec_mfa_reference::client::{RetryPolicy, Signer};
use parsec_mfa_reference::protocol::addr::ServerAddr;
use parsec_mfa_reference::protocol::local_device::LocalDevice;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How long every exchange with the target may wait for its reply
/// (`--request-timeout`, 10 s unless set): one setting for the whole run
/// (a process runs one), read by [`retry_policy`] and the administration
/// client of the targets' routes.
static REQUEST_TIMEOUT_MS: AtomicU64 = AtomicU64::new(10_000);

/// Sets [`request_timeout`] for the rest of the process.
pub fn set_request_timeout(timeout: Duration) {
    REQUEST_TIMEOUT_MS.store(timeout.as_millis().max(1) as u64, Ordering::Relaxed);
}

/// See [`set_request_timeout`].
pub fn request_timeout() -> Duration {
    Duration::from_millis(REQUEST_TIMEOUT_MS.load(Ordering::Relaxed))
}

/// How the scenario's client treats the network. While the scenario has
/// the connection down, it gives up after about a second (the user is told
/// at once that the server cannot be reached). Otherwise it waits for a
/// slow server up to [`request_timeout`]: on a loaded machine an answer can
/// take seconds. A request sent without a reply in that time fails the step
/// at once, naming the command: it is never sent again, as it may have run
/// already (a user created twice is refused as `user_already_exists`, a
/// wrong code counted twice). Connections that could not be made, or were
/// dropped, and a gateway's 502/503/504 are retried within the same time;
/// the network's failures are immediate, so retries stay quick.
pub fn retry_policy(condition: Condition) -> RetryPolicy {
    let timeout = request_timeout();
    let (deadline, attempt_timeout) = match condition {
        Condition::Down => (
            Duration::from_millis(1_200).min(timeout),
            Duration::from_millis(600).min(timeout),
        ),
        Condition::Up | Condition::Slow(_) | Condition::Flaky { .. } => (timeout, timeout),
    };
    RetryPolicy {
        deadline,
        attempt_timeout,
        first_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(300),
    }
}

/// A loopback server without TLS, as the harness reaches its targets.
pub fn plain_http(addr: std::net::SocketAddr) -> ServerAddr {
    ServerAddr {
        hostname: addr.ip().to_string(),
        port: Some(addr.port()),
        use_ssl: false,
    }
}

pub fn signer(device: &LocalDevice) -> Signer<'_> {
    Signer {
        device_id: device.device_id,
        signing_key: &device.signing_key,
    }
}
