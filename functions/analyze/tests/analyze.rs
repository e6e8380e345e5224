//! Analysis end to end: offline mode, the real simulator through the key pool, the Lane A rate
//! limit (503 + Retry-After, all or nothing), blocked content (422) and cooling keys (503).

mod common;

use std::time::Duration;

use common::{
    Options, TEST_TIMEOUT, TEXT_MODEL, TestApp, VISION_MODEL, assert_problem, body, fields,
    image_product, parts, product,
};
use gemini_sim::SimConfig;
use scenergy_testkit::bounded;
use serde_json::Value;

#[tokio::test]
async fn offline_mode_answers_every_product_marked_offline() {
    bounded(TEST_TIMEOUT, async {
        let app = TestApp::offline().await;
        let request = body(&[
            product("sku-1", "Oak lounge chair"),
            product("sku-2", "Linen sofa"),
            image_product("sku-3"),
        ]);
        let response = app.analyze(&request).await;
        assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
        let (status, _, reply) = parts(response).await;
        assert_eq!(status, 200, "{reply}");
        assert_eq!(reply["provider"], "offline");
        let results = reply["results"].as_array().unwrap();
        let ids: Vec<&str> = results.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["sku-1", "sku-2", "sku-3"]);
        for r in results {
            assert_eq!(r["offline"], true, "{r}");
            assert!(r["category"].is_string() && r["style"].is_string(), "{r}");
            assert!(r["materials"].is_array() && r["colours"].is_array(), "{r}");
            let scene = &r["sceneSuggestions"][0];
            assert!(
                scene["title"].is_string() && scene["promptHint"].is_string(),
                "{r}"
            );
        }
        // Deterministic: the same body gives the same analysis.
        let (_, _, again) = parts(app.analyze(&request).await).await;
        assert_eq!(again, reply);
    })
    .await;
}

#[tokio::test]
async fn text_products_use_the_text_model_and_images_the_vision_model() {
    bounded(TEST_TIMEOUT, async {
        let app = TestApp::with_sim().await;
        let (status, _, reply) = parts(
            app.analyze(&body(&[
                product("sku-1", "Oak chair"),
                image_product("sku-2"),
            ]))
            .await,
        )
        .await;
        assert_eq!(status, 200, "{reply}");
        assert_eq!(reply["provider"], "gemini");
        let results = reply["results"].as_array().unwrap();
        assert_eq!(results.len(), 2);
        for r in results {
            assert_eq!(r["offline"], false, "{r}");
            assert!(!r["sceneSuggestions"].as_array().unwrap().is_empty(), "{r}");
        }
        let mut calls: Vec<(String, bool)> = app
            .sim_calls()
            .into_iter()
            .map(|c| (c.model, c.has_image))
            .collect();
        calls.sort();
        assert_eq!(
            calls,
            [
                (VISION_MODEL.to_owned(), true),
                (TEXT_MODEL.to_owned(), false)
            ]
        );
        // Round robin over the two keys of the pool.
        let stats = app.sim.as_ref().unwrap().stats();
        assert_eq!(stats.total_calls, 2);
        assert_eq!(stats.calls_per_key.values().sum::<u64>(), 2);
        assert_eq!(stats.calls_per_key.len(), 2, "{stats:?}");
    })
    .await;
}

fn rate_limited_app(limit: &str) -> Options {
    Options {
        sim: Some(SimConfig::default()),
        env: vec![("AI_RATE_LIMIT_TEXT", limit.to_owned())],
        window: Some(Duration::from_secs(5)),
    }
}

