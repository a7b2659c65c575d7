//! The client's configuration directory: device files and the local
//! workspaces of each device.
//!
//! ```text
//! <config>/devices/<device id hex>.keys     one DeviceFilePassword each
//! <config>/workspaces/<device id hex>/      that device's local workspace
//! ```
//!
//! Every file is replaced atomically (written beside, synced, renamed), so a
//! crash or a dropped connection never leaves a half-written device file.

use crate::protocol::DeviceID;
use crate::protocol::local_device::DeviceFilePassword;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigDirError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a valid device file: {reason}")]
    InvalidDeviceFile { path: PathBuf, reason: String },
    #[error("no device matches `{0}` (see `parsec-mfa device list`)")]
    NoSuchDevice(String),
    #[error("several devices match `{0}`: give more of the device id")]
    AmbiguousDevice(String),
}

#[derive(Debug, Clone)]
pub struct ConfigDir {
    root: PathBuf,
}

impl ConfigDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ConfigDir { root: root.into() }
    }

    /// `$XDG_CONFIG_HOME/parsec-mfa`, or `~/.config/parsec-mfa`.
    pub fn default_location() -> PathBuf {
        std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".config")))
            .unwrap_or_else(|| PathBuf::from("."))
            .join("parsec-mfa")
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn device_path(&self, device_id: DeviceID) -> PathBuf {
        self.root.join("devices").join(format!("{}.keys", device_id.hex()))
    }

    pub fn workspace_dir(&self, device_id: DeviceID) -> PathBuf {
        self.root.join("workspaces").join(device_id.hex())
    }

    pub fn save_device(&self, file: &DeviceFilePassword) -> Result<PathBuf, ConfigDirError> {
        let path = self.device_path(file.device_id);
        write_atomically(&path, &file.dump())?;
        Ok(path)
    }

    pub fn load_device_file(path: &Path) -> Result<DeviceFilePassword, ConfigDirError> {
        let bytes = std::fs::read(path).map_err(|source| ConfigDirError::Io {
            path: path.to_owned(),
            source,
        })?;
        DeviceFilePassword::load(&bytes).map_err(|e| ConfigDirError::InvalidDeviceFile {
            path: path.to_owned(),
            reason: e.to_string(),
        })
    }

    /// Every device file, sorted by path. Files that do not decode are
    /// reported, not skipped.
    pub fn devices(&self) -> Result<Vec<(PathBuf, DeviceFilePassword)>, ConfigDirError> {
        let dir = self.root.join("devices");
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(source) => return Err(ConfigDirError::Io { path: dir, source }),
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|ext| ext == "keys"))
            .collect();
        paths.sort();
        paths
            .into_iter()
            .map(|p| Self::load_device_file(&p).map(|f| (p, f)))
            .collect()
    }

    /// A device by a prefix of its id, or by its user's email when that
    /// user has only one device here.
    pub fn find_device(&self, selector: &str) -> Result<(PathBuf, DeviceFilePassword), ConfigDirError> {
        let wanted = selector.to_ascii_lowercase();
        let mut matches: Vec<_> = self
            .devices()?
            .into_iter()
            .filter(|(_, f)| f.device_id.hex().starts_with(&wanted) || f.human_handle.email == selector)
            .collect();
        match matches.len() {
            0 => Err(ConfigDirError::NoSuchDevice(selector.to_owned())),
            1 => Ok(matches.remove(0)),
            _ => Err(ConfigDirError::AmbiguousDevice(selector.to_owned())),
        }
    }
}

/// Writes `bytes` at `path` so that readers see the old content or the new
/// one, never a mix: temporary file in the same directory, fsync, rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ConfigDirError> {
    let io = |source| ConfigDirError::Io {
        path: path.to_owned(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.{}.tmp",
        hex::encode(crate::crypto::random_array::<6>())
    ));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // The rename itself is durable once the directory is synced.
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}
