//! The Lambda path: real API Gateway v2 and function-URL events, converted by `lambda_http` as
//! the runtime does, through the same Router as local mode, with the same answers.

mod common;

use axum::body::{Body, to_bytes};
use axum::http::Request;
use common::{TEST_TIMEOUT, TestApps, token};
use scenergy_testkit::bounded;
use serde_json::Value;
use tower::ServiceExt;

fn event(name: &str, client: &str, job_id: &str) -> lambda_http::Request {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let raw = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let raw = raw
        .replace("{{TOKEN}}", &token(client))
        .replace("{{JOB_ID}}", job_id);
    lambda_http::request::from_str(&raw).unwrap_or_else(|e| panic!("{name} is an event: {e}"))
}

fn local(method: &str, client: &str, job_id: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(format!("/api/jobs/{job_id}"))
        .header("authorization", format!("Bearer {}", token(client)))
        .body(Body::empty())
        .unwrap()
}

async fn answer<B>(apps: &TestApps, request: Request<B>) -> (u16, Option<String>, Value)
where
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let response = apps.status_router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let cache = response
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, cache, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn status_events_answer_like_local_requests() {
    bounded(TEST_TIMEOUT, async {
        let apps = TestApps::spawn().await;
        let id = apps.enqueue("acme").await;
        let lambda = answer(&apps, event("apigw_v2_status.json", "acme", &id)).await;
        assert_eq!(lambda.0, 200, "{}", lambda.2);
        assert_eq!(lambda.1.as_deref(), Some("no-store"));
        assert_eq!(lambda.2["status"], "queued");
        assert_eq!(lambda, answer(&apps, local("GET", "acme", &id)).await);

        let other = answer(&apps, event("apigw_v2_status.json", "globex", &id)).await;
        assert_eq!(other.0, 404);
        assert_eq!(other, answer(&apps, local("GET", "globex", &id)).await);
    })
    .await;
}

#[tokio::test]
async fn cancel_events_answer_like_local_requests() {
    bounded(TEST_TIMEOUT, async {
        let apps = TestApps::spawn().await;
        let id = apps.enqueue("acme").await;
        let lambda = answer(&apps, event("function_url_cancel.json", "acme", &id)).await;
        assert_eq!(lambda.0, 200, "{}", lambda.2);
        assert_eq!(lambda.2["status"], "cancelled");
        // Cancelling is idempotent, so the local request must give the very same answer.
        assert_eq!(lambda, answer(&apps, local("DELETE", "acme", &id)).await);
    })
    .await;
}
