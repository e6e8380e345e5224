//! Test harness: real redis-server, per-test key prefixes, an in-process REST gateway.
#![allow(dead_code, unreachable_pub, unused_imports)]

use scenergy_redis::Redis;
use scenergy_testkit::TestRedis;
pub use scenergy_testkit::{GATEWAY_TOKEN as TOKEN, redis_url, rest_client as rest_with_token};

pub fn prefix() -> String {
    scenergy_testkit::unique_prefix("redis")
}

pub struct Harness {
    pub redis: Redis,
    pub prefix: String,
    pub gateway_url: String,
    _inner: TestRedis,
}

impl Harness {
    pub async fn tcp() -> Self {
        Self::from(TestRedis::tcp().await)
    }

    pub async fn rest() -> Self {
        Self::from(TestRedis::rest().await)
    }

    fn from(inner: TestRedis) -> Self {
        Self {
            redis: inner.redis.clone(),
            prefix: prefix(),
            gateway_url: inner.gateway_url.clone().unwrap_or_default(),
            _inner: inner,
        }
    }
}
