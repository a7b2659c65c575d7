//! The reference client's deliberate defects (`parsec-mfa
//! --inject-client-fault NAME`, hidden): each breaks one client rule of
//! `docs/spec.md` (`CLIENT-n`), so that the self-check proves the client
//! rules' scenarios catch a client that breaks them, as the server's
//! defects do for its rules. The command line switches them on where it
//! changes what it does; this is only their list.

/// A deliberate defect of the client's commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ClientFault {
    /// CLIENT-1: the password is asked before the code.
    PasswordFirst,
    /// CLIENT-1: after a refused code, the password is asked anyway.
    PasswordAfterRefusedCode,
    /// CLIENT-2: a throttled login tells a wait 30 s longer than the server's.
    WrongWaitShown,
    /// CLIENT-3: a refused code is sent a second time.
    RefusedCodeRetried,
    /// CLIENT-3: a dropped connection is not retried.
    NoRetry,
    /// CLIENT-4: every workspace command first asks the server.
    WorkspaceNeedsServer,
    /// CLIENT-5: the opaque key the server released is kept on disk, and a
    /// later login that finds it asks no code.
    OpaqueKeyOnDisk,
    /// CLIENT-5: the authenticator key is written to the config directory.
    SecretOnDisk,
    /// CLIENT-6: a device of a user whose setup is confirmed shows a new
    /// key anyway (one the server never made).
    NewKeyOnSecondDevice,
    /// CLIENT-7: confirming a reset link wipes the local workspaces.
    ResetWipesLocalFiles,
    /// CLIENT-9: the QR code holds another key than the one printed.
    QrCodeOfAnotherKey,
    /// CLIENT-8: the server's protection advice is not checked at login.
    AdviceIgnored,
}

impl ClientFault {
    pub const ALL: [ClientFault; 12] = [
        ClientFault::PasswordFirst,
        ClientFault::PasswordAfterRefusedCode,
        ClientFault::WrongWaitShown,
        ClientFault::RefusedCodeRetried,
        ClientFault::NoRetry,
        ClientFault::WorkspaceNeedsServer,
        ClientFault::OpaqueKeyOnDisk,
        ClientFault::SecretOnDisk,
        ClientFault::NewKeyOnSecondDevice,
        ClientFault::ResetWipesLocalFiles,
        ClientFault::QrCodeOfAnotherKey,
        ClientFault::AdviceIgnored,
    ];

    /// Every defect's name, as `--inject-client-fault` takes it.
    pub const NAMES: [&'static str; 12] = [
        "password-first",
        "password-after-refused-code",
        "wrong-wait-shown",
        "refused-code-retried",
        "no-retry",
        "workspace-needs-server",
        "opaque-key-on-disk",
        "secret-on-disk",
        "new-key-on-second-device",
        "reset-wipes-local-files",
        "qr-code-of-another-key",
        "advice-ignored",
    ];

    pub fn name(self) -> &'static str {
        let index = Self::ALL.iter().position(|f| *f == self).unwrap_or_default();
        Self::NAMES[index]
    }

    /// The rule it breaks.
    pub fn rule(self) -> &'static str {
        match self {
            Self::PasswordFirst | Self::PasswordAfterRefusedCode => "CLIENT-1",
            Self::WrongWaitShown => "CLIENT-2",
            Self::RefusedCodeRetried | Self::NoRetry => "CLIENT-3",
            Self::WorkspaceNeedsServer => "CLIENT-4",
            Self::OpaqueKeyOnDisk | Self::SecretOnDisk => "CLIENT-5",
            Self::NewKeyOnSecondDevice => "CLIENT-6",
            Self::ResetWipesLocalFiles => "CLIENT-7",
            Self::AdviceIgnored => "CLIENT-8",
            Self::QrCodeOfAnotherKey => "CLIENT-9",
        }
    }
}

/// A name that is not a client defect.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a client fault (known: {known})", known = ClientFault::NAMES.join(", "))]
pub struct UnknownClientFault(pub String);

impl std::str::FromStr for ClientFault {
    type Err = UnknownClientFault;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::NAMES
            .iter()
            .position(|n| *n == name)
            .map(|i| Self::ALL[i])
            .ok_or_else(|| UnknownClientFault(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_defects_match() {
        for fault in ClientFault::ALL {
            assert_eq!(fault.name().parse::<ClientFault>().unwrap(), fault);
            assert!(fault.rule().starts_with("CLIENT-"));
        }
        assert!("lockout-disabled".parse::<ClientFault>().is_err());
    }
}
