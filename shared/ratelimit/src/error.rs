use std::time::Duration;

use scenergy_redis::RedisError;

use crate::Bucket;

/// A refusal: the bucket is full for now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rate limit for {bucket} reached; retry after {retry_after_secs} s")]
pub struct Limited {
    pub bucket: Bucket,
    /// Whole seconds, at least 1, rounded up: what goes into `Retry-After` and `retryAfter`.
    pub retry_after_secs: u64,
    /// The exact moment (ms since the epoch, the limiter's clock) a slot frees.
    pub reset_at_ms: i64,
    /// Whether this refusal came from the in-process denial cache (no Redis command was sent).
    pub cached: bool,
}

impl Limited {
    pub fn retry_after(&self) -> Duration {
        Duration::from_secs(self.retry_after_secs)
    }
}

/// Why a rate-limited call did not run.
#[derive(Debug, thiserror::Error)]
pub enum RateLimitError {
    #[error(transparent)]
    Limited(#[from] Limited),
    /// Redis could not answer. The limiter fails closed: the call is not made, because an
    /// unguarded burst is exactly what the Gemini quota punishes (see docs/ai-layer.md).
    #[error("rate limiter could not reach Redis")]
    Redis(#[from] RedisError),
}

impl RateLimitError {
    /// The refusal, if that is what this is.
    pub fn limited(&self) -> Option<&Limited> {
        match self {
            Self::Limited(l) => Some(l),
            Self::Redis(_) => None,
        }
    }
}
