//! Test harness: a real redis-server behind the local Upstash REST gateway, the real Gemini
//! simulator over HTTP (behind a recording proxy, so tests can see which model each call hit),
//! random rate-limit and key-pool namespaces per app, the Router on a loopback port, helpers.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use gemini_sim::{SimConfig, SpawnedSim};
use scenergy_analyze::{AppState, Settings, app};
use scenergy_config::{Env, SecretString};
use serde_json::{Value, json};
use upstash_gateway::{GatewayConfig, SpawnedGateway};

pub const SECRET: &str = "analyze-test-secret-0123456789abcdef";
pub const REST_TOKEN: &str = "analyze-test-rest-token";
pub const TEST_TIMEOUT: Duration = Duration::from_secs(60);
pub const TEXT_MODEL: &str = "gemini-2.5-flash-lite";
pub const VISION_MODEL: &str = "gemini-2.5-flash";
/// A real 1×1 PNG.
pub const PNG_1X1: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

/// One call that reached the simulator.
#[derive(Debug, Clone)]
pub struct SimCall {
    pub model: String,
    pub has_image: bool,
}

pub struct TestApp {
    pub base: String,
    pub router: Router,
    pub http: reqwest::Client,
    pub sim: Option<SpawnedSim>,
    pub calls: Arc<Mutex<Vec<SimCall>>>,
    _gateway: SpawnedGateway,
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

pub fn product(id: &str, name: &str) -> Value {
    json!({"id": id, "name": name, "description": "Solid oak frame with linen cushions"})
}

pub fn image_product(id: &str) -> Value {
    json!({"id": id, "name": "Brass desk lamp", "imageBase64": PNG_1X1, "mimeType": "image/png"})
}

pub fn body(products: &[Value]) -> Value {
    json!({ "products": products })
}

/// Serves `router` on a loopback port in the background; the base URL.
pub async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

/// Forwards every request to the simulator, noting the model and whether an image went along.
async fn recording_proxy(sim_base: String, calls: Arc<Mutex<Vec<SimCall>>>) -> String {
    let client = reqwest::Client::new();
    let forward = move |uri: Uri, headers: HeaderMap, body: Bytes| {
        let (client, sim_base, calls) = (client.clone(), sim_base.clone(), calls.clone());
        async move {
            let path = uri.path().to_owned();
            if let Some(target) = path.strip_prefix("/v1beta/models/") {
                let text = String::from_utf8_lossy(&body);
                calls.lock().unwrap().push(SimCall {
                    model: target.split(':').next().unwrap_or_default().to_owned(),
                    has_image: text.contains("inlineData") || text.contains("inline_data"),
                });
            }
            let mut request = client.post(format!("{sim_base}{path}")).body(body);
            for name in ["x-goog-api-key", "content-type"] {
                if let Some(v) = headers.get(name) {
                    request = request.header(name, v.as_bytes());
                }
            }
            let Ok(reply) = request.send().await else {
                return StatusCode::BAD_GATEWAY.into_response();
            };
            let status = StatusCode::from_u16(reply.status().as_u16()).unwrap();
            let bytes = reply.bytes().await.unwrap_or_default();
            Response::builder()
                .status(status)
                .header("content-type", "application/json")
                .body(axum::body::Body::from(bytes))
                .unwrap()
        }
    };
    serve(Router::new().fallback(forward)).await
}

/// How to build one app.
#[derive(Default)]
pub struct Options {
    /// Start the simulator with this config and give the app two keys.
    pub sim: Option<SimConfig>,
    pub env: Vec<(&'static str, String)>,
    /// Compresses the rate-limit window (default 60 s).
    pub window: Option<Duration>,
}

impl TestApp {
    pub async fn offline() -> Self {
        Self::spawn(Options::default()).await
    }

    pub async fn with_sim() -> Self {
        Self::spawn(Options {
            sim: Some(SimConfig::default()),
            ..Options::default()
        })
        .await
    }

    pub async fn spawn(options: Options) -> Self {
        let (gateway_url, gateway) = upstash_gateway::spawn_local(GatewayConfig::new(
            scenergy_testkit::redis_url(),
            REST_TOKEN,
        ))
        .await
        .expect("the gateway starts in front of redis-server (infra/local/services.sh)");
        let mut env: Vec<(String, String)> = vec![
            ("UPSTASH_REDIS_REST_URL".into(), gateway_url),
            ("UPSTASH_REDIS_REST_TOKEN".into(), REST_TOKEN.into()),
            ("AUTH_JWT_SECRET".into(), SECRET.into()),
            ("GEMINI_TEXT_MODEL".into(), TEXT_MODEL.into()),
            ("GEMINI_VISION_MODEL".into(), VISION_MODEL.into()),
        ];
        let calls = Arc::new(Mutex::new(Vec::new()));
        let sim = match options.sim {
            Some(config) => {
                let (sim_base, sim) = gemini_sim::spawn_local(config).await.expect("sim starts");
                let proxy = recording_proxy(sim_base, calls.clone()).await;
                env.push(("GEMINI_API_BASE_URL".into(), proxy));
                env.push(("GOOGLE_AI_STUDIO_API_KEY".into(), "k1".into()));
                env.push(("GOOGLE_AI_STUDIO_API_KEY_2".into(), "k2".into()));
                Some(sim)
            }
            None => None,
        };
        env.extend(options.env.into_iter().map(|(k, v)| (k.to_owned(), v)));
        let mut settings = Settings::from_env(&Env::from_pairs(env)).expect("valid settings");
        let namespace = scenergy_testkit::unique_prefix("analyze");
        settings.rate_limit = settings.rate_limit.with_namespace(namespace.clone());
        if let Some(window) = options.window {
            settings.rate_limit = settings.rate_limit.with_window(window);
        }
        settings.pool.namespace = namespace;
        let redis = scenergy_redis::connect(&settings.redis, Duration::from_secs(10))
            .await
            .unwrap();
        let router = app(AppState::new(settings, redis).expect("the state builds"));
        let base = serve(router.clone()).await;
        Self {
            base,
            router,
            http: reqwest::Client::new(),
            sim,
            calls,
            _gateway: gateway,
        }
    }

    pub fn url(&self) -> String {
        format!("{}/api/analyze", self.base)
    }

    /// POSTs `body` as client `acme`.
    pub async fn analyze(&self, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url())
            .bearer_auth(token("acme"))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub fn sim_calls(&self) -> Vec<SimCall> {
        self.calls.lock().unwrap().clone()
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
    let body = response.json().await.unwrap_or(Value::Null);
    (status, content_type, body)
}

/// Asserts a problem+json reply with `status`.
#[track_caller]
pub fn assert_problem(status: u16, got: &(u16, Option<String>, Value)) {
    assert_eq!(got.0, status, "status; body: {}", got.2);
    assert_eq!(
        got.1.as_deref(),
        Some("application/problem+json"),
        "content type; body: {}",
        got.2
    );
    assert!(
        got.2.get("title").is_some(),
        "a problem has a title: {}",
        got.2
    );
}

/// Field paths named by a problem.
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
