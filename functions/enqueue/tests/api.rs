//! `POST /api/jobs` over real HTTP: auth, the 202 shape, idempotency, the rate limit, routing.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{TEST_TIMEOUT, TestApp, assert_problem, body, parts, random_name, token};
use scenergy_testkit::bounded;
use serde_json::json;

fn jwt(secret: &str, sub: &str, exp: u64) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"sub": sub, "exp": exp}),
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()).unwrap(),
    )
    .unwrap()
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn missing_malformed_expired_and_forged_tokens_are_401_problems() {
    bounded(TEST_TIMEOUT, async {
        let app = TestApp::spawn(&[]).await;
        let cases = [
            ("missing", None),
            ("not bearer", Some("Basic abc".to_owned())),
            ("malformed", Some("Bearer not.a.jwt".to_owned())),
            (
                "expired",
                Some(format!(
                    "Bearer {}",
                    jwt(common::SECRET, "acme", now_secs() - 3600)
                )),
            ),
            (
                "wrong secret",
                Some(format!(
                    "Bearer {}",
                    jwt(
                        "another-secret-another-secret-xxxx",
                        "acme",
                        now_secs() + 600
                    )
                )),
            ),
        ];
        for (label, header) in cases {
            let mut request = app.http.post(app.jobs_url()).json(&body());
            if let Some(h) = header {
                request = request.header("authorization", h);
            }
            let (status, ct, problem) = parts(request.send().await.unwrap()).await;
            assert_eq!(status, 401, "{label}: {problem}");
            assert_problem(401, status, ct.as_deref(), &problem);
        }
        assert_eq!(app.queue.counts().await.unwrap().waiting(), 0);
    })
    .await;
}

#[tokio::test]
async fn a_valid_job_gets_202_with_location_and_status_url() {
    bounded(TEST_TIMEOUT, async {
        let app = TestApp::spawn(&[]).await;
        let response = app.enqueue("acme", &body()).await;
        assert_eq!(response.status(), 202);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(response.headers()["idempotent-replayed"], "false");
        assert_eq!(response.headers()["cache-control"], "no-store");
        let reply: serde_json::Value = response.json().await.unwrap();
        let job_id = reply["jobId"].as_str().unwrap();
        assert!(
            job_id.starts_with(&format!("{}_", app.queue.name())),
            "{job_id}"
        );
        assert_eq!(reply["status"], "queued");
        assert_eq!(reply["statusUrl"], format!("/api/jobs/{job_id}"));
        assert_eq!(location, format!("/api/jobs/{job_id}"));
        assert_eq!(reply.as_object().unwrap().len(), 3, "{reply}");

        // The job is queued under the TOKEN's client, with the validated payload.
        let id = scenergy_queue::JobId::parse(job_id).unwrap();
        let record = app.queue.job(&id).await.unwrap().unwrap();
        assert_eq!(record.client_id, "acme");
        assert_eq!(record.job_type, "image_generation");
        assert_eq!(record.priority, scenergy_queue::Priority::Urgent);
        let payload: serde_json::Value = serde_json::from_str(&record.payload).unwrap();
        assert_eq!(payload["productIds"], json!(["sku-1", "sku-2"]));
        assert_eq!(payload["settings"]["variantsPerProduct"], 2);
        let status = app.queue.status(&id).await.unwrap().unwrap();
        assert_eq!(status["status"], "queued");
        assert_eq!(app.queue.counts().await.unwrap().urgent, 1);
    })
    .await;
}

#[tokio::test]
async fn defaults_fill_quality_variants_and_priority() {
    bounded(TEST_TIMEOUT, async {
        let app = TestApp::spawn(&[]).await;
        let minimal = json!({
            "type": "image_generation", "sessionId": "s", "productIds": ["p"],
            "prompt": "x", "settings": {"aspectRatio": "1:1"}, "clientId": "acme"
        });
        let reply: serde_json::Value = app.enqueue("acme", &minimal).await.json().await.unwrap();
        let id = scenergy_queue::JobId::parse(reply["jobId"].as_str().unwrap()).unwrap();
        let record = app.queue.job(&id).await.unwrap().unwrap();
        assert_eq!(record.priority, scenergy_queue::Priority::Normal);
        let payload: serde_json::Value = serde_json::from_str(&record.payload).unwrap();
        assert_eq!(
            payload["settings"],
            json!({"aspectRatio": "1:1", "imageQuality": "1k", "variantsPerProduct": 1})
        );
    })
    .await;
}

