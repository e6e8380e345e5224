//! The Lambda path: real API Gateway v2 and function-URL events, converted by `lambda_http`
//! exactly as the runtime does, through the same Router as local mode, with the same answers.

mod common;

use axum::body::{Body, to_bytes};
use axum::http::Request;
use common::{TEST_TIMEOUT, TestApp, token};
use scenergy_testkit::bounded;
use serde_json::{Value, json};
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
    let mut request = Request::post("/api/analyze").header("content-type", "application/json");
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
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (
        status,
        content_type,
        serde_json::from_slice(&bytes).unwrap(),
    )
}

fn valid_body() -> Value {
    json!({"products": [
        {"id": "sku-1", "name": "Oak lounge chair", "description": "Solid oak frame with linen cushions"},
        {"id": "sku-2", "name": "Linen sofa"}
    ]})
}

#[tokio::test]
async fn api_gateway_and_function_url_events_answer_like_local_requests() {
    bounded(TEST_TIMEOUT, async {
        // Offline mode is deterministic, so the bodies must be identical, not just similar.
        let app = TestApp::offline().await;
        let local_answer = answer(&app, local(&valid_body(), true)).await;
        assert_eq!(local_answer.0, 200, "{}", local_answer.2);
        assert_eq!(local_answer.2["results"].as_array().unwrap().len(), 2);
        for fixture in ["apigw_v2_analyze.json", "function_url_analyze_base64.json"] {
            let lambda = answer(&app, event(fixture)).await;
            assert_eq!(lambda, local_answer, "{fixture}");
        }
    })
    .await;
}

#[tokio::test]
async fn lambda_errors_match_local_errors_exactly() {
    bounded(TEST_TIMEOUT, async {
        let app = TestApp::offline().await;
        let invalid = json!({"products": [
            {"id": "sku-1", "name": ""},
            {"id": "sku-1", "name": "Sofa", "mimeType": "image/png"}
        ]});
        let lambda = answer(&app, event("apigw_v2_analyze_invalid.json")).await;
        assert_eq!(lambda.0, 400, "{}", lambda.2);
        assert_eq!(lambda.1.as_deref(), Some("application/problem+json"));
        assert_eq!(
            common::fields(&lambda.2),
            ["products[0].name", "products[1].id", "products[1].mimeType"]
        );
        assert_eq!(lambda, answer(&app, local(&invalid, true)).await);

        let lambda = answer(&app, event("function_url_analyze_no_auth.json")).await;
        assert_eq!(lambda.0, 401, "{}", lambda.2);
        assert_eq!(lambda, answer(&app, local(&valid_body(), false)).await);
    })
    .await;
}
