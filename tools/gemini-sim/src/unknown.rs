//! The real server rejects field names it does not know ("Invalid JSON payload received.
//! Unknown name …: Cannot find field.", §2.1/§4.2), which is how clients find out they sent
//! an unsupported option such as `imageConfig.outputMimeType`. Checked on the raw JSON so
//! both spellings of every known field pass.

use serde_json::Value;

use crate::envelope::{self, ApiError};

const TOP_LEVEL: [&str; 8] = [
    "contents",
    "systemInstruction",
    "generationConfig",
    "safetySettings",
    "tools",
    "toolConfig",
    "cachedContent",
    "serviceTier",
];

/// `generationConfig` fields as emitted by the SDK converters (§2.3).
const GENERATION_CONFIG: [&str; 21] = [
    "temperature",
    "topP",
    "topK",
    "candidateCount",
    "maxOutputTokens",
    "stopSequences",
    "seed",
    "presencePenalty",
    "frequencyPenalty",
    "responseLogprobs",
    "logprobs",
    "responseMimeType",
    "responseSchema",
    "responseJsonSchema",
    "responseModalities",
    "mediaResolution",
    "speechConfig",
    "thinkingConfig",
    "imageConfig",
    "enableEnhancedCivicAnswers",
    "audioTranscriptionConfig",
];

const IMAGE_CONFIG: [&str; 2] = ["aspectRatio", "imageSize"];

/// `aspect_ratio` → `aspectRatio`; camelCase input is returned unchanged.
fn to_camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn check_object(value: &Value, known: &[&str], path: &str) -> Result<(), ApiError> {
    let Some(map) = value.as_object() else {
        return Ok(());
    };
    match map.keys().find(|k| !known.contains(&to_camel(k).as_str())) {
        None => Ok(()),
        Some(name) => {
            let at = if path.is_empty() {
                String::new()
            } else {
                format!(" at '{path}'")
            };
            Err(envelope::unknown_field(
                &format!(
                    "Invalid JSON payload received. Unknown name \"{name}\"{at}: Cannot find field."
                ),
                path,
            ))
        }
    }
}

fn get<'a>(value: &'a Value, camel: &str, snake: &str) -> Option<&'a Value> {
    value.get(camel).or_else(|| value.get(snake))
}

/// Rejects unknown names at the top level, in `generationConfig` and in `imageConfig`.
pub(crate) fn check(body: &Value) -> Result<(), ApiError> {
    if !body.is_object() {
        return Err(envelope::bad_request(
            "Invalid JSON payload received. Expected an object.",
        ));
    }
    check_object(body, &TOP_LEVEL, "")?;
    if let Some(gen_config) = get(body, "generationConfig", "generation_config") {
        check_object(gen_config, &GENERATION_CONFIG, "generation_config")?;
        if let Some(image) = get(gen_config, "imageConfig", "image_config") {
            check_object(image, &IMAGE_CONFIG, "generation_config.image_config")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn known_names_pass_in_both_spellings_and_unknown_ones_fail() {
        let ok = json!({"contents": [], "system_instruction": {},
            "generation_config": {"response_modalities": ["IMAGE"], "topK": 1,
                "image_config": {"aspect_ratio": "1:1", "imageSize": "1K"}}});
        assert!(check(&ok).is_ok());
        let bad = json!({"generationConfig": {"imageConfig": {"outputMimeType": "image/png"}}});
        let err = check(&bad).unwrap_err();
        assert_eq!(
            err.body["error"]["message"],
            "Invalid JSON payload received. Unknown name \"outputMimeType\" at 'generation_config.image_config': Cannot find field."
        );
        let err = check(&json!({"contents": [], "foo": 1})).unwrap_err();
        assert_eq!(
            err.body["error"]["message"],
            "Invalid JSON payload received. Unknown name \"foo\": Cannot find field."
        );
    }
}
