//! The dashboard's browser-test fixture (`worker/tests/browser/run.sh` runs it).
//!
//! Seeds a fresh queue on the shared redis-server with jobs in every state and a key pool with
//! a healthy, a cooling and a disabled key; serves the dashboard on a loopback port together
//! with a few unauthenticated `/fixture/*` routes the test uses to check the dashboard against
//! the queue (counts, a job's state) and to run a consumer that claims jobs; then runs
//! `node --test dashboard.test.mjs` against it and exits with node's status. With `--serve` it
//! only serves (and prints the URL), for a look by hand.
//!
//! Env: `REDIS_URL` (default `redis://127.0.0.1:6379`), `BROWSER_TEST_DIR` (default
//! `worker/tests/browser`), `SCREENSHOT_DIR` (default `docs/images`), `CHROMIUM_PATH`.

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use scenergy_config::Env;
use scenergy_gemini::{ImageProvider, ImageQuality, ImageRequest, OfflineProvider};
use scenergy_keypool::{ApiKey, KeyOutcome, KeyPool, PoolConfig};
use scenergy_queue::{JobId, JobState, NewJob, Priority, Queue, QueueOptions, now_ms};
use scenergy_redis::{Cmd, Redis, RedisConfig};
use scenergy_worker::admin::{AdminConfig, AdminState, routes};
use serde_json::json;

const ADMIN_TOKEN: &str = "dashboard-fixture-token-0123456789";
const CLIENTS: [&str; 3] = ["acme-store", "nordic-home", "lumen-co"];
const MIN: i64 = 60_000;

#[derive(Clone)]
struct Fixture {
    queue: Queue,
    claims: Arc<AtomicU64>,
    consuming: Arc<AtomicBool>,
    images: Arc<Vec<Vec<u8>>>,
}

fn payload(n: usize) -> serde_json::Value {
    json!({
        "sessionId": format!("session-{}", n % 7),
        "productIds": [format!("lamp-{}", n % 5), format!("chair-{}", n % 3)],
        "prompt": "on an oak desk by a window, soft morning light",
        "settings": { "aspectRatio": "1:1", "imageQuality": "1k", "variantsPerProduct": 2 }
    })
}

fn job(n: usize, priority: Priority) -> NewJob {
    NewJob::new("image_generation", CLIENTS[n % 3], payload(n)).priority(priority)
}

async fn seed(queue: &Queue, base: &str) -> anyhow::Result<()> {
    let now = now_ms();
    // Jobs that end up finished: enqueue, claim, then complete / fail / cancel in the past.
    let mut finished = Vec::new();
    for n in 0..18 {
        finished.push(job(n, Priority::Normal));
    }
    queue.enqueue_many_at(finished, now - 30 * 60 * MIN).await?;
    // Claimed 29 h ago, so every timeline runs forwards.
    let claim = queue
        .claim("worker-7f3a", 18, 60 * MIN as u64, now - 29 * 60 * MIN)
        .await?;
    for (i, j) in claim.jobs.iter().enumerate() {
        let ago = (i64::try_from(i).unwrap_or(0) + 1) * 47 * MIN;
        if i < 12 {
            let assets: Vec<_> = (0..2)
                .map(|v| {
                    json!({
                        "id": format!("asset-{i}-{v}"),
                        "url": format!("{base}/fixture/assets/{}.png", (i + v) % 4),
                        "productId": format!("lamp-{}", i % 5),
                        "variant": v
                    })
                })
                .collect();
            let result =
                json!({ "imageIds": [], "assets": assets, "failed": [], "provider": "offline" });
            queue
                .complete("worker-7f3a", &[(j.id.clone(), result)], now - ago)
                .await?;
        } else if i < 16 {
            let errors = [
                "invalid payload: missing field `productIds`",
                "no image could be generated: output blocked: SAFETY",
                "2 of 4 items failed transiently and will be retried (first: product lamp-1 variant 0: 503 UNAVAILABLE)",
                "product chair-9 not found in this client's catalogue",
            ];
            queue
                .fail(
                    "worker-7f3a",
                    &j.id,
                    errors[i - 12],
                    false,
                    0,
                    now - ago / 3,
                )
                .await?;
        } else {
            queue.cancel(&j.id, now - ago / 5).await?;
            queue
                .finish_cancelled("worker-7f3a", &j.id, now - ago / 5)
                .await?;
        }
    }
    // Two running jobs with progress.
    queue
        .enqueue_many(vec![job(20, Priority::Urgent), job(21, Priority::Normal)])
        .await?;
    let running = queue
        .claim("worker-7f3a", 2, 10 * MIN as u64, now_ms())
        .await?;
    for (i, j) in running.jobs.iter().enumerate() {
        let done = u32::try_from(i).unwrap_or(0) + 1;
        let progress = json!({ "total": 4, "completed": done, "failed": 0, "percent": done * 25 });
        queue
            .progress(&j.id, "worker-7f3a", &progress, now_ms())
            .await?;
    }
    // Delayed jobs (one is a retry waiting out its backoff) and a waiting backlog.
    for (n, delay) in [(30, 10 * MIN), (31, 25 * MIN), (32, 90 * MIN)] {
        queue
            .enqueue(job(n, Priority::Normal).delay_ms(delay.unsigned_abs()))
            .await?;
    }
    let mut waiting = Vec::new();
    for n in 0..6 {
        waiting.push(job(100 + n, Priority::Urgent));
    }
    for n in 0..14 {
        waiting.push(job(200 + n, Priority::Normal));
    }
    for n in 0..40 {
        waiting.push(job(300 + n, Priority::Batch));
    }
    queue.enqueue_many_at(waiting, now - 4 * MIN).await?;
    Ok(())
}

