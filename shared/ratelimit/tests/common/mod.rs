//! Test harness: real redis-server, per-test namespaces, an in-process REST gateway, and a
//! transport wrapper that counts what reaches Redis.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use scenergy_redis::{Cmd, Redis, RedisError, RedisTransport, Reply, TransportKind, Value};

/// A random namespace so parallel tests never touch each other's keys.
pub fn namespace() -> String {
    format!("test:{:016x}", rand::random::<u64>())
}

/// Redis over one transport (TCP, or REST through an in-process gateway).
pub use scenergy_testkit::TestRedis as Harness;

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
