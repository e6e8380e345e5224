//! Secrets never reach the logs: a `worker serve` process runs a real job through the Gemini
//! simulator (one key valid, one the simulator rejects, so the pool disables it) and answers
//! refused and accepted requests on `/drain` and `/admin`; its whole output is then searched
//! for every secret it was given.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use base64::Engine as _;
use gemini_sim::SimConfig;
use scenergy_db::PgPool;
use scenergy_queue::{Queue, QueueOptions};
use scenergy_testkit::{TestRedis, bounded, free_port, redis_url};
use tokio::io::AsyncReadExt;

use common::{db_url, enqueue, payload, seed_products};

#[sqlx::test(migrator = "scenergy_db::MIGRATOR")]
async fn no_secret_appears_in_a_runs_output(pool: PgPool) {
    bounded(Duration::from_secs(120), async {
        let tag = format!("{:012x}", rand::random::<u64>() >> 16);
        let valid_key = format!("AIzaSyLOGS-valid-{tag}");
        let invalid_key = format!("AIzaSyLOGS-invalid-{tag}");
        let worker_token = format!("worker-token-secret-{tag}");
        let admin_token = format!("admin-token-secret-{tag}");
        let jwt_secret = format!("jwt-secret-{tag}");
        let qstash_token = format!("qstash-token-{tag}");
        let qstash_current = format!("sig_current_{tag}");
        let qstash_next = format!("sig_next_{tag}");
        let webhook_secret = format!("hookpath{tag}");
        let secrets = [
            &valid_key,
            &invalid_key,
            &worker_token,
            &admin_token,
            &jwt_secret,
            &qstash_token,
            &qstash_current,
            &qstash_next,
            &webhook_secret,
        ];

        let (sim_url, _sim) = gemini_sim::spawn_local(SimConfig {
            invalid_keys: vec![invalid_key.clone()],
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let redis = TestRedis::tcp().await.redis;
        let queue_name = format!("logs-{tag}");
        let queue = Queue::new(redis, &queue_name, QueueOptions::default()).unwrap();
        let products = seed_products(&pool, None, "client-logs", "prod", 1).await;
        let id = enqueue(&queue, "client-logs", &payload(&products, 2, "on a desk")).await;

        let storage = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_worker"))
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PORT", port.to_string())
            .env("HOST", "127.0.0.1")
            .env("RUST_LOG", "info,scenergy_worker=debug,scenergy_keypool=debug,scenergy_queue=debug,scenergy_gemini=debug")
            .env("REDIS_URL", redis_url())
            .env("DATABASE_URL", db_url(&pool))
            .env("LOCAL_STORAGE_DIR", storage.path())
            .env("QUEUE_NAME", &queue_name)
            .env("MAX_JOBS_PER_SECOND", "0")
            .env("GEMINI_API_BASE_URL", &sim_url)
            // The invalid key first, so the pool meets it and disables it.
            .env("GOOGLE_AI_STUDIO_API_KEY", &invalid_key)
            .env("GOOGLE_AI_STUDIO_API_KEY_2", &valid_key)
            .env("WORKER_TOKEN", &worker_token)
            .env("QSTASH_TOKEN", &qstash_token)
            .env("QSTASH_CURRENT_SIGNING_KEY", &qstash_current)
            .env("QSTASH_NEXT_SIGNING_KEY", &qstash_next)
            .env("AUTH_JWT_SECRET", &jwt_secret)
            .env("ENABLE_BULL_BOARD", "true")
            .env("ADMIN_TOKEN", &admin_token)
            .env("ALERT_WEBHOOK_URL", format!("http://127.0.0.1:9/services/T0/B0/{webhook_secret}"))
            .env("ALERT_CHECK_SECS", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn worker serve");
        let mut stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let out = tokio::spawn(async move {
            let mut buf = Vec::new();
            let _ = stdout.read_to_end(&mut buf).await;
            buf
        });
        let err = tokio::spawn(async move {
            let mut buf = Vec::new();
            let _ = stderr.read_to_end(&mut buf).await;
            buf
        });

        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !http
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            assert!(child.try_wait().unwrap().is_none(), "worker serve exited early");
            assert!(Instant::now() < deadline, "worker serve never answered");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Refused callers: a wrong token, a forged QStash signature, a wrong admin password.
        let r = http.post(format!("{base}/drain")).bearer_auth(format!("{worker_token}x")).send().await.unwrap();
        assert_eq!(r.status(), 401);
        let r = http
            .post(format!("{base}/drain"))
            .header("upstash-signature", format!("{qstash_current}.{qstash_next}.forged"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("ops:{admin_token}x"));
        http.get(format!("{base}/admin/queues"))
            .header("authorization", format!("Basic {basic}"))
            .send()
            .await
            .unwrap();
        http.get(format!("{base}/admin/queues")).bearer_auth(&admin_token).send().await.unwrap();
        // An accepted drain; the serve loop may have taken the job already, so wait for its end.
        let r = http
            .post(format!("{base}/drain"))
            .bearer_auth(&worker_token)
            .json(&serde_json::json!({ "deadlineSecs": 60 }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let status = queue.status(&id).await.unwrap().unwrap();
            if status["status"] == "completed" {
                break;
            }
            assert!(Instant::now() < deadline, "the job did not complete: {status}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Give the monitor a tick (and a failing webhook) before stopping.
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        child.start_kill().unwrap();
        child.wait().await.unwrap();
        let output = String::from_utf8_lossy(&out.await.unwrap()).into_owned()
            + &String::from_utf8_lossy(&err.await.unwrap());

        assert!(output.contains(id.as_str()), "the run's logs were captured:\n{output}");
        assert!(output.contains("Gemini key disabled"), "the invalid key was met:\n{output}");
        for line in output.lines().filter(|l| l.starts_with('{')) {
            let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            assert!(v["timestamp"].is_string() && v["level"].is_string() && v["service"] == "worker", "{line}");
        }
        for secret in secrets {
            assert!(!output.contains(secret.as_str()), "a secret is in the logs: {secret}\n{output}");
        }
    })
    .await;
}