async fn key_pool(redis: &Redis, namespace: &str) -> anyhow::Result<Arc<KeyPool>> {
    let keys = (1..=3)
        .map(|i| ApiKey::new(format!("AIza-fixture-{namespace}-{i}")))
        .collect();
    let pool = Arc::new(KeyPool::new(
        redis.clone(),
        keys,
        PoolConfig::with_window(namespace.to_owned(), Duration::from_secs(60)),
    )?);
    let deadline = || tokio::time::Instant::now() + Duration::from_secs(5);
    for _ in 0..7 {
        let lease = pool.acquire(deadline()).await?;
        pool.report(&lease, KeyOutcome::Success).await?;
    }
    let cool = pool.acquire(deadline()).await?;
    let outcome = KeyOutcome::RateLimited {
        retry_after: Some(Duration::from_secs(45)),
    };
    pool.report(&cool, outcome).await?;
    let bad = pool.acquire(deadline()).await?;
    pool.report(&bad, KeyOutcome::InvalidKey).await?;
    Ok(pool)
}

async fn counts(State(f): State<Fixture>) -> Response {
    match f.queue.counts().await {
        Ok(c) => axum::Json(json!({
            "waiting": c.waiting(), "urgent": c.urgent, "normal": c.normal, "batch": c.batch,
            "delayed": c.delayed, "active": c.active, "completed": c.completed,
            "failed": c.failed, "cancelled": c.cancelled, "paused": c.paused,
            "claims": f.claims.load(Ordering::SeqCst),
        }))
        .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn job_state(State(f): State<Fixture>, Path(id): Path<String>) -> Response {
    let Ok(id) = JobId::parse(&id) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    match f.queue.job(&id).await {
        Ok(Some(r)) => axum::Json(json!({ "state": r.state.as_str() })).into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// Starts (POST) or stops (DELETE) a consumer that claims a job every 150 ms, as a worker
/// would, and completes it at once; `claims` counts the jobs it got.
async fn consumer(State(f): State<Fixture>, method: axum::http::Method) -> StatusCode {
    if method == axum::http::Method::DELETE {
        f.consuming.store(false, Ordering::SeqCst);
        return StatusCode::NO_CONTENT;
    }
    if f.consuming.swap(true, Ordering::SeqCst) {
        return StatusCode::NO_CONTENT;
    }
    tokio::spawn(async move {
        while f.consuming.load(Ordering::SeqCst) {
            if let Ok(claim) = f.queue.claim("fixture-consumer", 1, 60_000, now_ms()).await {
                for j in claim.jobs {
                    f.claims.fetch_add(1, Ordering::SeqCst);
                    let _ = f
                        .queue
                        .complete(
                            "fixture-consumer",
                            &[(j.id, json!({ "assets": [] }))],
                            now_ms(),
                        )
                        .await;
                }
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    });
    StatusCode::NO_CONTENT
}

async fn asset(State(f): State<Fixture>, Path(name): Path<String>) -> Response {
    let n: usize = name.trim_end_matches(".png").parse().unwrap_or(0);
    let png = f.images[n % f.images.len()].clone();
    ([(header::CONTENT_TYPE, "image/png")], png).into_response()
}

async fn cleanup(queue: &Queue, namespace: &str) -> anyhow::Result<()> {
    let k = queue.keys();
    let mut del = Cmd::new("DEL")
        .arg(k.jobs())
        .arg(k.fair())
        .arg(k.delayed())
        .arg(k.active())
        .arg(k.meta())
        .arg(k.events())
        .arg(k.wake())
        .arg(k.custom("workers"))
        .arg(k.custom("alerts"))
        .arg(format!("{{keys:{namespace}}}:state"))
        .arg(format!("{{keys:{namespace}}}:events"));
    for p in Priority::ALL {
        del = del.arg(k.ready(p));
    }
    for s in [JobState::Completed, JobState::Failed, JobState::Cancelled] {
        if let Some(key) = k.finished(s) {
            del = del.arg(key);
        }
    }
    queue.redis().query(&del).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let serve_only = std::env::args().any(|a| a == "--serve");
    let redis_url =
        std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let redis = scenergy_redis::connect(
        &RedisConfig::Tcp {
            url: redis_url.into(),
        },
        Duration::from_secs(10),
    )
    .await?;
    let tag = format!("{:04x}", rand::random::<u16>());
    let queue = Queue::new(
        redis.clone(),
        &format!("images-{tag}"),
        QueueOptions::default(),
    )?;
    let namespace = format!("dashboard-fixture-{tag}");
    let pool = key_pool(&redis, &namespace).await?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    seed(&queue, &base).await?;

    let mut images = Vec::new();
    for label in ["oak desk lamp", "linen chair", "brass lamp", "walnut stool"] {
        let request = ImageRequest::new(
            format!("product photo of a {label}"),
            "1:1",
            ImageQuality::K1,
        );
        images.push(OfflineProvider::new().generate(None, &request).await?.bytes);
    }
    let fixture = Fixture {
        queue: queue.clone(),
        claims: Arc::new(AtomicU64::new(0)),
        consuming: Arc::new(AtomicBool::new(false)),
        images: Arc::new(images),
    };
    let config = AdminConfig::from_env(&Env::from_pairs([
        ("ENABLE_BULL_BOARD", "true"),
        ("ADMIN_TOKEN", ADMIN_TOKEN),
    ]))?
    .ok_or_else(|| anyhow::anyhow!("the dashboard is switched on"))?;
    let admin = AdminState::new(config, vec![queue.clone()], Some(pool));
    let fixture_routes = Router::new()
        .route("/fixture/counts", get(counts))
        .route("/fixture/jobs/{id}", get(job_state))
        .route("/fixture/consumer", post(consumer).delete(consumer))
        .route("/fixture/assets/{name}", get(asset))
        .with_state(fixture.clone());
    let app = routes(Some(admin)).merge(fixture_routes);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "dashboard fixture: {base}/admin/queues (user any, password {ADMIN_TOKEN}); queue {}",
        queue.name()
    )?;
    drop(out);
    let code = if serve_only {
        scenergy_http::serve::shutdown_signal().await;
        0
    } else {
        let dir = std::env::var("BROWSER_TEST_DIR")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser").to_owned());
        let status = tokio::time::timeout(
            Duration::from_secs(300),
            tokio::process::Command::new("node")
                .args(["--test", "--test-timeout=240000", "dashboard.test.mjs"])
                .current_dir(&dir)
                .env("DASHBOARD_URL", &base)
                .env("ADMIN_TOKEN", ADMIN_TOKEN)
                .env("QUEUE_NAME", queue.name())
                .kill_on_drop(true)
                .status(),
        )
        .await
        .map_err(|_| anyhow::anyhow!("the browser test did not finish within 300 s"))??;
        status.code().unwrap_or(1)
    };
    fixture.consuming.store(false, Ordering::SeqCst);
    server.abort();
    cleanup(&queue, &namespace).await?;
    if code != 0 {
        anyhow::bail!("the browser test failed (node exited with {code})");
    }
    Ok(())
}
