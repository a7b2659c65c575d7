//! The Network: a real TCP proxy between the client and the server, which
//! a scenario turns up, down, slow or flaky. Going down also cuts the
//! connections in use, as a lost Wi-Fi would.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    Up,
    /// Connections are accepted and closed at once; open ones are cut.
    Down,
    /// Each chunk, either way, is held this long.
    Slow(Duration),
    /// The next `n` connections are cut after the client has sent its
    /// request; later ones go through.
    Flaky {
        drops: usize,
    },
}

pub struct Network {
    addr: SocketAddr,
    condition: Arc<watch::Sender<Condition>>,
    dropped: Arc<AtomicUsize>,
    forwarded: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Network {
    fn drop(&mut self) {
        self.task.abort();
        // Cut the connections in use too.
        self.condition.send_replace(Condition::Down);
    }
}

impl Network {
    /// A proxy on a free loopback port that forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Network> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let condition = Arc::new(watch::channel(Condition::Up).0);
        let dropped = Arc::new(AtomicUsize::new(0));
        let forwarded = Arc::new(AtomicUsize::new(0));
        let (sender, d, f) = (condition.clone(), dropped.clone(), forwarded.clone());
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                // Decided at accept time, so a flaky count is exact.
                let mut drop_it = false;
                sender.send_if_modified(|c| match c {
                    Condition::Down => {
                        drop_it = true;
                        false
                    }
                    Condition::Flaky { drops } if *drops > 0 => {
                        drop_it = true;
                        *drops -= 1;
                        true
                    }
                    _ => false,
                });
                if drop_it {
                    d.fetch_add(1, Ordering::SeqCst);
                    tokio::spawn(drop_after_request(client));
                } else {
                    f.fetch_add(1, Ordering::SeqCst);
                    tokio::spawn(pump(client, upstream, sender.subscribe()));
                }
            }
        });
        Ok(Network {
            addr,
            condition,
            dropped,
            forwarded,
            task,
        })
    }

    /// Where the client connects.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn set(&self, condition: Condition) {
        self.condition.send_replace(condition);
    }

    pub fn condition(&self) -> Condition {
        *self.condition.borrow()
    }

    /// Connections refused or cut so far.
    pub fn dropped_connections(&self) -> usize {
        self.dropped.load(Ordering::SeqCst)
    }

    pub fn forwarded_connections(&self) -> usize {
        self.forwarded.load(Ordering::SeqCst)
    }
}

async fn drop_after_request(mut client: TcpStream) {
    let mut buf = vec![0u8; 16 * 1024];
    let _ = tokio::time::timeout(Duration::from_millis(200), client.read(&mut buf)).await;
    // Dropped: closed with no answer.
}

async fn pump(client: TcpStream, upstream: SocketAddr, mut watcher: watch::Receiver<Condition>) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let delay_watch = watcher.clone();
    let up = copy(&mut client_read, &mut server_write, delay_watch.clone());
    let down = copy(&mut server_read, &mut client_write, delay_watch);
    let cut = async {
        loop {
            if *watcher.borrow_and_update() == Condition::Down || watcher.changed().await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        _ = async { tokio::join!(up, down) } => {}
        _ = cut => {}
    }
}

async fn copy<R, W>(from: &mut R, to: &mut W, watcher: watch::Receiver<Condition>)
where
    R: AsyncReadExt + Unpin,
    W: AsyncWriteExt + Unpin,
{
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let condition = *watcher.borrow();
        if let Condition::Slow(delay) = condition {
            tokio::time::sleep(delay).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn echo_server() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 1024];
                    while let Ok(n) = s.read(&mut buf).await {
                        if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        addr
    }

    async fn round_trip(addr: SocketAddr) -> Option<Vec<u8>> {
        let mut s = TcpStream::connect(addr).await.ok()?;
        s.write_all(b"ping").await.ok()?;
        let mut buf = [0u8; 4];
        tokio::time::timeout(Duration::from_secs(2), s.read_exact(&mut buf))
            .await
            .ok()?
            .ok()?;
        Some(buf.to_vec())
    }

    #[tokio::test]
    async fn up_down_flaky_and_slow() {
        let network = Network::start(echo_server().await).await.unwrap();
        assert_eq!(round_trip(network.addr()).await.as_deref(), Some(&b"ping"[..]));
        network.set(Condition::Down);
        assert_eq!(round_trip(network.addr()).await, None);
        network.set(Condition::Flaky { drops: 2 });
        assert_eq!(round_trip(network.addr()).await, None);
        assert_eq!(round_trip(network.addr()).await, None);
        assert_eq!(round_trip(network.addr()).await.as_deref(), Some(&b"ping"[..]));
        assert_eq!(network.dropped_connections(), 3);
        network.set(Condition::Slow(Duration::from_millis(100)));
        let started = std::time::Instant::now();
        assert!(round_trip(network.addr()).await.is_some());
        assert!(started.elapsed() >= Duration::from_millis(200));
    }

    #[tokio::test]
    async fn going_down_cuts_open_connections() {
        let network = Network::start(echo_server().await).await.unwrap();
        let mut s = TcpStream::connect(network.addr()).await.unwrap();
        s.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        s.read_exact(&mut buf).await.unwrap();
        network.set(Condition::Down);
        let mut rest = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(2), s.read_to_end(&mut rest)).await;
        assert!(
            matches!(read, Ok(Ok(0)) | Ok(Err(_))),
            "the connection is closed: {read:?}"
        );
    }
}
