//! The status function: `GET /api/jobs/{id}` reads the job's status document
//! (`job-status:{q:<queue>}:<id>`, written by the queue's scripts in the same call as every state
//! change) and `DELETE /api/jobs/{id}` cancels the job. Another client's job, like an unknown,
//! expired or malformed id, is a 404, so ids cannot be probed.
//!
//! It owns only this HTTP surface; the status document's shape belongs to `scenergy-queue`.
//! It must never link aws-sdk-s3 or sqlx, so that it stays small and starts fast.
//!
//! Read-your-writes over Upstash: the REST transport carries Upstash's sync token between its
//! own requests, but a status read in ANOTHER Lambda than the enqueue cannot share it. That is
//! still consistent, because the enqueue script writes the status key in the same call as the
//! job, so a status read either sees the queued job or (on a lagging replica) a 404 the
//! frontend's polling retries.
//!
//! # Layout
//! - this file: [`Settings`], [`AppState`], [`app`].
//! - `handlers.rs`: the GET and DELETE handlers.

mod handlers;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;
use scenergy_config::{ConfigError, Env};
use scenergy_http::JwtVerifier;
use scenergy_redis::{Redis, RedisConfig};
use tower_http::cors::CorsLayer;

/// Everything the status function reads from the environment.
#[derive(Debug, Clone)]
pub struct Settings {
    pub redis: RedisConfig,
    pub verifier: JwtVerifier,
    pub cors: CorsLayer,
}

impl Settings {
    /// `UPSTASH_REDIS_REST_URL` + `UPSTASH_REDIS_REST_TOKEN` (or `REDIS_URL`),
    /// `AUTH_JWT_SECRET`, `ALLOWED_ORIGINS`. The queue comes from each job id, so the status
    /// function needs no `QUEUE_NAME`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            redis: RedisConfig::from_env(env)?,
            verifier: JwtVerifier::from_env(env)?,
            cors: scenergy_http::cors::from_env(env)?,
        })
    }
}

/// Everything a request needs, built once per process.
#[derive(Debug, Clone)]
pub struct AppState {
    pub verifier: JwtVerifier,
    pub redis: Redis,
    pub cors: CorsLayer,
}

impl AppState {
    pub fn new(settings: Settings, redis: Redis) -> Self {
        Self {
            verifier: settings.verifier,
            redis,
            cors: settings.cors,
        }
    }
}

impl FromRef<AppState> for JwtVerifier {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

/// The status function's Router.
pub fn app(state: AppState) -> Router {
    let cors = state.cors.clone();
    Router::new()
        .route(
            "/api/jobs/{id}",
            get(handlers::status)
                .delete(handlers::cancel)
                .fallback(handlers::method_not_allowed),
        )
        .fallback(scenergy_http::problem::not_found_fallback)
        .with_state(state)
        .layer(cors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_settings_name_their_variable() {
        let env = Env::from_pairs([("REDIS_URL", "redis://127.0.0.1:6379")]);
        assert_eq!(
            Settings::from_env(&env).unwrap_err().var(),
            "AUTH_JWT_SECRET"
        );
        let env = Env::from_pairs([("AUTH_JWT_SECRET", "0123456789abcdef0123456789abcdef")]);
        assert!(
            Settings::from_env(&env)
                .unwrap_err()
                .var()
                .contains("REDIS_URL")
        );
    }
}
