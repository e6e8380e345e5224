//! `worker serve` as a process: killed with SIGKILL mid-job, stopped with SIGTERM with work in
//! flight, and left idle. The Gemini simulator runs in the test and counts every call, so
//! "nothing was generated twice" is a count, not a guess.

mod common;

use std::time::{Duration, Instant};

use common::*;
use gemini_sim::{LatencyRange, SimConfig};
use scenergy_db::PgPool;
use scenergy_testkit::{OwnRedis, bounded};
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(100);

async fn rows(db: &PgPool, id: &scenergy_queue::JobId) -> usize {
    scenergy_db::assets_for_job(db, id.as_str())
        .await
        .unwrap()
        .len()
}

/// A job of `n` products × 2 variants on a fresh queue, and the environment of `worker serve`
/// processes that generate it through a simulator answering in `latency_ms`, with `extra`
/// settings on top (later entries win).
struct Setup {
    dir: tempfile::TempDir,
    queue: scenergy_queue::Queue,
    sim: gemini_sim::SpawnedSim,
    env: Vec<(&'static str, String)>,
    id: scenergy_queue::JobId,
}

async fn setup(db: &PgPool, n: usize, latency_ms: u64, extra: &[(&'static str, &str)]) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let (queue, _redis) = queue().await;
    let products = seed_products(db, None, CLIENT, "item", n).await;
    let (sim_url, sim) = sim(SimConfig {
        latency: LatencyRange::fixed(latency_ms),
        ..SimConfig::default()
    })
    .await;
    let mut env = worker_env(&queue, db, dir.path());
    env.push(("GOOGLE_AI_STUDIO_API_KEY", test_keys(1).remove(0)));
    env.push(("GEMINI_API_BASE_URL", sim_url));
    env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let id = enqueue(&queue, CLIENT, &payload(&products, 2, "in a loft")).await;
    Setup {
        dir,
        queue,
        sim,
        env,
        id,
    }
}

#[sqlx::test(migrator = "scenergy_db::MIGRATOR")]
async fn a_worker_killed_mid_job_is_replaced_and_nothing_is_generated_twice(db: PgPool) {
    bounded(LIMIT, async {
        let Setup {
            dir,
            queue,
            sim,
            env,
            id,
        } = setup(&db, 2, 500, &[("WORKER_CONCURRENCY", "1")]).await;

        let first = WorkerProcess::start(&env).await;
        wait_status(&queue, &id, LIMIT, |s| completed_items(s) >= 1).await;
        first.kill9().await;
        let stored_at_kill = rows(&db, &id).await;
        let calls_at_kill = sim.stats().total_calls;
        assert!(
            (1..4).contains(&stored_at_kill),
            "killed mid-job: {stored_at_kill} stored"
        );

        let second = WorkerProcess::start(&env).await;
        let status = wait_status(&queue, &id, LIMIT, is_finished).await;
        drop(second);
        assert_eq!(status["status"], "completed", "{status}");
        // Recovered from a stalled lease, not retried as a failure.
        assert_eq!(status["attempts"], 2, "{status}");
        assert_eq!(rows(&db, &id).await, 4, "one row per item, no duplicates");
        let files = stored_files(dir.path());
        assert_eq!(files.len(), 4, "one object per item: {files:?}");
        let second_calls = sim.stats().total_calls - calls_at_kill;
        assert_eq!(
            second_calls,
            u64::try_from(4 - stored_at_kill).unwrap(),
            "the replacement generated only the items that were not stored"
        );
    })
    .await;
}

#[sqlx::test(migrator = "scenergy_db::MIGRATOR")]
async fn sigterm_finishes_in_flight_items_and_releases_the_rest_at_once(db: PgPool) {
    bounded(LIMIT, async {
        let Setup {
            dir,
            queue,
            sim,
            env,
            id,
        } = setup(
            &db,
            3,
            700,
            &[
                ("WORKER_CONCURRENCY", "2"),
                ("SHUTDOWN_GRACE_SECS", "5"),
                // A long lease: if the job were not released, the next worker would wait for it.
                ("LEASE_SECS", "60"),
            ],
        )
        .await;

        let mut first = WorkerProcess::start(&env).await;
        wait_status(&queue, &id, LIMIT, |s| completed_items(s) >= 1).await;
        let in_flight_calls = sim.stats().in_flight;
        first.sigterm();
        let exit = first.wait_exit(Duration::from_secs(15)).await;
        assert!(exit.success(), "a clean exit after SIGTERM: {exit}");
        let stored = rows(&db, &id).await;
        assert!(stored < 6, "released before the end: {stored}");
        // The calls in flight at SIGTERM were finished and stored, not thrown away.
        let status: Value = queue.status(&id).await.unwrap().unwrap();
        assert_eq!(
            status["status"], "queued",
            "released to the queue: {status}"
        );
        assert_eq!(completed_items(&status), u64::try_from(stored).unwrap());
        assert!(in_flight_calls >= 1);
        assert_eq!(
            sim.stats().in_flight,
            0,
            "nothing left hanging in the model"
        );
        let calls_before = sim.stats().total_calls;
        assert_eq!(
            calls_before,
            u64::try_from(stored).unwrap(),
            "every call made was stored"
        );

        let started = Instant::now();
        let second = WorkerProcess::start(&env).await;
        let status = wait_status(&queue, &id, LIMIT, is_finished).await;
        let took = started.elapsed();
        drop(second);
        assert_eq!(status["status"], "completed", "{status}");
        assert_eq!(
            status["attempts"], 1,
            "a release costs no attempt: {status}"
        );
        assert!(
            took < Duration::from_secs(50),
            "taken up at once, not after the 60 s lease: {took:?}"
        );
        assert_eq!(rows(&db, &id).await, 6);
        assert_eq!(stored_files(dir.path()).len(), 6);
        assert_eq!(sim.stats().total_calls, 6, "no item generated twice");
    })
    .await;
}

/// Total commands the server has executed, from `INFO commandstats` (the INFO calls themselves
/// excluded).
async fn commands(redis: &scenergy_redis::Redis) -> u64 {
    let info = redis
        .query(&scenergy_redis::Cmd::new("INFO").arg("commandstats"))
        .await
        .unwrap();
    let text = info.as_str().unwrap().to_owned();
    text.lines()
        .filter(|l| l.starts_with("cmdstat_") && !l.starts_with("cmdstat_info:"))
        .filter_map(|l| {
            l.split("calls=")
                .nth(1)?
                .split(',')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

#[sqlx::test(migrator = "scenergy_db::MIGRATOR")]
async fn an_idle_worker_blocks_instead_of_polling_and_wakes_on_enqueue(db: PgPool) {
    bounded(LIMIT, async {
        let dir = tempfile::tempdir().unwrap();
        // A redis-server of the test's own, so every command counted is the worker's.
        let own = OwnRedis::start(scenergy_testkit::free_port()).await;
        let redis = scenergy_redis::Redis::new(
            scenergy_redis::TcpTransport::connect(scenergy_redis::TcpConfig::new(own.url()))
                .await
                .unwrap(),
        );
        let queue = scenergy_queue::Queue::new(
            redis.clone(),
            "idle",
            scenergy_queue::QueueOptions::default(),
        )
        .unwrap();
        let products = seed_products(&db, None, CLIENT, "desk", 1).await;
        let mut env = worker_env(&queue, &db, dir.path());
        env.retain(|(k, _)| *k != "REDIS_URL");
        env.push(("REDIS_URL", own.url()));
        let worker = WorkerProcess::start(&env).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let before = commands(&redis).await;
        tokio::time::sleep(Duration::from_secs(10)).await;
        let idle = commands(&redis).await - before;
        assert_eq!(
            idle, 0,
            "an idle worker sends nothing while it blocks on the wake list"
        );

        let started = Instant::now();
        let id = enqueue(&queue, CLIENT, &payload(&products, 1, "in an office")).await;
        let status = wait_status(&queue, &id, LIMIT, is_finished).await;
        assert_eq!(status["status"], "completed");
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "woken by the enqueue, not by its 300 s wait timing out"
        );
        drop(worker);
    })
    .await;
}
