//! Every bound of the body, over real HTTP: each violation is a 400 problem naming the field, all
//! of them are listed at once, and nothing is queued.

mod common;

use common::{TEST_TIMEOUT, TestApp, assert_problem, body, fields, parts, token};
use scenergy_testkit::bounded;
use serde_json::{Value, json};

fn with(path: &[&str], value: Value) -> Value {
    let mut b = body();
    let mut target = &mut b;
    for key in &path[..path.len() - 1] {
        target = &mut target[*key];
    }
    target[path[path.len() - 1]] = value;
    b
}

fn without(key: &str) -> Value {
    let mut b = body();
    b.as_object_mut().unwrap().remove(key);
    b
}

#[tokio::test]
async fn each_violated_bound_is_a_400_naming_its_field() {
    bounded(TEST_TIMEOUT, async {
        let app = TestApp::spawn(&[]).await;
        let ids = |n: usize| json!((0..n).map(|i| format!("p{i}")).collect::<Vec<_>>());
        let cases: Vec<(&str, Value, &str)> = vec![
            ("0 productIds", with(&["productIds"], ids(0)), "productIds"),
            (
                "51 productIds",
                with(&["productIds"], ids(51)),
                "productIds",
            ),
            (
                "duplicate id",
                with(&["productIds"], json!(["a", "b", "a"])),
                "productIds[2]",
            ),
            (
                "unsafe id",
                with(&["productIds"], json!(["a/b"])),
                "productIds[0]",
            ),
            (
                "129-char id",
                with(&["productIds"], json!(["x".repeat(129)])),
                "productIds[0]",
            ),
            ("empty prompt", with(&["prompt"], json!("")), "prompt"),
            (
                "4001-char prompt",
                with(&["prompt"], json!("é".repeat(4001))),
                "prompt",
            ),
            (
                "bad ratio",
                with(&["settings", "aspectRatio"], json!("7:5")),
                "settings.aspectRatio",
            ),
            (
                "0 variants",
                with(&["settings", "variantsPerProduct"], json!(0)),
                "settings.variantsPerProduct",
            ),
            (
                "5 variants",
                with(&["settings", "variantsPerProduct"], json!(5)),
                "settings.variantsPerProduct",
            ),
            (
                "bad quality",
                with(&["settings", "imageQuality"], json!("8k")),
                "settings.imageQuality",
            ),
            (
                "bad priority",
                with(&["priority"], json!("asap")),
                "priority",
            ),
            ("bad type", with(&["type"], json!("audio")), "type"),
            ("video", with(&["type"], json!("video_generation")), "type"),
            (
                "empty session",
                with(&["sessionId"], json!("")),
                "sessionId",
            ),
            (
                "long session",
                with(&["sessionId"], json!("s".repeat(129))),
                "sessionId",
            ),
            ("missing prompt", without("prompt"), "prompt"),
            ("missing settings", without("settings"), "settings"),
            ("unknown field", with(&["colour"], json!("red")), "colour"),
            (
                "unknown nested",
                with(&["settings", "seed"], json!(1)),
                "settings.seed",
            ),
            (
                "wrong type",
                with(&["settings", "variantsPerProduct"], json!("two")),
                "settings.variantsPerProduct",
            ),
        ];
        for (label, b, field) in cases {
            let (status, ct, problem) = parts(app.enqueue("acme", &b).await).await;
            assert_problem(400, status, ct.as_deref(), &problem);
            assert_eq!(fields(&problem), [field], "{label}: {problem}");
            assert!(
                problem["errors"][0]["reason"]
                    .as_str()
                    .is_some_and(|r| !r.is_empty())
            );
        }
        assert_eq!(app.queue.counts().await.unwrap().waiting(), 0);
    })
    .await;
}

#[tokio::test]
async fn integral_numbers_count_as_integers() {
    bounded(TEST_TIMEOUT, async {
        // JSON Schema (and JavaScript) make no difference between 4 and 4.0.
        let app = TestApp::spawn(&[]).await;
        let b = with(&["settings", "variantsPerProduct"], json!(4.0));
        let reply: Value = app.enqueue("acme", &b).await.json().await.unwrap();
        let id = scenergy_queue::JobId::parse(reply["jobId"].as_str().unwrap()).unwrap();
        let record = app.queue.job(&id).await.unwrap().unwrap();
        let payload: Value = serde_json::from_str(&record.payload).unwrap();
        assert_eq!(payload["settings"]["variantsPerProduct"], json!(4));
    })
    .await;
}

#[tokio::test]
async fn every_invalid_field_is_listed_at_once() {
    bounded(TEST_TIMEOUT, async {
        let app = TestApp::spawn(&[]).await;
        let b = json!({
            "type": "video_generation", "sessionId": "", "productIds": ["a", "a"],
            "prompt": "", "settings": {"aspectRatio": "2:1", "imageQuality": "hd",
            "variantsPerProduct": 9}, "priority": "now"
        });
        let (status, ct, problem) = parts(app.enqueue("acme", &b).await).await;
        assert_problem(400, status, ct.as_deref(), &problem);
        let mut got = fields(&problem);
        got.sort();
        assert_eq!(
            got,
            [
                "priority",
                "productIds[1]",
                "prompt",
                "sessionId",
                "settings.aspectRatio",
                "settings.imageQuality",
                "settings.variantsPerProduct",
                "type",
            ],
            "{problem}"
        );
    })
    .await;
}

#[tokio::test]
async fn malformed_json_wrong_content_type_and_huge_bodies_are_refused() {
    bounded(TEST_TIMEOUT, async {
        let app = TestApp::spawn(&[]).await;
        let post = |content_type: &'static str, raw: Vec<u8>| {
            app.http
                .post(app.jobs_url())
                .bearer_auth(token("acme"))
                .header("content-type", content_type)
                .body(raw)
                .send()
        };
        let (status, ct, problem) = parts(
            post("application/json", b"{\"type\":".to_vec())
                .await
                .unwrap(),
        )
        .await;
        assert_problem(400, status, ct.as_deref(), &problem);
        assert!(
            problem["errors"][0]["reason"]
                .as_str()
                .unwrap()
                .starts_with("malformed JSON")
        );
        let (status, ct, problem) =
            parts(post("application/json", b"[1,2]".to_vec()).await.unwrap()).await;
        assert_problem(400, status, ct.as_deref(), &problem);

        let valid = serde_json::to_vec(&body()).unwrap();
        let (status, ct, problem) = parts(post("text/plain", valid).await.unwrap()).await;
        assert_problem(415, status, ct.as_deref(), &problem);

        let mut huge = body();
        huge["prompt"] = json!("x".repeat(300 * 1024));
        let raw = serde_json::to_vec(&huge).unwrap();
        let (status, ct, problem) = parts(post("application/json", raw).await.unwrap()).await;
        assert_problem(413, status, ct.as_deref(), &problem);
        assert_eq!(app.queue.counts().await.unwrap().waiting(), 0);
    })
    .await;
}
