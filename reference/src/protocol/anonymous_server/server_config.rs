//! `server_config`: what the server offers and advises, including the
//! advisory device file protections (API 5.5) that say whether MFA is
//! expected.

use crate::protocol::codec::{DecodeError, Fields, MapBuilder, UnknownStatus, ValueError, Wire, decode_value, encode_value};
use crate::protocol::types::wire_enum;
use rmpv::Value;
use std::fmt;
use std::str::FromStr;

pub const CMD: &str = "server_config";

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Req {}

impl Req {
    pub const FIELDS: &'static [&'static str] = &[];

    pub fn to_value(&self) -> Value {
        MapBuilder::with_tag("cmd", CMD).build()
    }

    pub fn dump(&self) -> Vec<u8> {
        encode_value(&self.to_value())
    }

    pub fn from_fields(fields: &Fields<'_>) -> Result<Self, DecodeError> {
        fields.deny_unknown(&["cmd"])?;
        Ok(Req {})
    }
}

wire_enum!(
    /// Whether Parsec accounts exist on this server.
    AccountConfig {
        Disabled = "DISABLED",
        EnabledWithVault = "ENABLED_WITH_VAULT",
        EnabledWithoutVault = "ENABLED_WITHOUT_VAULT",
    }
);

wire_enum!(
    /// How organizations get bootstrapped.
    OrganizationBootstrapConfig {
        WithBootstrapToken = "WITH_BOOTSTRAP_TOKEN",
        Spontaneous = "SPONTANEOUS",
    }
);

/// One OpenBao authentication method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenBaoAuthConfig {
    pub id: String,
    pub mount_path: String,
}

impl Wire for OpenBaoAuthConfig {
    fn to_wire(&self) -> Value {
        MapBuilder::new()
            .field("id", &self.id)
            .field("mount_path", &self.mount_path)
            .build()
    }
    fn from_wire(value: &Value) -> Result<Self, ValueError> {
        let f = Fields::new(value, &[])?;
        Ok(OpenBaoAuthConfig {
            id: f.required("id")?,
            mount_path: f.required("mount_path")?,
        })
    }
}

/// OpenBao (SSO-backed key storage), with only the KV2 secret engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenBaoConfig {
    Disabled,
    Enabled {
        server_url: String,
        /// Mount path of the KV2 secret engine.
        secret_mount_path: String,
        /// Introduced in API 5.4.
        transit_mount_path: Option<String>,
        auths: Vec<OpenBaoAuthConfig>,
    },
}

impl Wire for OpenBaoConfig {
    fn to_wire(&self) -> Value {
        match self {
            OpenBaoConfig::Disabled => MapBuilder::with_tag("type", "DISABLED").build(),
            OpenBaoConfig::Enabled {
                server_url,
                secret_mount_path,
                transit_mount_path,
                auths,
            } => MapBuilder::with_tag("type", "ENABLED")
                .field("auths", auths)
                .raw(
                    "secret",
                    MapBuilder::with_tag("type", "KV2")
                        .field("mount_path", secret_mount_path)
                        .build(),
                )
                .field("server_url", server_url)
                .optional("transit_mount_path", transit_mount_path)
                .build(),
        }
    }
    fn from_wire(value: &Value) -> Result<Self, ValueError> {
        let inner = |value: &Value| -> Result<Self, DecodeError> {
            let f = Fields::new(value, &[])?;
            match f.tag("type")? {
                "DISABLED" => Ok(OpenBaoConfig::Disabled),
                "ENABLED" => {
                    let secret = f.get("secret").ok_or(DecodeError::MissingField("secret"))?;
                    let secret = Fields::new(secret, &[])?;
                    match secret.tag("type")? {
                        "KV2" => {}
                        other => {
                            return Err(DecodeError::UnknownVariant {
                                kind: "OpenBaoSecretConfig",
                                value: other.to_owned(),
                            });
                        }
                    }
                    Ok(OpenBaoConfig::Enabled {
                        server_url: f.required("server_url")?,
                        secret_mount_path: secret.required("mount_path")?,
                        transit_mount_path: f.optional("transit_mount_path")?,
                        auths: f.required("auths")?,
                    })
                }
                other => Err(DecodeError::UnknownVariant {
                    kind: "OpenBaoConfig",
                    value: other.to_owned(),
                }),
            }
        };
        inner(value).map_err(ValueError::from)
    }
}

/// CryptPad integration (API 5.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CryptPadConfig {
    Disabled,
    Enabled { server_url: String },
}

impl Wire for CryptPadConfig {
    fn to_wire(&self) -> Value {
        match self {
            CryptPadConfig::Disabled => MapBuilder::with_tag("type", "DISABLED").build(),
            CryptPadConfig::Enabled { server_url } => MapBuilder::with_tag("type", "ENABLED")
                .field("server_url", server_url)
                .build(),
        }
    }
    fn from_wire(value: &Value) -> Result<Self, ValueError> {
        let f = Fields::new(value, &[])?;
        match f.tag("type")? {
            "DISABLED" => Ok(CryptPadConfig::Disabled),
            "ENABLED" => Ok(CryptPadConfig::Enabled {
                server_url: f.required("server_url")?,
            }),
            other => Err(ValueError::Invalid(format!("unknown CryptPadConfig `{other}`"))),
        }
    }
}

