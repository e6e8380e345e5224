//! Every outcome of a Gemini call that is not a usable result, and how callers should react
//! to it ([`ErrorClass`]). The mapping follows specs/gemini.md §3–§4 and its table in §4.3.

use std::time::Duration;

/// Which quota a 429 names (from `QuotaFailure.violations[].quotaId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimitScope {
    /// `…PerMinute…`: cool the key for `retryDelay`.
    PerMinute,
    /// `…PerDay…` or `limit: 0`: nothing will succeed until the daily reset.
    PerDay,
    /// No QuotaFailure detail, or one we do not recognise (token-per-minute, spend caps…).
    Unknown,
}

/// What a caller should do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Transient (5xx, timeout, connection): retry with backoff, same or another key.
    Retryable,
    /// The key hit a quota: cool it (and retry elsewhere). `per_day` means until the reset.
    CoolKey {
        retry_after: Option<Duration>,
        per_day: bool,
    },
    /// The key is bad (invalid, leaked, suspended): stop using it and alert.
    DisableKey,
    /// The request or its content is the problem: fail the job, do not retry, do not
    /// penalise the key.
    Fatal,
}

/// A failed Gemini call, or a 200 that did not carry what was asked for.
#[derive(Debug, thiserror::Error)]
pub enum GeminiError {
    /// The configured model cannot produce that size class; callers turn this into a 400.
    #[error("model {model} does not support image size {size}")]
    UnsupportedImageSize { model: String, size: String },
    /// The aspect ratio is not one the model accepts; callers turn this into a 400.
    #[error("model {model} does not support aspect ratio {ratio}")]
    UnsupportedAspectRatio { model: String, ratio: String },
    /// No API key was available for a provider that needs one.
    #[error("no API key supplied")]
    MissingKey,
    /// `promptFeedback.blockReason`: the prompt itself was refused (HTTP 200, no candidates).
    #[error("prompt blocked: {reason}")]
    PromptBlocked { reason: String },
    /// A safety-family `finishReason` (SAFETY, PROHIBITED_CONTENT, IMAGE_SAFETY, RECITATION,
    /// BLOCKLIST, SPII, LANGUAGE, IMAGE_PROHIBITED_CONTENT, IMAGE_RECITATION).
    #[error("output blocked: {reason}")]
    Blocked { reason: String },
    /// `finishReason: MAX_TOKENS`: the output was truncated.
    #[error("output truncated (MAX_TOKENS)")]
    MaxTokens,
    /// Any other non-STOP `finishReason` (OTHER, NO_IMAGE, IMAGE_OTHER, MALFORMED_FUNCTION_CALL…).
    #[error("generation stopped early: {reason}")]
    FinishedEarly { reason: String },
    /// STOP, but no image part: typically a refusal or a clarifying question.
    #[error("no image in the response; model said: {text:?}")]
    NoImage { text: String },
    /// 429 RESOURCE_EXHAUSTED with its parsed `RetryInfo` and `QuotaFailure`.
    #[error("rate limited ({scope:?}, retry after {retry_after:?})")]
    RateLimited {
        retry_after: Option<Duration>,
        scope: RateLimitScope,
        quota_id: Option<String>,
    },
    /// 400 with ErrorInfo `API_KEY_INVALID`.
    #[error("API key invalid")]
    InvalidKey,
    /// 403 PERMISSION_DENIED (leaked, suspended, API disabled, missing key).
    #[error("permission denied: {message}")]
    PermissionDenied {
        reason: Option<String>,
        message: String,
    },
    /// 503 UNAVAILABLE (model overloaded).
    #[error("unavailable: {message}")]
    Unavailable { message: String },
    /// 500 INTERNAL.
    #[error("internal error: {message}")]
    Internal { message: String },
    /// Other 5xx (502, 504 DEADLINE_EXCEEDED, proxies).
    #[error("server error {status}: {message}")]
    Server { status: u16, message: String },
    /// 404: bad or retired model id (a configuration error, not a key problem).
    #[error("not found: {message}")]
    NotFound { message: String },
    /// Any other 4xx: a request bug.
    #[error("bad request ({status}): {message}")]
    BadRequest { status: u16, message: String },
    /// The client-side timeout elapsed.
    #[error("request timed out after {0:?}")]
    Timeout(Duration),
    /// Connection or protocol failure before a response arrived.
    #[error("transport error: {0}")]
    Transport(String),
    /// A 200 whose body was not valid JSON, had an unexpected shape, carried undecodable
    /// image data, or JSON output that did not fit the requested type.
    #[error("malformed response: {0}")]
    MalformedResponse(String),
    /// The client could not be built from its configuration.
    #[error("configuration: {0}")]
    Config(String),
}

/// Reasons the spec calls "maybe retry once" (§3.2); everything else non-STOP is final.
const RETRY_ONCE_REASONS: [&str; 3] = ["OTHER", "NO_IMAGE", "IMAGE_OTHER"];

impl GeminiError {
    /// How to react, per specs/gemini.md §4.3.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::RateLimited {
                retry_after, scope, ..
            } => ErrorClass::CoolKey {
                retry_after: *retry_after,
                per_day: *scope == RateLimitScope::PerDay,
            },
            Self::InvalidKey | Self::PermissionDenied { .. } => ErrorClass::DisableKey,
            Self::Unavailable { .. }
            | Self::Internal { .. }
            | Self::Server { .. }
            | Self::Timeout(_)
            | Self::Transport(_)
            // A garbled 200 is most likely a proxy or truncation hiccup.
            | Self::MalformedResponse(_) => ErrorClass::Retryable,
            Self::FinishedEarly { reason } if RETRY_ONCE_REASONS.contains(&reason.as_str()) => {
                ErrorClass::Retryable
            }
            Self::UnsupportedImageSize { .. }
            | Self::UnsupportedAspectRatio { .. }
            | Self::MissingKey
            | Self::PromptBlocked { .. }
            | Self::Blocked { .. }
            | Self::MaxTokens
            | Self::FinishedEarly { .. }
            | Self::NoImage { .. }
            | Self::NotFound { .. }
            | Self::BadRequest { .. }
            | Self::Config(_) => ErrorClass::Fatal,
        }
    }

    /// True for the validation errors callers should report as an HTTP 400.
    pub fn is_invalid_request(&self) -> bool {
        matches!(
            self,
            Self::UnsupportedImageSize { .. } | Self::UnsupportedAspectRatio { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_the_spec_table() {
        let per_day = GeminiError::RateLimited {
            retry_after: None,
            scope: RateLimitScope::PerDay,
            quota_id: None,
        };
        assert_eq!(
            per_day.class(),
            ErrorClass::CoolKey {
                retry_after: None,
                per_day: true
            }
        );
        assert_eq!(GeminiError::InvalidKey.class(), ErrorClass::DisableKey);
        let other = GeminiError::FinishedEarly {
            reason: "OTHER".to_owned(),
        };
        assert_eq!(other.class(), ErrorClass::Retryable);
        let mfc = GeminiError::FinishedEarly {
            reason: "MALFORMED_FUNCTION_CALL".to_owned(),
        };
        assert_eq!(mfc.class(), ErrorClass::Fatal);
        assert_eq!(
            GeminiError::Blocked {
                reason: "SAFETY".to_owned()
            }
            .class(),
            ErrorClass::Fatal
        );
    }
}
