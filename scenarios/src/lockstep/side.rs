//! One side of a lockstep exploration: a server (the target, or the
//! reference model) and what the explorer knows of it: its organizations,
//! users, phones, keys and reset links. [`Side::perform`] runs one
//! [`Op`] against it and says what was seen, normalized ([`Observation`]).
//!
//! Both sides hold the same structure as long as their observations agree
//! (the state only grows from what was observed), so an index names the
//! same actor on either side.

use super::observation::Observation;
use super::operations::{Code, Link, Op};
use crate::exchange::{retry_policy, signer};
use crate::mailbox::Mailbox;
use crate::targets::{Route, Target, TargetError};
use parsec_mfa_reference::client::Connection;
use parsec_mfa_reference::client::admin::{AdminClient, UserRef};
use parsec_mfa_reference::client::enrollment::{
    NewIdentity, bootstrap_organization, create_device, create_user, revoke_user,
};
use parsec_mfa_reference::client::mfa::{self, MfaError, SetupStatus};
use parsec_mfa_reference::crypto::SecretKey;
use parsec_mfa_reference::protocol::addr::{BootstrapAddr, TotpResetAddr};
use parsec_mfa_reference::protocol::local_device::LocalDevice;
use parsec_mfa_reference::protocol::{
    AccessToken, DateTime, HumanHandle, OrganizationID, TOTPOpaqueKeyID, UserProfile,
};
use parsec_mfa_reference::totp;
use std::sync::Arc;
use std::time::Duration;

/// How long a reset email reported sent may take to arrive.
const EMAIL_WAIT: Duration = Duration::from_secs(5);
/// Wrong codes sent at once, at most (`WrongBurst`).
pub const MAX_BURST: usize = 16;

/// What a side needs of its server: the target, the route to it, its
/// administration API, and one HTTP client for every request of the
/// sequence.
pub struct Server<'a> {
    pub target: &'a dyn Target,
    pub route: &'a Route,
    pub admin: &'a AdminClient,
    /// Shared by the side's connections so that they reuse its pooled TCP
    /// connections: a client per request would open thousands a second,
    /// and the closed ones' ports (TIME_WAIT) run out within a minute.
    pub http: reqwest::Client,
}

impl<'a> Server<'a> {
    pub fn new(target: &'a dyn Target, route: &'a Route, admin: &'a AdminClient) -> Self {
        Server {
            target,
            route,
            admin,
            http: route.http(),
        }
    }

    fn connection(&self, organization: &OrganizationID) -> Connection {
        Connection::new(
            self.route.server.clone(),
            organization.clone(),
            retry_policy(crate::network::Condition::Up),
            self.target.clock(),
        )
        .with_http(self.http.clone())
    }

    fn mailbox(&self) -> &Mailbox {
        self.target.mailbox()
    }

    fn now(&self) -> DateTime {
        self.target.clock().now()
    }

    /// Where the clock flows, a code computed in the last seconds of its
    /// step may arrive in the next: wait for a fresh step first (bounded).
    async fn fresh_step(&self) {
        const STEP_US: i64 = totp::STEP_SECONDS as i64 * 1_000_000;
        const MARGIN_US: i64 = 2_000_000;
        if !self.target.clock_flows() {
            return;
        }
        let into_step = self.now().as_micros().rem_euclid(STEP_US);
        if into_step >= STEP_US - MARGIN_US {
            let wait = STEP_US - into_step + 100_000;
            tokio::time::sleep(Duration::from_micros(wait as u64)).await;
        }
    }
}

/// Why an operation could not be carried out at all (not a server's
/// answer, which is an [`Observation`]).
#[derive(Debug, thiserror::Error)]
pub enum SideError {
    #[error("the organization could not be set up: {0}")]
    Setup(String),
    #[error(transparent)]
    Target(#[from] TargetError),
}

pub struct User {
    pub organization: usize,
    /// Its devices, the first made with the user.
    pub devices: Vec<LocalDevice>,
    pub email: String,
    /// The secret the phone holds (the last one shown), and the one before.
    pub phone: Option<Vec<u8>>,
    pub old_phone: Option<Vec<u8>>,
    /// Every secret this user was shown.
    pub secrets_seen: Vec<Vec<u8>>,
    /// The opaque keys created for its devices.
    pub keys: Vec<(TOTPOpaqueKeyID, SecretKey)>,
    /// The reset links the administrator made, oldest first.
    pub links: Vec<TotpResetAddr>,
    /// How many emails to this address have been read.
    pub emails_read: usize,
    pub revoked: bool,
}

pub struct Organization {
    pub id: OrganizationID,
    /// The index of its administrator among the users.
    pub admin: usize,
}

/// The explorer's knowledge of one server.
pub struct Side {
    pub organizations: Vec<Organization>,
    pub users: Vec<User>,
    /// Distinguishes this exploration's organizations on a shared server.
    unique: String,
}

impl Side {
    /// A first organization, its administrator being user 0.
    pub async fn start(server: &Server<'_>) -> Result<Side, SideError> {
        let mut side = Side {
            organizations: Vec::new(),
            users: Vec::new(),
            unique: hex::encode(parsec_mfa_reference::crypto::random_array::<5>()),
        };
        side.new_organization(server, None).await?;
        Ok(side)
    }

