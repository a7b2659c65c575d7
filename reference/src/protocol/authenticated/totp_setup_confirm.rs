//! Authenticated `totp_setup_confirm`: the user proves the authenticator app
//! holds the secret by sending its current code.

crate::protocol::command! {
    cmd = "totp_setup_confirm";
    req { one_time_password: String }
    rep {
        Ok = "ok" {},
        InvalidOneTimePassword = "invalid_one_time_password" {},
        AlreadySetup = "already_setup" {},
    }
}
