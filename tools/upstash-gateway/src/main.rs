//! `upstash-gateway`: serves the Upstash REST protocol in front of a redis-server.

use std::net::SocketAddr;

use anyhow::Context;
use clap::Parser;
use upstash_gateway::{GatewayConfig, serve, shutdown_signal};

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Upstash Redis REST protocol in front of a plain redis-server"
)]
struct Cli {
    /// Address to listen on.
    #[arg(long, env = "UPSTASH_GATEWAY_LISTEN", default_value = "127.0.0.1:8079")]
    listen: SocketAddr,
    /// Backing redis-server.
    #[arg(
        long,
        env = "REDIS_URL",
        default_value = "redis://127.0.0.1:6379",
        hide_env_values = true
    )]
    redis_url: String,
    /// REST token clients must send (the default is only for local development).
    #[arg(
        long,
        env = "UPSTASH_GATEWAY_TOKEN",
        default_value = "local-dev-token",
        hide_env_values = true,
        hide_default_value = true
    )]
    token: String,
    /// Largest accepted request body in bytes.
    #[arg(long, env = "UPSTASH_GATEWAY_MAX_BODY_BYTES", default_value_t = upstash_gateway::DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    scenergy_telemetry::init("upstash-gateway");
    let cli = Cli::parse();
    let mut config = GatewayConfig::new(cli.redis_url, cli.token);
    config.max_body_bytes = cli.max_body_bytes;
    let listener = tokio::net::TcpListener::bind(cli.listen)
        .await
        .with_context(|| format!("Failed to listen on {}", cli.listen))?;
    serve(listener, config, shutdown_signal())
        .await
        .context("The gateway stopped with an error")?;
    tracing::info!("upstash-gateway stopped");
    Ok(())
}
