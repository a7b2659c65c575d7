//! The server administrator's advice on device protection
//! (`advisory_device_file_protection` of `server_config`), read as the
//! official client does. Only the `+TOTP` variants make MFA mandatory.

use crate::protocol::anonymous_server::server_config::{AdvisoryDeviceFileProtection, PrimaryProtection};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The server gives no advice.
    NoAdvice,
    /// The device's protection is among the advised ones.
    Allowed,
    /// Its primary method is advised only with `+TOTP`, and MFA is not enabled.
    MfaRequired,
    /// Its primary method is not advised at all.
    MethodNotAllowed,
}

/// The verdict for a password-protected device (the only primary protection
/// of the reference client), with or without MFA.
pub fn evaluate(advice: &[AdvisoryDeviceFileProtection], mfa_protected: bool) -> Verdict {
    if advice.is_empty() {
        return Verdict::NoAdvice;
    }
    let for_password = |totp| {
        advice.contains(&AdvisoryDeviceFileProtection {
            primary: PrimaryProtection::Password,
            totp,
        })
    };
    match (for_password(false), for_password(true)) {
        (true, _) => Verdict::Allowed,
        (false, true) if mfa_protected => Verdict::Allowed,
        (false, true) => Verdict::MfaRequired,
        (false, false) => Verdict::MethodNotAllowed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advice(list: &[&str]) -> Vec<AdvisoryDeviceFileProtection> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn only_totp_variants_make_mfa_mandatory() {
        assert_eq!(evaluate(&[], false), Verdict::NoAdvice);
        assert_eq!(evaluate(&advice(&["PASSWORD+TOTP"]), false), Verdict::MfaRequired);
        assert_eq!(evaluate(&advice(&["PASSWORD+TOTP", "PKI"]), true), Verdict::Allowed);
        assert_eq!(evaluate(&advice(&["PASSWORD"]), false), Verdict::Allowed);
        assert_eq!(
            evaluate(&advice(&["PASSWORD", "PASSWORD+TOTP"]), false),
            Verdict::Allowed
        );
        assert_eq!(
            evaluate(&advice(&["PKI+TOTP", "KEYRING"]), false),
            Verdict::MethodNotAllowed
        );
        assert_eq!(evaluate(&advice(&["PKI+TOTP"]), true), Verdict::MethodNotAllowed);
    }
}