    fn email(&self, organization: usize, user: usize) -> String {
        format!("user{user}.org{organization}.{}@example.com", self.unique)
    }

    /// A new organization; its administrator has `email` (the same person
    /// as another organization's) or one of its own.
    async fn new_organization(&mut self, server: &Server<'_>, email: Option<String>) -> Result<(), SideError> {
        let index = self.organizations.len();
        let id: OrganizationID = format!("Explore{}O{index}", self.unique)
            .parse()
            .map_err(|e| SideError::Setup(format!("organization id: {e}")))?;
        let created = server
            .admin
            .create_organization(id.as_str())
            .await
            .map_err(|e| SideError::Setup(e.to_string()))?;
        let link = BootstrapAddr::parse_any(&created.bootstrap_url).map_err(|e| SideError::Setup(e.to_string()))?;
        let user = self.users.len();
        let email = email.unwrap_or_else(|| self.email(index, user));
        let who = identity(&email, user)?;
        let device = bootstrap_organization(&server.connection(&id), &link, &who)
            .await
            .map_err(|e| SideError::Setup(e.to_string()))?;
        self.organizations.push(Organization { id, admin: user });
        self.users.push(User::new(index, device, email));
        Ok(())
    }

    fn user_index(&self, user: u8) -> usize {
        user as usize % self.users.len()
    }

    fn organization_of(&self, user: usize) -> &Organization {
        &self.organizations[self.users[user].organization]
    }

    /// The other users of `user`'s organization, from the next index on.
    fn others_in_organization(&self, user: usize) -> Vec<usize> {
        let organization = self.users[user].organization;
        let n = self.users.len();
        (1..n)
            .map(|k| (user + k) % n)
            .filter(|&o| self.users[o].organization == organization)
            .collect()
    }

