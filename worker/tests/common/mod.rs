//! The worker's test harness: a fresh queue on the shared redis-server, the test's own
//! database (`#[sqlx::test]`), storage, the Gemini simulator, in-process workers and
//! `worker serve` processes.

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeSet;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gemini_sim::{SimConfig, SpawnedSim};
use scenergy_db::{NewProduct, PgPool};
use scenergy_gemini::{
    GeminiClient, GeminiConfig, ImageProvider, ImageQuality, ImageRequest, OfflineProvider,
};
use scenergy_jobs::{IMAGE_GENERATION, ImageJobPayload, ImageJobSettings};
use scenergy_keypool::{ApiKey, KeyPool, PoolConfig};
use scenergy_queue::{JobId, NewJob, Queue, QueueOptions};
use scenergy_redis::Redis;
use scenergy_storage::{Bytes, FsStorage, ObjectKey, Storage};
use scenergy_testkit::TestRedis;
use scenergy_worker::{Generator, RunSettings, Worker};
use serde_json::Value;

pub const CLIENT: &str = "client-a";
pub const WORKER_TOKEN: &str = "worker-token-for-tests-0123456789";

/// A queue of the test's own on the shared redis-server (TCP).
pub async fn queue() -> (Queue, Redis) {
    let redis = TestRedis::tcp().await.redis;
    let name = format!("wt-{:08x}", rand::random::<u32>());
    let options = QueueOptions {
        max_jobs_per_second: 0,
        ..QueueOptions::default()
    };
    (Queue::new(redis.clone(), &name, options).unwrap(), redis)
}

/// The URL of the database behind `pool` (its own, made by `#[sqlx::test]`), for processes.
pub fn db_url(pool: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL is set for database tests");
    let db = pool
        .connect_options()
        .get_database()
        .expect("the test database has a name")
        .to_owned();
    let (server, _) = base
        .rsplit_once('/')
        .expect("DATABASE_URL ends with /<database>");
    format!("{server}/{db}")
}

/// Settings that make tests quick: short leases, a short grace, no start-rate limit.
pub fn run_settings(queue: &Queue, concurrency: usize) -> RunSettings {
    RunSettings {
        queue_name: queue.name().to_owned(),
        concurrency,
        max_jobs_per_second: 0,
        lease: Duration::from_secs(3),
        shutdown_grace: Duration::from_secs(5),
        drain_deadline: Duration::from_secs(60),
        outage_retry: Duration::from_secs(30),
        key_wait: Duration::from_secs(30),
    }
}

pub fn offline() -> Generator {
    Generator {
        provider: Arc::new(OfflineProvider::new()),
        pool: None,
    }
}

/// Keys unique to one test, so tests sharing redis-server never share a key's budget.
pub fn test_keys(n: usize) -> Vec<String> {
    let tag: u32 = rand::random();
    (1..=n)
        .map(|i| format!("AIza-test-{tag:08x}-{i}"))
        .collect()
}

pub fn pool_config() -> PoolConfig {
    PoolConfig::with_window(
        format!("wt-{:08x}", rand::random::<u32>()),
        Duration::from_secs(60),
    )
}

/// Gemini through the simulator at `base_url`, with a key pool on `redis`.
pub fn gemini(base_url: &str, redis: &Redis, keys: &[String], pool: PoolConfig) -> Generator {
    let config = GeminiConfig {
        base_url: base_url.to_owned(),
        timeout: Duration::from_secs(20),
        ..GeminiConfig::default()
    };
    let keys = keys.iter().map(|k| ApiKey::new(k.clone())).collect();
    Generator {
        provider: Arc::new(GeminiClient::new(config).unwrap()),
        pool: Some(Arc::new(KeyPool::new(redis.clone(), keys, pool).unwrap())),
    }
}

pub async fn sim(config: SimConfig) -> (String, SpawnedSim) {
    gemini_sim::spawn_local(config).await.unwrap()
}

pub async fn fs_storage() -> (Arc<dyn Storage>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let storage: Arc<dyn Storage> = Arc::new(FsStorage::open(dir.path()).await.unwrap());
    (storage, dir)
}

pub fn worker(
    queue: &Queue,
    db: &PgPool,
    storage: &Arc<dyn Storage>,
    generator: Generator,
    run: RunSettings,
) -> Worker {
    Worker::new(run, queue.clone(), db.clone(), storage.clone(), generator)
}

/// A real PNG to use as a product's reference photo.
pub async fn reference_png(label: &str) -> Vec<u8> {
    let request = ImageRequest::new(
        format!("reference photo of {label}"),
        "1:1",
        ImageQuality::K1,
    );
    OfflineProvider::new()
        .generate(None, &request)
        .await
        .unwrap()
        .bytes
}

/// Writes `n` products of `client` (ids `<prefix>-1`…), each with a reference photo in
/// `storage` when `storage` is given.
pub async fn seed_products(
    db: &PgPool,
    storage: Option<&Arc<dyn Storage>>,
    client: &str,
    prefix: &str,
    n: usize,
) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 1..=n {
        let id = format!("{prefix}-{i}");
        let key = format!("catalogue/{client}/{id}.png");
        if let Some(storage) = storage {
            let png = reference_png(&id).await;
            storage
                .put(
                    &ObjectKey::parse(key.clone()).unwrap(),
                    Bytes::from(png),
                    "image/png",
                )
                .await
                .unwrap();
        }
        scenergy_db::upsert_product(
            db,
            &NewProduct {
                id: &id,
                client_id: client,
                name: &format!("Product {i}"),
                description: Some("a test product"),
                reference_image_key: storage.map(|_| key.as_str()),
            },
        )
        .await
        .unwrap();
        ids.push(id);
    }
    ids
}

