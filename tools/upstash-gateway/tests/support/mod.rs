//! Shared helpers: a gateway on a random port in front of the real redis-server, a reqwest
//! client with timeouts, and a random key prefix per test (keys are deleted by `cleanup`).

// Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use upstash_gateway::{GatewayConfig, SpawnedGateway, spawn_local};

/// Every test body runs under this bound.
pub(crate) const TEST_TIMEOUT: Duration = Duration::from_secs(60);

pub(crate) async fn bounded<F: Future<Output = ()>>(test: F) {
    tokio::time::timeout(TEST_TIMEOUT, test)
        .await
        .expect("test exceeded its time bound");
}

pub(crate) fn redis_url() -> String {
    std::env::var("REDIS_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned())
}

/// A unique, random-looking string per call (no `rand` needed).
pub(crate) fn unique(label: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{label}-{}-{nanos:x}-{n}", std::process::id())
}

#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) text: String,
    pub(crate) bytes: Vec<u8>,
}

impl Reply {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }

    pub(crate) fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub(crate) fn sync_token(&self) -> u64 {
        self.headers
            .get("upstash-sync-token")
            .expect("upstash-sync-token header")
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    }

    /// Asserts status and a JSON content type, returns the body.
    pub(crate) fn expect(&self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert!(
            self.content_type().starts_with("application/json"),
            "content type {:?}",
            self.content_type()
        );
        self.json()
    }

    /// The `error` text of a JSON error body with `status`.
    pub(crate) fn error(&self, status: u16) -> String {
        let body = self.expect(status);
        body["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error field: {body}"))
            .to_owned()
    }
}

#[derive(Debug)]
pub(crate) struct Gateway {
    pub(crate) base: String,
    pub(crate) token: String,
    pub(crate) prefix: String,
    pub(crate) http: reqwest::Client,
    _server: SpawnedGateway,
}

impl Gateway {
    pub(crate) async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub(crate) async fn start_with(tweak: impl FnOnce(&mut GatewayConfig)) -> Self {
        Self::start_on(&redis_url(), tweak).await
    }

    pub(crate) async fn start_on(redis_url: &str, tweak: impl FnOnce(&mut GatewayConfig)) -> Self {
        let token = unique("token");
        let mut config = GatewayConfig::new(redis_url, token.clone());
        tweak(&mut config);
        let (base, server) = spawn_local(config).await.expect("gateway starts");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .unwrap();
        Self {
            base,
            token,
            prefix: unique("ugw-test"),
            http,
            _server: server,
        }
    }

    /// A key under this test's prefix.
    pub(crate) fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }

    pub(crate) async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let resp = req.send().await.expect("request sent");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.expect("body read").to_vec();
        Reply {
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
            bytes,
        }
    }

    pub(crate) fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    /// POSTs a JSON body to `path`, optionally with `Upstash-Encoding: base64`.
    pub(crate) async fn post(&self, path: &str, body: &Value, base64: bool) -> Reply {
        let mut req = self.request(Method::POST, path).json(body);
        if base64 {
            req = req.header("Upstash-Encoding", "base64");
        }
        self.send(req).await
    }

    pub(crate) async fn cmd(&self, body: Value) -> Reply {
        self.post("/", &body, false).await
    }

    pub(crate) async fn cmd64(&self, body: Value) -> Reply {
        self.post("/", &body, true).await
    }

    /// The `result` of a successful single command.
    pub(crate) async fn ok(&self, body: Value) -> Value {
        self.cmd(body).await.expect(200)["result"].clone()
    }

    /// Deletes every key under this test's prefix.
    pub(crate) async fn cleanup(&self) {
        let script = "local n = 0 for _, k in ipairs(redis.call('KEYS', ARGV[1])) do \
                      n = n + redis.call('DEL', k) end return n";
        let pattern = format!("{}*", self.prefix);
        self.cmd(json!(["EVAL", script, 0, pattern]))
            .await
            .expect(200);
    }
}
