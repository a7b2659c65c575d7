//! Server-level `ping`.

crate::protocol::command! {
    cmd = "ping";
    req { ping: String }
    rep { Ok = "ok" { pong: String } }
}
