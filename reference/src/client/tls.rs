//! How the client's HTTP requests reach a server: plain HTTP, or TLS
//! through rustls (ring provider, no OpenSSL), trusting the system's
//! authorities or only a private one (`--ca-cert`), and optionally sending
//! a server name's connections to another address (a proxy in front of it)
//! while still checking the certificate against that name.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

/// Installs the ring provider as the process's rustls default, once.
/// reqwest is built without a provider (its default, aws-lc-rs, is a long
/// C build), so every client is built after this.
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err: another part of the process installed one first; it serves.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Why an HTTP client could not be set up for TLS. Messages of foreign
/// errors are kept as text: the system configuration is cached and shared,
/// and rustls' and reqwest's errors cannot be cloned.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TlsSetupError {
    #[error("no TLS crypto provider installed")]
    NoProvider,
    #[error("the system's authorities: {0}")]
    SystemAuthorities(String),
    #[error("{0}")]
    Protocols(String),
    #[error("{0}")]
    Pem(String),
    #[error("no PEM certificate in it")]
    NoCertificate,
    #[error("{path}: {why}")]
    File {
        path: std::path::PathBuf,
        why: Box<TlsSetupError>,
    },
    #[error("{path}: {why}")]
    Read { path: std::path::PathBuf, why: String },
    #[error("cannot set up HTTPS: {0}")]
    Client(String),
}

/// TLS checked against the system's authorities, as reqwest does by
/// default, but with the authorities loaded once: reqwest reads and parses
/// every file of the system's store at each client it builds, and the
/// harness builds one per app (the self-check's CPU grew sevenfold).
fn system_tls_config() -> Result<rustls::ClientConfig, TlsSetupError> {
    static CONFIG: std::sync::OnceLock<Result<rustls::ClientConfig, TlsSetupError>> = std::sync::OnceLock::new();
    CONFIG
        .get_or_init(|| {
            install_crypto_provider();
            let provider = rustls::crypto::CryptoProvider::get_default()
                .cloned()
                .ok_or(TlsSetupError::NoProvider)?;
            let verifier = rustls_platform_verifier::Verifier::new(provider.clone())
                .map_err(|e| TlsSetupError::SystemAuthorities(e.to_string()))?;
            Ok(rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| TlsSetupError::Protocols(e.to_string()))?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth())
        })
        .clone()
}

/// What an HTTP client is built from (see the module's comment).
#[derive(Clone, Debug, Default)]
pub struct HttpSettings {
    /// PEM certificates of the only authorities trusted; `None`: the system's.
    authority: Option<Arc<Vec<u8>>>,
    /// Connections to this name go to this IP address (the URL's port is kept).
    resolve: Option<(String, SocketAddr)>,
}

impl HttpSettings {
    /// Trusts only the authorities in `pem` (one or more certificates).
    pub fn trusting_pem(pem: &[u8]) -> Result<Self, TlsSetupError> {
        let certificates = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| TlsSetupError::Pem(e.to_string()))?;
        if certificates.is_empty() {
            return Err(TlsSetupError::NoCertificate);
        }
        Ok(HttpSettings {
            authority: Some(Arc::new(pem.to_vec())),
            resolve: None,
        })
    }

    /// Trusts only the authorities of a PEM file.
    pub fn trusting_file(path: &Path) -> Result<Self, TlsSetupError> {
        let pem = std::fs::read(path).map_err(|e| TlsSetupError::Read {
            path: path.to_owned(),
            why: e.to_string(),
        })?;
        Self::trusting_pem(&pem).map_err(|why| TlsSetupError::File {
            path: path.to_owned(),
            why: Box::new(why),
        })
    }

    /// Connections to `name` go to `addr`'s IP address.
    pub fn resolving(mut self, name: &str, addr: SocketAddr) -> Self {
        self.resolve = Some((name.to_owned(), SocketAddr::new(addr.ip(), 0)));
        self
    }

    pub fn client(&self) -> Result<reqwest::Client, TlsSetupError> {
        self.builder()?.build().map_err(|e| TlsSetupError::Client(chain(&e)))
    }

    /// A client builder with these settings, for a caller that sets more
    /// (timeouts, connection pools: `parsec-mfa bench`).
    pub fn builder(&self) -> Result<reqwest::ClientBuilder, TlsSetupError> {
        install_crypto_provider();
        let mut builder =
            reqwest::Client::builder().user_agent(concat!("parsec-mfa-reference-client/", env!("CARGO_PKG_VERSION")));
        match &self.authority {
            Some(pem) => {
                let certificates =
                    reqwest::Certificate::from_pem_bundle(pem).map_err(|e| TlsSetupError::Pem(e.to_string()))?;
                builder = builder.tls_certs_only(certificates);
            }
            None => builder = builder.tls_backend_preconfigured(system_tls_config()?),
        }
        if let Some((name, addr)) = &self.resolve {
            builder = builder.resolve(name, *addr);
        }
        Ok(builder)
    }
}

/// The TLS failure behind a request's error, if that is why it failed: the
/// certificate is untrusted, for another name, expired, or the handshake
/// failed. Such failures are final: retrying cannot change a certificate.
pub fn tls_failure(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    if let Some(tls) = error.downcast_ref::<rustls::Error>() {
        return Some(describe(tls));
    }
    // An I/O error's `source()` skips the error it wraps (hyper wraps
    // tokio-rustls's `InvalidData` error in another one): look inside.
    if let Some(inner) = error.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref())
        && let Some(found) = tls_failure(inner)
    {
        return Some(found);
    }
    error.source().and_then(tls_failure)
}

fn describe(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(C::UnknownIssuer) => {
            "its TLS certificate is signed by an authority that is not trusted (UnknownIssuer)".into()
        }
        rustls::Error::InvalidCertificate(why @ (C::NotValidForName | C::NotValidForNameContext { .. })) => {
            format!("its TLS certificate is for another name ({why})")
        }
        rustls::Error::InvalidCertificate(why @ (C::Expired | C::ExpiredContext { .. })) => {
            format!("its TLS certificate has expired ({why})")
        }
        rustls::Error::InvalidCertificate(why) => format!("its TLS certificate is not accepted ({why})"),
        other => format!("the TLS handshake failed ({other})"),
    }
}

fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}
