//! What one operation is seen to do, normalized so that two servers with
//! different secrets, ids and clocks can be compared: the reply's kind,
//! `wait_until` relative to the clock, whether a key equals the one
//! created, the email sent (its recipient as the user's index), and
//! whether a link or login worked.

use parsec_mfa_reference::client::ConnectionError;
use parsec_mfa_reference::client::admin::AdminError;
use parsec_mfa_reference::client::enrollment::EnrollmentError;
use parsec_mfa_reference::client::mfa::MfaError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Observation {
    /// The operation had nothing to act on (no such user or key yet).
    Nothing,
    Ok,
    /// A secret handed out: its length, whether it is the one this user
    /// was shown last, and whether another user holds the same.
    Secret {
        bytes: usize,
        same_as_before: bool,
        shared: bool,
    },
    AlreadySetup,
    /// A key created: whether its id or value equals an earlier key's.
    KeyCreated {
        reused: bool,
    },
    /// A key opened: whether it is the one created for that id.
    KeyFetched {
        equals_created: bool,
        /// Whether it is another key the explorer knows (someone else's).
        someone_elses: bool,
    },
    /// The administrator froze or unfroze: the state the server reports.
    Frozen {
        frozen: bool,
    },
    InvalidCode,
    /// Throttled: `wait_until` minus the clock at sending, in seconds.
    Throttled {
        wait_seconds: i64,
    },
    BadToken,
    /// An administrator's reset: the email status, and the email that
    /// arrived (the index of its recipient, whether it holds the link).
    Reset {
        email_status: String,
        email_to: Option<usize>,
        link_in_email: bool,
    },
    /// The administration API refused, with its HTTP status.
    AdminRefused {
        status: u16,
    },
    /// The request was refused before its command (frozen, revoked, …).
    Refused {
        why: String,
    },
    /// A command's status the client does not know.
    UnknownStatus {
        status: String,
    },
    /// The operation could not be carried out on that server (its
    /// organization could not be made, …): why.
    Failed {
        why: String,
    },
    /// Burst outcomes: how many of each, in a fixed order.
    Burst {
        invalid: usize,
        throttled: usize,
        opened: usize,
        other: usize,
    },
}

impl Observation {
    /// Whether two observations agree; `slack` seconds of `wait_until`
    /// are tolerated where the clock flows between sending and reading.
    pub fn agrees(&self, other: &Observation, slack: i64) -> bool {
        match (self, other) {
            (Observation::Throttled { wait_seconds: a }, Observation::Throttled { wait_seconds: b }) => {
                (a - b).abs() <= slack
            }
            _ => self == other,
        }
    }
}

impl From<&ConnectionError> for Observation {
    fn from(e: &ConnectionError) -> Self {
        let why = match e {
            ConnectionError::UserFrozen => "user_frozen".to_owned(),
            ConnectionError::UserRevoked => "user_revoked".to_owned(),
            ConnectionError::OrganizationNotFound => "organization_not_found".to_owned(),
            ConnectionError::BadAuthentication => "bad_authentication".to_owned(),
            ConnectionError::TokenExpired => "token_expired".to_owned(),
            // The text of transport failures names ports and ids: only the kind.
            ConnectionError::Unreachable(_) => "unreachable".to_owned(),
            ConnectionError::InvalidResponse(_) => "invalid_response".to_owned(),
            other => format!("{other}"),
        };
        Observation::Refused { why }
    }
}

impl From<&MfaError> for Observation {
    fn from(e: &MfaError) -> Self {
        match e {
            MfaError::InvalidOneTimePassword => Observation::InvalidCode,
            // Relative to the clock: set by the caller, which knows when it sent.
            MfaError::Throttled { .. } => Observation::Throttled { wait_seconds: 0 },
            MfaError::AlreadySetup => Observation::AlreadySetup,
            MfaError::BadToken => Observation::BadToken,
            MfaError::Connection(c) => c.into(),
            MfaError::UnknownStatus(s) => Observation::UnknownStatus { status: s.clone() },
        }
    }
}

impl From<&EnrollmentError> for Observation {
    fn from(e: &EnrollmentError) -> Self {
        match e {
            EnrollmentError::Connection(c) => c.into(),
            other => Observation::Refused { why: other.to_string() },
        }
    }
}

impl From<&AdminError> for Observation {
    fn from(e: &AdminError) -> Self {
        match e {
            AdminError::Refused { status, .. } => Observation::AdminRefused { status: *status },
            AdminError::Unexpected { status, .. } => Observation::UnknownStatus { status: status.clone() },
            AdminError::Unreachable(_) => Observation::Refused {
                why: "unreachable".into(),
            },
            AdminError::Tls(_) => Observation::Refused { why: "tls".into() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttles_agree_within_the_slack_only() {
        let a = Observation::Throttled { wait_seconds: 4 };
        assert!(a.agrees(&Observation::Throttled { wait_seconds: 4 }, 0));
        assert!(!a.agrees(&Observation::Throttled { wait_seconds: 5 }, 0));
        assert!(a.agrees(&Observation::Throttled { wait_seconds: 5 }, 1));
        assert!(!a.agrees(&Observation::InvalidCode, 1));
    }
}