#[tokio::test]
async fn the_fourth_call_over_a_limit_of_three_is_503_with_retry_after() {
    bounded(TEST_TIMEOUT, async {
        let app = TestApp::spawn(rate_limited_app("3")).await;
        let one = body(&[product("sku-1", "Oak chair")]);
        for i in 0..3 {
            let (status, _, reply) = parts(app.analyze(&one).await).await;
            assert_eq!(status, 200, "call {i}: {reply}");
        }
        let response = app.analyze(&one).await;
        let retry_after: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=5).contains(&retry_after), "{retry_after}");
        let reply = parts(response).await;
        assert_problem(503, &reply);
        assert_eq!(reply.2["error"], "rate_limited");
        assert_eq!(reply.2["retryAfter"].as_u64(), Some(retry_after));
        assert_eq!(app.sim.as_ref().unwrap().stats().total_calls, 3);
        // Vision has its own bucket.
        let (status, _, reply) = parts(app.analyze(&body(&[image_product("img")])).await).await;
        assert_eq!(status, 200, "{reply}");
    })
    .await;
}

#[tokio::test]
async fn a_request_over_the_limit_makes_no_model_call_at_all() {
    bounded(TEST_TIMEOUT, async {
        let app = TestApp::spawn(rate_limited_app("3")).await;
        let four: Vec<Value> = (0..4)
            .map(|i| product(&format!("sku-{i}"), "Chair"))
            .collect();
        let reply = parts(app.analyze(&body(&four)).await).await;
        assert_problem(503, &reply);
        assert_eq!(reply.2["error"], "rate_limited");
        assert!(reply.2.get("results").is_none(), "no partial results");
        assert_eq!(app.sim.as_ref().unwrap().stats().total_calls, 0);
    })
    .await;
}

#[tokio::test]
async fn a_blocked_prompt_is_422_naming_the_product() {
    bounded(TEST_TIMEOUT, async {
        let app = TestApp::with_sim().await;
        let reply = parts(
            app.analyze(&body(&[
                product("sku-ok", "Oak chair"),
                product("sku-bad", "Chair [[sim:block=PROHIBITED_CONTENT]]"),
            ]))
            .await,
        )
        .await;
        assert_problem(422, &reply);
        assert_eq!(fields(&reply.2), ["products[1]"]);
        assert!(
            reply.2["detail"].as_str().unwrap().contains("sku-bad"),
            "{}",
            reply.2
        );
        assert!(
            reply.2["errors"][0]["reason"]
                .as_str()
                .unwrap()
                .contains("PROHIBITED_CONTENT")
        );
        assert!(!reply.2.to_string().contains("k1"), "no key in the reply");
    })
    .await;
}

#[tokio::test]
async fn transient_model_failures_are_5xx_without_internals() {
    bounded(TEST_TIMEOUT, async {
        let app = TestApp::with_sim().await;
        let reply = parts(
            app.analyze(&body(&[product("sku-1", "Chair [[sim:status=500]]")]))
                .await,
        )
        .await;
        assert_problem(502, &reply);
        assert!(!reply.2.to_string().contains("INTERNAL"), "{}", reply.2);
        let reply = parts(
            app.analyze(&body(&[product("sku-1", "Chair [[sim:status=503]]")]))
                .await,
        )
        .await;
        assert_problem(503, &reply);
    })
    .await;
}

#[tokio::test]
async fn keys_that_stay_rate_limited_past_the_wait_give_503_with_retry_after() {
    bounded(TEST_TIMEOUT, async {
        // Each 429 cools its key for the sim's retryDelay; with both keys cooling longer than
        // the 300 ms wait, the reply is a 503 instead of a hung request.
        let app = TestApp::spawn(Options {
            sim: Some(SimConfig::default()),
            env: vec![("ANALYZE_KEY_WAIT_MS", "300".to_owned())],
            window: None,
        })
        .await;
        let response = app
            .analyze(&body(&[product("sku-1", "Chair [[sim:status=429]]")]))
            .await;
        assert!(response.headers().contains_key("retry-after"));
        let reply = parts(response).await;
        assert_problem(503, &reply);
        assert_eq!(reply.2["error"], "rate_limited");
        assert!(reply.2["retryAfter"].as_u64().unwrap() >= 1);
        // Both keys were tried once; neither was hammered.
        let stats = app.sim.as_ref().unwrap().stats();
        assert_eq!(stats.total_calls, 2, "{stats:?}");
    })
    .await;
}
