//! SQLite persistence: the rows of [`super::Change`], written in one
//! transaction per operation and read back whole at start-up.

use super::model::{Device, OpaqueKey, Organization, OrganizationRow, TotpState, User};
use super::{Change, StorageError};
use crate::crypto::{SecretKey, VerifyKey};
use crate::protocol::{AccessToken, DateTime, DeviceID, HumanHandle, OrganizationID, TOTPOpaqueKeyID, UserID};
use rusqlite::{Connection, params};
use std::collections::HashMap;
use std::path::Path;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS organization (
    id TEXT PRIMARY KEY,
    bootstrap_token BLOB,
    root_verify_key BLOB,
    is_expired INTEGER NOT NULL,
    active_users_limit INTEGER,
    user_profile_outsider_allowed INTEGER NOT NULL,
    created_on INTEGER NOT NULL,
    last_certificate_timestamp INTEGER
);
CREATE TABLE IF NOT EXISTS user_ (
    organization_id TEXT NOT NULL REFERENCES organization(id),
    user_id BLOB NOT NULL,
    email TEXT NOT NULL,
    label TEXT NOT NULL,
    profile TEXT NOT NULL,
    created_on INTEGER NOT NULL,
    revoked_on INTEGER,
    frozen INTEGER NOT NULL,
    user_certificate BLOB NOT NULL,
    redacted_user_certificate BLOB NOT NULL,
    totp_setup_completed INTEGER NOT NULL,
    totp_secret BLOB,
    totp_reset_token BLOB,
    PRIMARY KEY (organization_id, user_id),
    CHECK (NOT totp_setup_completed OR totp_secret IS NOT NULL),
    CHECK (NOT totp_setup_completed OR totp_reset_token IS NULL)
);
CREATE TABLE IF NOT EXISTS device (
    organization_id TEXT NOT NULL REFERENCES organization(id),
    device_id BLOB NOT NULL,
    user_id BLOB NOT NULL,
    verify_key BLOB NOT NULL,
    created_on INTEGER NOT NULL,
    device_certificate BLOB NOT NULL,
    redacted_device_certificate BLOB NOT NULL,
    PRIMARY KEY (organization_id, device_id)
);
CREATE TABLE IF NOT EXISTS totp_opaque_key (
    organization_id TEXT NOT NULL REFERENCES organization(id),
    opaque_key_id BLOB NOT NULL,
    user_id BLOB NOT NULL,
    opaque_key BLOB NOT NULL,
    failed_attempts INTEGER NOT NULL,
    last_failed_attempt INTEGER,
    PRIMARY KEY (organization_id, opaque_key_id)
);
";

pub(super) struct Database {
    conn: Connection,
}

fn err(e: impl std::fmt::Display) -> StorageError {
    StorageError(e.to_string())
}

fn array<const N: usize>(v: Vec<u8>) -> Result<[u8; N], StorageError> {
    v.try_into()
        .map_err(|v: Vec<u8>| StorageError(format!("corrupted row: expected {N} bytes, found {}", v.len())))
}

