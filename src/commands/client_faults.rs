//! The reference client's deliberate defects, switched on by the hidden
//! `--inject-client-fault NAME` (their list and rules:
//! `parsec_mfa_reference::client::faults`). Off unless named; each command
//! asks [`on`] only where a defect changes what it does.

pub use parsec_mfa_reference::client::faults::ClientFault;
use std::collections::BTreeSet;
use std::sync::OnceLock;

static ACTIVE: OnceLock<BTreeSet<ClientFault>> = OnceLock::new();

/// Set once, from the command line, before the command runs.
pub fn activate(faults: &[ClientFault]) {
    let _ = ACTIVE.set(faults.iter().copied().collect());
}

/// Whether the defect is on.
pub fn on(fault: ClientFault) -> bool {
    ACTIVE.get().is_some_and(|active| active.contains(&fault))
}
