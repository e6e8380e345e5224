//! The request shape the simulator reads. The real server parses proto3 JSON, which accepts
//! both lowerCamelCase and snake_case names (§2.1), so every field carries a snake_case alias.
//! Only fields the simulator acts on are modelled; others are ignored, except inside
//! `imageConfig`, where unknown names get the real "Cannot find field" 400.

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GenerateRequest {
    #[serde(default)]
    pub(crate) contents: Vec<Content>,
    #[serde(default, alias = "generation_config")]
    pub(crate) generation_config: Option<GenerationConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Content {
    #[serde(default)]
    pub(crate) parts: Vec<Part>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Part {
    #[serde(default)]
    pub(crate) text: Option<String>,
    #[serde(default, alias = "inline_data")]
    pub(crate) inline_data: Option<Blob>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Blob {
    #[serde(default, alias = "mime_type")]
    pub(crate) mime_type: String,
    #[serde(default)]
    pub(crate) data: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GenerationConfig {
    #[serde(default, alias = "response_modalities")]
    pub(crate) response_modalities: Vec<String>,
    #[serde(default, alias = "response_mime_type")]
    pub(crate) response_mime_type: Option<String>,
    #[serde(default, alias = "response_schema")]
    pub(crate) response_schema: Option<Value>,
    #[serde(default, alias = "response_json_schema")]
    pub(crate) response_json_schema: Option<Value>,
    #[serde(default, alias = "image_config")]
    pub(crate) image_config: Option<Value>,
    #[serde(default, alias = "candidate_count")]
    pub(crate) candidate_count: Option<u32>,
}

/// Parsed separately from [`GenerationConfig`] so an unknown name inside it can be reported
/// with the real field path.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ImageConfig {
    #[serde(default, alias = "aspect_ratio")]
    pub(crate) aspect_ratio: Option<String>,
    #[serde(default, alias = "image_size")]
    pub(crate) image_size: Option<String>,
}

impl GenerateRequest {
    /// All text parts joined: the prompt, and where test hooks are looked for.
    pub(crate) fn prompt_text(&self) -> String {
        let texts: Vec<&str> = self
            .contents
            .iter()
            .flat_map(|c| c.parts.iter())
            .filter_map(|p| p.text.as_deref())
            .collect();
        texts.join("\n")
    }

    pub(crate) fn images(&self) -> impl Iterator<Item = &Blob> {
        self.contents
            .iter()
            .flat_map(|c| c.parts.iter())
            .filter_map(|p| p.inline_data.as_ref())
    }
}
