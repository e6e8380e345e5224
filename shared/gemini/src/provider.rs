//! The provider abstraction the worker and the analyze function depend on, so the real client,
//! the offline renderer (and test doubles) are interchangeable behind `Arc<dyn …>`.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::GeminiClient;
use crate::error::GeminiError;
use crate::image::{GeneratedImage, ImageRequest, InlineImage};

/// Generates one image. `key` is `None` for providers that need none (offline).
#[async_trait]
pub trait ImageProvider: Send + Sync {
    fn name(&self) -> &'static str;
    fn is_offline(&self) -> bool;
    async fn generate(
        &self,
        key: Option<&str>,
        req: &ImageRequest,
    ) -> Result<GeneratedImage, GeminiError>;
}

/// What is known about a product before analysis.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProductInput {
    pub name: String,
    pub description: String,
    pub images: Vec<InlineImage>,
}

/// One scene idea for a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SceneSuggestion {
    pub title: String,
    pub prompt_hint: String,
}

/// Structured product analysis, as the model returns it under [`PRODUCT_ANALYSIS_SCHEMA`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductAnalysis {
    pub category: String,
    pub style: String,
    pub materials: Vec<String>,
    pub colours: Vec<String>,
    pub scene_suggestions: Vec<SceneSuggestion>,
    /// Set by the offline provider; never part of the model's output.
    #[serde(default)]
    pub offline: bool,
}

/// JSON Schema (sent as `responseJsonSchema`) for [`ProductAnalysis`]; `offline` is ours,
/// not the model's, so it is not in it.
pub const PRODUCT_ANALYSIS_SCHEMA: &str = r#"{
  "type": "object",
  "properties": {
    "category": {"type": "string", "description": "Product category, e.g. lamp, sofa, sneaker"},
    "style": {"type": "string", "description": "Design style, e.g. mid-century, minimalist"},
    "materials": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
    "colours": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
    "scene_suggestions": {
      "type": "array", "minItems": 1, "maxItems": 3,
      "items": {
        "type": "object",
        "properties": {
          "title": {"type": "string"},
          "prompt_hint": {"type": "string", "description": "One sentence describing the scene"}
        },
        "required": ["title", "prompt_hint"]
      }
    }
  },
  "required": ["category", "style", "materials", "colours", "scene_suggestions"]
}"#;

/// [`PRODUCT_ANALYSIS_SCHEMA`] parsed.
pub fn product_analysis_schema() -> Value {
    // The constant is checked by a unit test, so this cannot fail at run time.
    serde_json::from_str(PRODUCT_ANALYSIS_SCHEMA).expect("PRODUCT_ANALYSIS_SCHEMA is valid JSON")
}

/// Analyses a product for scene generation.
#[async_trait]
pub trait AnalysisProvider: Send + Sync {
    fn name(&self) -> &'static str;
    fn is_offline(&self) -> bool;
    async fn analyze(
        &self,
        key: Option<&str>,
        product: &ProductInput,
    ) -> Result<ProductAnalysis, GeminiError>;
}

/// The analysis instruction sent to the model.
pub fn analysis_prompt(product: &ProductInput) -> String {
    format!(
        "You are a product catalog analyst. Analyse this product for lifestyle scene photography.\nName: {}\nDescription: {}\nReturn its category, design style, materials, colours and up to three scene suggestions.",
        product.name, product.description
    )
}

#[async_trait]
impl ImageProvider for GeminiClient {
    fn name(&self) -> &'static str {
        "gemini"
    }

    fn is_offline(&self) -> bool {
        false
    }

    async fn generate(
        &self,
        key: Option<&str>,
        req: &ImageRequest,
    ) -> Result<GeneratedImage, GeminiError> {
        self.generate_image(key.ok_or(GeminiError::MissingKey)?, req)
            .await
    }
}

#[async_trait]
impl AnalysisProvider for GeminiClient {
    fn name(&self) -> &'static str {
        "gemini"
    }

    fn is_offline(&self) -> bool {
        false
    }

    async fn analyze(
        &self,
        key: Option<&str>,
        product: &ProductInput,
    ) -> Result<ProductAnalysis, GeminiError> {
        let key = key.ok_or(GeminiError::MissingKey)?;
        let prompt = analysis_prompt(product);
        let schema = product_analysis_schema();
        if product.images.is_empty() {
            self.analyze_text(key, &prompt, &schema).await
        } else {
            self.analyze_vision(key, &prompt, &product.images, &schema)
                .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_constant_parses_and_requires_every_field() {
        let schema = product_analysis_schema();
        assert_eq!(schema["required"].as_array().unwrap().len(), 5);
    }

    #[test]
    fn traits_are_object_safe() {
        fn takes(_: &dyn ImageProvider, _: &dyn AnalysisProvider) {}
        let client = GeminiClient::new(crate::GeminiConfig::default()).unwrap();
        takes(&client, &client);
    }
}
