//! Test harness: a real redis-server behind the local Upstash REST gateway, the enqueue and the
//! status Routers on loopback ports over one random queue, and request helpers.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use axum::Router;
use scenergy_config::{Env, SecretString};
use scenergy_queue::{Queue, QueueOptions};
use scenergy_redis::{Redis, RestConfig, RestTransport};
use serde_json::{Value, json};
use upstash_gateway::{GatewayConfig, SpawnedGateway};

pub const SECRET: &str = "status-test-secret-0123456789abcdef";
pub const REST_TOKEN: &str = "status-test-rest-token";
pub const TEST_TIMEOUT: Duration = Duration::from_secs(60);

pub struct TestApps {
    pub enqueue_base: String,
    pub status_base: String,
    pub status_router: Router,
    pub queue: Queue,
    pub http: reqwest::Client,
    _gateway: SpawnedGateway,
}

pub fn token(client: &str) -> String {
    scenergy_http::auth::mint(
        &SecretString::from(SECRET.to_owned()),
        client,
        Duration::from_secs(600),
    )
    .expect("mint a token")
}

pub fn body() -> Value {
    json!({
        "type": "image_generation",
        "sessionId": "session-1",
        "productIds": ["sku-1"],
        "prompt": "a lamp on an oak desk",
        "settings": {"aspectRatio": "1:1"}
    })
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

impl TestApps {
    pub async fn spawn() -> Self {
        let (url, gateway) = upstash_gateway::spawn_local(GatewayConfig::new(
            scenergy_testkit::redis_url(),
            REST_TOKEN,
        ))
        .await
        .expect("the gateway starts in front of redis-server (infra/local/services.sh)");
        let queue_name = format!("t-{:016x}", rand::random::<u64>());
        let env = Env::from_pairs([
            ("UPSTASH_REDIS_REST_URL", url.as_str()),
            ("UPSTASH_REDIS_REST_TOKEN", REST_TOKEN),
            ("AUTH_JWT_SECRET", SECRET),
            ("QUEUE_NAME", queue_name.as_str()),
        ]);
        let mut config = RestConfig::new(&url, REST_TOKEN);
        config.timeout = Duration::from_secs(10);
        // One client per function, as on Lambda: they share no sync token.
        let rest = || Redis::new(RestTransport::new(config.clone()).unwrap());

        let enqueue = scenergy_enqueue::Settings::from_env(&env).unwrap();
        let enqueue = scenergy_enqueue::AppState::new(enqueue, rest()).unwrap();
        let status = scenergy_status::Settings::from_env(&env).unwrap();
        let status_router = scenergy_status::app(scenergy_status::AppState::new(status, rest()));
        Self {
            enqueue_base: serve(scenergy_enqueue::app(enqueue)).await,
            status_base: serve(status_router.clone()).await,
            status_router,
            queue: Queue::new(rest(), &queue_name, QueueOptions::default()).unwrap(),
            http: reqwest::Client::new(),
            _gateway: gateway,
        }
    }

    /// Enqueues a job as `client`; its id.
    pub async fn enqueue(&self, client: &str) -> String {
        let response = self
            .http
            .post(format!("{}/api/jobs", self.enqueue_base))
            .bearer_auth(token(client))
            .json(&body())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
        let reply: Value = response.json().await.unwrap();
        reply["jobId"].as_str().unwrap().to_owned()
    }

    pub fn job_url(&self, id: &str) -> String {
        format!("{}/api/jobs/{id}", self.status_base)
    }

    pub async fn get(&self, client: &str, id: &str) -> reqwest::Response {
        self.http
            .get(self.job_url(id))
            .bearer_auth(token(client))
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, client: &str, id: &str) -> reqwest::Response {
        self.http
            .delete(self.job_url(id))
            .bearer_auth(token(client))
            .send()
            .await
            .unwrap()
    }
}

/// Status, content type and JSON body of a reply.
pub async fn parts(response: reqwest::Response) -> (u16, Option<String>, Value) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (
        status,
        content_type,
        response.json().await.unwrap_or(Value::Null),
    )
}

#[track_caller]
pub fn assert_problem(status: u16, (got, content_type, body): &(u16, Option<String>, Value)) {
    assert_eq!(*got, status, "status; body: {body}");
    assert_eq!(
        content_type.as_deref(),
        Some("application/problem+json"),
        "content type; body: {body}"
    );
    assert!(body.get("title").is_some(), "a problem has a title: {body}");
}
