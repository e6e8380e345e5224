//! Test harness: real redis-server, per-test namespaces, an in-process REST gateway.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use scenergy_redis::{Redis, RestConfig, RestTransport, TcpConfig, TcpTransport, TransportKind};
use upstash_gateway::{GatewayConfig, SpawnedGateway};

pub const TOKEN: &str = "keypool-test-token";

pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

thread_local! {
    /// Namespaces handed out on this test's thread, for [`cleanup`].
    static USED: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A random namespace so parallel tests never touch each other's keys.
pub fn namespace() -> String {
    let ns = format!("test:{:016x}", rand::random::<u64>());
    USED.with(|used| used.borrow_mut().push(ns.clone()));
    ns
}

/// Deletes the pool keys of the namespaces this thread's test used: pool state has no TTL, and
/// the server is shared.
pub async fn cleanup() {
    let spaces: Vec<String> = USED.with(|used| used.borrow_mut().drain(..).collect());
    if spaces.is_empty() {
        return;
    }
    let redis = Harness::tcp().await.redis;
    let mut del = scenergy_redis::Cmd::new("DEL");
    for ns in spaces {
        del = del
            .arg(format!("{{keys:{ns}}}:state"))
            .arg(format!("{{keys:{ns}}}:events"));
    }
    redis.query(&del).await.expect("cleanup DEL");
}

pub struct Harness {
    pub redis: Redis,
    pub kind: TransportKind,
    _gateway: Option<SpawnedGateway>,
}

impl Harness {
    pub async fn new(kind: TransportKind) -> Self {
        match kind {
            TransportKind::Tcp => Self::tcp().await,
            TransportKind::Rest => Self::rest().await,
        }
    }

    pub async fn tcp() -> Self {
        let transport = TcpTransport::connect(TcpConfig::new(redis_url()))
            .await
            .expect("redis-server is reachable at REDIS_URL (run infra/local/services.sh)");
        Self {
            redis: Redis::new(transport),
            kind: TransportKind::Tcp,
            _gateway: None,
        }
    }

    pub async fn rest() -> Self {
        let (url, gateway) = upstash_gateway::spawn_local(GatewayConfig::new(redis_url(), TOKEN))
            .await
            .expect("the gateway starts in front of redis-server");
        let mut config = RestConfig::new(url, TOKEN);
        config.timeout = Duration::from_secs(5);
        Self {
            redis: Redis::new(RestTransport::new(config).expect("client builds")),
            kind: TransportKind::Rest,
            _gateway: Some(gateway),
        }
    }
}
