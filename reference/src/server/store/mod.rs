//! The server's state and how it changes.
//!
//! Every operation reads the current state and returns the full rows it
//! wants to write (a list of [`Change`]s). The store persists them (SQLite,
//! in one transaction) and only then applies them in memory, all under one
//! lock: a change is applied entirely or not at all, and concurrent requests
//! are serialized (N concurrent wrong codes count exactly N failures).

mod model;
mod sqlite;

pub use model::{Device, OpaqueKey, Organization, OrganizationRow, TotpState, User};

use crate::protocol::OrganizationID;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

/// One row to insert or replace.
#[derive(Debug, Clone)]
pub enum Change {
    Organization(OrganizationRow),
    User(OrganizationID, User),
    Device(OrganizationID, Device),
    OpaqueKey(OrganizationID, OpaqueKey),
}

/// Where the state lives between restarts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageConfig {
    /// In memory only (`--db MOCKED`).
    Memory,
    /// A SQLite file, created if missing.
    Sqlite(PathBuf),
}

#[derive(Debug, thiserror::Error)]
#[error("storage failure: {0}")]
pub struct StorageError(pub String);

/// A stored id or profile the protocol's parser refuses: the file is damaged.
impl From<crate::protocol::ValueError> for StorageError {
    fn from(error: crate::protocol::ValueError) -> Self {
        StorageError(error.to_string())
    }
}

struct Inner {
    organizations: HashMap<OrganizationID, Organization>,
    sqlite: Option<sqlite::Database>,
}

pub struct Store {
    inner: Mutex<Inner>,
}

impl Store {
    pub fn open(config: &StorageConfig) -> Result<Self, StorageError> {
        let (organizations, sqlite) = match config {
            StorageConfig::Memory => (HashMap::new(), None),
            StorageConfig::Sqlite(path) => {
                let db = sqlite::Database::open(path)?;
                (db.load_all()?, Some(db))
            }
        };
        Ok(Store {
            inner: Mutex::new(Inner { organizations, sqlite }),
        })
    }

    pub fn memory() -> Self {
        Self::open(&StorageConfig::Memory).expect("an in-memory store cannot fail to open")
    }

    /// Reads the state.
    pub fn read<R>(&self, f: impl FnOnce(&HashMap<OrganizationID, Organization>) -> R) -> R {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(&inner.organizations)
    }

    /// Decides from the current state, then persists and applies the
    /// changes atomically. A storage failure applies nothing.
    pub fn write<R>(
        &self,
        f: impl FnOnce(&HashMap<OrganizationID, Organization>) -> (R, Vec<Change>),
    ) -> Result<R, StorageError> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (result, changes) = f(&inner.organizations);
        if changes.is_empty() {
            return Ok(result);
        }
        if let Some(db) = &mut inner.sqlite {
            db.persist(&changes)?;
        }
        for change in changes {
            model::apply(&mut inner.organizations, change);
        }
        Ok(result)
    }
}
