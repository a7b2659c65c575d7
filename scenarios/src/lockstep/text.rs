//! The operations as one line of text, `kind name=value …` (e.g.
//! `fetch-key user=1 key=0 code=skewed(-1)`): what a written scenario's
//! steps and a replay read back. Hand-made: a dozen words, no grammar a
//! crate would add anything to.

use super::operations::{Code, Link, Op};
use std::collections::BTreeMap;
use std::fmt;

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Code::Right => f.write_str("right"),
            Code::Wrong => f.write_str("wrong"),
            Code::Skewed(steps) => write!(f, "skewed({steps:+})"),
            Code::OldSecret => f.write_str("old-secret"),
            Code::OtherUsers => f.write_str("other-users"),
            Code::Truncated => f.write_str("truncated"),
        }
    }
}

impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Link::Latest => "latest",
            Link::Replaced => "replaced",
            Link::Forged => "forged",
            Link::OtherUsers => "other-users",
        })
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind())?;
        match *self {
            Op::NewUser { org } => write!(f, " org={org}"),
            Op::NewOrganization => Ok(()),
            Op::SecondDevice { user } | Op::GetSecret { user } | Op::CreateKey { user } => {
                write!(f, " user={user}")
            }
            Op::FetchGuessedKey { user } | Op::Revoke { user } => write!(f, " user={user}"),
            Op::ConfirmSetup { user, code } => write!(f, " user={user} code={code}"),
            Op::FetchKey { user, key, code } => write!(f, " user={user} key={key} code={code}"),
            Op::FetchOthersKey { user, key } | Op::FetchInOtherOrganization { user, key } => {
                write!(f, " user={user} key={key}")
            }
            Op::Reset {
                user,
                by_email,
                send_email,
            } => write!(f, " user={user} by-email={by_email} send-email={send_email}"),
            Op::OpenResetLink { user, link } => write!(f, " user={user} link={link}"),
            Op::ConfirmReset { user, link, code } => write!(f, " user={user} link={link} code={code}"),
            Op::Freeze { user, frozen } => write!(f, " user={user} frozen={frozen}"),
            Op::WrongBurst { user, key, count } => write!(f, " user={user} key={key} count={count}"),
            Op::Advance { seconds } => write!(f, " seconds={seconds}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpTextError {
    #[error("`{0}` is not an operation of the explorer")]
    UnknownKind(String),
    #[error("`{word}`: expected name=value")]
    NotAField { word: String },
    #[error("{kind}: `{field}` is missing")]
    Missing { kind: String, field: &'static str },
    #[error("{kind}: `{field}={value}` is not valid")]
    Invalid {
        kind: String,
        field: &'static str,
        value: String,
    },
    #[error("{kind}: `{field}` is not one of its fields")]
    Unexpected { kind: String, field: String },
}

impl std::str::FromStr for Code {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Ok(match s {
            "right" => Code::Right,
            "wrong" => Code::Wrong,
            "old-secret" => Code::OldSecret,
            "other-users" => Code::OtherUsers,
            "truncated" => Code::Truncated,
            _ => {
                let steps = s.strip_prefix("skewed(").and_then(|r| r.strip_suffix(')')).ok_or(())?;
                Code::Skewed(steps.parse().map_err(|_| ())?)
            }
        })
    }
}

impl std::str::FromStr for Link {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Ok(match s {
            "latest" => Link::Latest,
            "replaced" => Link::Replaced,
            "forged" => Link::Forged,
            "other-users" => Link::OtherUsers,
            _ => return Err(()),
        })
    }
}

/// The fields of one line, each taken once.
struct Fields<'a> {
    kind: &'a str,
    values: BTreeMap<&'a str, &'a str>,
}

