//! The Lane B worker (Cloud Run): takes `image_generation` jobs off the Redis queue and, for
//! each product × variant, calls the image model through the shared key pool, stores the
//! image (R2/S3 or a local directory), records a `generated_asset` row and reports progress.
//!
//! Two modes run the same engine (DESIGN §5, `docs/worker.md`):
//! - `worker serve`: a pull loop that blocks on the queue's wake list while idle, plus the
//!   HTTP server; on SIGTERM it stops claiming, lets items in flight finish within
//!   `SHUTDOWN_GRACE_SECS` and releases the rest;
//! - `POST /drain`: the same loop inside a request, until the queue is empty or a deadline, for
//!   Cloud Run with request-based CPU (woken by QStash or Cloud Scheduler).
//!
//! # Layout
//! - `settings.rs`: [`Settings`] from the environment;
//! - `engine.rs`: [`Worker`], the claim loop, generation slots, heartbeats, wind-down;
//! - `job.rs`: one job from claim to its end (resume, partial results, history);
//! - `item.rs`: one product × variant (model call, image checks, upload, row);
//! - `retry.rs`: riding out outages with backoff; `qstash.rs`: signature checks;
//! - `http.rs`: [`app`] with `/healthz`, `/readyz`, `/drain`.

pub mod admin;
pub mod alerts;
mod engine;
pub mod http;
mod item;
mod job;
pub mod metrics;
pub mod qstash;
mod retry;
pub mod settings;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use scenergy_config::ExposeSecret;
use scenergy_gemini::{GeminiClient, ImageProvider, OfflineProvider};
use scenergy_keypool::KeyPool;
use scenergy_queue::{Queue, QueueOptions};
use scenergy_redis::{RedisConfig, TcpTransport};

pub use engine::{Generator, JobEnd, RunMode, RunSummary, Worker};
pub use http::{AppState, app};
pub use item::{ITEM_ATTEMPTS, MAX_IMAGE_BYTES, MAX_IMAGE_SIDE};
pub use settings::{DrainAuth, RunSettings, Settings};

/// How long one Redis command may take before it counts as failed.
const REDIS_TIMEOUT: Duration = Duration::from_secs(10);

/// The engine and, over TCP, the dedicated connection `serve` blocks on while idle.
#[derive(Debug)]
pub struct Services {
    pub worker: Worker,
    pub blocking: Option<TcpTransport>,
}

/// Connects to Redis, PostgreSQL and storage, and builds the provider: Gemini through the key
/// pool when keys are configured, the offline renderer otherwise.
pub async fn connect(settings: &Settings) -> anyhow::Result<Services> {
    let redis = scenergy_redis::connect(&settings.redis, REDIS_TIMEOUT)
        .await
        .context("Failed to connect to Redis")?;
    let blocking = match &settings.redis {
        RedisConfig::Tcp { url } => Some(
            scenergy_queue::wake_transport(url.expose_secret())
                .await
                .context("Failed to open the wake connection to Redis")?,
        ),
        RedisConfig::Rest { .. } => None,
    };
    let options = QueueOptions {
        max_jobs_per_second: settings.run.max_jobs_per_second,
        ..QueueOptions::default()
    };
    let queue = Queue::new(redis.clone(), &settings.run.queue_name, options)
        .context("Failed to open the queue")?;
    let db = settings
        .db
        .connect()
        .await
        .context("Failed to connect to PostgreSQL")?;
    let storage = settings
        .storage
        .open()
        .await
        .context("Failed to open storage")?;
    let generator = if settings.keys.is_empty() {
        tracing::warn!(
            provider = "offline",
            "no GOOGLE_AI_STUDIO_API_KEY: images come from the offline renderer, not Gemini"
        );
        Generator {
            provider: Arc::new(OfflineProvider::new()) as Arc<dyn ImageProvider>,
            pool: None,
        }
    } else {
        tracing::info!(
            provider = "gemini",
            keys = settings.keys.len(),
            base_url = %settings.gemini.base_url,
            model = %settings.gemini.image_model,
            "generating images with Gemini"
        );
        Generator {
            provider: Arc::new(
                GeminiClient::new(settings.gemini.clone())
                    .context("Failed to build the Gemini client")?,
            ),
            pool: Some(Arc::new(
                KeyPool::new(redis, settings.keys.clone(), settings.pool.clone())
                    .context("Failed to build the key pool")?,
            )),
        }
    };
    tracing::info!(
        queue = %settings.run.queue_name,
        concurrency = settings.run.concurrency,
        storage = storage.name(),
        "worker ready"
    );
    Ok(Services {
        worker: Worker::new(settings.run.clone(), queue, db, storage, generator),
        blocking,
    })
}
