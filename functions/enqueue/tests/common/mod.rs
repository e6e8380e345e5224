//! Test harness: a real redis-server behind the local Upstash REST gateway, a random queue per
//! app, the enqueue Router served on a loopback port, and request helpers.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use scenergy_config::{Env, SecretString};
use scenergy_enqueue::{AppState, Settings, app};
use scenergy_queue::{Queue, QueueOptions};
use scenergy_redis::{Redis, RestConfig, RestTransport};
use serde_json::{Value, json};
use upstash_gateway::{GatewayConfig, SpawnedGateway};

pub const SECRET: &str = "enqueue-test-secret-0123456789abcdef";
pub const REST_TOKEN: &str = "enqueue-test-rest-token";
pub const TEST_TIMEOUT: Duration = Duration::from_secs(60);

pub struct TestApp {
    pub base: String,
    pub router: Router,
    pub queue: Queue,
    pub http: reqwest::Client,
    _gateway: SpawnedGateway,
}

pub fn random_name(prefix: &str) -> String {
    format!("{prefix}-{:016x}", rand::random::<u64>())
}

/// A token for `client`, valid for 10 minutes.
pub fn token(client: &str) -> String {
    scenergy_http::auth::mint(
        &SecretString::from(SECRET.to_owned()),
        client,
        Duration::from_secs(600),
    )
    .expect("mint a token")
}

/// A valid body with every field set.
pub fn body() -> Value {
    json!({
        "type": "image_generation",
        "sessionId": "session-1",
        "productIds": ["sku-1", "sku-2"],
        "prompt": "a sofa in a sunlit loft",
        "settings": {"aspectRatio": "4:3", "imageQuality": "2k", "variantsPerProduct": 2},
        "priority": "urgent"
    })
}

/// Serves `router` on a loopback port in the background; the base URL.
pub async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

/// The gateway, and the env every app shares (Redis over REST, the JWT secret).
pub async fn gateway() -> (SpawnedGateway, Vec<(String, String)>) {
    let (url, gateway) = upstash_gateway::spawn_local(GatewayConfig::new(
        scenergy_testkit::redis_url(),
        REST_TOKEN,
    ))
    .await
    .expect("the gateway starts in front of redis-server (infra/local/services.sh)");
    let env = vec![
        ("UPSTASH_REDIS_REST_URL".to_owned(), url),
        ("UPSTASH_REDIS_REST_TOKEN".to_owned(), REST_TOKEN.to_owned()),
        ("AUTH_JWT_SECRET".to_owned(), SECRET.to_owned()),
    ];
    (gateway, env)
}

pub fn rest_redis(env: &[(String, String)]) -> Redis {
    let url = env
        .iter()
        .find(|(k, _)| k == "UPSTASH_REDIS_REST_URL")
        .map(|(_, v)| v.clone())
        .unwrap();
    let mut config = RestConfig::new(url, REST_TOKEN);
    config.timeout = Duration::from_secs(10);
    Redis::new(RestTransport::new(config).unwrap())
}

impl TestApp {
    /// The enqueue app on a fresh queue, with `extra` env on top of the defaults.
    pub async fn spawn(extra: &[(&str, &str)]) -> Self {
        let (gateway, mut env) = gateway().await;
        env.push(("QUEUE_NAME".to_owned(), random_name("t")));
        env.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let settings = Settings::from_env(&Env::from_pairs(env.clone())).expect("valid settings");
        let redis = rest_redis(&env);
        let queue =
            Queue::new(redis.clone(), &settings.queue_name, QueueOptions::default()).unwrap();
        let router = app(AppState::new(settings, redis).unwrap());
        let base = serve(router.clone()).await;
        Self {
            base,
            router,
            queue,
            http: reqwest::Client::new(),
            _gateway: gateway,
        }
    }

    pub fn jobs_url(&self) -> String {
        format!("{}/api/jobs", self.base)
    }

    /// POSTs `body` as `client`.
    pub async fn enqueue(&self, client: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(self.jobs_url())
            .bearer_auth(token(client))
            .json(body)
            .send()
            .await
            .unwrap()
    }
}

/// Asserts a problem+json reply with `status`.
#[track_caller]
pub fn assert_problem(status: u16, got: u16, content_type: Option<&str>, body: &Value) {
    assert_eq!(got, status, "status; body: {body}");
    assert_eq!(
        content_type,
        Some("application/problem+json"),
        "content type; body: {body}"
    );
    assert!(body.get("title").is_some(), "a problem has a title: {body}");
}

/// Status, content type and JSON body of a reply.
pub async fn parts(response: reqwest::Response) -> (u16, Option<String>, Value) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.json().await.unwrap_or(Value::Null);
    (status, content_type, body)
}

/// Field paths named by a 400 problem.
pub fn fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
