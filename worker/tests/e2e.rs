//! The image job end to end against real services: redis-server, the test's own PostgreSQL
//! database, an S3-compatible server or a directory, and the Gemini simulator over HTTP.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use gemini_sim::{LatencyRange, SimConfig};
use scenergy_config::{Env, SecretString};
use scenergy_db::{JobState, NewAsset, NewJob, PgPool};
use scenergy_queue::JobId;
use scenergy_storage::{ObjectKey, S3Config, S3Storage, Storage};
use scenergy_testkit::{S3Server, bounded};
use scenergy_worker::{RunMode, Worker};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const LIMIT: Duration = Duration::from_secs(90);

/// Runs `worker` in serve mode (woken through the wake list) until the returned token fires.
async fn serve(worker: &Worker) -> CancellationToken {
    let stop = CancellationToken::new();
    let blocking = scenergy_queue::wake_transport(&scenergy_testkit::redis_url())
        .await
        .unwrap();
    let (worker, token) = (worker.clone(), stop.clone());
    tokio::spawn(async move {
        worker
            .run(
                RunMode::Forever {
                    blocking: Some(&blocking),
                },
                token,
            )
            .await
    });
    stop
}

async fn s3(server: &S3Server) -> Arc<dyn Storage> {
    let config = S3Config::new(
        server.endpoint.clone(),
        format!("worker-e2e-{:08x}", rand::random::<u32>()),
        server.access_key.clone(),
        SecretString::from(server.secret_key.clone()),
        "https://assets.example.test/".to_owned(),
    );
    let storage = S3Storage::new(&config);
    storage.create_bucket_if_missing().await.unwrap();
    Arc::new(storage)
}

#[sqlx::test(migrator = "scenergy_db::MIGRATOR")]
async fn a_job_runs_end_to_end_through_the_enqueue_function_the_simulator_and_s3(db: PgPool) {
    bounded(LIMIT, async {
        let server = S3Server::start().await;
        let storage = s3(&server).await;
        let (queue, redis) = queue().await;
        let products = seed_products(&db, Some(&storage), CLIENT, "sofa", 2).await;
        let (sim_url, sim) = sim(SimConfig {
            latency: LatencyRange::fixed(80),
            ..SimConfig::default()
        })
        .await;
        let keys = test_keys(2);
        let generator = gemini(&sim_url, &redis, &keys, pool_config());

        // POST /api/jobs through the enqueue function, served over HTTP.
        let secret = "worker-e2e-secret-0123456789abcdefgh";
        let env = Env::from_pairs([
            ("REDIS_URL", scenergy_testkit::redis_url()),
            ("AUTH_JWT_SECRET", secret.to_owned()),
            ("QUEUE_NAME", queue.name().to_owned()),
        ]);
        let settings = scenergy_enqueue::Settings::from_env(&env).unwrap();
        let enqueue = scenergy_enqueue::AppState::new(settings, redis.clone()).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, scenergy_enqueue::app(enqueue)).await });
        let token = scenergy_http::auth::mint(
            &SecretString::from(secret.to_owned()),
            CLIENT,
            Duration::from_secs(600),
        )
        .unwrap();
        let reply: Value = reqwest::Client::new()
            .post(format!("{base}/api/jobs"))
            .bearer_auth(&token)
            .json(&json!({
                "type": "image_generation",
                "sessionId": "session-1",
                "productIds": products,
                "prompt": "in a sunlit loft",
                "settings": {"aspectRatio": "4:3", "imageQuality": "1k", "variantsPerProduct": 2},
            }))
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = JobId::parse(reply["jobId"].as_str().unwrap()).unwrap();

        let trail = StatusTrail::start(&queue, &id);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let worker = worker(
            &queue,
            &db,
            &storage,
            generator.clone(),
            run_settings(&queue, 2),
        );
        let stop = serve(&worker).await;
        let status = wait_status(&queue, &id, LIMIT, is_finished).await;
        let trail = trail.finish().await;
        stop.cancel();

        assert_eq!(status["status"], "completed", "{status}");
        let result = &status["result"];
        assert_eq!(result["assets"].as_array().unwrap().len(), 4, "{result}");
        assert_eq!(result["imageIds"].as_array().unwrap().len(), 4);
        assert_eq!(result["failed"], json!([]));
        assert_eq!(result["provider"], "gemini");

        // The status went queued → active with rising progress → completed.
        assert_eq!(trail.first().unwrap().0, "queued", "{trail:?}");
        assert_eq!(
            trail.last().unwrap(),
            &("completed".to_owned(), 100),
            "{trail:?}"
        );
        let active: Vec<u64> = trail
            .iter()
            .filter(|(s, _)| s == "active")
            .map(|(_, p)| *p)
            .collect();
        assert!(active.windows(2).all(|w| w[0] <= w[1]), "{trail:?}");
        assert!(active.iter().any(|p| (1..100).contains(p)), "{trail:?}");

        // Four rows, four objects under their deterministic keys, each a real PNG.
        let assets = scenergy_db::assets_for_job(&db, id.as_str()).await.unwrap();
        assert_eq!(assets.len(), 4);
        for asset in &assets {
            let expected = format!(
                "{CLIENT}/session-1/{id}/{}-{}.png",
                asset.product_id, asset.variant_index
            );
            assert_eq!(asset.object_key, expected);
            assert_eq!(asset.url, format!("https://assets.example.test/{expected}"));
            assert_eq!(asset.provider, "gemini");
            let key = ObjectKey::parse(expected).unwrap();
            let bytes = storage.fetch(&key).await.unwrap();
            assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
            assert_eq!(asset.bytes, i64::try_from(bytes.len()).unwrap());
            let meta = storage.head(&key).await.unwrap().unwrap();
            assert_eq!(meta.content_type.as_deref(), Some("image/png"));
        }
        let record = scenergy_db::job(&db, id.as_str()).await.unwrap().unwrap();
        assert_eq!(record.state, JobState::Completed);
        assert_eq!(record.attempts, 1);
        assert_eq!(record.result.as_ref(), Some(result));
        assert_eq!(sim.stats().total_calls, 4, "one model call per item");
    })
    .await;
}

