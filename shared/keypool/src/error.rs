use std::time::Duration;

use scenergy_redis::RedisError;

/// Why no key was handed out.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// Every key is cooling, probing or out of budget, and none comes back before the deadline.
    #[error("every Gemini key is busy or cooling; the next is available in {next_available_in:?}")]
    Exhausted { next_available_in: Duration },
    /// Every key is disabled until an operator re-enables it; waiting cannot help.
    #[error("every Gemini key is disabled")]
    AllDisabled,
    /// The pool was built without keys.
    #[error("the key pool has no keys")]
    NoKeys,
    /// Two configured keys are the same key.
    #[error("key {0} is configured twice")]
    DuplicateKey(String),
    #[error("key pool could not reach Redis")]
    Redis(#[from] RedisError),
}
