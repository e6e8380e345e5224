//! Test harness: real redis-server, per-test namespaces, an in-process REST gateway, and a
//! transport wrapper that counts what reaches Redis.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use scenergy_redis::{
    Cmd, Redis, RedisError, RedisTransport, Reply, RestConfig, RestTransport, TcpConfig,
    TcpTransport, TransportKind, Value,
};
use upstash_gateway::{GatewayConfig, SpawnedGateway};

pub const TOKEN: &str = "ratelimit-test-token";

pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A random namespace so parallel tests never touch each other's keys.
pub fn namespace() -> String {
    format!("test:{:016x}", rand::random::<u64>())
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

/// Passes everything through to `inner` and counts the requests (EVALSHA, EVAL, …).
#[derive(Debug, Clone)]
pub struct Counting {
    inner: Redis,
    pub sent: Arc<AtomicUsize>,
}

impl Counting {
    pub fn wrap(inner: Redis) -> (Redis, Arc<AtomicUsize>) {
        let sent = Arc::new(AtomicUsize::new(0));
        let counting = Self {
            inner,
            sent: Arc::clone(&sent),
        };
        (Redis::new(counting), sent)
    }
}

#[async_trait]
impl RedisTransport for Counting {
    fn kind(&self) -> TransportKind {
        self.inner.kind()
    }

    async fn query(&self, cmd: &Cmd) -> Result<Value, RedisError> {
        self.sent.fetch_add(1, Ordering::SeqCst);
        self.inner.query(cmd).await
    }

    async fn pipeline(&self, cmds: &[Cmd]) -> Result<Vec<Reply>, RedisError> {
        self.sent.fetch_add(cmds.len(), Ordering::SeqCst);
        self.inner.pipeline(cmds).await
    }

    async fn transaction(&self, cmds: &[Cmd]) -> Result<Vec<Reply>, RedisError> {
        self.sent.fetch_add(cmds.len(), Ordering::SeqCst);
        self.inner.transaction(cmds).await
    }
}
