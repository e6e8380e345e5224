//! Successful (HTTP 200) bodies: images, structured JSON, plain text, content-level blocks.

use base64::prelude::{BASE64_STANDARD, BASE64_URL_SAFE_NO_PAD, Engine};
use serde_json::{Map, Value, json};

use crate::hooks::Hooks;
use crate::render;
use crate::schema;

/// What a validated request asked for.
#[derive(Debug)]
pub(crate) struct Plan<'a> {
    pub(crate) model: &'a str,
    pub(crate) prompt: &'a str,
    pub(crate) image_count: usize,
    pub(crate) wants_image: bool,
    pub(crate) json_schema: Option<&'a Value>,
    pub(crate) wants_json: bool,
    pub(crate) aspect_ratio: String,
    pub(crate) image_size: String,
    pub(crate) render_divisor: u32,
    pub(crate) call_number: u64,
}

fn response_id(plan: &Plan<'_>) -> String {
    let h = render::fnv1a(format!("{}#{}", plan.prompt, plan.call_number).as_bytes());
    let mut bytes = h.to_le_bytes().to_vec();
    bytes.extend_from_slice(&h.rotate_left(17).to_le_bytes());
    // 16 bytes → 22 URL-safe characters, like the real ids (§3.1).
    BASE64_URL_SAFE_NO_PAD.encode(bytes)
}

fn usage(plan: &Plan<'_>, candidates: u64, modality: &str) -> Value {
    let prompt_tokens = (plan.prompt.len() as u64 / 4).max(1) + 258 * plan.image_count as u64;
    let mut u = json!({
        "promptTokenCount": prompt_tokens,
        "totalTokenCount": prompt_tokens + candidates,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt_tokens}]
    });
    // proto3 JSON omits zero values (§3.5).
    if candidates > 0 {
        u["candidatesTokenCount"] = json!(candidates);
        u["candidatesTokensDetails"] = json!([{"modality": modality, "tokenCount": candidates}]);
    }
    u
}

fn wrap(plan: &Plan<'_>, candidate: Option<Value>, usage: Value) -> Value {
    let mut body = json!({
        "usageMetadata": usage,
        "modelVersion": plan.model,
        "responseId": response_id(plan),
    });
    if let Some(c) = candidate {
        body["candidates"] = json!([c]);
    }
    body
}

/// 200 with `promptFeedback.blockReason` and no `candidates` key (§3.4).
pub(crate) fn prompt_blocked(plan: &Plan<'_>, reason: &str) -> Value {
    let mut body = wrap(plan, None, usage(plan, 0, "TEXT"));
    body["promptFeedback"] = json!({ "blockReason": reason });
    body
}

/// Image tokens per call, per the model tables in §2.3.
fn image_tokens(plan: &Plan<'_>) -> u64 {
    if plan.model.contains("2.5") || plan.model.contains("2.0") {
        1290
    } else if plan.image_size == "4K" {
        2000
    } else {
        1120
    }
}

pub(crate) fn success(plan: &Plan<'_>, hooks: &Hooks) -> Value {
    if let Some(reason) = &hooks.finish {
        let mut candidate = json!({"content": {"role": "model"}, "finishReason": reason});
        if reason == "MAX_TOKENS" {
            // Truncated output, as a real MAX_TOKENS stop leaves it.
            candidate["content"]["parts"] = json!([{"text": "{\"category\": \"sam"}]);
        }
        return wrap(plan, Some(candidate), usage(plan, 0, "TEXT"));
    }
    if hooks.text_only {
        let text = "I'm unable to create that image. Could you describe the scene differently?";
        let candidate = json!({"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"});
        return wrap(plan, Some(candidate), usage(plan, 16, "TEXT"));
    }
    if plan.wants_image {
        return image(plan, hooks);
    }
    let text = if plan.wants_json {
        let doc = plan.json_schema.map_or_else(|| json!({}), schema::sample);
        doc.to_string()
    } else {
        format!("Simulated reply from {}.", plan.model)
    };
    let tokens = (text.len() as u64 / 4).max(1);
    let candidate =
        json!({"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"});
    wrap(plan, Some(candidate), usage(plan, tokens, "TEXT"))
}

/// Real pixel size for the request, then scaled down by the render divisor.
pub(crate) fn render_size(plan: &Plan<'_>) -> (u32, u32) {
    let (w, h) = render::size_1k(&plan.aspect_ratio);
    let halves = render::size_halves(&plan.image_size);
    let d = plan.render_divisor.max(1) * 2;
    ((w * halves / d).max(1), (h * halves / d).max(1))
}

fn image(plan: &Plan<'_>, hooks: &Hooks) -> Value {
    let (w, h) = render_size(plan);
    let seed = render::fnv1a(plan.prompt.as_bytes());
    let png = BASE64_STANDARD.encode(render::render_png(w, h, seed));
    let mime = if hooks.mislabel {
        "image/jpeg"
    } else {
        "image/png"
    };
    let mut parts = Vec::new();
    if hooks.thought {
        parts.push(json!({"text": "Planning the composition.", "thought": true}));
        let draft = BASE64_STANDARD.encode(render::render_png(w.div_ceil(2), h.div_ceil(2), !seed));
        parts
            .push(json!({"inlineData": {"mimeType": "image/png", "data": draft}, "thought": true}));
    }
    parts.push(json!({"text": format!("Here is the generated image ({} {}).", plan.aspect_ratio, plan.image_size)}));
    let mut final_part = json!({"inlineData": {"mimeType": mime, "data": png}});
    if hooks.thought {
        final_part["thoughtSignature"] = json!(BASE64_STANDARD.encode(seed.to_le_bytes()));
    }
    parts.push(final_part);
    let candidate = json!({"content": {"role": "model", "parts": parts}, "finishReason": "STOP"});
    wrap(
        plan,
        Some(candidate),
        usage(plan, image_tokens(plan), "IMAGE"),
    )
}

/// Rewrites every object key from lowerCamelCase to snake_case (the `snake` hook).
pub(crate) fn snake_case_keys(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (to_snake(&k), snake_case_keys(v)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(snake_case_keys).collect()),
        other => other,
    }
}

fn to_snake(k: &str) -> String {
    let mut out = String::with_capacity(k.len() + 4);
    for c in k.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_conversion() {
        let v = snake_case_keys(json!({"inlineData": {"mimeType": "x"}, "finishReason": "STOP"}));
        assert_eq!(
            v,
            json!({"inline_data": {"mime_type": "x"}, "finish_reason": "STOP"})
        );
    }
}
