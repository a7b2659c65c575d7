use crate::protocol::anonymous::ping::{Rep, Req};

pub fn handle(req: Req) -> Rep {
    Rep::Ok { pong: req.ping }
}