#[tokio::test]
async fn a_body_client_id_other_than_the_tokens_is_403() {
    bounded(TEST_TIMEOUT, async {
        let app = TestApp::spawn(&[]).await;
        let mut b = body();
        b["clientId"] = json!("someone-else");
        let (status, ct, problem) = parts(app.enqueue("acme", &b).await).await;
        assert_problem(403, status, ct.as_deref(), &problem);
        assert_eq!(app.queue.counts().await.unwrap().waiting(), 0);
    })
    .await;
}

#[tokio::test]
async fn the_same_idempotency_key_returns_the_same_job_and_creates_nothing() {
    bounded(TEST_TIMEOUT, async {
        let app = TestApp::spawn(&[]).await;
        let send = |key: &'static str, client: &'static str| {
            app.http
                .post(app.jobs_url())
                .bearer_auth(token(client))
                .header("idempotency-key", key)
                .json(&body())
                .send()
        };
        let first = send("order-42", "acme").await.unwrap();
        assert_eq!(first.status(), 202);
        assert_eq!(first.headers()["idempotent-replayed"], "false");
        let first: serde_json::Value = first.json().await.unwrap();
        let again = send("order-42", "acme").await.unwrap();
        assert_eq!(again.status(), 202);
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        let again: serde_json::Value = again.json().await.unwrap();
        assert_eq!(first["jobId"], again["jobId"]);
        assert_eq!(
            app.queue.counts().await.unwrap().urgent,
            1,
            "one job queued"
        );

        let other: serde_json::Value = send("order-43", "acme")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_ne!(other["jobId"], first["jobId"]);
        // Keys are per client: another client's identical key is its own job.
        let other_client: serde_json::Value = send("order-42", "globex")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_ne!(other_client["jobId"], first["jobId"]);
        assert_eq!(app.queue.counts().await.unwrap().urgent, 3);

        for bad in ["", "has space", &"k".repeat(201)] {
            let response = app
                .http
                .post(app.jobs_url())
                .bearer_auth(token("acme"))
                .header("idempotency-key", bad)
                .json(&body())
                .send()
                .await
                .unwrap();
            let (status, ct, problem) = parts(response).await;
            assert_problem(400, status, ct.as_deref(), &problem);
            assert_eq!(common::fields(&problem), ["Idempotency-Key"], "{bad:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn over_the_per_client_limit_is_429_with_retry_after() {
    bounded(TEST_TIMEOUT, async {
        // The window is fixed per minute: start well inside one so the burst cannot straddle it.
        let into_minute = now_secs() % 60;
        if into_minute > 50 {
            tokio::time::sleep(Duration::from_secs(61 - into_minute)).await;
        }
        let app = TestApp::spawn(&[("ENQUEUE_RATE_LIMIT_PER_MINUTE", "3")]).await;
        let client = random_name("rl");
        for _ in 0..3 {
            assert_eq!(app.enqueue(&client, &body()).await.status(), 202);
        }
        let response = app.enqueue(&client, &body()).await;
        let retry_after: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry_after), "{retry_after}");
        let (status, ct, problem) = parts(response).await;
        assert_problem(429, status, ct.as_deref(), &problem);
        assert_eq!(problem["retryAfter"], retry_after);
        assert_eq!(app.queue.counts().await.unwrap().waiting(), 3);
        // Per client: another client is unaffected.
        assert_eq!(app.enqueue(&random_name("rl"), &body()).await.status(), 202);
    })
    .await;
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    bounded(TEST_TIMEOUT, async {
        let app = TestApp::spawn(&[]).await;
        let response = app
            .http
            .get(format!("{}/nope", app.base))
            .send()
            .await
            .unwrap();
        let (status, ct, problem) = parts(response).await;
        assert_problem(404, status, ct.as_deref(), &problem);
        let response = app
            .http
            .get(app.jobs_url())
            .bearer_auth(token("acme"))
            .send()
            .await
            .unwrap();
        let (status, ct, problem) = parts(response).await;
        assert_problem(405, status, ct.as_deref(), &problem);
    })
    .await;
}
