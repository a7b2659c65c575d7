//! `parsec3://` addresses and their `http(s)://…/redirect/…` forms.
//!
//! - server: `parsec3://host[:port][?no_ssl=true]`
//! - organization: `parsec3://host[:port]/Org[?no_ssl=true]`
//! - bootstrap: `…/Org?[no_ssl=true&]a=bootstrap_organization[&p=<b64url(msgpack(bin16 token))>]`
//! - TOTP reset: `…/Org?[no_ssl=true&]a=totp_reset&p=<b64url(msgpack([ext2 user_id, bin16 token]))>`
//!
//! The default port (443 with TLS, 80 without) is left out. The http
//! redirection form carries TLS in its scheme and drops `no_ssl`.

use crate::protocol::codec::{Wire, decode_value, encode_value};
use crate::protocol::{AccessToken, OrganizationID, UserID};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use rmpv::Value;
use std::fmt;
use std::str::FromStr;

pub const SCHEME: &str = "parsec3";
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddrError {
    #[error("Invalid URL: {0}")]
    InvalidUrl(String),
    #[error("Invalid URL scheme, expected `parsec3`")]
    BadScheme,
    #[error("Invalid OrganizationID")]
    InvalidOrganizationID,
    #[error("Missing mandatory `{0}` param")]
    MissingParam(&'static str),
    #[error("Multiple values for param `{0}`")]
    DuplicateParam(&'static str),
    #[error("Invalid `{param}` param value: {help}")]
    InvalidParamValue { param: &'static str, help: &'static str },
}

/// A URL split into the parts Parsec addresses use.
struct UrlParts {
    scheme: String,
    host: String,
    port: Option<u16>,
    path: String,
    query: Vec<(String, String)>,
}

impl UrlParts {
    fn parse(url: &str) -> Result<Self, AddrError> {
        let url = url.trim();
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| AddrError::InvalidUrl("missing `scheme://`".into()))?;
        let (rest, _fragment) = rest.split_once('#').unwrap_or((rest, ""));
        let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = match before_query.find('/') {
            Some(i) => before_query.split_at(i),
            None => (before_query, ""),
        };
        let (host, port) = split_host_port(authority)?;
        let query = query
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (decode_component(k), decode_component(v))
            })
            .collect();
        Ok(UrlParts {
            scheme: scheme.to_ascii_lowercase(),
            host,
            port,
            path: path.to_owned(),
            query,
        })
    }

    /// The single value of `name`, if any.
    fn param(&self, name: &'static str) -> Result<Option<&str>, AddrError> {
        let mut values = self.query.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(AddrError::DuplicateParam(name));
        }
        Ok(first)
    }

    fn no_ssl(&self) -> Result<bool, AddrError> {
        match self.param("no_ssl")? {
            None => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(_) => Err(AddrError::InvalidParamValue {
                param: "no_ssl",
                help: "Expected `no_ssl=true` or `no_ssl=false`",
            }),
        }
    }

    /// The organization in the path (after `/redirect` for redirections).
    fn organization(&self, redirection: bool) -> Result<OrganizationID, AddrError> {
        let path = if redirection {
            self.path
                .strip_prefix("/redirect")
                .ok_or_else(|| AddrError::InvalidUrl("a redirection URL path must start with `/redirect/`".into()))?
        } else {
            &self.path
        };
        let segment = path.strip_prefix('/').unwrap_or(path).trim_end_matches('/');
        percent_decode_str(segment)
            .decode_utf8()
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(AddrError::InvalidOrganizationID)
    }

    /// A `parsec3://` URL, or with `allow_redirection` an http(s) one.
    /// Returns the server and whether it was a redirection URL.
    fn server(&self, allow_redirection: bool) -> Result<(ServerAddr, bool), AddrError> {
        let (use_ssl, redirection) = match self.scheme.as_str() {
            SCHEME => (!self.no_ssl()?, false),
            "https" if allow_redirection => (true, true),
            "http" if allow_redirection => (false, true),
            _ => return Err(AddrError::BadScheme),
        };
        let default = if use_ssl { 443 } else { 80 };
        Ok((
            ServerAddr {
                hostname: self.host.clone(),
                port: self.port.filter(|p| *p != default),
                use_ssl,
            },
            redirection,
        ))
    }
}

