//! [`FaultProxy`]: a loopback TCP proxy in front of a real service that a test can switch off
//! and on, to stage an outage of a service it shares with other tests (PostgreSQL, an S3
//! server) without stopping the service itself.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Forwards `127.0.0.1:<port>` to an upstream address. While down it closes every open
/// connection and closes each new one at once, so clients see the same errors as with a
/// crashed server. Stops when dropped.
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    down: watch::Sender<bool>,
    refused: Arc<AtomicU64>,
    stopped: Arc<AtomicBool>,
}

impl FaultProxy {
    /// Starts forwarding to `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let (down, down_rx) = watch::channel(false);
        let refused = Arc::new(AtomicU64::new(0));
        let stopped = Arc::new(AtomicBool::new(false));
        let upstream = upstream.to_owned();
        let (refused_, stopped_) = (refused.clone(), stopped.clone());
        tokio::spawn(async move {
            while !stopped_.load(Ordering::Relaxed) {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                if *down_rx.borrow() {
                    refused_.fetch_add(1, Ordering::Relaxed);
                    drop(client);
                    continue;
                }
                tokio::spawn(forward(client, upstream.clone(), down_rx.clone()));
            }
        });
        Self {
            addr,
            down,
            refused,
            stopped,
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Cuts every connection and refuses new ones until [`FaultProxy::restore`].
    pub fn cut(&self) {
        let _ = self.down.send(true);
    }

    pub fn restore(&self) {
        let _ = self.down.send(false);
    }

    /// Connections refused while down: proof that the client really tried during the outage.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::Relaxed);
        let _ = self.down.send(true);
    }
}

async fn forward(mut client: TcpStream, upstream: String, mut down: watch::Receiver<bool>) {
    let Ok(mut server) = TcpStream::connect(&upstream).await else {
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        // Dropping both ends closes them mid-stream, as when a server dies.
        _ = down.wait_for(|d| *d) => {}
    }
}
