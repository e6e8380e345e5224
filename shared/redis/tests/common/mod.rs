//! Test harness: real redis-server, per-test key prefixes, an in-process REST gateway.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use scenergy_redis::{Redis, RestConfig, RestTransport, TcpConfig, TcpTransport};
use upstash_gateway::{GatewayConfig, SpawnedGateway};

pub const TOKEN: &str = "conformance-token";

pub use scenergy_testkit::redis_url;

pub fn prefix() -> String {
    scenergy_testkit::unique_prefix("redis")
}

pub struct Harness {
    pub redis: Redis,
    pub prefix: String,
    pub gateway_url: String,
    _gateway: Option<SpawnedGateway>,
}

impl Harness {
    pub async fn tcp() -> Self {
        let transport = TcpTransport::connect(TcpConfig::new(redis_url()))
            .await
            .expect("redis-server is reachable at REDIS_URL (run infra/local/services.sh)");
        Self {
            redis: Redis::new(transport),
            prefix: prefix(),
            gateway_url: String::new(),
            _gateway: None,
        }
    }

    pub async fn rest() -> Self {
        let (url, gateway) = upstash_gateway::spawn_local(GatewayConfig::new(redis_url(), TOKEN))
            .await
            .expect("the gateway starts in front of redis-server");
        Self {
            redis: rest_with_token(&url, TOKEN),
            prefix: prefix(),
            gateway_url: url,
            _gateway: Some(gateway),
        }
    }
}

pub fn rest_with_token(url: &str, token: &str) -> Redis {
    let mut config = RestConfig::new(url, token);
    config.timeout = Duration::from_secs(5);
    Redis::new(RestTransport::new(config).expect("client builds"))
}