impl<'a> Fields<'a> {
    fn get<T: std::str::FromStr>(&mut self, field: &'static str) -> Result<T, OpTextError> {
        let value = self.values.remove(field).ok_or_else(|| OpTextError::Missing {
            kind: self.kind.to_owned(),
            field,
        })?;
        value.parse().map_err(|_| OpTextError::Invalid {
            kind: self.kind.to_owned(),
            field,
            value: value.to_owned(),
        })
    }

    fn done(self, op: Op) -> Result<Op, OpTextError> {
        match self.values.into_keys().next() {
            None => Ok(op),
            Some(field) => Err(OpTextError::Unexpected {
                kind: self.kind.to_owned(),
                field: field.to_owned(),
            }),
        }
    }
}

impl std::str::FromStr for Op {
    type Err = OpTextError;

    fn from_str(s: &str) -> Result<Self, OpTextError> {
        let mut words = s.split_whitespace();
        let kind = words.next().unwrap_or_default();
        let mut values = BTreeMap::new();
        for word in words {
            let (name, value) = word
                .split_once('=')
                .ok_or_else(|| OpTextError::NotAField { word: word.to_owned() })?;
            values.insert(name, value);
        }
        let mut f = Fields { kind, values };
        let op = match kind {
            "new-user" => Op::NewUser { org: f.get("org")? },
            "new-organization" => Op::NewOrganization,
            "second-device" => Op::SecondDevice { user: f.get("user")? },
            "get-secret" => Op::GetSecret { user: f.get("user")? },
            "confirm-setup" => Op::ConfirmSetup {
                user: f.get("user")?,
                code: f.get("code")?,
            },
            "create-key" => Op::CreateKey { user: f.get("user")? },
            "fetch-key" => Op::FetchKey {
                user: f.get("user")?,
                key: f.get("key")?,
                code: f.get("code")?,
            },
            "fetch-others-key" => Op::FetchOthersKey {
                user: f.get("user")?,
                key: f.get("key")?,
            },
            "fetch-in-other-organization" => Op::FetchInOtherOrganization {
                user: f.get("user")?,
                key: f.get("key")?,
            },
            "fetch-guessed-key" => Op::FetchGuessedKey { user: f.get("user")? },
            "reset" => Op::Reset {
                user: f.get("user")?,
                by_email: f.get("by-email")?,
                send_email: f.get("send-email")?,
            },
            "open-reset-link" => Op::OpenResetLink {
                user: f.get("user")?,
                link: f.get("link")?,
            },
            "confirm-reset" => Op::ConfirmReset {
                user: f.get("user")?,
                link: f.get("link")?,
                code: f.get("code")?,
            },
            "freeze" => Op::Freeze {
                user: f.get("user")?,
                frozen: f.get("frozen")?,
            },
            "revoke" => Op::Revoke { user: f.get("user")? },
            "wrong-burst" => Op::WrongBurst {
                user: f.get("user")?,
                key: f.get("key")?,
                count: f.get("count")?,
            },
            "advance" => Op::Advance {
                seconds: f.get("seconds")?,
            },
            other => return Err(OpTextError::UnknownKind(other.to_owned())),
        };
        f.done(op)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn every_operation_reads_back_as_written(op in super::super::operations::op(4, 600)) {
            let text = op.to_string();
            prop_assert_eq!(text.parse::<Op>(), Ok(op), "{}", text);
        }
    }

    #[test]
    fn bad_lines_say_what_is_wrong() {
        assert_eq!("jump".parse::<Op>(), Err(OpTextError::UnknownKind("jump".into())));
        assert!(matches!(
            "get-secret".parse::<Op>(),
            Err(OpTextError::Missing { field: "user", .. })
        ));
        assert!(matches!(
            "get-secret user=x".parse::<Op>(),
            Err(OpTextError::Invalid { .. })
        ));
        assert!(matches!(
            "get-secret user=1 key=2".parse::<Op>(),
            Err(OpTextError::Unexpected { .. })
        ));
        assert!(matches!(
            "get-secret 1".parse::<Op>(),
            Err(OpTextError::NotAField { .. })
        ));
    }
}
