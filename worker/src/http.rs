//! The worker's HTTP surface, one Router for `worker serve` and the tests:
//!
//! - `GET /healthz`: liveness (the process answers);
//! - `GET /readyz`: Redis, PostgreSQL and storage reachable, each within a bound;
//! - `POST /drain`: runs jobs until the queue is empty or `deadlineSecs` passes, then answers
//!   with a [`RunSummary`]. Bearer `WORKER_TOKEN`, or a QStash `Upstash-Signature`. The drain
//!   runs on its own task that the handler awaits, so it finishes its work when the caller
//!   hangs up.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use scenergy_config::{ExposeSecret, SecretString};
use scenergy_http::Problem;
use serde::{Deserialize, Serialize};
use serde_json::json;
use subtle::ConstantTimeEq;
use tokio_util::sync::CancellationToken;

use crate::engine::{RunSummary, Worker};
use crate::qstash::Verifier;
use crate::settings::DrainAuth;

/// How long each readiness probe may take.
const READY_TIMEOUT: Duration = Duration::from_secs(3);
/// The largest `/drain` body (QStash forwards the publisher's body; ours is tiny or empty).
const MAX_DRAIN_BODY: usize = 4 * 1024;

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    worker: Worker,
    auth: Arc<Auth>,
    /// Fires on SIGTERM: running drains wind down with the process.
    shutdown: CancellationToken,
}

#[derive(Debug)]
struct Auth {
    worker_token: Option<SecretString>,
    qstash: Option<Verifier>,
    public_url: Option<String>,
}

impl AppState {
    pub fn new(worker: Worker, auth: DrainAuth, shutdown: CancellationToken) -> Self {
        Self {
            worker,
            auth: Arc::new(Auth {
                worker_token: auth.worker_token,
                qstash: auth
                    .qstash_keys
                    .map(|(current, next)| Verifier::new(current, next)),
                public_url: auth.public_url,
            }),
            shutdown,
        }
    }
}

pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route(
            "/drain",
            post(drain).fallback(|| async { scenergy_http::problem::method_not_allowed("POST") }),
        )
        .fallback(scenergy_http::problem::not_found_fallback)
        .with_state(state)
}

async fn healthz() -> impl IntoResponse {
    axum::Json(json!({"status": "ok"}))
}

async fn readyz(State(state): State<AppState>) -> Response {
    let worker = &state.worker;
    let bounded =
        |name: &'static str, check: futures::future::BoxFuture<'static, Result<(), String>>| async move {
            let outcome = match tokio::time::timeout(READY_TIMEOUT, check).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(error)) => Err(error),
                Err(_) => Err(format!("no answer within {READY_TIMEOUT:?}")),
            };
            if let Err(error) = &outcome {
                tracing::warn!(check = name, %error, "not ready");
            }
            (name, outcome.is_ok())
        };
    let redis = worker.queue().redis().clone();
    let db = worker.db().clone();
    let storage = worker.storage().clone();
    let checks = futures::future::join_all([
        bounded(
            "redis",
            Box::pin(async move {
                redis
                    .query(&scenergy_redis::Cmd::new("PING"))
                    .await
                    .map(drop)
                    .map_err(|e| e.to_string())
            }),
        ),
        bounded(
            "database",
            Box::pin(async move { scenergy_db::ping(&db).await.map_err(|e| e.to_string()) }),
        ),
        bounded(
            "storage",
            Box::pin(async move { storage.ping().await.map_err(|e| e.to_string()) }),
        ),
    ])
    .await;
    let ready = checks.iter().all(|(_, ok)| *ok);
    let body = json!({
        "status": if ready { "ready" } else { "unavailable" },
        "checks": checks
            .iter()
            .map(|(name, ok)| (name.to_string(), json!(if *ok { "ok" } else { "unreachable" })))
            .collect::<serde_json::Map<_, _>>(),
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

/// The optional `/drain` body.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DrainRequest {
    deadline_secs: Option<u64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DrainReply {
    #[serde(flatten)]
    summary: RunSummary,
    deadline_secs: u64,
}

fn authorize(auth: &Auth, headers: &HeaderMap, body: &[u8]) -> Result<(), Problem> {
    if let Some(expected) = &auth.worker_token
        && let Some(bearer) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        && bool::from(
            bearer
                .trim()
                .as_bytes()
                .ct_eq(expected.expose_secret().as_bytes()),
        )
    {
        return Ok(());
    }
    if let Some(verifier) = &auth.qstash
        && let Some(signature) = headers
            .get("upstash-signature")
            .and_then(|v| v.to_str().ok())
    {
        return verifier
            .verify(signature, body, auth.public_url.as_deref())
            .map_err(|error| {
                tracing::warn!(%error, "refused a /drain signature");
                Problem::unauthorized("invalid Upstash-Signature")
            });
    }
    Err(Problem::unauthorized(
        "a bearer WORKER_TOKEN or a QStash Upstash-Signature is required",
    ))
}

async fn drain(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if body.len() > MAX_DRAIN_BODY {
        return Problem::payload_too_large().into_response();
    }
    if let Err(problem) = authorize(&state.auth, &headers, &body) {
        return problem.into_response();
    }
    // QStash forwards whatever the publisher sent, so only a JSON object is read as options.
    let request = if body.iter().all(u8::is_ascii_whitespace) {
        DrainRequest::default()
    } else {
        match scenergy_http::json::parse::<DrainRequest>(&body) {
            Ok(r) => r,
            Err(problem) => return problem.into_response(),
        }
    };
    let max = state.worker.settings().drain_deadline;
    let deadline = request
        .deadline_secs
        .map_or(max, |s| Duration::from_secs(s.max(1)).min(max));

    let (worker, shutdown) = (state.worker.clone(), state.shutdown.clone());
    // On a task of its own: if the caller hangs up, this handler is dropped but the drain
    // goes on to its end and leaves no job half-done.
    let run = tokio::spawn(async move { worker.drain(deadline, &shutdown).await });
    match run.await {
        Ok(summary) => axum::Json(DrainReply {
            summary,
            deadline_secs: deadline.as_secs(),
        })
        .into_response(),
        Err(error) => {
            Problem::internal(&anyhow::anyhow!("drain task failed: {error}")).into_response()
        }
    }
}
