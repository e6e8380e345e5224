//! Routes and the generateContent pipeline: auth → parse → rate limit → latency → fault
//! injection → validation → answer. The order matters: a real server rejects bad keys before
//! it counts quota, and quota before it spends time generating.

use std::collections::HashMap;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::prelude::{BASE64_STANDARD, Engine};
use serde_json::Value;

use crate::envelope::{self, ApiError, Quota};
use crate::hooks::Hooks;
use crate::render::{BASE_RATIOS, EXTREME_RATIOS};
use crate::respond::{self, Plan};
use crate::state::AppState;
use crate::unknown;
use crate::wire::{GenerateRequest, ImageConfig};

pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1beta/models/{target}", post(model_call))
        .route("/_sim/stats", get(stats))
        .route("/_sim/reset", post(reset))
        .route("/healthz", get(|| async { "ok" }))
        // Inline reference images make bodies large; the real cap is far higher than axum's 2 MB.
        .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
        .with_state(state)
}

async fn stats(State(state): State<AppState>) -> Response {
    axum::Json(state.stats()).into_response()
}

async fn reset(State(state): State<AppState>) -> StatusCode {
    state.reset();
    StatusCode::NO_CONTENT
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
        body.to_string(),
    )
        .into_response()
}

async fn model_call(
    State(state): State<AppState>,
    Path(target): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some((model, method)) = target.split_once(':') else {
        return envelope::not_found(&target).into_response();
    };
    if method != "generateContent" {
        return envelope::not_found(model).into_response();
    }
    let _guard = state.begin_call();
    match generate(&state, model, &query, &headers, &body).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}

/// Header first, then `?key=`, exactly one of which the SDKs send; the value is trimmed
/// like the Python SDK does.
fn api_key<'a>(query: &'a HashMap<String, String>, headers: &'a HeaderMap) -> Option<&'a str> {
    headers
        .get("x-goog-api-key")
        .and_then(|v| v.to_str().ok())
        .or_else(|| query.get("key").map(String::as_str))
        .map(str::trim)
        .filter(|k| !k.is_empty())
}

fn is_image_model(model: &str) -> bool {
    model.contains("image") || model.starts_with("nano-banana")
}

async fn generate(
    state: &AppState,
    model: &str,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let config = state.config.clone();
    let key = api_key(query, headers).ok_or_else(envelope::missing_key)?;
    state.count_key(key);
    if config.invalid_keys.iter().any(|k| k == key) {
        return Err(envelope::invalid_key());
    }
    if config.leaked_keys.iter().any(|k| k == key) {
        return Err(envelope::leaked_key());
    }
    let raw: Value = serde_json::from_slice(body)
        .map_err(|e| envelope::bad_request(&format!("Invalid JSON payload received. {e}")))?;
    unknown::check(&raw)?;
    let request: GenerateRequest = serde_json::from_value(raw)
        .map_err(|e| envelope::bad_request(&format!("Invalid JSON payload received. {e}")))?;
    let prompt = request.prompt_text();
    let hooks = Hooks::parse(&prompt);

    if hooks.quota_day {
        return Err(envelope::rate_limited(
            model,
            Quota::PerDay,
            0,
            Duration::from_secs(3600),
        ));
    }
    if let Err(remaining) = state.admit(key) {
        return Err(envelope::rate_limited(
            model,
            Quota::PerMinute,
            config.rpm_per_key,
            remaining,
        ));
    }

    let latency = hooks.latency.unwrap_or_else(|| {
        let (min, max) = (
            config.latency.min.as_millis() as u64,
            config.latency.max.as_millis() as u64,
        );
        Duration::from_millis(if max > min {
            rand::random_range(min..=max)
        } else {
            min
        })
    });
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    if hooks.hold || draw(config.timeout_rate) {
        state.count_injected();
        let mut shutdown = state.shutdown.clone();
        tokio::select! {
            () = tokio::time::sleep(config.timeout_hold) => {}
            _ = shutdown.changed() => {}
        }
        return Err(envelope::deadline_exceeded());
    }
    if let Some(code) = hooks.status {
        state.count_injected();
        return Err(match code {
            403 => envelope::leaked_key(),
            404 => envelope::not_found(model),
            429 => {
                envelope::rate_limited(model, Quota::PerMinute, config.rpm_per_key, config.minute)
            }
            500 => envelope::internal(),
            504 => envelope::deadline_exceeded(),
            _ => envelope::unavailable(),
        });
    }
    if draw(config.error_rate_503) {
        state.count_injected();
        return Err(envelope::unavailable());
    }
    if draw(config.error_rate_500) {
        state.count_injected();
        return Err(envelope::internal());
    }

    let plan = validate(state, model, &request, &prompt)?;
    if let Some(reason) = hooks
        .block
        .clone()
        .or_else(|| draw(config.block_rate).then(|| "PROHIBITED_CONTENT".to_owned()))
    {
        state.count_blocked();
        return Ok(json_response(
            StatusCode::OK,
            &respond::prompt_blocked(&plan, &reason),
        ));
    }
    if hooks.malformed {
        return Ok((
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
            "{\"candidates\": [{\"content\": ",
        )
            .into_response());
    }
    if hooks.wrong_shape {
        return Ok(json_response(
            StatusCode::OK,
            &serde_json::json!({"candidates": "unexpected"}),
        ));
    }
    let mut body = respond::success(&plan, &hooks);
    if hooks.snake {
        body = respond::snake_case_keys(body);
    }
    Ok(json_response(StatusCode::OK, &body))
}