    /// Carries out `op` and says what the server did.
    pub async fn perform(&mut self, server: &Server<'_>, op: &Op) -> Result<Observation, SideError> {
        Ok(match *op {
            Op::NewUser { org } => {
                let organization = org as usize % self.organizations.len();
                let admin = self.organizations[organization].admin;
                let index = self.users.len();
                let email = self.email(organization, index);
                let who = identity(&email, index)?;
                let conn = server.connection(&self.organizations[organization].id);
                match create_user(&conn, &self.users[admin].devices[0], &who, UserProfile::Standard).await {
                    Ok(device) => {
                        self.users.push(User::new(organization, device, email));
                        Observation::Ok
                    }
                    Err(e) => Observation::from(&e),
                }
            }
            Op::NewOrganization => {
                let email = self.users[0].email.clone();
                self.new_organization(server, Some(email)).await?;
                Observation::Ok
            }
            Op::SecondDevice { user } => {
                let user = self.user_index(user);
                let conn = server.connection(&self.organization_of(user).id);
                let label = format!("device {}", self.users[user].devices.len());
                match create_device(&conn, &self.users[user].devices[0], &label).await {
                    Ok(device) => {
                        self.users[user].devices.push(device);
                        Observation::Ok
                    }
                    Err(e) => Observation::from(&e),
                }
            }
            Op::GetSecret { user } => {
                let user = self.user_index(user);
                let conn = server.connection(&self.organization_of(user).id);
                match mfa::setup_status(&conn, signer(&self.users[user].devices[0])).await {
                    Ok(SetupStatus::Unconfirmed { secret }) => self.shown(user, secret),
                    Ok(SetupStatus::Confirmed) => Observation::AlreadySetup,
                    Err(e) => Observation::from(&e),
                }
            }
            Op::ConfirmSetup { user, code } => {
                let user = self.user_index(user);
                let conn = server.connection(&self.organization_of(user).id);
                server.fresh_step().await;
                let code = self.code(user, code, server.now());
                let outcome = mfa::setup_confirm(&conn, signer(&self.users[user].devices[0]), &code).await;
                self.outcome(server, outcome.map(|()| Observation::Ok))
            }
            Op::CreateKey { user } => {
                let user = self.user_index(user);
                let conn = server.connection(&self.organization_of(user).id);
                let device = self.users[user].devices.last().expect("a user has a device");
                match mfa::create_opaque_key(&conn, signer(device)).await {
                    Ok((id, key)) => {
                        let reused = self
                            .users
                            .iter()
                            .flat_map(|u| &u.keys)
                            .any(|(i, k)| *i == id || *k == key);
                        self.users[user].keys.push((id, key));
                        Observation::KeyCreated { reused }
                    }
                    Err(e) => Observation::from(&e),
                }
            }
            Op::FetchKey { user, key, code } => {
                let user = self.user_index(user);
                let Some((id, created)) = pick(&self.users[user].keys, key) else {
                    return Ok(Observation::Nothing);
                };
                let organization = self.organization_of(user).id.clone();
                self.fetch(server, &organization, user, id, Some(created), code).await
            }
            Op::FetchOthersKey { user, key } => {
                let user = self.user_index(user);
                let theirs: Vec<_> = self
                    .others_in_organization(user)
                    .into_iter()
                    .flat_map(|o| self.users[o].keys.clone())
                    .collect();
                let Some((id, _)) = pick(&theirs, key) else {
                    return Ok(Observation::Nothing);
                };
                let organization = self.organization_of(user).id.clone();
                self.fetch(server, &organization, user, id, None, Code::Right).await
            }
            Op::FetchInOtherOrganization { user, key } => {
                let user = self.user_index(user);
                let mine = self.users[user].organization;
                let Some(other) = (1..self.organizations.len())
                    .map(|k| (mine + k) % self.organizations.len())
                    .next()
                else {
                    return Ok(Observation::Nothing);
                };
                let Some((id, _)) = pick(&self.users[user].keys, key) else {
                    return Ok(Observation::Nothing);
                };
                let organization = self.organizations[other].id.clone();
                self.fetch(server, &organization, user, id, None, Code::Right).await
            }
            Op::FetchGuessedKey { user } => {
                let user = self.user_index(user);
                let organization = self.organization_of(user).id.clone();
                self.fetch(server, &organization, user, TOTPOpaqueKeyID::new(), None, Code::Right)
                    .await
            }
            Op::Reset {
                user,
                by_email,
                send_email,
            } => {
                let user = self.user_index(user);
                self.reset(server, user, by_email, send_email).await
            }
            Op::OpenResetLink { user, link } => {
                let user = self.user_index(user);
                let Some(addr) = self.link(user, link) else {
                    return Ok(Observation::Nothing);
                };
                let conn = server.connection(&self.organization_of(user).id);
                match mfa::reset_secret(&conn, &addr).await {
                    Ok(secret) => self.shown(user, secret),
                    Err(e) => Observation::from(&e),
                }
            }
            Op::ConfirmReset { user, link, code } => {
                let user = self.user_index(user);
                let Some(addr) = self.link(user, link) else {
                    return Ok(Observation::Nothing);
                };
                let conn = server.connection(&self.organization_of(user).id);
                server.fresh_step().await;
                let code = self.code(user, code, server.now());
                let outcome = mfa::reset_confirm(&conn, &addr, &code).await;
                self.outcome(server, outcome.map(|()| Observation::Ok))
            }
            Op::Freeze { user, frozen } => {
                let user = self.user_index(user);
                let organization = self.organization_of(user).id.clone();
                let who = UserRef::Id(self.users[user].devices[0].user_id.hex());
                match server.admin.freeze_user(organization.as_str(), &who, frozen).await {
                    Ok(rep) => Observation::Frozen { frozen: rep.frozen },
                    Err(e) => Observation::from(&e),
                }
            }
            Op::Revoke { user } => {
                let user = self.user_index(user);
                let admin = self.organization_of(user).admin;
                if admin == user || self.users[user].revoked {
                    return Ok(Observation::Nothing);
                }
                let conn = server.connection(&self.organization_of(user).id);
                let user_id = self.users[user].devices[0].user_id;
                match revoke_user(&conn, &self.users[admin].devices[0], user_id).await {
                    Ok(()) => {
                        self.users[user].revoked = true;
                        Observation::Ok
                    }
                    Err(e) => Observation::from(&e),
                }
            }
            Op::WrongBurst { user, key, count } => {
                let user = self.user_index(user);
                let Some((id, created)) = pick(&self.users[user].keys, key) else {
                    return Ok(Observation::Nothing);
                };
                self.burst(server, user, id, created, (count as usize).min(MAX_BURST))
                    .await
            }
            Op::Advance { seconds } => {
                server.target.advance(i64::from(seconds) * 1_000_000).await?;
                Observation::Ok
            }
        })
    }

