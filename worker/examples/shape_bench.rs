//! Does the shape of the work matter? DESIGN §5 says 100 images finish near the bound set by
//! the model's latency and `WORKER_CONCURRENCY`, whatever shape the jobs have. This measures
//! it: the same 100 images as one job of 25 products × 4 variants, as 25 jobs of 4, and as 100
//! jobs of one, each drained by one worker, against a baseline measured in the same run: 100
//! calls straight to the same simulator with the same number in flight and nothing else (no
//! queue, no database, no storage).
//!
//! Needs redis-server (REDIS_URL) and PostgreSQL (DATABASE_URL, a server where it may create
//! the database `scenergy_bench`). Run: `worker/bench/run.sh` or
//! `cargo run --release -p scenergy-worker --example shape_bench -- [latency_ms] [concurrency]`.
#![allow(clippy::print_stdout, reason = "a benchmark's report is its output")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::StreamExt;
use gemini_sim::{LatencyRange, SimConfig};
use scenergy_config::SecretString;
use scenergy_db::{DbConfig, NewProduct};
use scenergy_gemini::{GeminiClient, GeminiConfig, ImageProvider, ImageQuality, ImageRequest};
use scenergy_jobs::{IMAGE_GENERATION, ImageJobPayload, ImageJobSettings};
use scenergy_keypool::{ApiKey, KeyPool, PoolConfig};
use scenergy_queue::{NewJob, Queue, QueueOptions};
use scenergy_redis::{Redis, TcpConfig, TcpTransport};
use scenergy_storage::{FsStorage, Storage};
use scenergy_worker::{Generator, RunMode, RunSettings, Worker};
use tokio_util::sync::CancellationToken;

const IMAGES: usize = 100;

