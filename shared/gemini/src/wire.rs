//! The JSON on the wire: request bodies (sent in camelCase, as the SDKs do) and the response
//! shape (read with snake_case aliases too, since proto3-JSON producers and proxies may use
//! either), plus the rules that turn a 200 into a result or a typed outcome (§3).

use base64::prelude::{BASE64_STANDARD, Engine};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::GeminiError;
use crate::image::{GeneratedImage, ImageFormat, ImageRequest, InlineImage, dimensions};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GenerateResponse {
    #[serde(default)]
    pub(crate) candidates: Vec<Candidate>,
    #[serde(default, alias = "prompt_feedback")]
    pub(crate) prompt_feedback: Option<PromptFeedback>,
    #[serde(default, alias = "model_version")]
    pub(crate) model_version: Option<String>,
    #[serde(default, alias = "response_id")]
    pub(crate) response_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Candidate {
    // When blocked, `content` may be missing or have no `parts` (§3.2).
    #[serde(default)]
    pub(crate) content: Option<Content>,
    #[serde(default, alias = "finish_reason")]
    pub(crate) finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Content {
    #[serde(default)]
    pub(crate) parts: Vec<Part>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Part {
    #[serde(default)]
    pub(crate) text: Option<String>,
    #[serde(default, alias = "inline_data")]
    pub(crate) inline_data: Option<Blob>,
    #[serde(default)]
    pub(crate) thought: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Blob {
    #[serde(default, alias = "mime_type")]
    pub(crate) mime_type: String,
    #[serde(default)]
    pub(crate) data: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PromptFeedback {
    #[serde(default, alias = "block_reason")]
    pub(crate) block_reason: Option<String>,
}

/// Safety-family finish reasons: final content outcomes (§3.2).
const BLOCKED_REASONS: [&str; 9] = [
    "SAFETY",
    "PROHIBITED_CONTENT",
    "IMAGE_SAFETY",
    "RECITATION",
    "BLOCKLIST",
    "SPII",
    "LANGUAGE",
    "IMAGE_PROHIBITED_CONTENT",
    "IMAGE_RECITATION",
];

fn inline(image: &InlineImage) -> Value {
    json!({"inlineData": {"mimeType": image.wire_mime_type(), "data": BASE64_STANDARD.encode(&image.bytes)}})
}

/// Images first, then the instruction, in one user turn (§2.2).
fn user_turn(prompt: &str, images: &[InlineImage]) -> Value {
    let mut parts: Vec<Value> = images.iter().map(inline).collect();
    parts.push(json!({ "text": prompt }));
    json!([{ "role": "user", "parts": parts }])
}

/// Structured output with a real JSON Schema (`responseJsonSchema`, v1beta, §2.4).
pub(crate) fn analysis_body(prompt: &str, images: &[InlineImage], schema: &Value) -> Value {
    json!({
        "contents": user_turn(prompt, images),
        "generationConfig": {
            "responseMimeType": "application/json",
            "responseJsonSchema": schema,
        }
    })
}

pub(crate) fn image_body(req: &ImageRequest) -> Value {
    json!({
        "contents": user_turn(&req.prompt, &req.reference_images),
        "generationConfig": {
            // TEXT too: the model may add commentary, and image-only requests fail more often.
            "responseModalities": ["TEXT", "IMAGE"],
            "imageConfig": {"aspectRatio": req.aspect_ratio, "imageSize": req.image_quality.wire()},
        }
    })
}

pub(crate) fn parse(body: &[u8]) -> Result<GenerateResponse, GeminiError> {
    serde_json::from_slice(body)
        .map_err(|e| GeminiError::MalformedResponse(format!("response body: {e}")))
}

/// The first candidate, if the call produced usable content at all.
fn usable(resp: &GenerateResponse) -> Result<&Candidate, GeminiError> {
    if let Some(reason) = resp
        .prompt_feedback
        .as_ref()
        .and_then(|f| f.block_reason.as_ref())
    {
        return Err(GeminiError::PromptBlocked {
            reason: reason.clone(),
        });
    }
    let candidate = resp.candidates.first().ok_or_else(|| {
        GeminiError::MalformedResponse("no candidates and no promptFeedback".to_owned())
    })?;
    match candidate.finish_reason.as_deref() {
        None | Some("STOP") => Ok(candidate),
        Some("MAX_TOKENS") => Err(GeminiError::MaxTokens),
        Some(r) if BLOCKED_REASONS.contains(&r) => Err(GeminiError::Blocked {
            reason: r.to_owned(),
        }),
        Some(r) => Err(GeminiError::FinishedEarly {
            reason: r.to_owned(),
        }),
    }
}

fn parts(candidate: &Candidate) -> &[Part] {
    candidate
        .content
        .as_ref()
        .map_or(&[], |c| c.parts.as_slice())
}

/// All non-thought text parts joined, as the SDKs' `response.text` does (§2.4).
fn text_of(candidate: &Candidate) -> String {
    parts(candidate)
        .iter()
        .filter(|p| !p.thought)
        .filter_map(|p| p.text.as_deref())
        .collect::<Vec<_>>()
        .join("")
}

pub(crate) fn structured_text(resp: &GenerateResponse) -> Result<String, GeminiError> {
    let text = text_of(usable(resp)?);
    if text.trim().is_empty() {
        return Err(GeminiError::MalformedResponse(
            "no text in structured-output response".to_owned(),
        ));
    }
    Ok(text)
}

/// Picks the final image: the last non-thought image part, else the last image of any kind,
/// because Gemini 3 may flag the final image `thought` (§3.3).
pub(crate) fn extract_image(
    resp: &GenerateResponse,
    model: &str,
) -> Result<GeneratedImage, GeminiError> {
    let candidate = usable(resp)?;
    let images: Vec<(&Part, &Blob)> = parts(candidate)
        .iter()
        .filter_map(|p| p.inline_data.as_ref().map(|b| (p, b)))
        .collect();
    let chosen = images
        .iter()
        .rev()
        .find(|(p, _)| !p.thought)
        .or_else(|| images.last());
    let text = text_of(candidate);
    let Some((_, blob)) = chosen else {
        return Err(GeminiError::NoImage { text });
    };
    let bytes = BASE64_STANDARD
        .decode(blob.data.trim())
        .map_err(|e| GeminiError::MalformedResponse(format!("image data is not base64: {e}")))?;
    let format = ImageFormat::sniff(&bytes).ok_or_else(|| {
        GeminiError::MalformedResponse(format!(
            "image part ({}) is not PNG, JPEG or WEBP",
            blob.mime_type
        ))
    })?;
    let (width, height) = dimensions(&bytes)
        .ok_or_else(|| GeminiError::MalformedResponse("image header is truncated".to_owned()))?;
    let declared =
        (!blob.mime_type.eq_ignore_ascii_case(format.mime_type())).then(|| blob.mime_type.clone());
    if let Some(label) = &declared {
        tracing::warn!(declared = %label, actual = format.mime_type(), "image part mislabelled; using magic bytes");
    }
    Ok(GeneratedImage {
        bytes,
        mime_type: format.mime_type(),
        declared_mime_type: declared,
        width,
        height,
        text: (!text.is_empty()).then_some(text),
        provider: "gemini",
        model: resp
            .model_version
            .clone()
            .unwrap_or_else(|| model.to_owned()),
        response_id: resp.response_id.clone(),
    })
}
