//! What a device keeps on disk: the device keys (`LocalDevice`) encrypted
//! in a password-protected device file (`DeviceFilePassword`), optionally
//! wrapped a second time by a server-held TOTP opaque key.

mod device_file_password;
// One file per official schema, named like it.
#[allow(clippy::module_inception)]
mod local_device;

pub use device_file_password::{DeviceFilePassword, PasswordAlgorithm};
pub use local_device::LocalDevice;
