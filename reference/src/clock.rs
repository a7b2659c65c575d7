//! The one source of time. Every time-dependent decision of the server
//! (TOTP window, throttle, token ballpark, certificate timestamps) and every
//! timestamp the client signs reads it.

use crate::protocol::DateTime;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        DateTime::from_micros(since_epoch.as_micros() as i64)
    }
}

/// A clock that only moves when told to: simulated time for tests. Clones
/// share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn new(start: DateTime) -> Self {
        ManualClock(Arc::new(AtomicI64::new(start.as_micros())))
    }

    /// Starts at the current system time.
    pub fn starting_now() -> Self {
        Self::new(SystemClock.now())
    }

    pub fn set(&self, at: DateTime) {
        self.0.store(at.as_micros(), Ordering::SeqCst);
    }

    pub fn advance_micros(&self, micros: i64) {
        self.0.fetch_add(micros, Ordering::SeqCst);
    }

    pub fn advance_seconds(&self, seconds: i64) {
        self.advance_micros(seconds.saturating_mul(1_000_000));
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime {
        DateTime::from_micros(self.0.load(Ordering::SeqCst))
    }
}

/// The operating system's clock plus an offset that can only grow: how a
/// server whose time source is offset (not stopped) is mirrored by its
/// clients. Clones share the same offset.
#[derive(Debug, Clone, Default)]
pub struct OffsetClock(Arc<AtomicI64>);

impl OffsetClock {
    pub fn offset_micros(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }

    /// Moves the time forward; returns the new offset.
    pub fn advance_micros(&self, micros: i64) -> i64 {
        self.0.fetch_add(micros, Ordering::SeqCst) + micros
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> DateTime {
        DateTime::from_micros(SystemClock.now().as_micros() + self.offset_micros())
    }
}
