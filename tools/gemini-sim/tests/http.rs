//! The simulator over real HTTP, the way clients will see it.

use std::io::Cursor;
use std::time::Duration;

use base64::prelude::{BASE64_STANDARD, Engine};
use gemini_sim::{LatencyRange, SimConfig, SimStats, spawn_local};
use serde_json::{Value, json};

const IMAGE_MODEL: &str = "gemini-2.5-flash-image";
const PRO_IMAGE_MODEL: &str = "gemini-3-pro-image-preview";

async fn call(base: &str, model: &str, key: &str, body: &Value) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{base}/v1beta/models/{model}:generateContent"))
        .header("x-goog-api-key", key)
        .json(body)
        .send()
        .await
        .expect("send");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn image_body(prompt: &str, ratio: &str, size: &str) -> Value {
    json!({"contents": [{"role": "user", "parts": [{"text": prompt}]}],
           "generationConfig": {"responseModalities": ["TEXT", "IMAGE"],
                                "imageConfig": {"aspectRatio": ratio, "imageSize": size}}})
}

fn png_size(resp: &Value) -> (u32, u32) {
    let parts = resp["candidates"][0]["content"]["parts"]
        .as_array()
        .expect("parts");
    let data = parts
        .iter()
        .find_map(|p| p["inlineData"]["data"].as_str())
        .expect("an image part");
    let bytes = BASE64_STANDARD.decode(data).expect("base64");
    assert_eq!(&bytes[..4], b"\x89PNG");
    let reader = png::Decoder::new(Cursor::new(bytes))
        .read_info()
        .expect("png");
    (reader.info().width, reader.info().height)
}

async fn with_timeout<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .expect("test took too long")
}

#[tokio::test]
async fn image_requests_return_real_pngs_with_the_right_aspect_ratio() {
    with_timeout(async {
        let (base, _sim) = spawn_local(SimConfig::default()).await.unwrap();
        for (ratio, w_over_h) in [
            ("1:1", 1.0),
            ("16:9", 16.0 / 9.0),
            ("9:16", 9.0 / 16.0),
            ("4:3", 4.0 / 3.0),
            ("3:4", 0.75),
            ("21:9", 21.0 / 9.0),
        ] {
            let (status, resp) =
                call(&base, IMAGE_MODEL, "k1", &image_body("a lamp", ratio, "1K")).await;
            assert_eq!(status, 200, "{resp}");
            let (w, h) = png_size(&resp);
            let actual = f64::from(w) / f64::from(h);
            // The real 1K sizes are multiples of 16, so they are within ~2 % of the nominal ratio.
            assert!((actual / w_over_h - 1.0).abs() < 0.03, "{ratio}: {w}x{h}");
            let c = &resp["candidates"][0];
            assert_eq!(c["finishReason"], "STOP");
            assert_eq!(
                c["content"]["parts"][1]["inlineData"]["mimeType"],
                "image/png"
            );
            assert!(c["content"]["parts"][0]["text"].is_string());
            assert_eq!(resp["modelVersion"], IMAGE_MODEL);
            assert_eq!(resp["responseId"].as_str().unwrap().len(), 22);
            assert_eq!(
                resp["usageMetadata"]["candidatesTokensDetails"][0]["modality"],
                "IMAGE"
            );
        }
        // Size classes scale the long side (render divisor 4: 1K 16:9 = 1344/4).
        let (_, r1) = call(&base, PRO_IMAGE_MODEL, "k1", &image_body("a", "16:9", "1K")).await;
        let (_, r4) = call(&base, PRO_IMAGE_MODEL, "k1", &image_body("a", "16:9", "4K")).await;
        assert_eq!(png_size(&r1), (336, 192));
        assert_eq!(png_size(&r4), (1344, 768));
    })
    .await;
}

