//! Authenticated `ping`. (The official 3.9.3 server registers no handler and
//! answers HTTP 500; the reference server answers it.)

crate::protocol::command! {
    cmd = "ping";
    req { ping: String }
    rep { Ok = "ok" { pong: String } }
}
