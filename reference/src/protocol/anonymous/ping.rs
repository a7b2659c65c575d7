//! Anonymous `ping`: echoes a string back.

crate::protocol::command! {
    cmd = "ping";
    req { ping: String }
    rep { Ok = "ok" { pong: String } }
}
