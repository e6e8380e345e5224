//! RFC 9457 problem details.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub const CONTENT_TYPE: &str = "application/problem+json";

/// One invalid field: its path in the body (`settings.variantsPerProduct`) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// An error response. Build one with the constructors; the body is the problem JSON.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    #[serde(skip)]
    pub status: StatusCode,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Seconds until a retry can succeed (503 from a rate limit); also sent as `Retry-After`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u32>,
    /// A short machine-readable error, for clients of the original design (`{error, retryAfter}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
}

impl Problem {
    fn new(status: StatusCode, title: &'static str) -> Self {
        Self {
            status,
            kind: "about:blank",
            title,
            detail: None,
            errors: Vec::new(),
            retry_after: None,
            error: None,
        }
    }

    #[must_use]
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let mut p = Self::new(StatusCode::BAD_REQUEST, "Invalid request");
        p.errors = errors;
        p
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Invalid request").detail(detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Unauthorized").detail(detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Forbidden").detail(detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not found").detail(detail)
    }

    pub fn payload_too_large() -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "Payload too large")
            .detail("the body is larger than this endpoint accepts")
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Unsupported media type")
            .detail("send the body as application/json")
    }

    pub fn too_many_requests(retry_after_secs: u32) -> Self {
        let mut p = Self::new(StatusCode::TOO_MANY_REQUESTS, "Too many requests")
            .detail("slow down and retry later");
        p.retry_after = Some(retry_after_secs.max(1));
        p.error = Some("rate_limited");
        p
    }

    /// Over a capacity limit (Lane A's model buckets): 503 with `retryAfter`.
    pub fn service_unavailable(retry_after_secs: u32, error: &'static str) -> Self {
        let mut p = Self::new(StatusCode::SERVICE_UNAVAILABLE, "Service unavailable")
            .detail("capacity is exhausted for now; retry after the given number of seconds");
        p.retry_after = Some(retry_after_secs.max(1));
        p.error = Some(error);
        p
    }

    /// A failure of ours. The cause is logged here with its chain and never sent.
    pub fn internal(cause: &anyhow::Error) -> Self {
        tracing::error!(error.message = %cause, error.cause_chain = ?cause, "request failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal error")
            .detail("something went wrong on our side; it has been logged")
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status;
        let retry_after = self.retry_after;
        let mut response = (status, Json(self)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if let Some(secs) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// The 405 of a route that allows only `allow` (e.g. `"GET, DELETE"`), with its `Allow` header.
pub fn method_not_allowed(allow: &'static str) -> Response {
    let problem = Problem::new(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed")
        .detail(format!("use {allow}"));
    ([(header::ALLOW, allow)], problem).into_response()
}

/// Fallback for routes that do not exist, so even a typo gets problem JSON.
pub async fn not_found_fallback() -> Problem {
    Problem::not_found("no such endpoint")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_not_allowed_names_the_allowed_methods() {
        let response = method_not_allowed("GET, DELETE");
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()[header::ALLOW], "GET, DELETE");
        assert_eq!(response.headers()[header::CONTENT_TYPE], CONTENT_TYPE);
    }
}
