//! The analyze function (`POST /api/analyze`, Lane A): authenticates the client, validates up to
//! 20 products, and answers with a structured analysis of each one from Gemini (text model, or
//! the vision model when the product carries an image), behind the shared Lane A rate limiter.
//!
//! It owns this HTTP surface and the mapping of model and quota failures onto HTTP; the model
//! client belongs to `scenergy-gemini`, keys to `scenergy-keypool`, the buckets to
//! `scenergy-ratelimit`, auth and problem JSON to `scenergy-http`. The same [`app`] runs under
//! `lambda_http` on Lambda, as plain HTTP locally, and in the tests.
//!
//! # Contract decisions
//! - **All or nothing.** Every product takes its admission from its bucket (`gemini-text` or
//!   `gemini-vision`) BEFORE any model call is made. If one is refused, the whole reply is
//!   `503 {error: "rate_limited", retryAfter}` with `Retry-After`, and no model call was made,
//!   so a refused request costs no Gemini money. Admissions already taken for that request
//!   are not returned (the limiter has no refund), which errs on the side of the quota.
//!   There are no partial results: a client resubmits the same body after `retryAfter`.
//!   (This is why the handler calls `RateLimiter::check` per product up front instead of
//!   wrapping each call in `with_rate_limit`: that would let the first products' calls go out,
//!   and be paid for, before a later product is refused.)
//! - **Failures name the product.** A blocked or unprocessable product is a 422 whose `errors`
//!   point at `products[i]`; a transient model failure is a 502, with no internals.
//! - **Offline.** Without `GOOGLE_AI_STUDIO_API_KEY` the deterministic offline provider answers
//!   (`provider: "offline"`, `offline: true`, logged once at start-up). The limiter still
//!   applies, so local runs show the same 503s as production.
//! - **Keys.** With keys, each call leases one from the shared pool (namespace `gemini`, the
//!   worker's too); if every key is cooling for longer than `ANALYZE_KEY_WAIT_MS` the reply is a
//!   503 with the pool's wait as `retryAfter`. A 429 or a bad key moves the call to another key
//!   (each retry takes a new admission, so the limiter still bounds the calls sent).
//!
//! # Layout
//! - [`settings`]: [`Settings`] from the environment.
//! - [`request`]: the body, its bounds, and validation that reports every invalid field.
//! - `handler.rs`: the handler, the per-product model call and the error mapping.

mod handler;
pub mod request;
pub mod settings;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::routing::post;
use scenergy_config::{ConfigError, Env};
use scenergy_gemini::{AnalysisProvider, GeminiClient, GeminiError, OfflineProvider};
use scenergy_http::JwtVerifier;
use scenergy_keypool::{KeyPool, PoolError};
use scenergy_ratelimit::RateLimiter;
use scenergy_redis::{Redis, RedisError};
use tower_http::cors::CorsLayer;

pub use handler::{AnalyzeReply, ProductResult, SceneSuggestionReply};
pub use settings::Settings;

/// Largest accepted body: one 3 MiB image is 4 MiB of base64, and 5 MiB of JSON still fits
/// Lambda's 6 MB synchronous payload cap together with the event's headers and envelope.
pub const BODY_LIMIT_BYTES: usize = 5 * 1024 * 1024;
/// Bound on one Redis round trip; the limiter fails closed (503) when Redis is slower.
pub const REDIS_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the state could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("could not connect to Redis")]
    Redis(#[from] RedisError),
    #[error("the Gemini client could not be built")]
    Gemini(#[from] GeminiError),
    #[error("the key pool could not be built")]
    Pool(#[from] PoolError),
}

/// Everything a request needs, built once per process.
#[derive(Clone)]
pub struct AppState {
    pub verifier: JwtVerifier,
    pub cors: CorsLayer,
    pub limiter: Arc<RateLimiter>,
    pub provider: Arc<dyn AnalysisProvider>,
    /// `None` in offline mode: the offline provider needs no key.
    pub pool: Option<Arc<KeyPool>>,
    pub key_wait: Duration,
}

impl std::fmt::Debug for AppState {
    // The provider is a trait object without `Debug`; its name is what matters.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("provider", &self.provider.name())
            .field("pool", &self.pool)
            .field("limiter", &self.limiter)
            .field("key_wait", &self.key_wait)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Reads the settings and connects to Redis.
    pub async fn from_env(env: &Env) -> Result<Self, BuildError> {
        let settings = Settings::from_env(env)?;
        let redis = scenergy_redis::connect(&settings.redis, REDIS_TIMEOUT).await?;
        Self::new(settings, redis)
    }

    /// Builds the provider (Gemini with keys, offline without) and the shared clients.
    pub fn new(settings: Settings, redis: Redis) -> Result<Self, BuildError> {
        let (provider, pool): (Arc<dyn AnalysisProvider>, _) = if settings.is_offline() {
            (Arc::new(OfflineProvider::new()), None)
        } else {
            tracing::info!(
                provider = "gemini",
                keys = settings.keys.len(),
                base_url = %settings.gemini.base_url,
                "analysing products with Gemini"
            );
            let pool = KeyPool::new(redis.clone(), settings.keys, settings.pool)?;
            (
                Arc::new(GeminiClient::new(settings.gemini)?),
                Some(Arc::new(pool)),
            )
        };
        Ok(Self {
            verifier: settings.verifier,
            cors: settings.cors,
            limiter: Arc::new(RateLimiter::new(redis, settings.rate_limit)),
            provider,
            pool,
            key_wait: settings.key_wait,
        })
    }
}

impl FromRef<AppState> for JwtVerifier {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

/// The analyze function's Router.
pub fn app(state: AppState) -> Router {
    let cors = state.cors.clone();
    Router::new()
        .route(
            "/api/analyze",
            post(handler::analyze)
                .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
                .fallback(handler::method_not_allowed),
        )
        .fallback(scenergy_http::problem::not_found_fallback)
        .with_state(state)
        .layer(cors)
}
