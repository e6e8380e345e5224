//! The `worker` binary: `serve` (pull loop + HTTP server), `drain` (one drain, then exit),
//! `migrate` (apply the database migrations). Settings come from the environment.

use std::io::Write;

use anyhow::Context;
use clap::{Parser, Subcommand};
use scenergy_config::Env;
use scenergy_worker::{AppState, RunMode, Settings, app};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Parser)]
#[command(name = "worker", about = "Scenergy jobs: the Lane B worker")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the pull loop and the HTTP server (PORT) until SIGTERM.
    Serve,
    /// Run jobs until the queue is empty (or the deadline), print the summary, exit.
    Drain {
        /// Stop claiming after this many seconds (default DRAIN_DEADLINE_SECS).
        #[arg(long)]
        deadline_secs: Option<u64>,
    },
    /// Create the database if it is missing, then apply the migrations that have not run yet.
    Migrate,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    scenergy_telemetry::init("worker");
    let env = Env::process();
    match Cli::parse().command {
        Command::Migrate => {
            let db = scenergy_db::DbConfig::from_env(&env)?;
            if scenergy_db::create_database_if_missing(&db)
                .await
                .context("Failed to reach PostgreSQL")?
            {
                tracing::info!("created the database");
            }
            let pool = db
                .connect()
                .await
                .context("Failed to connect to PostgreSQL")?;
            scenergy_db::migrate(&pool)
                .await
                .context("Migrations failed")?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Serve => serve(&env).await,
        Command::Drain { deadline_secs } => {
            let settings = Settings::from_env(&env).context("Invalid configuration")?;
            let services = scenergy_worker::connect(&settings).await?;
            let deadline =
                deadline_secs.map_or(settings.run.drain_deadline, std::time::Duration::from_secs);
            let shutdown = CancellationToken::new();
            let signal = shutdown.clone();
            tokio::spawn(async move {
                scenergy_http::serve::shutdown_signal().await;
                signal.cancel();
            });
            let summary = services.worker.drain(deadline, &shutdown).await;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", serde_json::to_string(&summary)?)?;
            Ok(())
        }
    }
}

async fn serve(env: &Env) -> anyhow::Result<()> {
    let settings = Settings::from_env(env).context("Invalid configuration")?;
    let port: u16 = env.or("PORT", 8080)?;
    // Cloud Run routes to 0.0.0.0; locally, stay on loopback unless told otherwise.
    let default_host = if env.raw("K_SERVICE").is_some() {
        "0.0.0.0"
    } else {
        "127.0.0.1"
    };
    let host: String = env.or("HOST", default_host.to_owned())?;
    let services = scenergy_worker::connect(&settings).await?;
    let shutdown = CancellationToken::new();
    let listener = tokio::net::TcpListener::bind((host.as_str(), port))
        .await
        .with_context(|| format!("Failed to listen on {host}:{port}"))?;
    tracing::info!(addr = %listener.local_addr()?, "listening");

    let queue = services.worker.queue().clone();
    let pool = services.worker.generator().pool.clone();
    let admin = settings.admin.clone().map(|config| {
        scenergy_worker::admin::AdminState::new(config, vec![queue.clone()], pool.clone())
    });
    let metrics = scenergy_worker::metrics::MetricsState {
        metrics: scenergy_worker::metrics::Metrics::global(),
        queues: vec![queue.clone()],
        pool: pool.clone(),
        token: settings.metrics_token.clone(),
    };
    if let Some(config) = settings.alerts.clone() {
        scenergy_worker::alerts::spawn(config, queue, pool, shutdown.clone());
    }
    let router = app(AppState::new(
        services.worker.clone(),
        settings.auth,
        shutdown.clone(),
    ))
    .merge(scenergy_worker::admin::routes(admin))
    .merge(scenergy_worker::metrics::router(metrics));
    let server_stop = shutdown.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move { server_stop.cancelled().await })
            .await
    });
    let signal = shutdown.clone();
    tokio::spawn(async move {
        scenergy_http::serve::shutdown_signal().await;
        tracing::info!("SIGTERM: no new claims; finishing or releasing the jobs in flight");
        signal.cancel();
    });
    let mode = RunMode::Forever {
        blocking: services.blocking.as_ref(),
    };
    let summary = services.worker.run(mode, shutdown).await;
    tracing::info!(
        completed = summary.completed,
        released = summary.released,
        images = summary.images,
        "pull loop stopped"
    );
    server
        .await
        .context("The HTTP server task failed")?
        .context("The HTTP server stopped with an error")?;
    Ok(())
}
