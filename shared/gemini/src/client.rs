//! [`GeminiClient`]: one reused `reqwest::Client`, the key passed per call in the
//! `x-goog-api-key` header (never in the URL, never logged), typed results.

use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, HeaderValue};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::config::GeminiConfig;
use crate::envelope;
use crate::error::GeminiError;
use crate::image::{GeneratedImage, ImageRequest, InlineImage, validate_for_model};
use crate::wire::{self, GenerateResponse};

/// The Gemini REST client. Cheap to clone (the HTTP client is shared).
#[derive(Debug, Clone)]
pub struct GeminiClient {
    http: reqwest::Client,
    config: GeminiConfig,
}

impl GeminiClient {
    pub fn new(config: GeminiConfig) -> Result<Self, GeminiError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| GeminiError::Config(e.to_string()))?;
        Ok(Self { http, config })
    }

    /// `"gemini"`. Inherent so calls on the concrete type are not ambiguous between the
    /// provider traits it implements.
    pub fn name(&self) -> &'static str {
        "gemini"
    }

    /// Always false; inherent for the same reason as [`Self::name`].
    pub fn is_offline(&self) -> bool {
        false
    }

    pub fn config(&self) -> &GeminiConfig {
        &self.config
    }

    /// Structured text analysis: the model's JSON output parsed into `T`.
    pub async fn analyze_text<T: DeserializeOwned>(
        &self,
        key: &str,
        prompt: &str,
        schema: &Value,
    ) -> Result<T, GeminiError> {
        let model = self.config.text_model.clone();
        self.structured(key, &model, &wire::analysis_body(prompt, &[], schema))
            .await
    }

    /// Structured analysis of inline images plus a prompt.
    pub async fn analyze_vision<T: DeserializeOwned>(
        &self,
        key: &str,
        prompt: &str,
        images: &[InlineImage],
        schema: &Value,
    ) -> Result<T, GeminiError> {
        let model = self.config.vision_model.clone();
        self.structured(key, &model, &wire::analysis_body(prompt, images, schema))
            .await
    }

    /// One image. Size/ratio support is checked first, so an impossible request costs nothing.
    pub async fn generate_image(
        &self,
        key: &str,
        req: &ImageRequest,
    ) -> Result<GeneratedImage, GeminiError> {
        let model = &self.config.image_model;
        validate_for_model(model, req)?;
        let resp = self
            .call(key, model, &wire::image_body(req), self.config.timeout)
            .await?;
        wire::extract_image(&resp, model)
    }

    async fn structured<T: DeserializeOwned>(
        &self,
        key: &str,
        model: &str,
        body: &Value,
    ) -> Result<T, GeminiError> {
        let resp = self
            .call(key, model, body, self.config.analysis_timeout)
            .await?;
        let text = wire::structured_text(&resp)?;
        serde_json::from_str(&text).map_err(|e| {
            GeminiError::MalformedResponse(format!("JSON output does not match the schema: {e}"))
        })
    }

    async fn call(
        &self,
        key: &str,
        model: &str,
        body: &Value,
        timeout: Duration,
    ) -> Result<GenerateResponse, GeminiError> {
        let key = key.trim();
        if key.is_empty() {
            return Err(GeminiError::MissingKey);
        }
        let mut key_header = HeaderValue::from_str(key).map_err(|_| GeminiError::InvalidKey)?;
        // Keeps the value out of reqwest/hyper debug output.
        key_header.set_sensitive(true);
        let url = format!(
            "{}/v1beta/models/{}:generateContent",
            self.config.base_url.trim_end_matches('/'),
            model.trim_start_matches("models/")
        );
        let started = Instant::now();
        let transport = |e: reqwest::Error| {
            if e.is_timeout() {
                GeminiError::Timeout(timeout)
            } else {
                // Without the URL: it is harmless today, but errors travel far.
                GeminiError::Transport(e.without_url().to_string())
            }
        };
        let response = self
            .http
            .post(url)
            .timeout(timeout)
            .header("x-goog-api-key", key_header)
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(transport)?;
        tracing::debug!(
            model,
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "gemini generateContent"
        );
        if !status.is_success() {
            return Err(envelope::from_status(status.as_u16(), &bytes));
        }
        wire::parse(&bytes)
    }
}
