//! The Parsec wire protocol (API 5.5) as far as the MFA lifecycle needs it.
//!
//! One file per command, grouped by family like the official schemas
//! (`anonymous_cmds/`, `authenticated_cmds/`, `anonymous_server_cmds/`).
//! Requests encode as `{cmd, <fields in schema order>}`; replies as
//! `{status, <fields in alphabetical order>}`, which is what the official
//! implementation writes (checked against its vectors and a recorded
//! transcript).

pub mod addr;
pub mod admin;
pub mod anonymous;
pub mod anonymous_server;
pub mod authenticated;
pub mod certif;
pub mod codec;
pub mod local_device;
pub mod token;
pub mod types;

pub use codec::{Bytes, DecodeError, ValueError};
pub use types::*;

/// The API version this implementation speaks (and the only major accepted).
pub const API_VERSION: (u32, u32) = (5, 5);
pub const API_VERSION_STR: &str = "5.5";
pub const CONTENT_TYPE_MSGPACK: &str = "application/msgpack";
/// Request bodies larger than this are refused with 413.
pub const MAX_CONTENT_LENGTH: usize = 1024 * 1024;

impl<T: codec::Wire> codec::Wire for Option<T> {
    /// `RequiredOption<T>`: `nil` stands for none.
    fn to_wire(&self) -> rmpv::Value {
        self.as_ref().map_or(rmpv::Value::Nil, codec::Wire::to_wire)
    }
    fn from_wire(value: &rmpv::Value) -> Result<Self, ValueError> {
        match value {
            rmpv::Value::Nil => Ok(None),
            other => T::from_wire(other).map(Some),
        }
    }
}

/// A command request, tied to its reply type: what a client sends.
pub trait Request {
    type Rep;
    /// The command's name (`cmd`), as errors name it.
    const CMD: &'static str;
    fn dump(&self) -> Vec<u8>;
    fn load_rep(bytes: &[u8]) -> Result<Self::Rep, DecodeError>;
}

/// Declares one command: its request and every reply variant.
///
/// Reply fields must be listed in alphabetical order (the official encoder
/// writes them so); request fields in schema order.
macro_rules! command {
    (
        $(#[$doc:meta])*
        cmd = $cmd:literal;
        req { $($rf:ident : $rt:ty),* $(,)? }
        rep { $($(#[$vdoc:meta])* $variant:ident = $status:literal { $($pf:ident : $pt:ty),* $(,)? }),+ $(,)? }
    ) => {
        #[allow(unused_imports)]
        use $crate::protocol::codec::{DecodeError, Fields, MapBuilder, UnknownStatus, encode_value, decode_value};

        pub const CMD: &str = $cmd;

        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct Req { $(pub $rf: $rt),* }

        impl Req {
            pub const FIELDS: &'static [&'static str] = &[$(stringify!($rf)),*];

            pub fn to_value(&self) -> rmpv::Value {
                MapBuilder::with_tag("cmd", CMD)
                    $(.field(stringify!($rf), &self.$rf))*
                    .build()
            }

            pub fn dump(&self) -> Vec<u8> {
                encode_value(&self.to_value())
            }

            /// Reads the fields of a request whose `cmd` is already known.
            /// Unknown fields are ignored, except in requests without fields,
            /// which the official decoder wants exactly `{cmd}`.
            pub fn from_fields(fields: &Fields<'_>) -> Result<Self, DecodeError> {
                if Self::FIELDS.is_empty() {
                    fields.deny_unknown(&["cmd"])?;
                }
                Ok(Req { $($rf: fields.required(stringify!($rf))?),* })
            }

            pub fn load(bytes: &[u8]) -> Result<Self, DecodeError> {
                let value = decode_value(bytes)?;
                let fields = Fields::new(&value, &[])?;
                match fields.tag("cmd")? {
                    CMD => Self::from_fields(&fields),
                    other => Err(DecodeError::UnknownCommand(other.to_owned())),
                }
            }
        }

        /// Every reply the server may send to this command.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Rep {
            $($(#[$vdoc])* $variant { $($pf: $pt),* },)+
            /// A status this protocol version does not know.
            UnknownStatus(UnknownStatus),
        }

        impl $crate::protocol::Request for Req {
            type Rep = Rep;
            const CMD: &'static str = CMD;
            fn dump(&self) -> Vec<u8> {
                Req::dump(self)
            }
            fn load_rep(bytes: &[u8]) -> Result<Rep, DecodeError> {
                Rep::load(bytes)
            }
        }

        impl Rep {
            pub fn status(&self) -> &str {
                match self {
                    $(Rep::$variant { .. } => $status,)+
                    Rep::UnknownStatus(u) => &u.status,
                }
            }

            pub fn to_value(&self) -> rmpv::Value {
                match self {
                    $(Rep::$variant { $($pf),* } => MapBuilder::with_tag("status", $status)
                        $(.field(stringify!($pf), $pf))*
                        .build(),)+
                    Rep::UnknownStatus(u) => u.to_value(),
                }
            }

            pub fn dump(&self) -> Vec<u8> {
                encode_value(&self.to_value())
            }

            pub fn load(bytes: &[u8]) -> Result<Self, DecodeError> {
                let value = decode_value(bytes)?;
                let fields = Fields::new(&value, &[])?;
                match fields.tag("status")? {
                    $($status => Ok(Rep::$variant { $($pf: fields.required(stringify!($pf))?),* }),)+
                    other => Ok(Rep::UnknownStatus(UnknownStatus::from_fields(other, &fields)?)),
                }
            }
        }
    };
}
pub(crate) use command;

/// Declares a command family: the enum of its requests, decoded by `cmd`.
macro_rules! family {
    ($(#[$doc:meta])* $name:ident { $($variant:ident($module:ident)),+ $(,)? }) => {
        $(pub mod $module;)+

        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq)]
        pub enum $name {
            $($variant($module::Req),)+
        }

        impl $name {
            /// Decodes any request of this family. An unknown `cmd`, a
            /// missing field or a wrong type is a [`DecodeError`] (HTTP 415).
            pub fn load(bytes: &[u8]) -> Result<Self, $crate::protocol::DecodeError> {
                let value = $crate::protocol::codec::decode_value(bytes)?;
                let fields = $crate::protocol::codec::Fields::new(&value, &[])?;
                match fields.tag("cmd")? {
                    $($module::CMD => $module::Req::from_fields(&fields).map($name::$variant),)+
                    other => Err($crate::protocol::DecodeError::UnknownCommand(other.to_owned())),
                }
            }

            pub fn cmd(&self) -> &'static str {
                match self {
                    $($name::$variant(_) => $module::CMD,)+
                }
            }

            pub fn dump(&self) -> Vec<u8> {
                match self {
                    $($name::$variant(req) => req.dump(),)+
                }
            }
        }
    };
}
pub(crate) use family;
