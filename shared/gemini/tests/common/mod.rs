//! Shared setup for the tests that run the client against the simulator.
// Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use gemini_sim::{SimConfig, SpawnedSim, spawn_local};
use scenergy_gemini::{GeminiClient, GeminiConfig, GeminiError, ImageQuality, ImageRequest};

pub(crate) const KEY: &str = "test-key";

pub(crate) async fn bounded<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .expect("test exceeded 30 s")
}

pub(crate) async fn setup(sim: SimConfig, image_model: &str) -> (GeminiClient, SpawnedSim) {
    let (base_url, handle) = spawn_local(sim).await.expect("sim");
    let config = GeminiConfig {
        base_url,
        timeout: Duration::from_secs(10),
        analysis_timeout: Duration::from_secs(10),
        image_model: image_model.to_owned(),
        ..GeminiConfig::default()
    };
    (GeminiClient::new(config).unwrap(), handle)
}

pub(crate) fn request(prompt: &str, ratio: &str, quality: ImageQuality) -> ImageRequest {
    ImageRequest {
        prompt: prompt.to_owned(),
        product_name: Some("Oak lamp".to_owned()),
        reference_images: Vec::new(),
        aspect_ratio: ratio.to_owned(),
        image_quality: quality,
    }
}

pub(crate) async fn image_err(client: &GeminiClient, prompt: &str) -> GeminiError {
    client
        .generate_image(KEY, &request(prompt, "1:1", ImageQuality::K1))
        .await
        .expect_err("expected an error")
}
