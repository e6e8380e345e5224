//! The status Lambda: `GET` and `DELETE /api/jobs/{id}`. Settings come from the environment; the
//! Redis client is built once, then one Router serves every invocation.

use std::time::Duration;

use anyhow::Context;
use scenergy_config::Env;
use scenergy_status::{AppState, Settings, app};

/// Bound on one Redis round trip; a status read that cannot reach Redis fails fast.
const REDIS_TIMEOUT: Duration = Duration::from_secs(5);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    scenergy_telemetry::init("status");
    let settings = Settings::from_env(&Env::process()).context("Failed to load the settings")?;
    let redis = scenergy_redis::connect(&settings.redis, REDIS_TIMEOUT)
        .await
        .context("Failed to connect to Redis")?;
    scenergy_http::serve::run(app(AppState::new(settings, redis)), "status").await
}
