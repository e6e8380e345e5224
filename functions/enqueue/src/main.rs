//! The enqueue Lambda: `POST /api/jobs`. Settings come from the environment; the Redis client,
//! the queue and the wake client are built once, then one Router serves every invocation.

use std::time::Duration;

use anyhow::Context;
use scenergy_config::Env;
use scenergy_enqueue::{AppState, Settings, app};

/// Bound on one Redis round trip; an enqueue that cannot reach Redis fails fast with a 500.
const REDIS_TIMEOUT: Duration = Duration::from_secs(5);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    scenergy_telemetry::init("enqueue");
    let settings = Settings::from_env(&Env::process()).context("Failed to load the settings")?;
    let redis = scenergy_redis::connect(&settings.redis, REDIS_TIMEOUT)
        .await
        .context("Failed to connect to Redis")?;
    let state = AppState::new(settings, redis).context("Failed to build the enqueue state")?;
    scenergy_http::serve::run(app(state), "enqueue").await
}