pub fn payload(products: &[String], variants: u8, prompt: &str) -> ImageJobPayload {
    ImageJobPayload {
        session_id: "session-1".to_owned(),
        product_ids: products.to_vec(),
        prompt: prompt.to_owned(),
        settings: ImageJobSettings {
            aspect_ratio: "1:1".to_owned(),
            image_quality: "1k".to_owned(),
            variants_per_product: variants,
        },
    }
}

pub async fn enqueue(queue: &Queue, client: &str, payload: &ImageJobPayload) -> JobId {
    let job = NewJob::new(
        IMAGE_GENERATION,
        client,
        serde_json::to_value(payload).unwrap(),
    );
    queue.enqueue(job).await.unwrap().job_id
}

/// Polls the status key until `done` holds for it, or panics after `limit`.
pub async fn wait_status(
    queue: &Queue,
    id: &JobId,
    limit: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let status = queue.status(id).await.unwrap().unwrap_or(Value::Null);
        if done(&status) {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "status never matched within {limit:?}; last: {status}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

pub fn is_finished(status: &Value) -> bool {
    matches!(
        status["status"].as_str(),
        Some("completed" | "failed" | "cancelled")
    )
}

pub fn completed_items(status: &Value) -> u64 {
    status["progress"]["completed"].as_u64().unwrap_or(0)
}

/// Records every distinct (status, percent) the status key shows, until stopped.
pub struct StatusTrail {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Vec<(String, u64)>>,
}

impl StatusTrail {
    pub fn start(queue: &Queue, id: &JobId) -> Self {
        let (stop, mut stopped) = tokio::sync::oneshot::channel();
        let (queue, id) = (queue.clone(), id.clone());
        let task = tokio::spawn(async move {
            let mut trail: Vec<(String, u64)> = Vec::new();
            loop {
                if let Ok(Some(s)) = queue.status(&id).await {
                    let entry = (
                        s["status"].as_str().unwrap_or("").to_owned(),
                        s["progress"]["percent"].as_u64().unwrap_or(0),
                    );
                    if trail.last() != Some(&entry) {
                        trail.push(entry);
                    }
                }
                if stopped.try_recv().is_ok() {
                    return trail;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
        Self { stop, task }
    }

    pub async fn finish(self) -> Vec<(String, u64)> {
        let _ = self.stop.send(());
        self.task.await.unwrap()
    }
}

/// The files under a filesystem storage root (without its metadata directory).
pub fn stored_files(root: &std::path::Path) -> BTreeSet<String> {
    fn walk(dir: &std::path::Path, root: &std::path::Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if rel.starts_with('.') {
                continue;
            }
            if path.is_dir() {
                walk(&path, root, out);
            } else {
                out.insert(rel);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(root, root, &mut out);
    out
}

/// A `worker serve` process of the test's own.
pub struct WorkerProcess {
    child: tokio::process::Child,
    pub port: u16,
}

impl WorkerProcess {
    /// Starts `worker serve` with `env` on top of the test's environment and waits until
    /// `/healthz` answers.
    pub async fn start(env: &[(&str, String)]) -> Self {
        let port = scenergy_testkit::free_port();
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_worker"));
        cmd.arg("serve")
            .env("PORT", port.to_string())
            .env("HOST", "127.0.0.1")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn worker serve");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = http
                .get(format!("http://127.0.0.1:{port}/healthz"))
                .send()
                .await
                && r.status().is_success()
            {
                break;
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("worker serve exited early with {status}");
            }
            assert!(
                Instant::now() < deadline,
                "worker serve did not come up within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self { child, port }
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("running")
    }

    /// SIGKILL: the process dies with its work in flight.
    pub async fn kill9(mut self) {
        self.child.start_kill().unwrap();
        let _ = self.child.wait().await;
    }

    /// SIGTERM, as Cloud Run sends before stopping an instance.
    pub fn sigterm(&self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    pub async fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        tokio::time::timeout(limit, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("the worker did not exit within {limit:?}"))
            .unwrap()
    }
}

/// The environment of a `worker serve` process on this test's queue, database and storage.
pub fn worker_env(
    queue: &Queue,
    db: &PgPool,
    storage_dir: &std::path::Path,
) -> Vec<(&'static str, String)> {
    vec![
        ("REDIS_URL", scenergy_testkit::redis_url()),
        ("DATABASE_URL", db_url(db)),
        ("LOCAL_STORAGE_DIR", storage_dir.display().to_string()),
        ("QUEUE_NAME", queue.name().to_owned()),
        ("WORKER_TOKEN", WORKER_TOKEN.to_owned()),
        ("MAX_JOBS_PER_SECOND", "0".to_owned()),
        ("LEASE_SECS", "3".to_owned()),
    ]
}