wire_enum!(
    /// The primary protection of a device file.
    PrimaryProtection {
        Password = "PASSWORD",
        Keyring = "KEYRING",
        Pki = "PKI",
        OpenBao = "OPENBAO",
        AccountVault = "ACCOUNT_VAULT",
    }
);

/// One advised device file protection: a primary strategy, with `+TOTP`
/// when MFA is part of the advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AdvisoryDeviceFileProtection {
    pub primary: PrimaryProtection,
    pub totp: bool,
}

impl AdvisoryDeviceFileProtection {
    /// Every value the official server accepts, in its documented order.
    pub fn all() -> Vec<Self> {
        PrimaryProtection::ALL
            .iter()
            .flat_map(|&primary| [false, true].map(|totp| AdvisoryDeviceFileProtection { primary, totp }))
            .collect()
    }
}

impl FromStr for AdvisoryDeviceFileProtection {
    type Err = ValueError;
    /// Case-sensitive; `TOTP+PASSWORD`, `PASSWORD+DUMMY`, `""` are refused.
    fn from_str(s: &str) -> Result<Self, ValueError> {
        let (primary, totp) = match s.strip_suffix("+TOTP") {
            Some(primary) => (primary, true),
            None => (s, false),
        };
        let primary = primary
            .parse()
            .map_err(|_| ValueError::Invalid(format!("unknown device file protection `{s}`")))?;
        Ok(AdvisoryDeviceFileProtection { primary, totp })
    }
}

impl fmt::Display for AdvisoryDeviceFileProtection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.primary.as_str())?;
        if self.totp {
            f.write_str("+TOTP")?;
        }
        Ok(())
    }
}

/// The `ok` reply's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    pub account: AccountConfig,
    /// Raw strings as sent: unknown values are kept here and dropped by
    /// [`ServerConfig::advisories`] (forward compatibility). `None` when the
    /// server predates API 5.5 and sent no field.
    pub advisory_device_file_protection: Option<Vec<String>>,
    pub cryptpad: Option<CryptPadConfig>,
    pub openbao: OpenBaoConfig,
    pub organization_bootstrap: OrganizationBootstrapConfig,
}

impl ServerConfig {
    /// The advised protections this client understands.
    pub fn advisories(&self) -> Vec<AdvisoryDeviceFileProtection> {
        self.advisory_device_file_protection
            .iter()
            .flatten()
            .filter_map(|s| s.parse().ok())
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Rep {
    Ok(ServerConfig),
    UnknownStatus(UnknownStatus),
}

impl Rep {
    pub fn status(&self) -> &str {
        match self {
            Rep::Ok(_) => "ok",
            Rep::UnknownStatus(u) => &u.status,
        }
    }

    pub fn to_value(&self) -> Value {
        match self {
            Rep::Ok(c) => MapBuilder::with_tag("status", "ok")
                .field("account", &c.account)
                .optional("advisory_device_file_protection", &c.advisory_device_file_protection)
                .optional("cryptpad", &c.cryptpad)
                .field("openbao", &c.openbao)
                .field("organization_bootstrap", &c.organization_bootstrap)
                .build(),
            Rep::UnknownStatus(u) => u.to_value(),
        }
    }

    pub fn dump(&self) -> Vec<u8> {
        encode_value(&self.to_value())
    }

    pub fn load(bytes: &[u8]) -> Result<Self, DecodeError> {
        let value = decode_value(bytes)?;
        let f = Fields::new(&value, &[])?;
        match f.tag("status")? {
            "ok" => Ok(Rep::Ok(ServerConfig {
                account: f.required("account")?,
                advisory_device_file_protection: f.optional("advisory_device_file_protection")?,
                cryptpad: f.optional("cryptpad")?,
                openbao: f.required("openbao")?,
                organization_bootstrap: f.required("organization_bootstrap")?,
            })),
            other => Ok(Rep::UnknownStatus(UnknownStatus::from_fields(other, &f)?)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advisory_parsing_matches_the_official_rules() {
        for ok in [
            "PASSWORD",
            "PASSWORD+TOTP",
            "KEYRING+TOTP",
            "PKI",
            "OPENBAO+TOTP",
            "ACCOUNT_VAULT",
        ] {
            let parsed: AdvisoryDeviceFileProtection = ok.parse().unwrap();
            assert_eq!(parsed.to_string(), ok);
        }
        for bad in ["DUMMY", "PASSWORD+DUMMY", "DUMMY+TOTP", "", "TOTP+PASSWORD", "password"] {
            assert!(bad.parse::<AdvisoryDeviceFileProtection>().is_err(), "{bad}");
        }
        assert_eq!(AdvisoryDeviceFileProtection::all().len(), 10);
    }
}
