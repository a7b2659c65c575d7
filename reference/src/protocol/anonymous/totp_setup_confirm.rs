//! Anonymous `totp_setup_confirm`: completes the re-setup started by a reset
//! link with a code from the new authenticator entry.

use crate::protocol::{AccessToken, UserID};

crate::protocol::command! {
    cmd = "totp_setup_confirm";
    req {
        user_id: UserID,
        token: AccessToken,
        one_time_password: String,
    }
    rep {
        Ok = "ok" {},
        InvalidOneTimePassword = "invalid_one_time_password" {},
        BadToken = "bad_token" {},
    }
}
