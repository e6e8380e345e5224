//! scenergy-gemini: the Gemini REST client and the provider abstraction.
//!
//! It owns the *client* side of the wire format in specs/gemini.md: building
//! `generateContent` requests (images with `responseModalities` + `imageConfig`, structured
//! JSON analysis with `responseJsonSchema`), and turning every response into either a typed
//! result or a typed [`GeminiError`] whose [`GeminiError::class`] tells the caller to retry,
//! cool the key, disable the key, or fail. It also owns the provider traits
//! ([`ImageProvider`], [`AnalysisProvider`]) and their two implementations: [`GeminiClient`]
//! and the deterministic [`OfflineProvider`] used when no key is configured.
//! It does not choose keys (the key pool does) and does not retry (callers do, guided by
//! the error class), because retries cost money and need the pool's view of all keys.
//!
//! # Layout
//! - `config.rs`: [`GeminiConfig`] from `GEMINI_*` variables.
//! - `client.rs`: [`GeminiClient`] (HTTP, auth header, timeouts).
//! - `wire.rs`: request bodies, response shapes, finish-reason and image-part rules.
//! - `envelope.rs`: error bodies (QuotaFailure, RetryInfo, ErrorInfo) → [`GeminiError`].
//! - `image.rs`: image types, magic-byte sniffing, header dimensions, per-model tables.
//! - `provider.rs`: the traits, [`ProductAnalysis`] and its schema, Gemini impls.
//! - `offline/`: [`OfflineProvider`], its canvas and built-in 5×7 font.
//! - `error.rs`: [`GeminiError`], [`ErrorClass`], [`RateLimitScope`].

mod client;
mod config;
mod envelope;
mod error;
mod image;
mod offline;
mod provider;
mod wire;

pub use client::GeminiClient;
pub use config::{
    DEFAULT_ANALYSIS_TIMEOUT, DEFAULT_BASE_URL, DEFAULT_IMAGE_MODEL, DEFAULT_TEXT_MODEL,
    DEFAULT_TIMEOUT, DEFAULT_VISION_MODEL, GeminiConfig,
};
pub use error::{ErrorClass, GeminiError, RateLimitScope};
pub use image::{
    BASE_ASPECT_RATIOS, EXTREME_ASPECT_RATIOS, GeneratedImage, ImageFormat, ImageQuality,
    ImageRequest, InlineImage, dimensions, parse_aspect_ratio, supported_sizes,
    supports_aspect_ratio, validate_for_model,
};
pub use offline::{OFFLINE_MODEL, OfflineProvider};
pub use provider::{
    AnalysisProvider, ImageProvider, PRODUCT_ANALYSIS_SCHEMA, ProductAnalysis, ProductInput,
    SceneSuggestion, analysis_prompt, product_analysis_schema,
};