/// MIME type from magic bytes, for the label check on inline images.
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8]) {
        Some("image/jpeg")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

fn draw(rate: f64) -> bool {
    rate > 0.0 && rand::random::<f64>() < rate
}

/// The request-level 400s of §2.3/§2.4 that the simulator reproduces.
fn validate<'a>(
    state: &AppState,
    model: &'a str,
    request: &'a GenerateRequest,
    prompt: &'a str,
) -> Result<Plan<'a>, ApiError> {
    let gen_config = request.generation_config.as_ref();
    let modalities: Vec<String> = gen_config
        .map(|g| {
            g.response_modalities
                .iter()
                .map(|m| m.to_ascii_uppercase())
                .collect()
        })
        .unwrap_or_default();
    let wants_image = modalities.iter().any(|m| m == "IMAGE");
    if wants_image && !is_image_model(model) {
        return Err(envelope::bad_request(&format!(
            "Model does not support the requested response modalities: {}",
            modalities.join(",").to_ascii_lowercase()
        )));
    }
    if gen_config.and_then(|g| g.candidate_count).unwrap_or(1) > 1 && is_image_model(model) {
        return Err(envelope::bad_request(
            "Multiple candidates is not enabled for this model",
        ));
    }
    let json_schema = match gen_config.map(|g| (&g.response_schema, &g.response_json_schema)) {
        Some((Some(_), Some(_))) => {
            return Err(envelope::bad_request(
                "response_schema and response_json_schema cannot both be set.",
            ));
        }
        Some((a, b)) => a.as_ref().or(b.as_ref()),
        None => None,
    };
    let wants_json = gen_config
        .and_then(|g| g.response_mime_type.as_deref())
        .is_some_and(|m| m.eq_ignore_ascii_case("application/json"));
    if json_schema.is_some() && !wants_json {
        return Err(envelope::bad_request(
            "response_mime_type must be set to application/json when a response schema is set.",
        ));
    }
    for (i, blob) in request.images().enumerate() {
        if BASE64_STANDARD.decode(blob.data.as_bytes()).is_err() {
            return Err(envelope::bad_request(&format!(
                "Invalid value at 'contents[0].parts[{i}].inline_data.data' (TYPE_BYTES), Base64 decoding failed for \"{}\"",
                blob.data.chars().take(16).collect::<String>()
            )));
        }
        if let Some(actual) = BASE64_STANDARD
            .decode(blob.data.as_bytes())
            .ok()
            .as_deref()
            .and_then(sniff)
            .filter(|actual| !blob.mime_type.eq_ignore_ascii_case(actual))
        {
            // The real API rejects a label that contradicts the bytes (§2.2); the exact
            // message is not documented, so this one is ours.
            return Err(envelope::bad_request(&format!(
                "Unable to process input image: declared {} but the data is {actual}.",
                blob.mime_type
            )));
        }
        if !blob.mime_type.starts_with("image/") {
            return Err(envelope::bad_request(&format!(
                "Unsupported MIME type: {}",
                blob.mime_type
            )));
        }
    }
    let image_config: ImageConfig = match gen_config.and_then(|g| g.image_config.clone()) {
        None => ImageConfig::default(),
        Some(v) => serde_json::from_value(v).map_err(|e| {
            let name = e.to_string().split('`').nth(1).unwrap_or("?").to_owned();
            envelope::unknown_field(
                &format!("Invalid JSON payload received. Unknown name \"{name}\" at 'generation_config.image_config': Cannot find field."),
                "generation_config.image_config",
            )
        })?,
    };
    if image_config.aspect_ratio.is_some() && !is_image_model(model) {
        return Err(envelope::bad_request(
            "Aspect ratio is not enabled for this model",
        ));
    }
    let extreme = model.contains("3.1-flash-image");
    let aspect_ratio = image_config
        .aspect_ratio
        .unwrap_or_else(|| "1:1".to_owned());
    let ratio_ok = BASE_RATIOS.contains(&aspect_ratio.as_str())
        || (extreme && EXTREME_RATIOS.contains(&aspect_ratio.as_str()));
    if !ratio_ok {
        let list = if extreme {
            "'1:1', '1:4', '1:8', '2:3', '3:2', '3:4', '4:1', '4:3', '4:5', '5:4', '8:1', '9:16', '16:9', or '21:9'"
        } else {
            "'1:1', '2:3', '3:2', '3:4', '4:3', '4:5', '5:4', '9:16', '16:9', or '21:9'"
        };
        return Err(envelope::bad_request(&format!(
            "* GenerateContentRequest.generation_config.image_config.aspect_ratio: aspect_ratio must be one of {list}.\n"
        )));
    }
    let mut image_size = image_config.image_size.unwrap_or_else(|| "1K".to_owned());
    let allowed: &[&str] = if extreme {
        &["512", "1K", "2K", "4K"]
    } else {
        &["1K", "2K", "4K"]
    };
    if !allowed.contains(&image_size.as_str()) {
        return Err(envelope::bad_request(&format!(
            "* GenerateContentRequest.generation_config.image_config.image_size: image_size must be one of {}.\n",
            allowed
                .iter()
                .map(|s| format!("'{s}'"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if model.contains("2.5-flash-image") && image_size != "1K" {
        if state.config.strict_image_size {
            return Err(envelope::bad_request(&format!(
                "Image size {image_size} is not supported for models/{model}."
            )));
        }
        // Default: the 1K-only model silently renders 1K (spec §2.3 leaves this unverified).
        image_size = "1K".to_owned();
    }
    Ok(Plan {
        model,
        prompt,
        image_count: request.images().count(),
        wants_image,
        json_schema,
        wants_json,
        aspect_ratio,
        image_size,
        render_divisor: state.config.render_divisor,
        call_number: state.stats().total_calls,
    })
}
