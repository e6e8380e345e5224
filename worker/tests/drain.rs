//! `POST /drain`, `/healthz` and `/readyz` over real HTTP, on the worker's Router.

mod common;

use std::time::Duration;

use common::*;
use gemini_sim::{LatencyRange, SimConfig};
use scenergy_config::SecretString;
use scenergy_db::PgPool;
use scenergy_testkit::bounded;
use scenergy_worker::{AppState, DrainAuth, Worker, app, qstash};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const LIMIT: Duration = Duration::from_secs(60);
const CURRENT: &str = "sig_current_test_key";
const NEXT: &str = "sig_next_test_key";

async fn serve(worker: &Worker, public_url: Option<String>) -> String {
    let auth = DrainAuth {
        worker_token: Some(SecretString::from(WORKER_TOKEN.to_owned())),
        qstash_keys: Some((
            SecretString::from(CURRENT.to_owned()),
            SecretString::from(NEXT.to_owned()),
        )),
        public_url,
    };
    let router = app(AppState::new(
        worker.clone(),
        auth,
        CancellationToken::new(),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

#[sqlx::test(migrator = "scenergy_db::MIGRATOR")]
async fn drain_runs_until_the_queue_is_empty_and_answers_with_a_summary(db: PgPool) {
    bounded(LIMIT, async {
        let (storage, _dir) = fs_storage().await;
        let (queue, _redis) = queue().await;
        let products = seed_products(&db, None, CLIENT, "bed", 2).await;
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(enqueue(&queue, CLIENT, &payload(&products, 1, "in a bedroom")).await);
        }
        let worker = worker(&queue, &db, &storage, offline(), run_settings(&queue, 3));
        let base = serve(&worker, None).await;
        let reply = reqwest::Client::new()
            .post(format!("{base}/drain"))
            .bearer_auth(WORKER_TOKEN)
            .json(&json!({"deadlineSecs": 50}))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200);
        let summary: Value = reply.json().await.unwrap();
        assert_eq!(summary["ended"], "empty", "{summary}");
        assert_eq!(summary["jobsClaimed"], 3);
        assert_eq!(summary["completed"], 3);
        assert_eq!(summary["images"], 6);
        assert_eq!(summary["deadlineSecs"], 50);
        // It returned because the queue is empty: every job is finished.
        let counts = queue.counts().await.unwrap();
        assert_eq!(
            (counts.waiting(), counts.active, counts.completed),
            (0, 0, 3)
        );
        for id in &ids {
            assert_eq!(
                queue.status(id).await.unwrap().unwrap()["status"],
                "completed"
            );
        }
    })
    .await;
}

#[sqlx::test(migrator = "scenergy_db::MIGRATOR")]
async fn drain_refuses_missing_tokens_and_bad_signatures(db: PgPool) {
    bounded(LIMIT, async {
        let (storage, _dir) = fs_storage().await;
        let (queue, _redis) = queue().await;
        let worker = worker(&queue, &db, &storage, offline(), run_settings(&queue, 1));
        let url = "https://worker.example.test/drain";
        let base = serve(&worker, Some(url.to_owned())).await;
        let http = reqwest::Client::new();
        let post = |body: &'static str| http.post(format!("{base}/drain")).body(body);
        let key = |k: &str| SecretString::from(k.to_owned());

        let refused = [
            ("no credentials", post("").send().await.unwrap()),
            (
                "a wrong bearer",
                post("").bearer_auth("not-the-token").send().await.unwrap(),
            ),
            (
                "a signature from another key",
                post("")
                    .header(
                        "Upstash-Signature",
                        qstash::sign(&key("sig_other"), url, b"", 60),
                    )
                    .send()
                    .await
                    .unwrap(),
            ),
            (
                "a signature for another body",
                post("{}")
                    .header(
                        "Upstash-Signature",
                        qstash::sign(&key(CURRENT), url, b"", 60),
                    )
                    .send()
                    .await
                    .unwrap(),
            ),
            (
                "a signature for another URL",
                post("")
                    .header(
                        "Upstash-Signature",
                        qstash::sign(&key(CURRENT), "https://evil.example.test/drain", b"", 60),
                    )
                    .send()
                    .await
                    .unwrap(),
            ),
            (
                "a garbled signature",
                post("")
                    .header("Upstash-Signature", "e30.e30.sig")
                    .send()
                    .await
                    .unwrap(),
            ),
        ];
        for (what, reply) in refused {
            assert_eq!(reply.status(), 401, "{what}");
            assert_eq!(
                reply.headers()["content-type"],
                "application/problem+json",
                "{what}"
            );
        }
        for signing_key in [CURRENT, NEXT] {
            let reply = post("")
                .header(
                    "Upstash-Signature",
                    qstash::sign(&key(signing_key), url, b"", 60),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(reply.status(), 200, "signed with {signing_key}");
        }
        let reply = post("").bearer_auth(WORKER_TOKEN).send().await.unwrap();
        assert_eq!(reply.status(), 200);
        assert_eq!(reply.json::<Value>().await.unwrap()["ended"], "empty");
        let reply = post("{\"deadline\": 5}")
            .bearer_auth(WORKER_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 400, "unknown option");
        let reply = http.get(format!("{base}/drain")).send().await.unwrap();
        assert_eq!(reply.status(), 405);
        assert_eq!(reply.headers()["allow"], "POST");
    })
    .await;
}

#[sqlx::test(migrator = "scenergy_db::MIGRATOR")]
async fn a_drain_finishes_its_work_when_the_caller_hangs_up(db: PgPool) {
    bounded(LIMIT, async {
        let (storage, _dir) = fs_storage().await;
        let (queue, redis) = queue().await;
        let products = seed_products(&db, None, CLIENT, "shelf", 2).await;
        let (sim_url, sim) = sim(SimConfig {
            latency: LatencyRange::fixed(400),
            ..SimConfig::default()
        })
        .await;
        let generator = gemini(&sim_url, &redis, &test_keys(1), pool_config());
        let id = enqueue(&queue, CLIENT, &payload(&products, 2, "in a study")).await;
        let worker = worker(&queue, &db, &storage, generator, run_settings(&queue, 1));
        let base = serve(&worker, None).await;
        // Four items one at a time take about 1.6 s; the caller gives up after 300 ms.
        let hung_up = reqwest::Client::new()
            .post(format!("{base}/drain"))
            .bearer_auth(WORKER_TOKEN)
            .timeout(Duration::from_millis(300))
            .send()
            .await;
        assert!(hung_up.unwrap_err().is_timeout());
        let status = wait_status(&queue, &id, LIMIT, is_finished).await;
        assert_eq!(status["status"], "completed", "{status}");
        assert_eq!(status["result"]["assets"].as_array().unwrap().len(), 4);
        assert_eq!(sim.stats().total_calls, 4);
    })
    .await;
}

#[sqlx::test(migrator = "scenergy_db::MIGRATOR")]
async fn readiness_checks_redis_the_database_and_storage(db: PgPool) {
    bounded(LIMIT, async {
        let (storage, dir) = fs_storage().await;
        let (queue, _redis) = queue().await;
        let worker = worker(&queue, &db, &storage, offline(), run_settings(&queue, 1));
        let base = serve(&worker, None).await;
        let http = reqwest::Client::new();
        let health = http.get(format!("{base}/healthz")).send().await.unwrap();
        assert_eq!(health.status(), 200);
        let ready = http.get(format!("{base}/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), 200);
        assert_eq!(
            ready.json::<Value>().await.unwrap(),
            json!({"status": "ready", "checks": {"redis": "ok", "database": "ok", "storage": "ok"}})
        );
        // Storage gone: not ready, and the reply names the check without internals.
        std::fs::remove_dir_all(dir.path()).unwrap();
        let ready = http.get(format!("{base}/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), 503);
        let body: Value = ready.json().await.unwrap();
        assert_eq!(body["checks"]["storage"], "unreachable", "{body}");
        assert_eq!(body["checks"]["database"], "ok");
    })
    .await;
}
