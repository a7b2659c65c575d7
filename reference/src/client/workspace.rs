//! The device's local workspace: files encrypted with the device's
//! `local_symkey`, readable and writable with no server at all once the
//! device is unlocked (offline after login).
//!
//! Each file is one encrypted blob `<random id>.blob` holding its name and
//! content; names are inside the encryption, so the directory reveals only
//! how many files there are. A write replaces one blob atomically.

use super::config_dir::{ConfigDirError, write_atomically};
use crate::crypto::SecretKey;
use crate::protocol::codec::{Fields, MapBuilder, decode_value, encode_value};
use rmpv::Value;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error("no file named `{0}` in the workspace")]
    NotFound(String),
    #[error("`{0}` is not a valid file name (1 to 255 bytes, no `/`, no control characters)")]
    InvalidName(String),
    #[error("{path} cannot be decrypted with this device's key (damaged, or another device's)")]
    Undecryptable { path: PathBuf },
    #[error(transparent)]
    Storage(#[from] ConfigDirError),
}

pub struct Workspace {
    dir: PathBuf,
    key: SecretKey,
}

struct Entry {
    path: PathBuf,
    name: String,
    content: Vec<u8>,
}

impl Workspace {
    pub fn open(dir: impl Into<PathBuf>, key: SecretKey) -> Self {
        Workspace { dir: dir.into(), key }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn entries(&self) -> Result<Vec<Entry>, WorkspaceError> {
        let listing = match std::fs::read_dir(&self.dir) {
            Ok(listing) => listing,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(source) => {
                return Err(ConfigDirError::Io {
                    path: self.dir.clone(),
                    source,
                }
                .into());
            }
        };
        let mut entries = Vec::new();
        for path in listing.filter_map(|e| e.ok().map(|e| e.path())) {
            if path.extension().is_none_or(|ext| ext != "blob") {
                continue;
            }
            let bytes = std::fs::read(&path).map_err(|source| ConfigDirError::Io {
                path: path.clone(),
                source,
            })?;
            let (name, content) = self
                .open_blob(&bytes)
                .ok_or_else(|| WorkspaceError::Undecryptable { path: path.clone() })?;
            entries.push(Entry { path, name, content });
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    fn open_blob(&self, bytes: &[u8]) -> Option<(String, Vec<u8>)> {
        let clear = self.key.decrypt(bytes).ok()?;
        let value = decode_value(&clear).ok()?;
        let fields = Fields::new(&value, &["name", "content"]).ok()?;
        let name: String = fields.required("name").ok()?;
        let content = match fields.get("content")? {
            Value::Binary(b) => b.clone(),
            _ => return None,
        };
        Some((name, content))
    }

    /// File names, sorted.
    pub fn list(&self) -> Result<Vec<String>, WorkspaceError> {
        Ok(self.entries()?.into_iter().map(|e| e.name).collect())
    }

    pub fn read(&self, name: &str) -> Result<Vec<u8>, WorkspaceError> {
        self.entries()?
            .into_iter()
            .find(|e| e.name == name)
            .map(|e| e.content)
            .ok_or_else(|| WorkspaceError::NotFound(name.to_owned()))
    }

    /// Creates or replaces a file: either the old content or the new one is
    /// on disk at any instant.
    pub fn write(&self, name: &str, content: &[u8]) -> Result<(), WorkspaceError> {
        check_name(name)?;
        let path = match self.entries()?.into_iter().find(|e| e.name == name) {
            Some(existing) => existing.path,
            None => self
                .dir
                .join(format!("{}.blob", hex::encode(crate::crypto::random_array::<16>()))),
        };
        let clear = encode_value(
            &MapBuilder::new()
                .field("name", &name.to_owned())
                .raw("content", Value::Binary(content.to_vec()))
                .build(),
        );
        write_atomically(&path, &self.key.encrypt(&clear))?;
        Ok(())
    }

    pub fn remove(&self, name: &str) -> Result<(), WorkspaceError> {
        let entry = self
            .entries()?
            .into_iter()
            .find(|e| e.name == name)
            .ok_or_else(|| WorkspaceError::NotFound(name.to_owned()))?;
        std::fs::remove_file(&entry.path).map_err(|source| ConfigDirError::Io {
            path: entry.path.clone(),
            source,
        })?;
        Ok(())
    }
}

fn check_name(name: &str) -> Result<(), WorkspaceError> {
    let ok = !name.is_empty() && name.len() <= 255 && !name.contains('/') && !name.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        Err(WorkspaceError::InvalidName(name.to_owned()))
    }
}
