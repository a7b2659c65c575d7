//! Authenticated `totp_setup_get_secret`: the profile page's MFA status. It
//! creates the secret lazily, which then stays the same until confirmed.

use crate::protocol::Bytes;

crate::protocol::command! {
    cmd = "totp_setup_get_secret";
    req {}
    rep {
        Ok = "ok" { totp_secret: Bytes },
        AlreadySetup = "already_setup" {},
    }
}
