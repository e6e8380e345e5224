//! The shared redis-server over TCP, or over Upstash REST through an in-process gateway.

use std::time::Duration;

use scenergy_redis::{Redis, RestConfig, RestTransport, TcpConfig, TcpTransport, TransportKind};
use upstash_gateway::{GatewayConfig, SpawnedGateway};

use crate::redis_url;

/// The REST token of the gateways tests start.
pub const GATEWAY_TOKEN: &str = "scenergy-test-token";

/// Redis over one transport. Over REST it owns its gateway, which stops when this is dropped.
#[derive(Debug)]
pub struct TestRedis {
    pub redis: Redis,
    pub kind: TransportKind,
    /// Base URL of the gateway (REST only).
    pub gateway_url: Option<String>,
    _gateway: Option<SpawnedGateway>,
}

impl TestRedis {
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
            gateway_url: None,
            _gateway: None,
        }
    }

    pub async fn rest() -> Self {
        let config = GatewayConfig::new(redis_url(), GATEWAY_TOKEN);
        let (url, gateway) = upstash_gateway::spawn_local(config)
            .await
            .expect("the gateway starts in front of redis-server");
        Self {
            redis: rest_client(&url, GATEWAY_TOKEN),
            kind: TransportKind::Rest,
            gateway_url: Some(url),
            _gateway: Some(gateway),
        }
    }
}

/// A REST client for `url` with `token`, and a timeout that tolerates a loaded machine.
pub fn rest_client(url: &str, token: &str) -> Redis {
    let mut config = RestConfig::new(url, token);
    config.timeout = Duration::from_secs(10);
    Redis::new(RestTransport::new(config).expect("the REST client builds"))
}