#[sqlx::test(migrator = "scenergy_db::MIGRATOR")]
async fn injected_429s_cool_a_key_and_the_job_still_completes(db: PgPool) {
    bounded(LIMIT, async {
        let server = S3Server::start().await;
        let storage = s3(&server).await;
        let (queue, redis) = queue().await;
        let products = seed_products(&db, None, CLIENT, "lamp", 3).await;
        // Two calls per key per 2 s window: six items on two keys must hit the limit.
        let (sim_url, sim) = sim(SimConfig {
            rpm_per_key: 2,
            minute: Duration::from_secs(2),
            latency: LatencyRange::fixed(20),
            ..SimConfig::default()
        })
        .await;
        let keys = test_keys(2);
        let generator = gemini(&sim_url, &redis, &keys, pool_config());
        let pool = generator.pool.clone().unwrap();
        let id = enqueue(&queue, CLIENT, &payload(&products, 2, "on a desk")).await;
        let worker = worker(&queue, &db, &storage, generator, run_settings(&queue, 3));
        let stop = serve(&worker).await;
        let status = wait_status(&queue, &id, LIMIT, is_finished).await;
        stop.cancel();

        assert_eq!(status["status"], "completed", "{status}");
        assert_eq!(status["result"]["assets"].as_array().unwrap().len(), 6);
        let stats = sim.stats();
        assert!(
            stats.rate_limited > 0,
            "the simulator answered 429: {stats:?}"
        );
        let health = pool.health().await.unwrap();
        assert!(
            health.iter().any(|k| k.rate_limited > 0),
            "a cooled key is visible in the pool's health: {health:?}"
        );
        assert_eq!(
            scenergy_db::assets_for_job(&db, id.as_str())
                .await
                .unwrap()
                .len(),
            6
        );
    })
    .await;
}

#[sqlx::test(migrator = "scenergy_db::MIGRATOR")]
async fn unknown_and_foreign_products_fail_their_items_and_the_rest_completes(db: PgPool) {
    bounded(LIMIT, async {
        let (storage, _dir) = fs_storage().await;
        let (queue, _redis) = queue().await;
        let mine = seed_products(&db, None, CLIENT, "chair", 1).await;
        let theirs = seed_products(&db, None, "client-b", "desk", 1).await;
        let products = vec![
            mine[0].clone(),
            "no-such-product".to_owned(),
            theirs[0].clone(),
        ];
        let partial = enqueue(&queue, CLIENT, &payload(&products, 1, "in a garden")).await;
        let nothing = enqueue(&queue, CLIENT, &payload(&theirs, 2, "in a garden")).await;
        let worker = worker(&queue, &db, &storage, offline(), run_settings(&queue, 2));
        let stop = serve(&worker).await;
        let partial = wait_status(&queue, &partial, LIMIT, is_finished).await;
        let nothing_status = wait_status(&queue, &nothing, LIMIT, is_finished).await;
        stop.cancel();

        assert_eq!(partial["status"], "completed", "{partial}");
        let result = &partial["result"];
        assert_eq!(result["provider"], "offline");
        assert_eq!(result["assets"].as_array().unwrap().len(), 1);
        assert_eq!(result["assets"][0]["productId"], mine[0]);
        let failed = result["failed"].as_array().unwrap();
        assert_eq!(failed.len(), 2, "{result}");
        for item in failed {
            assert!(
                item["reason"]
                    .as_str()
                    .unwrap()
                    .contains("not found in this client's catalogue"),
                "{item}"
            );
        }
        assert_eq!(partial["progress"]["percent"], 100);

        // Another client's products look exactly like missing ones, and nothing left is a
        // failed job, at once (no retry can help).
        assert_eq!(nothing_status["status"], "failed", "{nothing_status}");
        assert_eq!(nothing_status["attempts"], 1);
        let error = nothing_status["error"].as_str().unwrap();
        assert!(
            error.starts_with("no image could be generated: product desk-1 not found"),
            "{error}"
        );
        let record = scenergy_db::job(&db, nothing.as_str())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.state, JobState::Failed);
        assert_eq!(record.error.as_deref(), Some(error));
    })
    .await;
}

