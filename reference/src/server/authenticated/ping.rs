//! Authenticated `ping`. The official 3.9.3 server answers HTTP 500 here (no
//! handler registered); we answer as the schema says.

use crate::protocol::authenticated::ping::{Rep, Req};

pub fn handle(req: Req) -> Rep {
    Rep::Ok { pong: req.ping }
}
