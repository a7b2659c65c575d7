//! Serving over TLS (`--ssl-certfile`/`--ssl-keyfile`, as `parsec run`):
//! rustls with the ring provider, certificates and key read from PEM files.
//!
//! Hand-made listener (about 40 lines) rather than axum-server: axum's own
//! `serve` takes any [`axum::serve::Listener`], so a TLS one is all that is
//! missing, without a second HTTP server stack.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// A client has this long to finish its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why `--ssl-certfile`/`--ssl-keyfile` cannot serve TLS.
#[derive(Debug, thiserror::Error)]
pub enum ServerTlsError {
    #[error("--ssl-certfile {}: {source}", path.display())]
    Certificates {
        path: std::path::PathBuf,
        source: rustls_pki_types::pem::Error,
    },
    #[error("--ssl-certfile {}: no PEM certificate in it", path.display())]
    NoCertificate { path: std::path::PathBuf },
    #[error("--ssl-keyfile {}: {source}", path.display())]
    Key {
        path: std::path::PathBuf,
        source: rustls_pki_types::pem::Error,
    },
    #[error("--ssl-certfile/--ssl-keyfile: {0}")]
    Pair(#[from] rustls::Error),
}

/// The server's TLS configuration from its PEM certificate chain and key.
pub fn server_config(certfile: &Path, keyfile: &Path) -> Result<Arc<rustls::ServerConfig>, ServerTlsError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_file_iter(certfile)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|source| ServerTlsError::Certificates {
            path: certfile.to_owned(),
            source,
        })?;
    if chain.is_empty() {
        return Err(ServerTlsError::NoCertificate {
            path: certfile.to_owned(),
        });
    }
    let key = PrivateKeyDer::from_pem_file(keyfile).map_err(|source| ServerTlsError::Key {
        path: keyfile.to_owned(),
        source,
    })?;
    crate::client::tls::install_crypto_provider();
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Accepts TCP connections and hands over those whose TLS handshake
/// succeeded; handshakes run side by side, so a slow or silent client
/// holds up no one.
pub struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TlsListener {
    pub fn new(listener: TcpListener, config: Arc<rustls::ServerConfig>) -> std::io::Result<Self> {
        let local = listener.local_addr()?;
        let acceptor = TlsAcceptor::from(config);
        let (sender, ready) = mpsc::channel(64);
        let task = tokio::spawn(async move {
            loop {
                let (tcp, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    // Out of file descriptors and the like: let it pass.
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let (acceptor, sender) = (acceptor.clone(), sender.clone());
                tokio::spawn(async move {
                    // A failed handshake is the client's problem (it sees
                    // the alert); the server carries on.
                    if let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        let _ = sender.send((tls, peer)).await;
                    }
                });
            }
        });
        Ok(TlsListener { local, ready, task })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(accepted) => accepted,
            // The accepting task only ends when aborted, by our own drop.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}
