//! The analyze Lambda: `POST /api/analyze`. Settings come from the environment; the Redis
//! client, the rate limiter, the key pool and the Gemini client are built once, then one Router
//! serves every invocation.

use anyhow::Context;
use scenergy_analyze::{AppState, app};
use scenergy_config::Env;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    scenergy_telemetry::init("analyze");
    let state = AppState::from_env(&Env::process())
        .await
        .context("Failed to build the analyze function")?;
    scenergy_http::serve::run(app(state), "analyze").await
}