#[tokio::test]
async fn rpm_limit_answers_429_with_retry_info_and_recovers_after_the_window() {
    with_timeout(async {
        let config = SimConfig {
            rpm_per_key: 5,
            minute: Duration::from_millis(2000),
            ..SimConfig::default()
        };
        let (base, sim) = spawn_local(config).await.unwrap();
        let body = json!({"contents": [{"parts": [{"text": "hi"}]}]});
        for _ in 0..5 {
            assert_eq!(call(&base, "gemini-2.5-flash", "key-a", &body).await.0, 200);
        }
        let (status, resp) = call(&base, "gemini-2.5-flash", "key-a", &body).await;
        assert_eq!(status, 429);
        assert_eq!(resp["error"]["status"], "RESOURCE_EXHAUSTED");
        let details = resp["error"]["details"].as_array().unwrap();
        let quota = details
            .iter()
            .find(|d| d["@type"] == "type.googleapis.com/google.rpc.QuotaFailure")
            .unwrap();
        assert_eq!(
            quota["violations"][0]["quotaId"],
            "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
        );
        let retry = details
            .iter()
            .find(|d| d["@type"] == "type.googleapis.com/google.rpc.RetryInfo")
            .unwrap();
        let delay: f64 = retry["retryDelay"]
            .as_str()
            .unwrap()
            .trim_end_matches('s')
            .parse()
            .unwrap();
        assert!(delay > 0.0 && delay <= 2.0, "{delay}");
        assert!(
            resp["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Please retry in")
        );
        // Another key has its own window.
        assert_eq!(call(&base, "gemini-2.5-flash", "key-b", &body).await.0, 200);
        tokio::time::sleep(Duration::from_secs_f64(delay) + Duration::from_millis(50)).await;
        assert_eq!(call(&base, "gemini-2.5-flash", "key-a", &body).await.0, 200);
        let stats = sim.stats();
        assert_eq!(stats.rate_limited, 1);
        assert_eq!(stats.rate_limited_per_key.get("key-a"), Some(&1));
        assert_eq!(stats.calls_per_key.get("key-a"), Some(&7));
        assert_eq!(stats.total_calls, 8);
    })
    .await;
}