    /// A secret shown to `user` (profile or reset link): the phone scans it.
    fn shown(&mut self, user: usize, secret: Vec<u8>) -> Observation {
        let same_as_before = self.users[user].phone.as_ref() == Some(&secret);
        let shared = self
            .users
            .iter()
            .enumerate()
            .any(|(i, u)| i != user && u.secrets_seen.contains(&secret));
        let bytes = secret.len();
        let me = &mut self.users[user];
        if !same_as_before {
            me.old_phone = me.phone.replace(secret.clone());
        }
        if !me.secrets_seen.contains(&secret) {
            me.secrets_seen.push(secret);
        }
        Observation::Secret {
            bytes,
            same_as_before,
            shared,
        }
    }

    /// The code `user` types, on this side's secrets and clock.
    fn code(&self, user: usize, code: Code, now: DateTime) -> String {
        let unix = (now.as_micros().div_euclid(1_000_000)) as u64;
        let phone = self.users[user].phone.as_deref();
        let right = |secret: Option<&[u8]>, at: u64| match secret {
            Some(secret) => totp::code_at(secret, at),
            None => wrong_code(phone, at),
        };
        match code {
            Code::Right => right(phone, unix),
            Code::Wrong => wrong_code(phone, unix),
            Code::Skewed(steps) => {
                let at = (unix as i64 + i64::from(steps) * totp::STEP_SECONDS as i64).max(0) as u64;
                right(phone, at)
            }
            Code::OldSecret => right(self.users[user].old_phone.as_deref(), unix),
            Code::Truncated => {
                let mut code = right(phone, unix);
                code.truncate(3);
                code
            }
            Code::OtherUsers => {
                let other = self
                    .others_in_organization(user)
                    .into_iter()
                    .find_map(|o| self.users[o].phone.as_deref());
                right(other, unix)
            }
        }
    }

    /// A `throttled` reply becomes its wait relative to the clock.
    fn outcome(&self, server: &Server<'_>, outcome: Result<Observation, MfaError>) -> Observation {
        match outcome {
            Ok(seen) => seen,
            Err(MfaError::Throttled { wait_until }) => Observation::Throttled {
                wait_seconds: (wait_until.as_micros() - server.now().as_micros()).div_euclid(1_000_000),
            },
            Err(e) => Observation::from(&e),
        }
    }

    async fn fetch(
        &self,
        server: &Server<'_>,
        organization: &OrganizationID,
        user: usize,
        id: TOTPOpaqueKeyID,
        created: Option<SecretKey>,
        code: Code,
    ) -> Observation {
        let conn = server.connection(organization);
        server.fresh_step().await;
        let code = self.code(user, code, server.now());
        let user_id = self.users[user].devices[0].user_id;
        let outcome = mfa::fetch_opaque_key(&conn, user_id, id, &code).await;
        let known: Vec<&SecretKey> = self.users.iter().flat_map(|u| &u.keys).map(|(_, k)| k).collect();
        self.outcome(
            server,
            outcome.map(|key| Observation::KeyFetched {
                equals_created: created.as_ref() == Some(&key),
                someone_elses: created.as_ref() != Some(&key) && known.contains(&&key),
            }),
        )
    }

    async fn reset(&mut self, server: &Server<'_>, user: usize, by_email: bool, send_email: bool) -> Observation {
        let organization = self.organization_of(user).id.clone();
        let who = if by_email {
            UserRef::Email(self.users[user].email.clone())
        } else {
            UserRef::Id(self.users[user].devices[0].user_id.hex())
        };
        let rep = match server.admin.reset_totp(organization.as_str(), &who, send_email).await {
            Ok(rep) => rep,
            Err(e) => return Observation::from(&e),
        };
        let link = TotpResetAddr::parse_any(&rep.totp_reset_url).ok();
        let email_status = rep.email_sent_status.as_str().to_owned();
        let (email_to, link_in_email) = if email_status == "SENT_AS_REQUESTED" {
            self.read_email(server, user, &rep.totp_reset_url_as_http_redirection, link.as_ref())
                .await
        } else {
            (None, false)
        };
        if let Some(link) = link {
            self.users[user].links.push(link);
        }
        Observation::Reset {
            email_status,
            email_to,
            link_in_email,
        }
    }

