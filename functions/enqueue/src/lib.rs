//! The enqueue function (`POST /api/jobs`): authenticates the client, validates the job, applies
//! the per-client rate limit, puts the job on the priority queue (honouring `Idempotency-Key`),
//! wakes the worker and answers `202 {jobId, status, statusUrl}`.
//!
//! It owns the HTTP surface of enqueueing and nothing else: the queue protocol belongs to
//! `scenergy-queue`, the auth and problem JSON to `scenergy-http`. The same [`app`] runs under
//! `lambda_http` on Lambda, as plain HTTP locally, and in the tests.
//!
//! # Layout
//! - [`settings`]: [`Settings`] from the environment (`QUEUE_NAME`, `WAKE_TRANSPORT`, …).
//! - [`request`]: the body, its bounds, and validation that reports every invalid field.
//! - `handler.rs`: the `POST /api/jobs` handler.
//! - [`ratelimit`]: the per-client limit (`lua/client_rate.lua`).
//! - [`wake`]: the worker wake over HTTP or QStash.

mod handler;
pub mod ratelimit;
pub mod request;
pub mod settings;
pub mod wake;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::routing::post;
use scenergy_http::JwtVerifier;
use scenergy_queue::{Queue, QueueError, QueueOptions};
use scenergy_redis::Redis;
use tower_http::cors::CorsLayer;

pub use handler::{EnqueueReply, REPLAYED_HEADER};
pub use ratelimit::ClientRateLimit;
pub use settings::{Settings, WakeConfig};
pub use wake::Waker;

/// Largest accepted body: far above any valid job (50 ids and a 4,000-character prompt).
pub const BODY_LIMIT_BYTES: usize = 256 * 1024;

/// Why the state could not be built from valid settings.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("the queue could not be set up")]
    Queue(#[from] QueueError),
    #[error("the wake HTTP client could not be built")]
    Wake(#[from] reqwest::Error),
}

/// Everything a request needs, built once per process.
#[derive(Debug, Clone)]
pub struct AppState {
    pub verifier: JwtVerifier,
    pub queue: Queue,
    pub rate_limit: ClientRateLimit,
    pub waker: Waker,
    pub cors: CorsLayer,
}

impl AppState {
    pub fn new(settings: Settings, redis: Redis) -> Result<Self, BuildError> {
        let queue = Queue::new(redis.clone(), &settings.queue_name, QueueOptions::default())?;
        Ok(Self {
            rate_limit: ClientRateLimit::new(
                redis,
                &settings.queue_name,
                settings.rate_limit_per_minute,
            ),
            waker: Waker::new(settings.wake, settings.wake_timeout, &settings.queue_name)?,
            verifier: settings.verifier,
            cors: settings.cors,
            queue,
        })
    }
}

impl FromRef<AppState> for JwtVerifier {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

/// The enqueue function's Router.
pub fn app(state: AppState) -> Router {
    let cors = state.cors.clone();
    Router::new()
        .route(
            "/api/jobs",
            post(handler::enqueue)
                .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
                .fallback(handler::method_not_allowed),
        )
        .fallback(scenergy_http::problem::not_found_fallback)
        .with_state(state)
        .layer(cors)
}