fn split_host_port(authority: &str) -> Result<(String, Option<u16>), AddrError> {
    let bad_port = || AddrError::InvalidUrl("invalid port number".into());
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| AddrError::InvalidUrl("unclosed IPv6 address".into()))?;
        match after.strip_prefix(':') {
            Some(p) => (format!("[{host}]"), Some(p.parse().map_err(|_| bad_port())?)),
            None if after.is_empty() => (format!("[{host}]"), None),
            None => return Err(bad_port()),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p.parse().map_err(|_| bad_port())?)),
            None => (authority.to_owned(), None),
        }
    };
    let valid = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '[' | ']' | ':'));
    if !valid {
        return Err(AddrError::InvalidUrl("missing or invalid hostname".into()));
    }
    Ok((host.to_ascii_lowercase(), port))
}

fn decode_component(s: &str) -> String {
    percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// Where a Parsec server is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerAddr {
    pub hostname: String,
    /// Only when it is not the default for the scheme.
    pub port: Option<u16>,
    pub use_ssl: bool,
}

impl ServerAddr {
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(if self.use_ssl { 443 } else { 80 })
    }

    fn netloc(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.hostname),
            None => self.hostname.clone(),
        }
    }

    /// `http(s)://host[:port]/` followed by `path` (no leading slash).
    pub fn to_http_url(&self, path: &str) -> String {
        let scheme = if self.use_ssl { "https" } else { "http" };
        format!("{scheme}://{}/{path}", self.netloc())
    }

    /// `parsec3://host[:port]/<path>?[no_ssl=true&]<query>`.
    fn to_parsec_url(&self, path: &str, query: &[(&str, String)]) -> String {
        let mut params: Vec<String> = Vec::new();
        if !self.use_ssl {
            params.push("no_ssl=true".into());
        }
        params.extend(query.iter().map(|(k, v)| format!("{k}={v}")));
        let mut url = format!("{SCHEME}://{}", self.netloc());
        if !path.is_empty() {
            url.push('/');
            url.push_str(path);
        }
        if !params.is_empty() {
            url.push('?');
            url.push_str(&params.join("&"));
        }
        url
    }

    /// Reads `http(s)://host[:port][/]`, the form kept in device files.
    pub fn from_http_url(url: &str) -> Result<Self, AddrError> {
        let parts = UrlParts::parse(url)?;
        let use_ssl = match parts.scheme.as_str() {
            "https" => true,
            "http" => false,
            _ => return Err(AddrError::InvalidUrl("expected an http(s) URL".into())),
        };
        let default = if use_ssl { 443 } else { 80 };
        Ok(ServerAddr {
            hostname: parts.host,
            port: parts.port.filter(|p| *p != default),
            use_ssl,
        })
    }
}

impl fmt::Display for ServerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_parsec_url("", &[]))
    }
}

impl FromStr for ServerAddr {
    type Err = AddrError;
    fn from_str(s: &str) -> Result<Self, AddrError> {
        Ok(UrlParts::parse(s)?.server(false)?.0)
    }
}

/// The organization as one URL path segment.
pub fn encode_org(org: &OrganizationID) -> String {
    utf8_percent_encode(org.as_str(), PATH_SEGMENT).to_string()
}

/// An organization on a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationAddr {
    pub server: ServerAddr,
    pub organization_id: OrganizationID,
}

impl fmt::Display for OrganizationAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.server.to_parsec_url(&encode_org(&self.organization_id), &[]))
    }
}

impl FromStr for OrganizationAddr {
    type Err = AddrError;
    fn from_str(s: &str) -> Result<Self, AddrError> {
        let parts = UrlParts::parse(s)?;
        Ok(OrganizationAddr {
            server: parts.server(false)?.0,
            organization_id: parts.organization(false)?,
        })
    }
}

/// The link an administrator gets when creating an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootstrapAddr {
    pub server: ServerAddr,
    pub organization_id: OrganizationID,
    /// `None` for a spontaneous bootstrap.
    pub token: Option<AccessToken>,
}

const ACTION_BOOTSTRAP: &str = "bootstrap_organization";
const ACTION_TOTP_RESET: &str = "totp_reset";

