//! `GET` and `DELETE /api/jobs/{id}` over real HTTP, against jobs the enqueue function created.

mod common;

use common::{TEST_TIMEOUT, TestApps, assert_problem, parts, token};
use scenergy_queue::{JobId, now_ms};
use scenergy_testkit::bounded;
use serde_json::json;

#[tokio::test]
async fn status_right_after_enqueue_is_queued_and_not_cacheable() {
    bounded(TEST_TIMEOUT, async {
        let apps = TestApps::spawn().await;
        let id = apps.enqueue("acme").await;
        let response = apps.get("acme", &id).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let doc: serde_json::Value = response.json().await.unwrap();
        assert_eq!(doc["jobId"], id);
        assert_eq!(doc["status"], "queued");
        assert_eq!(doc["clientId"], "acme");
        assert_eq!(doc["type"], "image_generation");
        assert_eq!(doc["attempts"], 0);
    })
    .await;
}

#[tokio::test]
async fn another_clients_job_is_404_on_get_and_delete() {
    bounded(TEST_TIMEOUT, async {
        let apps = TestApps::spawn().await;
        let id = apps.enqueue("client-a").await;
        let got = parts(apps.get("client-b", &id).await).await;
        assert_problem(404, &got);
        let deleted = parts(apps.delete("client-b", &id).await).await;
        assert_problem(404, &deleted);
        // B's attempt changed nothing, and the 404 reads like any unknown id.
        let doc: serde_json::Value = apps.get("client-a", &id).await.json().await.unwrap();
        assert_eq!(doc["status"], "queued");
        let unknown = JobId::generate(apps.queue.name());
        let unknown = parts(apps.get("client-b", unknown.as_str()).await).await;
        assert_eq!(got.2, unknown.2);
    })
    .await;
}

#[tokio::test]
async fn unknown_malformed_and_foreign_queue_ids_are_404() {
    bounded(TEST_TIMEOUT, async {
        let apps = TestApps::spawn().await;
        let unknown = JobId::generate(apps.queue.name());
        for id in [
            unknown.as_str(),
            "not-a-job-id",
            "Images_0123456789abcdefghjkmnpqrs",
            "%20",
            &format!("{}x", unknown.as_str()),
            JobId::generate("some-other-queue").as_str(),
        ] {
            assert_problem(404, &parts(apps.get("acme", id).await).await);
            assert_problem(404, &parts(apps.delete("acme", id).await).await);
        }
    })
    .await;
}

#[tokio::test]
async fn cancelling_a_queued_job_cancels_it() {
    bounded(TEST_TIMEOUT, async {
        let apps = TestApps::spawn().await;
        let id = apps.enqueue("acme").await;
        let response = apps.delete("acme", &id).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let doc: serde_json::Value = response.json().await.unwrap();
        assert_eq!(doc["status"], "cancelled");
        assert_eq!(apps.queue.counts().await.unwrap().waiting(), 0);
        assert_eq!(apps.queue.counts().await.unwrap().cancelled, 1);
        let doc: serde_json::Value = apps.get("acme", &id).await.json().await.unwrap();
        assert_eq!(doc["status"], "cancelled");
        // Cancelling again changes nothing and says so with the same status.
        let again = apps.delete("acme", &id).await;
        assert_eq!(again.status(), 200);
        let doc: serde_json::Value = again.json().await.unwrap();
        assert_eq!(doc["status"], "cancelled");
    })
    .await;
}

#[tokio::test]
async fn cancelling_an_active_job_requests_it_with_202() {
    bounded(TEST_TIMEOUT, async {
        let apps = TestApps::spawn().await;
        let id = apps.enqueue("acme").await;
        let claim = apps
            .queue
            .claim("worker-1", 1, 60_000, now_ms())
            .await
            .unwrap();
        assert_eq!(claim.jobs.len(), 1);
        let response = apps.delete("acme", &id).await;
        assert_eq!(response.status(), 202);
        let doc: serde_json::Value = response.json().await.unwrap();
        assert_eq!(doc["status"], "active", "the worker stops it between items");
        let record = apps
            .queue
            .job(&JobId::parse(&id).unwrap())
            .await
            .unwrap()
            .unwrap();
        assert!(record.cancel_requested);
    })
    .await;
}

#[tokio::test]
async fn bad_tokens_are_401_and_unknown_routes_404_problems() {
    bounded(TEST_TIMEOUT, async {
        let apps = TestApps::spawn().await;
        let id = apps.enqueue("acme").await;
        let no_token = apps.http.get(apps.job_url(&id)).send().await.unwrap();
        assert_problem(401, &parts(no_token).await);
        let forged = apps
            .http
            .delete(apps.job_url(&id))
            .header("authorization", "Bearer x.y.z")
            .send()
            .await
            .unwrap();
        assert_problem(401, &parts(forged).await);
        let nowhere = apps
            .http
            .get(format!("{}/api/nope", apps.status_base))
            .bearer_auth(token("acme"))
            .send()
            .await
            .unwrap();
        assert_problem(404, &parts(nowhere).await);
        let wrong_method = apps
            .http
            .post(apps.job_url(&id))
            .bearer_auth(token("acme"))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_problem(405, &parts(wrong_method).await);
    })
    .await;
}