impl Database {
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| StorageError(format!("{}: {e}", parent.display())))?;
        }
        let in_file = |e: rusqlite::Error| StorageError(format!("{}: {e}", path.display()));
        let conn = Connection::open(path).map_err(in_file)?;
        // WAL + NORMAL survives a killed process (not a power cut), which is
        // what a test server needs, and keeps writes fast.
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
            .map_err(in_file)?;
        conn.execute_batch(SCHEMA).map_err(in_file)?;
        Ok(Database { conn })
    }

    pub fn persist(&mut self, changes: &[Change]) -> Result<(), StorageError> {
        let tx = self.conn.transaction().map_err(err)?;
        for change in changes {
            match change {
                Change::Organization(o) => tx.execute(
                    "INSERT OR REPLACE INTO organization VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        o.id.as_str(),
                        o.bootstrap_token.map(|t| t.0.to_vec()),
                        o.root_verify_key.as_ref().map(|k| k.0.to_vec()),
                        o.is_expired,
                        o.active_users_limit.map(|l| l as i64),
                        o.user_profile_outsider_allowed,
                        o.created_on.as_micros(),
                        o.last_certificate_timestamp.map(|t| t.as_micros()),
                    ],
                ),
                Change::User(org, u) => tx.execute(
                    "INSERT OR REPLACE INTO user_ VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                    params![
                        org.as_str(),
                        u.user_id.as_bytes().to_vec(),
                        u.human_handle.email,
                        u.human_handle.label,
                        u.profile.as_str(),
                        u.created_on.as_micros(),
                        u.revoked_on.map(|t| t.as_micros()),
                        u.frozen,
                        u.user_certificate,
                        u.redacted_user_certificate,
                        u.totp.setup_completed,
                        u.totp.secret,
                        u.totp.reset_token.map(|t| t.0.to_vec()),
                    ],
                ),
                Change::Device(org, d) => tx.execute(
                    "INSERT OR REPLACE INTO device VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        org.as_str(),
                        d.device_id.as_bytes().to_vec(),
                        d.user_id.as_bytes().to_vec(),
                        d.verify_key.0.to_vec(),
                        d.created_on.as_micros(),
                        d.device_certificate,
                        d.redacted_device_certificate,
                    ],
                ),
                Change::OpaqueKey(org, k) => tx.execute(
                    "INSERT OR REPLACE INTO totp_opaque_key VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        org.as_str(),
                        k.id.as_bytes().to_vec(),
                        k.user_id.as_bytes().to_vec(),
                        k.key.0.to_vec(),
                        k.failed_attempts,
                        k.last_failed_attempt.map(|t| t.as_micros()),
                    ],
                ),
            }
            .map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    pub fn load_all(&self) -> Result<HashMap<OrganizationID, Organization>, StorageError> {
        let mut orgs = HashMap::new();
        let mut stmt = self.conn.prepare("SELECT * FROM organization").map_err(err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<Vec<u8>>>(1)?,
                    r.get::<_, Option<Vec<u8>>>(2)?,
                    r.get::<_, bool>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                    r.get::<_, bool>(5)?,
                    r.get::<_, i64>(6)?,
                    r.get::<_, Option<i64>>(7)?,
                ))
            })
            .map_err(err)?;
        for row in rows {
            let (id, token, root, expired, limit, outsider, created, last) = row.map_err(err)?;
            let id: OrganizationID = id.parse()?;
            let row = OrganizationRow {
                id: id.clone(),
                bootstrap_token: token.map(array).transpose()?.map(AccessToken),
                root_verify_key: root.map(array).transpose()?.map(VerifyKey),
                is_expired: expired,
                active_users_limit: limit.map(|l| l as u64),
                user_profile_outsider_allowed: outsider,
                created_on: DateTime::from_micros(created),
                last_certificate_timestamp: last.map(DateTime::from_micros),
            };
            orgs.insert(id, Organization::new(row));
        }
        self.load_users(&mut orgs)?;
        self.load_devices(&mut orgs)?;
        self.load_opaque_keys(&mut orgs)?;
        Ok(orgs)
    }

    fn load_users(&self, orgs: &mut HashMap<OrganizationID, Organization>) -> Result<(), StorageError> {
        let mut stmt = self.conn.prepare("SELECT * FROM user_").map_err(err)?;
        let mut rows = stmt.query([]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            let org: String = r.get(0).map_err(err)?;
            let user = User {
                user_id: UserID::from_bytes(array(r.get(1).map_err(err)?)?),
                human_handle: HumanHandle::new(
                    &r.get::<_, String>(2).map_err(err)?,
                    &r.get::<_, String>(3).map_err(err)?,
                )?,
                profile: r.get::<_, String>(4).map_err(err)?.parse()?,
                created_on: DateTime::from_micros(r.get(5).map_err(err)?),
                revoked_on: r.get::<_, Option<i64>>(6).map_err(err)?.map(DateTime::from_micros),
                frozen: r.get(7).map_err(err)?,
                user_certificate: r.get(8).map_err(err)?,
                redacted_user_certificate: r.get(9).map_err(err)?,
                totp: TotpState {
                    setup_completed: r.get(10).map_err(err)?,
                    secret: r.get(11).map_err(err)?,
                    reset_token: r
                        .get::<_, Option<Vec<u8>>>(12)
                        .map_err(err)?
                        .map(array)
                        .transpose()?
                        .map(AccessToken),
                },
            };
            if let Some(o) = orgs.get_mut(&org.parse::<OrganizationID>()?) {
                o.users.insert(user.user_id, user);
            }
        }
        Ok(())
    }

    fn load_devices(&self, orgs: &mut HashMap<OrganizationID, Organization>) -> Result<(), StorageError> {
        let mut stmt = self.conn.prepare("SELECT * FROM device").map_err(err)?;
        let mut rows = stmt.query([]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            let org: String = r.get(0).map_err(err)?;
            let device = Device {
                device_id: DeviceID::from_bytes(array(r.get(1).map_err(err)?)?),
                user_id: UserID::from_bytes(array(r.get(2).map_err(err)?)?),
                verify_key: VerifyKey(array(r.get(3).map_err(err)?)?),
                created_on: DateTime::from_micros(r.get(4).map_err(err)?),
                device_certificate: r.get(5).map_err(err)?,
                redacted_device_certificate: r.get(6).map_err(err)?,
            };
            if let Some(o) = orgs.get_mut(&org.parse::<OrganizationID>()?) {
                o.devices.insert(device.device_id, device);
            }
        }
        Ok(())
    }

    fn load_opaque_keys(&self, orgs: &mut HashMap<OrganizationID, Organization>) -> Result<(), StorageError> {
        let mut stmt = self.conn.prepare("SELECT * FROM totp_opaque_key").map_err(err)?;
        let mut rows = stmt.query([]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            let org: String = r.get(0).map_err(err)?;
            let key = OpaqueKey {
                id: TOTPOpaqueKeyID::from_bytes(array(r.get(1).map_err(err)?)?),
                user_id: UserID::from_bytes(array(r.get(2).map_err(err)?)?),
                key: SecretKey(array(r.get(3).map_err(err)?)?),
                failed_attempts: r.get(4).map_err(err)?,
                last_failed_attempt: r.get::<_, Option<i64>>(5).map_err(err)?.map(DateTime::from_micros),
            };
            if let Some(o) = orgs.get_mut(&org.parse::<OrganizationID>()?) {
                o.opaque_keys.insert(key.id, key);
            }
        }
        Ok(())
    }
}
