//! Anonymous `totp_fetch_opaque_key`: the login step. A valid code releases
//! the opaque key that opens the outer layer of an MFA-protected device file.

use crate::crypto::SecretKey;
use crate::protocol::{DateTime, TOTPOpaqueKeyID, UserID};

crate::protocol::command! {
    cmd = "totp_fetch_opaque_key";
    req {
        user_id: UserID,
        opaque_key_id: TOTPOpaqueKeyID,
        one_time_password: String,
    }
    rep {
        Ok = "ok" { opaque_key: SecretKey },
        /// Wrong code, and also: unknown user or key, revoked or frozen
        /// user, setup not completed.
        InvalidOneTimePassword = "invalid_one_time_password" {},
        /// Too many failures on this opaque key: no attempt is considered
        /// before `wait_until` (inclusive).
        Throttled = "throttled" { wait_until: DateTime },
    }
}
