//! The victim: an organization of its own on the target, its first user
//! with MFA confirmed, and opaque keys (one per device file an attacker
//! could steal), set up through the reference client as the user guide's
//! flows do. The harness plays both sides: it knows the secret, so the
//! attacker's codes are certainly wrong and the accepted ones certainly
//! right.

use super::AttackError;
use crate::exchange::retry_policy;
use crate::network::Condition;
use crate::targets::Target;
use parsec_mfa_reference::client::enrollment::{NewIdentity, bootstrap_organization};
use parsec_mfa_reference::client::mfa::{self, MfaError, SetupStatus};
use parsec_mfa_reference::client::{Connection, RetryPolicy, Signer};
use parsec_mfa_reference::protocol::addr::BootstrapAddr;
use parsec_mfa_reference::protocol::{DateTime, HumanHandle, TOTPOpaqueKeyID, UserID};
use parsec_mfa_reference::totp;
use std::time::Duration;

/// Steps either side of the current one whose codes a wrong guess avoids:
/// more than any window a server could plausibly accept.
const AVOIDED_STEPS: i64 = 10;

pub struct Victim {
    pub user_id: UserID,
    pub secret: Vec<u8>,
    pub keys: Vec<TOTPOpaqueKeyID>,
    /// Requests that are never sent again (a wrong code sent twice would be
    /// counted twice).
    pub attacker: Connection,
}

/// The victim could not be set up: the step that failed, and why.
fn failed<E: Into<Box<dyn std::error::Error + Send + Sync>>>(step: &'static str) -> impl FnOnce(E) -> AttackError {
    move |reason| AttackError::Victim {
        step,
        reason: reason.into(),
    }
}

impl Victim {
    /// Sets the victim up on `target` with `keys` opaque keys.
    pub async fn set_up(target: &dyn Target, keys: usize) -> Result<Victim, AttackError> {
        let route = crate::targets::Route::to(target).map_err(failed("no HTTP client"))?;
        let unique = hex::encode(parsec_mfa_reference::crypto::random_array::<6>());
        let organization = format!("Attack{unique}");
        let created = route
            .admin(target.administration_token())
            .create_organization(&organization)
            .await
            .map_err(failed("the victim's organization could not be created"))?;
        let link = BootstrapAddr::parse_any(&created.bootstrap_url)
            .map_err(|e| failed("bad bootstrap URL")(format!("`{}`: {e:?}", created.bootstrap_url)))?;
        let conn = route.connection(
            link.organization_id.clone(),
            retry_policy(Condition::Up),
            target.clock(),
        );
        let who = NewIdentity {
            human_handle: HumanHandle::new("victim@example.com", "Victim").map_err(failed("human handle"))?,
            device_label: "stolen laptop".into(),
        };
        let device = bootstrap_organization(&conn, &link, &who)
            .await
            .map_err(failed("organization_bootstrap"))?;
        let signer = Signer {
            device_id: device.device_id,
            signing_key: &device.signing_key,
        };
        let secret = match mfa::setup_status(&conn, signer).await {
            Ok(SetupStatus::Unconfirmed { secret }) => secret,
            other => return Err(failed("totp_setup_get_secret")(format!("{other:?}"))),
        };
        mfa::setup_confirm(&conn, signer, &code_at(&secret, target.clock().now(), 0))
            .await
            .map_err(failed("totp_setup_confirm"))?;
        let mut ids = Vec::with_capacity(keys);
        for _ in 0..keys {
            let (id, _) = mfa::create_opaque_key(&conn, signer)
                .await
                .map_err(failed("totp_create_opaque_key"))?;
            ids.push(id);
        }
        let attacker = route.connection(
            link.organization_id,
            RetryPolicy::once(Duration::from_secs(30)),
            target.clock(),
        );
        Ok(Victim {
            user_id: device.user_id,
            secret,
            keys: ids,
            attacker,
        })
    }

    /// `totp_fetch_opaque_key` on `key` with `code`, sent once.
    pub async fn fetch(&self, key: TOTPOpaqueKeyID, code: &str) -> Result<(), MfaError> {
        mfa::fetch_opaque_key(&self.attacker, self.user_id, key, code)
            .await
            .map(|_| ())
    }

    /// `count` distinct codes that none of the steps near `now` shows,
    /// starting from the `from`-th candidate: certainly wrong.
    pub fn wrong_codes(&self, now: DateTime, from: u64, count: usize) -> Vec<String> {
        crate::testing::wrong_codes(&[&self.secret], now.unix_seconds(), AVOIDED_STEPS, from)
            .take(count)
            .collect()
    }
}

/// The code of the 30 s step `steps` away from the one of `now`.
pub fn code_at(secret: &[u8], now: DateTime, steps: i64) -> String {
    let seconds = now.unix_seconds() + steps * totp::STEP_SECONDS as i64;
    totp::code_at(secret, seconds.max(0) as u64)
}