impl BootstrapAddr {
    fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = vec![("a", ACTION_BOOTSTRAP.to_owned())];
        if let Some(token) = &self.token {
            q.push(("p", URL_SAFE_NO_PAD.encode(encode_value(&token.to_wire()))));
        }
        q
    }

    pub fn to_http_redirection_url(&self) -> String {
        redirection_url(&self.server, &self.organization_id, &self.query())
    }

    /// Parses the `parsec3://` form, or its http redirection form.
    pub fn parse_any(s: &str) -> Result<Self, AddrError> {
        let parts = UrlParts::parse(s)?;
        let (server, redirection) = parts.server(true)?;
        expect_action(&parts, ACTION_BOOTSTRAP)?;
        let token = match parts.param("p")? {
            None => None,
            Some(p) => {
                let bad = AddrError::InvalidParamValue {
                    param: "p",
                    help: "Invalid `p` parameter",
                };
                let raw = URL_SAFE_NO_PAD.decode(p).map_err(|_| bad.clone())?;
                let value = decode_value(&raw).map_err(|_| bad.clone())?;
                Some(AccessToken::from_wire(&value).map_err(|_| bad)?)
            }
        };
        Ok(BootstrapAddr {
            server,
            organization_id: parts.organization(redirection)?,
            token,
        })
    }
}

impl fmt::Display for BootstrapAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            &self
                .server
                .to_parsec_url(&encode_org(&self.organization_id), &self.query()),
        )
    }
}

impl FromStr for BootstrapAddr {
    type Err = AddrError;
    fn from_str(s: &str) -> Result<Self, AddrError> {
        Self::parse_any(s)
    }
}

/// The link of an administrator's MFA reset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpResetAddr {
    pub server: ServerAddr,
    pub organization_id: OrganizationID,
    pub user_id: UserID,
    pub token: AccessToken,
}

impl TotpResetAddr {
    /// `b64url_nopad(msgpack([ext2 user_id, bin16 token]))`: 50 characters.
    pub fn payload(&self) -> String {
        let value = Value::Array(vec![self.user_id.to_wire(), self.token.to_wire()]);
        URL_SAFE_NO_PAD.encode(encode_value(&value))
    }

    fn query(&self) -> Vec<(&'static str, String)> {
        vec![("a", ACTION_TOTP_RESET.to_owned()), ("p", self.payload())]
    }

    pub fn to_http_redirection_url(&self) -> String {
        redirection_url(&self.server, &self.organization_id, &self.query())
    }

    /// Parses the `parsec3://` form, or its http redirection form (as found
    /// in the reset email).
    pub fn parse_any(s: &str) -> Result<Self, AddrError> {
        let parts = UrlParts::parse(s)?;
        let (server, redirection) = parts.server(true)?;
        expect_action(&parts, ACTION_TOTP_RESET)?;
        let p = parts.param("p")?.ok_or(AddrError::MissingParam("p"))?;
        let (user_id, token) = decode_reset_payload(p).ok_or(AddrError::InvalidParamValue {
            param: "p",
            help: "Invalid `p` parameter",
        })?;
        Ok(TotpResetAddr {
            server,
            organization_id: parts.organization(redirection)?,
            user_id,
            token,
        })
    }
}

fn decode_reset_payload(p: &str) -> Option<(UserID, AccessToken)> {
    let raw = URL_SAFE_NO_PAD.decode(p).ok()?;
    match decode_value(&raw).ok()? {
        Value::Array(items) if items.len() == 2 => Some((
            UserID::from_wire(&items[0]).ok()?,
            AccessToken::from_wire(&items[1]).ok()?,
        )),
        _ => None,
    }
}

impl fmt::Display for TotpResetAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            &self
                .server
                .to_parsec_url(&encode_org(&self.organization_id), &self.query()),
        )
    }
}

impl FromStr for TotpResetAddr {
    type Err = AddrError;
    fn from_str(s: &str) -> Result<Self, AddrError> {
        Self::parse_any(s)
    }
}

fn expect_action(parts: &UrlParts, action: &'static str) -> Result<(), AddrError> {
    match parts.param("a")? {
        None => Err(AddrError::MissingParam("a")),
        Some(a) if a == action => Ok(()),
        Some(_) => Err(AddrError::InvalidParamValue {
            param: "a",
            help: if action == ACTION_TOTP_RESET {
                "Expected `a=totp_reset`"
            } else {
                "Expected `a=bootstrap_organization`"
            },
        }),
    }
}

fn redirection_url(server: &ServerAddr, org: &OrganizationID, query: &[(&str, String)]) -> String {
    let q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    server.to_http_url(&format!("redirect/{}?{}", encode_org(org), q.join("&")))
}

