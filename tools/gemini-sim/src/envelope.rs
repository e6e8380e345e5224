//! The real Gemini error envelopes (specs/gemini.md §4), built as `(status, JSON)` pairs. The
//! messages are copied verbatim from observed traffic so clients are tested against the text
//! they will really see.

use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An API error as the simulator answers it.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) body: Value,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // No Retry-After header, ever: the real API only puts the hint in the body (§1.3).
        (self.status, axum::Json(self.body)).into_response()
    }
}

fn envelope(code: StatusCode, status: &str, message: &str, details: Option<Value>) -> ApiError {
    let mut error = json!({ "code": code.as_u16(), "message": message, "status": status });
    if let Some(details) = details {
        error["details"] = details;
    }
    ApiError {
        status: code,
        body: json!({ "error": error }),
    }
}

pub(crate) fn invalid_key() -> ApiError {
    let msg = "API key not valid. Please pass a valid API key.";
    envelope(
        StatusCode::BAD_REQUEST,
        "INVALID_ARGUMENT",
        msg,
        Some(json!([
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
             "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}},
            {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US", "message": msg}
        ])),
    )
}

pub(crate) fn missing_key() -> ApiError {
    envelope(
        StatusCode::FORBIDDEN,
        "PERMISSION_DENIED",
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        None,
    )
}

pub(crate) fn leaked_key() -> ApiError {
    envelope(
        StatusCode::FORBIDDEN,
        "PERMISSION_DENIED",
        "Your API key was reported as leaked. Please use another API key.",
        None,
    )
}

pub(crate) fn bad_request(message: &str) -> ApiError {
    envelope(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", message, None)
}

/// The unknown-field 400, with the `BadRequest` detail and a snake_case path like the real one.
pub(crate) fn unknown_field(message: &str, field: &str) -> ApiError {
    envelope(
        StatusCode::BAD_REQUEST,
        "INVALID_ARGUMENT",
        message,
        Some(
            json!([{"@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{"field": field, "description": message}]}]),
        ),
    )
}

pub(crate) fn not_found(model: &str) -> ApiError {
    envelope(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        &format!(
            "models/{model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods."
        ),
        None,
    )
}

pub(crate) fn unavailable() -> ApiError {
    envelope(
        StatusCode::SERVICE_UNAVAILABLE,
        "UNAVAILABLE",
        "The model is overloaded. Please try again later.",
        None,
    )
}

pub(crate) fn internal() -> ApiError {
    envelope(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL",
        "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
        None,
    )
}

pub(crate) fn deadline_exceeded() -> ApiError {
    envelope(
        StatusCode::GATEWAY_TIMEOUT,
        "DEADLINE_EXCEEDED",
        "Deadline expired before operation could complete.",
        None,
    )
}

/// Which quota bucket a 429 names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Quota {
    PerMinute,
    PerDay,
}

/// `Duration` in protobuf JSON form: `"15s"` or `"1.523s"` (millisecond precision is plenty
/// for a time-compressed window and still exercises fractional parsing).
pub(crate) fn proto_duration(d: Duration) -> String {
    let millis = d.as_millis();
    if millis.is_multiple_of(1000) {
        format!("{}s", millis / 1000)
    } else {
        format!("{}.{:03}s", millis / 1000, millis % 1000)
    }
}

/// The full RESOURCE_EXHAUSTED body: Help + QuotaFailure + RetryInfo, delay echoed in the message.
pub(crate) fn rate_limited(model: &str, quota: Quota, limit: u32, retry: Duration) -> ApiError {
    let (quota_id, metric_limit) = match quota {
        Quota::PerMinute => (
            "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
            limit.to_string(),
        ),
        // Per-day exhaustion on image models typically shows up as `limit: 0` (§5).
        Quota::PerDay => (
            "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
            "0".to_owned(),
        ),
    };
    let secs = retry.as_secs_f64();
    let message = format!(
        "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, head to: https://ai.dev/rate-limit. \n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: {metric_limit}, model: {model}\nPlease retry in {secs:.9}s."
    );
    envelope(
        StatusCode::TOO_MANY_REQUESTS,
        "RESOURCE_EXHAUSTED",
        &message,
        Some(json!([
            {"@type": "type.googleapis.com/google.rpc.Help",
             "links": [{"description": "Learn more about Gemini API quotas",
                        "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
                {"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                 "quotaId": quota_id,
                 "quotaDimensions": {"location": "global", "model": model},
                 "quotaValue": metric_limit}]},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": proto_duration(retry)}
        ])),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proto_durations_look_like_the_real_ones() {
        assert_eq!(proto_duration(Duration::from_secs(15)), "15s");
        assert_eq!(proto_duration(Duration::from_millis(1523)), "1.523s");
        assert_eq!(proto_duration(Duration::from_millis(7)), "0.007s");
    }
}
