//! Authenticated `totp_create_opaque_key`: a new server-held key for one
//! device file. Keys are never deleted, not even by a reset.

use crate::crypto::SecretKey;
use crate::protocol::TOTPOpaqueKeyID;

crate::protocol::command! {
    cmd = "totp_create_opaque_key";
    req {}
    rep {
        Ok = "ok" {
            opaque_key: SecretKey,
            opaque_key_id: TOTPOpaqueKeyID,
        },
    }
}
