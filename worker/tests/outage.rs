//! Outages of PostgreSQL and of the S3 server while a job runs: the items retry with backoff
//! and the job completes once the service is back, in the same attempt. The outage is staged
//! with a proxy in front of the real service, which stays up for the other tests.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use gemini_sim::{LatencyRange, SimConfig};
use scenergy_config::SecretString;
use scenergy_db::PgPool;
use scenergy_storage::{S3Config, S3Storage, Storage};
use scenergy_testkit::{FaultProxy, S3Server, bounded};
use scenergy_worker::RunMode;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio_util::sync::CancellationToken;

const LIMIT: Duration = Duration::from_secs(90);
const OUTAGE: Duration = Duration::from_secs(3);

/// Runs a 2 × 2 job with `db` and `storage`, cuts `proxy` once the first item is stored,
/// restores it after [`OUTAGE`], and checks the job completed in its first attempt.
async fn ride_out(db: &PgPool, worker_db: PgPool, storage: Arc<dyn Storage>, proxy: &FaultProxy) {
    let (queue, redis) = queue().await;
    let products = seed_products(db, None, CLIENT, "cabinet", 2).await;
    let (sim_url, sim) = sim(SimConfig {
        latency: LatencyRange::fixed(300),
        ..SimConfig::default()
    })
    .await;
    let generator = gemini(&sim_url, &redis, &test_keys(1), pool_config());
    let id = enqueue(&queue, CLIENT, &payload(&products, 2, "in a kitchen")).await;
    let worker = worker(
        &queue,
        &worker_db,
        &storage,
        generator,
        run_settings(&queue, 1),
    );
    let stop = CancellationToken::new();
    let (w, s) = (worker.clone(), stop.clone());
    tokio::spawn(async move { w.run(RunMode::UntilEmpty, s).await });

    wait_status(&queue, &id, LIMIT, |s| completed_items(s) >= 1).await;
    proxy.cut();
    tokio::time::sleep(OUTAGE).await;
    let refused = proxy.refused();
    proxy.restore();
    let status = wait_status(&queue, &id, LIMIT, is_finished).await;
    stop.cancel();

    assert!(refused > 0, "the worker kept trying during the outage");
    assert_eq!(status["status"], "completed", "{status}");
    assert_eq!(
        status["attempts"], 1,
        "ridden out within the attempt: {status}"
    );
    assert_eq!(status["result"]["assets"].as_array().unwrap().len(), 4);
    assert_eq!(sim.stats().total_calls, 4, "no image paid for twice");
    assert_eq!(
        scenergy_db::assets_for_job(db, id.as_str())
            .await
            .unwrap()
            .len(),
        4
    );
}

#[sqlx::test(migrator = "scenergy_db::MIGRATOR")]
async fn a_database_outage_mid_job_is_ridden_out(db: PgPool) {
    bounded(LIMIT, async {
        let options: PgConnectOptions = db_url(&db).parse().unwrap();
        let upstream = format!("{}:{}", options.get_host(), options.get_port());
        let proxy = FaultProxy::start(&upstream).await;
        let through_proxy = PgPoolOptions::new()
            .max_connections(3)
            .acquire_timeout(Duration::from_secs(2))
            .connect_with(options.host("127.0.0.1").port(proxy.port()))
            .await
            .unwrap();
        let (storage, _dir) = fs_storage().await;
        ride_out(&db, through_proxy, storage, &proxy).await;
    })
    .await;
}

#[sqlx::test(migrator = "scenergy_db::MIGRATOR")]
async fn an_s3_outage_mid_job_is_ridden_out(db: PgPool) {
    bounded(LIMIT, async {
        let server = S3Server::start().await;
        let upstream = server.endpoint.trim_start_matches("http://").to_owned();
        let proxy = FaultProxy::start(&upstream).await;
        let mut config = S3Config::new(
            format!("http://{}", proxy.addr()),
            format!("worker-outage-{:08x}", rand::random::<u32>()),
            server.access_key.clone(),
            SecretString::from(server.secret_key.clone()),
            "https://assets.example.test/",
        );
        config.connect_timeout = Duration::from_secs(1);
        config.operation_timeout = Duration::from_secs(5);
        let storage = S3Storage::new(&config);
        storage.create_bucket_if_missing().await.unwrap();
        ride_out(&db, db.clone(), Arc::new(storage), &proxy).await;
    })
    .await;
}
