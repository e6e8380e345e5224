//! Non-2xx responses → [`GeminiError`]: the `{"error":{code,message,status,details}}` envelope
//! of specs/gemini.md §4.1, its one-element-array form, and non-JSON bodies from proxies.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::error::{GeminiError, RateLimitScope};

#[derive(Debug, Default, Deserialize)]
struct Envelope {
    #[serde(default)]
    error: Status,
}

#[derive(Debug, Default, Deserialize)]
struct Status {
    #[serde(default)]
    message: String,
    #[serde(default)]
    details: Vec<Value>,
}

fn detail<'a>(details: &'a [Value], type_suffix: &str) -> impl Iterator<Item = &'a Value> {
    let suffix = format!("google.rpc.{type_suffix}");
    details.iter().filter(move |d| {
        d.get("@type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.ends_with(&suffix))
    })
}

fn parse(body: &[u8]) -> Status {
    let value: Option<Value> = serde_json::from_slice(body).ok();
    // streamGenerateContent without alt=sse wraps errors in a one-element array (§3.6).
    let value = match value {
        Some(Value::Array(mut items)) if items.len() == 1 => items.pop(),
        other => other,
    };
    match value.and_then(|v| serde_json::from_value::<Envelope>(v).ok()) {
        Some(env) if !env.error.message.is_empty() || !env.error.details.is_empty() => env.error,
        _ => Status {
            // Non-JSON body (a proxy page): keep a bounded excerpt for the operator.
            message: String::from_utf8_lossy(body).chars().take(300).collect(),
            details: Vec::new(),
        },
    }
}

/// A protobuf Duration string: `"53s"` or `"45.837906927s"` (§4.1).
pub(crate) fn parse_proto_duration(s: &str) -> Option<Duration> {
    let secs: f64 = s.trim().strip_suffix('s')?.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

/// The "Please retry in 17.75s." hint some 429 messages carry, for bodies without RetryInfo.
fn retry_from_message(message: &str) -> Option<Duration> {
    let rest = &message[message.find("retry in ")? + "retry in ".len()..];
    let end = rest.find('s')?;
    parse_proto_duration(&rest[..=end])
}

fn rate_limited(status: &Status) -> GeminiError {
    let retry_after = detail(&status.details, "RetryInfo")
        .find_map(|d| d.get("retryDelay").and_then(Value::as_str))
        .and_then(parse_proto_duration)
        .or_else(|| retry_from_message(&status.message));
    let quota_ids: Vec<&str> = detail(&status.details, "QuotaFailure")
        .filter_map(|d| d.get("violations").and_then(Value::as_array))
        .flatten()
        .filter_map(|v| v.get("quotaId").and_then(Value::as_str))
        .collect();
    // `limit: 0` means the project has no quota at all for the model (free tier on image
    // models), which no amount of waiting within the day fixes (§4.2).
    let scope =
        if quota_ids.iter().any(|q| q.contains("PerDay")) || status.message.contains("limit: 0,") {
            RateLimitScope::PerDay
        } else if quota_ids.iter().any(|q| q.contains("PerMinute")) {
            RateLimitScope::PerMinute
        } else {
            RateLimitScope::Unknown
        };
    GeminiError::RateLimited {
        retry_after,
        scope,
        quota_id: quota_ids.first().map(|q| (*q).to_owned()),
    }
}

/// Maps an HTTP error status and body onto the typed outcome.
pub(crate) fn from_status(code: u16, body: &[u8]) -> GeminiError {
    let status = parse(body);
    let reason = detail(&status.details, "ErrorInfo")
        .find_map(|d| d.get("reason").and_then(Value::as_str))
        .map(str::to_owned);
    let message = status.message.clone();
    match code {
        400 if reason.as_deref() == Some("API_KEY_INVALID")
            || message.starts_with("API key not valid")
            || message.starts_with("API Key not found") =>
        {
            GeminiError::InvalidKey
        }
        401 | 403 => GeminiError::PermissionDenied { reason, message },
        404 => GeminiError::NotFound { message },
        429 => rate_limited(&status),
        500 => GeminiError::Internal { message },
        503 => GeminiError::Unavailable { message },
        501..=599 => GeminiError::Server {
            status: code,
            message,
        },
        _ => GeminiError::BadRequest {
            status: code,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_429_body_is_fully_parsed() {
        let body = br#"{"error":{"code":429,"message":"You exceeded your current quota ... limit: 10, model: gemini-2.5-flash\nPlease retry in 17.757286616s.","status":"RESOURCE_EXHAUSTED","details":[
          {"@type":"type.googleapis.com/google.rpc.Help","links":[]},
          {"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"m","quotaId":"GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},
          {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"45.837906927s"}]}}"#;
        match from_status(429, body) {
            GeminiError::RateLimited {
                retry_after,
                scope,
                quota_id,
            } => {
                assert_eq!(retry_after, Some(Duration::from_secs_f64(45.837_906_927)));
                assert_eq!(scope, RateLimitScope::PerMinute);
                assert_eq!(
                    quota_id.as_deref(),
                    Some("GenerateRequestsPerMinutePerProjectPerModel-FreeTier")
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn limit_zero_is_per_day_and_message_hint_is_a_fallback() {
        let body = br#"{"error":{"code":429,"message":"Quota exceeded, limit: 0, model: x\nPlease retry in 3.5s.","status":"RESOURCE_EXHAUSTED"}}"#;
        match from_status(429, body) {
            GeminiError::RateLimited {
                retry_after, scope, ..
            } => {
                assert_eq!(scope, RateLimitScope::PerDay);
                assert_eq!(retry_after, Some(Duration::from_millis(3500)));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn array_form_html_bodies_and_statuses() {
        let body = br#"[{"error":{"code":403,"message":"leaked","status":"PERMISSION_DENIED"}}]"#;
        assert!(
            matches!(from_status(403, body), GeminiError::PermissionDenied { message, .. } if message == "leaked")
        );
        let html = b"<html>Bad Gateway</html>";
        assert!(
            matches!(from_status(502, html), GeminiError::Server { status: 502, message } if message.contains("Bad Gateway"))
        );
        assert!(matches!(
            from_status(400, b"{}"),
            GeminiError::BadRequest { status: 400, .. }
        ));
        assert_eq!(parse_proto_duration("15s"), Some(Duration::from_secs(15)));
        assert_eq!(parse_proto_duration("15"), None);
    }
}
