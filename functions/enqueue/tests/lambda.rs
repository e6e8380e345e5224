//! The Lambda path: real API Gateway v2 and function-URL events, converted by `lambda_http`
//! exactly as the runtime does, through the same Router as local mode, with the same answers.

mod common;

use axum::body::{Body, to_bytes};
use axum::http::Request;
use common::{TEST_TIMEOUT, TestApp, body, token};
use scenergy_testkit::bounded;
use serde_json::Value;
use tower::ServiceExt;

/// The fixture as the Lambda runtime would hand it to `lambda_http`, with a live token.
fn event(name: &str) -> lambda_http::Request {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let raw = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    lambda_http::request::from_str(&raw.replace("{{TOKEN}}", &token("acme")))
        .unwrap_or_else(|e| panic!("{name} is a valid Lambda event: {e}"))
}

/// The same request in local mode.
fn local(json: &Value, auth: bool) -> Request<Body> {
    let mut request = Request::post("/api/jobs").header("content-type", "application/json");
    if auth {
        request = request.header("authorization", format!("Bearer {}", token("acme")));
    }
    request.body(Body::from(json.to_string())).unwrap()
}

async fn answer<B>(app: &TestApp, request: Request<B>) -> (u16, Option<String>, Value)
where
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let response = app.router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, location, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn api_gateway_and_function_url_events_enqueue_like_local_requests() {
    bounded(TEST_TIMEOUT, async {
        let app = TestApp::spawn(&[]).await;
        let (l_status, _, l_body) = answer(&app, local(&body(), true)).await;
        for fixture in ["apigw_v2_enqueue.json", "function_url_enqueue_base64.json"] {
            let (status, location, reply) = answer(&app, event(fixture)).await;
            assert_eq!((status, l_status), (202, 202), "{fixture}: {reply}");
            assert_eq!(reply["status"], l_body["status"]);
            let job_id = reply["jobId"].as_str().unwrap();
            assert_eq!(
                location.as_deref(),
                Some(format!("/api/jobs/{job_id}").as_str())
            );
            let id = scenergy_queue::JobId::parse(job_id).unwrap();
            let record = app.queue.job(&id).await.unwrap().unwrap();
            let payload: Value = serde_json::from_str(&record.payload).unwrap();
            assert_eq!(payload["productIds"], body()["productIds"], "{fixture}");
            assert_eq!(record.client_id, "acme");
        }
        assert_eq!(app.queue.counts().await.unwrap().urgent, 3);
    })
    .await;
}

#[tokio::test]
async fn lambda_errors_match_local_errors_exactly() {
    bounded(TEST_TIMEOUT, async {
        let app = TestApp::spawn(&[]).await;
        let invalid: Value = serde_json::from_str(
            r#"{"type":"image_generation","sessionId":"session-1","productIds":[],"prompt":"","settings":{"aspectRatio":"7:5"}}"#,
        )
        .unwrap();
        let lambda = answer(&app, event("apigw_v2_enqueue_invalid.json")).await;
        assert_eq!(lambda.0, 400, "{}", lambda.2);
        assert_eq!(lambda, answer(&app, local(&invalid, true)).await);

        let lambda = answer(&app, event("apigw_v2_enqueue_no_auth.json")).await;
        assert_eq!(lambda.0, 401, "{}", lambda.2);
        assert_eq!(lambda, answer(&app, local(&body(), false)).await);
        assert_eq!(app.queue.counts().await.unwrap().waiting(), 0);
    })
    .await;
}