/// `GET /redirect/<path>?<query>` → the `parsec3://` URL the server answers
/// with (302): `no_ssl` of the request is dropped and set from the server's
/// own address.
pub fn redirect_target(server: &ServerAddr, path: &str, query: &str) -> String {
    let mut params: Vec<&str> = query
        .split('&')
        .filter(|kv| !kv.is_empty() && kv.split('=').next() != Some("no_ssl"))
        .collect();
    if !server.use_ssl {
        params.push("no_ssl=true");
    }
    let mut url = format!("{SCHEME}://{}/{path}", server.netloc());
    if !params.is_empty() {
        url.push('?');
        url.push_str(&params.join("&"));
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> TotpResetAddr {
        TotpResetAddr {
            server: "parsec3://parsec.example.com".parse().unwrap(),
            organization_id: "MyOrg".parse().unwrap(),
            user_id: UserID::from_hex("e6e0650b63ed491384471e51423de098").unwrap(),
            token: AccessToken::from_hex("33472c574a1bb42077ed5b95e8edd7fb").unwrap(),
        }
    }

    #[test]
    fn totp_reset_addr_matches_the_official_vector() {
        let addr = example();
        assert_eq!(
            addr.to_string(),
            "parsec3://parsec.example.com/MyOrg?a=totp_reset&p=ktgC5uBlC2PtSROERx5RQj3gmMQQM0csV0obtCB37VuV6O3X-w"
        );
        assert_eq!(
            addr.to_http_redirection_url(),
            "https://parsec.example.com/redirect/MyOrg?a=totp_reset&p=ktgC5uBlC2PtSROERx5RQj3gmMQQM0csV0obtCB37VuV6O3X-w"
        );
        assert_eq!(TotpResetAddr::parse_any(&addr.to_string()), Ok(addr.clone()));
        assert_eq!(TotpResetAddr::parse_any(&addr.to_http_redirection_url()), Ok(addr));
    }

    #[test]
    fn no_ssl_comes_before_the_action_and_default_ports_are_dropped() {
        let mut addr = example();
        addr.server = "parsec3://127.0.0.1:6770?no_ssl=true".parse().unwrap();
        assert_eq!(
            addr.to_string(),
            "parsec3://127.0.0.1:6770/MyOrg?no_ssl=true&a=totp_reset&p=ktgC5uBlC2PtSROERx5RQj3gmMQQM0csV0obtCB37VuV6O3X-w"
        );
        assert_eq!(
            addr.to_http_redirection_url(),
            "http://127.0.0.1:6770/redirect/MyOrg?a=totp_reset&p=ktgC5uBlC2PtSROERx5RQj3gmMQQM0csV0obtCB37VuV6O3X-w"
        );
        let s: ServerAddr = "parsec3://example.com:443".parse().unwrap();
        assert_eq!(s.to_string(), "parsec3://example.com");
    }

    #[test]
    fn unicode_organizations_are_percent_encoded() {
        let mut addr = example();
        addr.server = "parsec3://example.com".parse().unwrap();
        addr.organization_id = "Org-é_1".parse().unwrap();
        assert!(
            addr.to_string()
                .starts_with("parsec3://example.com/Org-%C3%A9_1?a=totp_reset&p=")
        );
        assert_eq!(TotpResetAddr::parse_any(&addr.to_string()), Ok(addr));
    }

    #[test]
    fn bad_reset_addresses_are_refused_with_the_official_reasons() {
        let base = "parsec3://parsec.example.com/MyOrg";
        for p in [
            "",
            "<dummy>",
            "ZHVtbXk",
            "xAA",
            "xAEA",
            "xBEAAAAAAAAAAAAAAAAAAAAAAA",
            "ksQQ5uBlC2PtSROERx5RQj3gmMQQM0csV0obtCB37VuV6O3X+w==",
        ] {
            assert_eq!(
                TotpResetAddr::parse_any(&format!("{base}?a=totp_reset&p={p}")),
                Err(AddrError::InvalidParamValue {
                    param: "p",
                    help: "Invalid `p` parameter"
                }),
                "{p}"
            );
        }
        assert_eq!(
            TotpResetAddr::parse_any(&format!("{base}?p=x")),
            Err(AddrError::MissingParam("a"))
        );
        assert!(matches!(
            TotpResetAddr::parse_any(&format!("{base}?a=dummy&p=x")),
            Err(AddrError::InvalidParamValue { param: "a", .. })
        ));
        assert_eq!(
            TotpResetAddr::parse_any(
                "parsec3://parsec.example.com?a=totp_reset&p=ktgC5uBlC2PtSROERx5RQj3gmMQQM0csV0obtCB37VuV6O3X-w"
            ),
            Err(AddrError::InvalidOrganizationID)
        );
        assert_eq!(
            ServerAddr::from_str("https://parsec.example.com"),
            Err(AddrError::BadScheme)
        );
    }
}