fn env_or(var: &str, default: &str) -> String {
    std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

fn rss_peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn gemini(base_url: &str) -> anyhow::Result<GeminiClient> {
    Ok(GeminiClient::new(GeminiConfig {
        base_url: base_url.to_owned(),
        timeout: Duration::from_secs(30),
        ..GeminiConfig::default()
    })?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let latency_ms: u64 = args.first().map_or(Ok(200), |a| a.parse())?;
    let concurrency: usize = args.get(1).map_or(Ok(5), |a| a.parse())?;
    let redis_url = env_or("REDIS_URL", "redis://127.0.0.1:6379");
    let base_db = env_or(
        "DATABASE_URL",
        "postgres://postgres:postgres@127.0.0.1:5432/postgres",
    );
    let db_url = format!(
        "{}/scenergy_bench",
        base_db
            .rsplit_once('/')
            .context("DATABASE_URL ends with /<db>")?
            .0
    );
    let db_config = DbConfig {
        url: SecretString::from(db_url),
        max_connections: 10,
        acquire_timeout: Duration::from_secs(10),
    };
    scenergy_db::create_database_if_missing(&db_config).await?;
    let db = db_config.connect().await?;
    scenergy_db::migrate(&db).await?;
    let redis = Redis::new(TcpTransport::connect(TcpConfig::new(redis_url)).await?);

    let (sim_url, sim) = gemini_sim::spawn_local(SimConfig {
        rpm_per_key: 0,
        latency: LatencyRange::fixed(latency_ms),
        render_divisor: 8,
        ..SimConfig::default()
    })
    .await?;
    let client = format!("bench-{:08x}", rand::random::<u32>());
    let products: Vec<String> = (1..=25).map(|i| format!("{client}-p{i}")).collect();
    for id in &products {
        scenergy_db::upsert_product(
            &db,
            &NewProduct {
                id,
                client_id: &client,
                name: "Bench product",
                description: None,
                reference_image_key: None,
            },
        )
        .await?;
    }

    // Baseline: the model calls alone, `concurrency` in flight.
    let provider = gemini(&sim_url)?;
    let request = ImageRequest::new("Bench product on a table", "1:1", ImageQuality::K1);
    let started = Instant::now();
    let ok = futures::stream::iter(0..IMAGES)
        .map(|_| provider.generate(Some("bench-key"), &request))
        .buffer_unordered(concurrency)
        .filter(|r| std::future::ready(r.is_ok()))
        .count()
        .await;
    anyhow::ensure!(ok == IMAGES, "baseline: {ok} of {IMAGES} calls succeeded");
    let baseline = started.elapsed();
    let bound = Duration::from_millis(latency_ms * IMAGES as u64 / concurrency as u64);

    println!(
        "{IMAGES} images, model latency {latency_ms} ms, WORKER_CONCURRENCY {concurrency} \
         (ideal bound {:.2} s)\n",
        bound.as_secs_f64()
    );
    println!("| shape | wall time | vs baseline | model calls |");
    println!("|---|---:|---:|---:|");
    println!(
        "| baseline: {IMAGES} calls straight to the simulator | {:.2} s | 1.00× | {IMAGES} |",
        baseline.as_secs_f64()
    );

    for (label, jobs, per_job_products, variants) in [
        ("1 job × 25 products × 4 variants", 1_usize, 25_usize, 4_u8),
        ("25 jobs × 1 product × 4 variants", 25, 1, 4),
        ("100 jobs × 1 product × 1 variant", 100, 1, 1),
    ] {
        let queue = Queue::new(
            redis.clone(),
            &format!("bench-{:08x}", rand::random::<u32>()),
            QueueOptions {
                max_jobs_per_second: 0,
                ..QueueOptions::default()
            },
        )?;
        let mut batch = Vec::new();
        for j in 0..jobs {
            let ids: Vec<String> = (0..per_job_products)
                .map(|k| products[(j + k) % products.len()].clone())
                .collect();
            let payload = ImageJobPayload {
                session_id: "bench".to_owned(),
                product_ids: ids,
                prompt: "on a table".to_owned(),
                settings: ImageJobSettings {
                    aspect_ratio: "1:1".to_owned(),
                    image_quality: "1k".to_owned(),
                    variants_per_product: variants,
                },
            };
            batch.push(NewJob::new(
                IMAGE_GENERATION,
                &client,
                serde_json::to_value(&payload)?,
            ));
        }
        queue.enqueue_many(batch).await?;
        let dir = tempfile::tempdir()?;
        let storage: Arc<dyn Storage> = Arc::new(FsStorage::open(dir.path()).await?);
        let pool = KeyPool::new(
            redis.clone(),
            vec![ApiKey::new(format!(
                "bench-key-{:08x}",
                rand::random::<u32>()
            ))],
            PoolConfig {
                rpm_per_key: 1_000_000,
                ..PoolConfig::new(format!("bench-{:08x}", rand::random::<u32>()))
            },
        )?;
        let generator = Generator {
            provider: Arc::new(gemini(&sim_url)?),
            pool: Some(Arc::new(pool)),
        };
        let run = RunSettings {
            queue_name: queue.name().to_owned(),
            concurrency,
            max_jobs_per_second: 0,
            ..RunSettings::default()
        };
        let worker = Worker::new(run, queue.clone(), db.clone(), storage, generator);
        let calls_before = sim.stats().total_calls;
        let started = Instant::now();
        let summary = worker
            .run(RunMode::UntilEmpty, CancellationToken::new())
            .await;
        let took = started.elapsed();
        let calls = sim.stats().total_calls - calls_before;
        anyhow::ensure!(
            summary.images as usize == IMAGES && summary.completed as usize == jobs,
            "{label}: {summary:?}"
        );
        println!(
            "| {label} | {:.2} s | {:.2}× | {calls} |",
            took.as_secs_f64(),
            took.as_secs_f64() / baseline.as_secs_f64()
        );
    }
    println!(
        "\npeak RSS of the benchmark process: {:.1} MiB",
        rss_peak_mib()
    );
    Ok(())
}
