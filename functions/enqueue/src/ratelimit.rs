//! The per-client enqueue rate limit (`ENQUEUE_RATE_LIMIT_PER_MINUTE`): one `lua/client_rate.lua`
//! call per enqueue. `scenergy-ratelimit` only knows the three Gemini buckets, not per-client
//! keys, so this lives here until that crate grows a generic check.

use std::sync::LazyLock;
use std::time::Duration;

use scenergy_http::ClientId;
use scenergy_redis::{Redis, RedisError, Script};

static CLIENT_RATE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/client_rate.lua")));

const WINDOW_MS: i64 = 60_000;

/// What one check decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Admitted,
    /// Over the limit; whole seconds until the window ends (at least 1).
    Limited {
        retry_after_secs: u32,
    },
}

/// Per-client fixed-window limiter. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ClientRateLimit {
    redis: Redis,
    namespace: String,
    per_minute: u32,
}

impl ClientRateLimit {
    /// `namespace` separates deployments sharing one Redis (the queue name).
    pub fn new(redis: Redis, namespace: &str, per_minute: u32) -> Self {
        Self {
            redis,
            namespace: namespace.to_owned(),
            per_minute: per_minute.max(1),
        }
    }

    pub fn per_minute(&self) -> u32 {
        self.per_minute
    }

    /// Counts one enqueue by `client` at `now_ms` (ms since the epoch).
    pub async fn check_at(&self, client: &ClientId, now_ms: i64) -> Result<Decision, RedisError> {
        let window_start = now_ms - now_ms.rem_euclid(WINDOW_MS);
        let key = format!(
            "rl:enqueue:{}:{}:{window_start}",
            self.namespace,
            client.as_str()
        );
        let reply = CLIENT_RATE
            .call()
            .key(key)
            .arg(self.per_minute)
            .arg(2 * WINDOW_MS)
            .run(&self.redis)
            .await?
            .into_array()?;
        let admitted = match reply.first() {
            Some(v) => v.as_int()? == 1,
            None => {
                return Err(RedisError::Protocol(
                    "client_rate.lua returned {}".to_owned(),
                ));
            }
        };
        if admitted {
            return Ok(Decision::Admitted);
        }
        Ok(Decision::Limited {
            retry_after_secs: retry_after_secs(window_start + WINDOW_MS - now_ms),
        })
    }
}

/// Rounded up, so a client that waits exactly this long lands in the next window.
fn retry_after_secs(wait_ms: i64) -> u32 {
    let wait = Duration::from_millis(u64::try_from(wait_ms).unwrap_or(0));
    u32::try_from(wait.as_millis().div_ceil(1000))
        .unwrap_or(u32::MAX)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_and_is_at_least_a_second() {
        assert_eq!(retry_after_secs(0), 1);
        assert_eq!(retry_after_secs(1), 1);
        assert_eq!(retry_after_secs(1000), 1);
        assert_eq!(retry_after_secs(1001), 2);
        assert_eq!(retry_after_secs(60_000), 60);
    }
}