    /// The next email to `user`'s address: to whom (the first user with
    /// that address), and whether it holds the reset link.
    async fn read_email(
        &mut self,
        server: &Server<'_>,
        user: usize,
        redirection: &str,
        link: Option<&TotpResetAddr>,
    ) -> (Option<usize>, bool) {
        let address = self.users[user].email.clone();
        // Organizations of the same person share the address: one count.
        let read = self
            .users
            .iter()
            .filter(|u| u.email == address)
            .map(|u| u.emails_read)
            .max()
            .unwrap_or(0);
        let Ok(email) = server.mailbox().wait_for_nth(&address, read + 1, EMAIL_WAIT).await else {
            return (None, false);
        };
        for u in self.users.iter_mut().filter(|u| u.email == address) {
            u.emails_read = read + 1;
        }
        let to = self.users.iter().position(|u| email.envelope_to.contains(&u.email));
        let holds_link = email.links().iter().any(|l| {
            l == redirection
                || TotpResetAddr::parse_any(l).ok().as_ref().map(|a| (a.user_id, a.token))
                    == link.map(|a| (a.user_id, a.token))
        });
        (to, holds_link)
    }

    fn link(&self, user: usize, link: Link) -> Option<TotpResetAddr> {
        let links = &self.users[user].links;
        match link {
            Link::Latest => links.last().cloned(),
            Link::Replaced => links.len().checked_sub(2).map(|i| links[i].clone()),
            Link::Forged => links.last().map(|l| TotpResetAddr {
                token: AccessToken::new(),
                ..l.clone()
            }),
            Link::OtherUsers => {
                let theirs = self
                    .others_in_organization(user)
                    .into_iter()
                    .find_map(|o| self.users[o].links.last().cloned())?;
                let mine = self.users[user].devices[0].user_id;
                Some(TotpResetAddr {
                    user_id: mine,
                    ..theirs
                })
            }
        }
    }

    /// `count` wrong codes at once on one key: how many of each reply.
    async fn burst(
        &self,
        server: &Server<'_>,
        user: usize,
        id: TOTPOpaqueKeyID,
        created: SecretKey,
        count: usize,
    ) -> Observation {
        let conn = Arc::new(server.connection(&self.organization_of(user).id));
        let code = self.code(user, Code::Wrong, server.now());
        let user_id = self.users[user].devices[0].user_id;
        let sends = (0..count).map(|_| {
            let conn = conn.clone();
            let code = code.clone();
            async move { mfa::fetch_opaque_key(&conn, user_id, id, &code).await }
        });
        let (mut invalid, mut throttled, mut opened, mut other) = (0, 0, 0, 0);
        for outcome in futures::future::join_all(sends).await {
            match outcome {
                Err(MfaError::InvalidOneTimePassword) => invalid += 1,
                Err(MfaError::Throttled { .. }) => throttled += 1,
                Ok(key) if key == created => opened += 1,
                _ => other += 1,
            }
        }
        Observation::Burst {
            invalid,
            throttled,
            opened,
            other,
        }
    }
}

impl User {
    fn new(organization: usize, device: LocalDevice, email: String) -> User {
        User {
            organization,
            devices: vec![device],
            email,
            phone: None,
            old_phone: None,
            secrets_seen: Vec::new(),
            keys: Vec::new(),
            links: Vec::new(),
            emails_read: 0,
            revoked: false,
        }
    }
}

fn identity(email: &str, index: usize) -> Result<NewIdentity, SideError> {
    Ok(NewIdentity {
        human_handle: HumanHandle::new(email, &format!("User {index}")).map_err(|e| SideError::Setup(e.to_string()))?,
        device_label: format!("user {index}'s laptop"),
    })
}

fn pick<T: Clone>(list: &[T], index: u8) -> Option<T> {
    (!list.is_empty()).then(|| list[index as usize % list.len()].clone())
}

/// A code no step from -3 to +3 of `secret` produces (any code where there
/// is no secret): wrong on every server, however wide its window.
fn wrong_code(secret: Option<&[u8]>, unix: u64) -> String {
    let Some(secret) = secret else {
        return "000000".to_owned();
    };
    let valid: Vec<String> = (-3i64..=3)
        .map(|k| totp::code_at(secret, (unix as i64 + k * totp::STEP_SECONDS as i64).max(0) as u64))
        .collect();
    let right = totp::code_at(secret, unix);
    (1..)
        .map(|n: u32| {
            let shifted: String = right
                .chars()
                .map(|c| char::from_digit((c.to_digit(10).unwrap_or(0) + n) % 10, 10).unwrap_or('0'))
                .collect();
            shifted
        })
        .find(|candidate| !valid.contains(candidate))
        .expect("seven codes cannot cover ten shifts")
}
