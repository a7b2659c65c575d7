//! Anonymous `totp_setup_get_secret`: after an administrator's reset, the
//! reset link's user and token give access to the new TOTP secret.

use crate::protocol::{AccessToken, Bytes, UserID};

crate::protocol::command! {
    cmd = "totp_setup_get_secret";
    req {
        user_id: UserID,
        token: AccessToken,
    }
    rep {
        /// The raw secret (20 bytes from the official server); the
        /// authenticator app gets it in base32.
        Ok = "ok" { totp_secret: Bytes },
        /// Wrong or used token, unknown, revoked or frozen user, setup done.
        BadToken = "bad_token" {},
    }
}
