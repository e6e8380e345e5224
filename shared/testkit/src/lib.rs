//! Helpers for integration tests against real services: where Redis is, unique key prefixes,
//! free ports, a private redis-server a test may kill and restart, and a time bound for test
//! bodies, Redis over either transport ([`TestRedis`]) for suites that must pass on both, a
//! real S3-compatible server ([`S3Server`]) and a TCP proxy that can cut a service off
//! ([`FaultProxy`]) for outage tests.
//! Only ever a dev-dependency; nothing here is linked into a binary.

mod proxy;
mod s3;
mod transports;

pub use proxy::FaultProxy;
pub use s3::S3Server;
pub use transports::{GATEWAY_TOKEN, TestRedis, rest_client};

use std::future::Future;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// The shared redis-server the tests use (`infra/local/services.sh` starts it).
pub fn redis_url() -> String {
    std::env::var("REDIS_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned())
}

/// A random prefix, so tests sharing one server never touch each other's keys.
pub fn unique_prefix(label: &str) -> String {
    format!("test:{label}:{:016x}", rand::random::<u64>())
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Runs a test body under a time bound, so a hung service fails the test instead of CI.
pub async fn bounded<F: Future>(limit: Duration, test: F) -> F::Output {
    tokio::time::timeout(limit, test)
        .await
        .unwrap_or_else(|_| panic!("test exceeded its time bound of {limit:?}"))
}

/// A redis-server of the test's own on `port`, so the test may kill and restart it.
/// The shared server is never stopped. Killed when dropped.
#[derive(Debug)]
pub struct OwnRedis {
    child: tokio::process::Child,
    port: u16,
}

impl OwnRedis {
    pub async fn start(port: u16) -> Self {
        let child = tokio::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server is installed (infra/local/services.sh installs it)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "redis-server did not start on port {port}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Self { child, port }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server and waits until it is gone.
    pub async fn kill(mut self) {
        self.child.kill().await.expect("kill our redis-server");
        self.child.wait().await.expect("reap our redis-server");
    }
}