#[tokio::test]
async fn invalid_key_missing_key_and_query_key() {
    with_timeout(async {
        let config = SimConfig {
            invalid_keys: vec!["bad".to_owned()],
            ..SimConfig::default()
        };
        let (base, _sim) = spawn_local(config).await.unwrap();
        let body = json!({"contents": [{"parts": [{"text": "hi"}]}]});
        let (status, resp) = call(&base, "gemini-2.5-flash", "bad", &body).await;
        assert_eq!(status, 400);
        assert_eq!(resp["error"]["status"], "INVALID_ARGUMENT");
        assert_eq!(resp["error"]["details"][0]["reason"], "API_KEY_INVALID");
        assert_eq!(
            resp["error"]["message"],
            "API key not valid. Please pass a valid API key."
        );

        let client = reqwest::Client::new();
        let url = format!("{base}/v1beta/models/gemini-2.5-flash:generateContent");
        let missing = client.post(&url).json(&body).send().await.unwrap();
        assert_eq!(missing.status().as_u16(), 403);
        let ok = client
            .post(format!("{url}?key=good"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status().as_u16(), 200);
    })
    .await;
}

#[tokio::test]
async fn block_rate_and_error_rate_injection() {
    with_timeout(async {
        let (base, sim) = spawn_local(SimConfig { block_rate: 1.0, ..SimConfig::default() }).await.unwrap();
        let (status, resp) = call(&base, IMAGE_MODEL, "k", &image_body("x", "1:1", "1K")).await;
        assert_eq!(status, 200);
        assert_eq!(resp["promptFeedback"]["blockReason"], "PROHIBITED_CONTENT");
        assert!(resp.get("candidates").is_none());
        assert_eq!(sim.stats().blocked, 1);

        let (base, sim) = spawn_local(SimConfig { error_rate_503: 1.0, ..SimConfig::default() }).await.unwrap();
        let (status, resp) = call(&base, IMAGE_MODEL, "k", &image_body("x", "1:1", "1K")).await;
        assert_eq!(status, 503);
        assert_eq!(resp, json!({"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}}));
        assert_eq!(sim.stats().errors_injected, 1);

        let (base, _sim) = spawn_local(SimConfig { error_rate_500: 1.0, ..SimConfig::default() }).await.unwrap();
        let (status, resp) = call(&base, IMAGE_MODEL, "k", &image_body("x", "1:1", "1K")).await;
        assert_eq!(status, 500);
        assert_eq!(resp["error"]["status"], "INTERNAL");
    })
    .await;
}

#[tokio::test]
async fn snake_case_requests_are_accepted() {
    with_timeout(async {
        let (base, _sim) = spawn_local(SimConfig::default()).await.unwrap();
        let reference = BASE64_STANDARD.encode(b"\x89PNG\r\n\x1a\nfake");
        let body = json!({"contents": [{"role": "user", "parts": [
                {"inline_data": {"mime_type": "image/png", "data": reference}}, {"text": "a vase"}]}],
            "generation_config": {"response_modalities": ["TEXT", "IMAGE"],
                "image_config": {"aspect_ratio": "9:16", "image_size": "1K"}}});
        let (status, resp) = call(&base, IMAGE_MODEL, "k", &body).await;
        assert_eq!(status, 200, "{resp}");
        let (w, h) = png_size(&resp);
        assert!(h > w);
    })
    .await;
}

#[tokio::test]
async fn structured_output_satisfies_the_schema() {
    with_timeout(async {
        let (base, _sim) = spawn_local(SimConfig::default()).await.unwrap();
        let body = json!({"contents": [{"parts": [{"text": "describe"}]}],
            "generationConfig": {"responseMimeType": "application/json", "responseJsonSchema": {
                "type": "object", "required": ["category", "colors"],
                "properties": {"category": {"type": "string", "enum": ["lamp", "sofa"]},
                               "colors": {"type": "array", "items": {"type": "string"}}}}}});
        let (status, resp) = call(&base, "gemini-2.5-flash", "k", &body).await;
        assert_eq!(status, 200);
        let text = resp["candidates"][0]["content"]["parts"][0]["text"]
            .as_str()
            .unwrap();
        let doc: Value = serde_json::from_str(text).unwrap();
        assert_eq!(doc["category"], "lamp");
        assert!(!doc["colors"].as_array().unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn validation_errors_match_the_real_400s() {
    with_timeout(async {
        let (base, _sim) = spawn_local(SimConfig::default()).await.unwrap();
        let (status, resp) = call(&base, IMAGE_MODEL, "k", &image_body("x", "2:1", "1K")).await;
        assert_eq!(status, 400);
        assert!(resp["error"]["message"].as_str().unwrap().contains("aspect_ratio must be one of"));
        let (status, _) = call(&base, IMAGE_MODEL, "k", &image_body("x", "1:1", "2k")).await;
        assert_eq!(status, 400, "lowercase size is rejected");
        let mut body = image_body("x", "1:1", "1K");
        body["generationConfig"]["imageConfig"]["outputMimeType"] = json!("image/jpeg");
        let (status, resp) = call(&base, IMAGE_MODEL, "k", &body).await;
        assert_eq!(status, 400);
        assert_eq!(resp["error"]["message"], "Invalid JSON payload received. Unknown name \"outputMimeType\" at 'generation_config.image_config': Cannot find field.");
        let (status, _) = call(&base, "gemini-2.5-flash", "k", &image_body("x", "1:1", "1K")).await;
        assert_eq!(status, 400, "IMAGE modality on a text model");
        let mut body = image_body("x", "1:1", "1K");
        body["generationConfig"]["personGeneration"] = json!("ALLOW_ALL");
        let (status, resp) = call(&base, IMAGE_MODEL, "k", &body).await;
        assert_eq!(status, 400);
        assert_eq!(resp["error"]["details"][0]["fieldViolations"][0]["field"], "generation_config");
        let png_as_jpeg = json!({"contents": [{"parts": [
            {"inlineData": {"mimeType": "image/jpeg", "data": BASE64_STANDARD.encode(b"\x89PNG\r\n\x1a\n....")}},
            {"text": "x"}]}]});
        let (status, resp) = call(&base, "gemini-2.5-flash", "k", &png_as_jpeg).await;
        assert_eq!(status, 400, "{resp}");
    })
    .await;
}

#[tokio::test]
async fn prompt_hooks_force_outcomes() {
    with_timeout(async {
        let (base, _sim) = spawn_local(SimConfig::default()).await.unwrap();
        let (_, resp) = call(
            &base,
            IMAGE_MODEL,
            "k",
            &image_body("x [[sim:finish=IMAGE_SAFETY]]", "1:1", "1K"),
        )
        .await;
        assert_eq!(resp["candidates"][0]["finishReason"], "IMAGE_SAFETY");
        let (_, resp) = call(
            &base,
            IMAGE_MODEL,
            "k",
            &image_body("x [[sim:snake]]", "1:1", "1K"),
        )
        .await;
        assert!(
            resp["candidates"][0]["content"]["parts"][1]["inline_data"]["mime_type"].is_string()
        );
        let (status, resp) = call(
            &base,
            IMAGE_MODEL,
            "k",
            &image_body("x [[sim:malformed]]", "1:1", "1K"),
        )
        .await;
        assert_eq!(status, 200);
        assert!(resp.is_string(), "not JSON");
        let (status, _) = call(
            &base,
            IMAGE_MODEL,
            "k",
            &image_body("x [[sim:status=504]]", "1:1", "1K"),
        )
        .await;
        assert_eq!(status, 504);
    })
    .await;
}

#[tokio::test]
async fn stats_endpoint_reset_and_concurrency_peak() {
    with_timeout(async {
        let config = SimConfig {
            latency: LatencyRange::fixed(300),
            rpm_per_key: 0,
            ..SimConfig::default()
        };
        let (base, sim) = spawn_local(config).await.unwrap();
        let body = json!({"contents": [{"parts": [{"text": "hi"}]}]});
        let calls = (0..10).map(|i| {
            let base = base.clone();
            let body = body.clone();
            async move {
                call(&base, "gemini-2.5-flash", &format!("key-{}", i % 2), &body)
                    .await
                    .0
            }
        });
        let statuses = futures::future::join_all(calls).await;
        assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
        let stats: SimStats = reqwest::get(format!("{base}/_sim/stats"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(stats.total_calls, 10);
        assert_eq!(stats.in_flight, 0);
        assert_eq!(stats.calls_per_key.get("key-0"), Some(&5));
        assert!(stats.concurrent_peak >= 8, "peak {}", stats.concurrent_peak);
        assert_eq!(stats, sim.stats());
        let reset = reqwest::Client::new()
            .post(format!("{base}/_sim/reset"))
            .send()
            .await
            .unwrap();
        assert_eq!(reset.status().as_u16(), 204);
        assert_eq!(sim.stats(), SimStats::default());
    })
    .await;
}

#[tokio::test]
async fn held_calls_outlast_the_client_timeout_and_end_on_drop() {
    with_timeout(async {
        let (base, sim) = spawn_local(SimConfig {
            timeout_rate: 1.0,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let err = client
            .post(format!(
                "{base}/v1beta/models/gemini-2.5-flash:generateContent"
            ))
            .header("x-goog-api-key", "k")
            .json(&json!({"contents": [{"parts": [{"text": "hi"}]}]}))
            .send()
            .await
            .unwrap_err();
        assert!(err.is_timeout());
        drop(sim);
    })
    .await;
}