#[sqlx::test(migrator = "scenergy_db::MIGRATOR")]
async fn a_safety_block_on_every_item_fails_the_job_without_retrying(db: PgPool) {
    bounded(LIMIT, async {
        let (storage, _dir) = fs_storage().await;
        let (queue, redis) = queue().await;
        let products = seed_products(&db, None, CLIENT, "vase", 2).await;
        let (sim_url, sim) = sim(SimConfig::default()).await;
        let generator = gemini(&sim_url, &redis, &test_keys(1), pool_config());
        let id = enqueue(
            &queue,
            CLIENT,
            &payload(&products, 1, "[[sim:block=SAFETY]] a vase"),
        )
        .await;
        let worker = worker(&queue, &db, &storage, generator, run_settings(&queue, 2));
        let stop = serve(&worker).await;
        let status = wait_status(&queue, &id, LIMIT, is_finished).await;
        stop.cancel();

        assert_eq!(status["status"], "failed", "{status}");
        assert_eq!(status["attempts"], 1, "a safety block is not retried");
        assert!(
            status["error"]
                .as_str()
                .unwrap()
                .contains("blocked: SAFETY"),
            "{status}"
        );
        assert_eq!(
            sim.stats().total_calls,
            2,
            "one call per item, none repeated"
        );
        assert!(
            scenergy_db::assets_for_job(&db, id.as_str())
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

#[sqlx::test(migrator = "scenergy_db::MIGRATOR")]
async fn a_resumed_job_generates_only_the_items_not_yet_stored(db: PgPool) {
    bounded(LIMIT, async {
        let (storage, _dir) = fs_storage().await;
        let (queue, redis) = queue().await;
        let products = seed_products(&db, None, CLIENT, "rug", 2).await;
        let job = payload(&products, 2, "in a hallway");
        let id = enqueue(&queue, CLIENT, &job).await;
        // An earlier attempt stored and recorded product 1, variant 0 before it died.
        let settings = serde_json::to_value(&job.settings).unwrap();
        scenergy_db::upsert_job(
            &db,
            &NewJob {
                job_id: id.as_str(),
                client_id: CLIENT,
                session_id: "session-1",
                job_type: "image_generation",
                priority: "normal",
                prompt: &job.prompt,
                settings: &settings,
                product_ids: &products,
                variants_per_product: 2,
            },
        )
        .await
        .unwrap();
        let key = format!("{CLIENT}/session-1/{id}/{}-0.png", products[0]);
        scenergy_db::insert_asset(
            &db,
            &NewAsset {
                job_id: id.as_str(),
                client_id: CLIENT,
                product_id: &products[0],
                variant_index: 0,
                object_key: &key,
                url: "file:///earlier",
                content_type: "image/png",
                width: Some(1024),
                height: Some(1024),
                bytes: 1,
                provider: "gemini",
            },
        )
        .await
        .unwrap();

        let (sim_url, sim) = sim(SimConfig::default()).await;
        let generator = gemini(&sim_url, &redis, &test_keys(1), pool_config());
        let worker = worker(&queue, &db, &storage, generator, run_settings(&queue, 2));
        let stop = serve(&worker).await;
        let status = wait_status(&queue, &id, LIMIT, is_finished).await;
        stop.cancel();

        assert_eq!(status["status"], "completed", "{status}");
        assert_eq!(
            sim.stats().total_calls,
            3,
            "the stored item was not generated again"
        );
        let assets = status["result"]["assets"].as_array().unwrap();
        assert_eq!(assets.len(), 4, "the result lists the earlier image too");
        assert!(assets.iter().any(|a| a["url"] == "file:///earlier"));
    })
    .await;
}
