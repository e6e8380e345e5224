//! [`RateLimiter`]: one `check.lua` call per check, and the in-process denial cache.

use std::future::Future;
use std::sync::{LazyLock, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use scenergy_redis::{Redis, RedisError, Script};

use crate::{Bucket, Limited, RateLimitConfig, RateLimitError};

static CHECK: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("../lua/check.lua")));

/// Milliseconds since the Unix epoch by the system clock; what [`RateLimiter::check`] passes.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A successful check: one admission was recorded in the bucket's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admitted {
    pub bucket: Bucket,
    /// Admissions left in the current window after this one.
    pub remaining: u32,
    pub limit: u32,
    /// The admission time recorded in the log (ms): the caller's `now`, or the newest stamp
    /// already there if the caller's clock reads earlier. Exactness is stated on these stamps.
    pub stamp_ms: i64,
}

/// The Lane A limiter, shared by every caller in the process (create it once, outside handlers,
/// or the denial cache is useless).
#[derive(Debug)]
pub struct RateLimiter {
    redis: Redis,
    config: RateLimitConfig,
    /// Per bucket, the ms stamp before which Redis has already said no.
    denied_until: Mutex<[i64; 3]>,
}

impl RateLimiter {
    pub fn new(redis: Redis, config: RateLimitConfig) -> Self {
        Self {
            redis,
            config,
            denied_until: Mutex::new([i64::MIN; 3]),
        }
    }

    pub fn config(&self) -> &RateLimitConfig {
        &self.config
    }

    /// Takes one admission from `bucket` now, or says when to come back.
    pub async fn check(&self, bucket: Bucket) -> Result<Admitted, RateLimitError> {
        self.check_at(bucket, now_ms()).await
    }

    /// [`check`](Self::check) with the clock passed in: the script trusts `now_ms`, so callers
    /// (tests, mostly) control time. Every caller of one bucket must use the same clock.
    pub async fn check_at(&self, bucket: Bucket, now_ms: i64) -> Result<Admitted, RateLimitError> {
        if let Some(refusal) = self.cached_refusal(bucket, now_ms) {
            return Err(refusal.into());
        }
        let limit = self.config.limit(bucket);
        let window_ms = i64::try_from(self.config.window.as_millis()).unwrap_or(i64::MAX);
        let reply = CHECK
            .call()
            .key(self.config.key(bucket))
            .arg(now_ms)
            .arg(window_ms)
            .arg(limit)
            .run(&self.redis)
            .await?
            .into_array()?;
        let (admitted, n) = match reply.as_slice() {
            [admitted, n, ..] => (admitted.as_int()?, n.as_int()?),
            _ => return Err(RedisError::Protocol(format!("check.lua returned {reply:?}")).into()),
        };
        if admitted == 1 {
            let stamp_ms = reply.get(2).map_or(Ok(now_ms), |s| s.as_int())?;
            return Ok(Admitted {
                bucket,
                remaining: u32::try_from(n).unwrap_or(0),
                limit,
                stamp_ms,
            });
        }
        // No slot can free before the oldest stamp leaves the window, whatever other processes
        // do (they can only add stamps), so caching this refusal until then is still exact.
        let reset_at_ms = now_ms.saturating_add(n.max(1));
        self.denied_until.lock().expect("denial cache lock")[bucket_index(bucket)] = reset_at_ms;
        tracing::debug!(%bucket, retry_after_ms = n, "rate limited");
        Err(refusal(bucket, now_ms, reset_at_ms, false).into())
    }

    /// Runs `f` if `bucket` admits it; otherwise returns the refusal without calling `f`.
    pub async fn with_rate_limit<F, Fut, T>(
        &self,
        bucket: Bucket,
        f: F,
    ) -> Result<T, RateLimitError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        self.check(bucket).await?;
        Ok(f().await)
    }

    fn cached_refusal(&self, bucket: Bucket, now_ms: i64) -> Option<Limited> {
        let until = self.denied_until.lock().expect("denial cache lock")[bucket_index(bucket)];
        (now_ms < until).then(|| refusal(bucket, now_ms, until, true))
    }
}

fn refusal(bucket: Bucket, now_ms: i64, reset_at_ms: i64, cached: bool) -> Limited {
    let wait_ms = u64::try_from(reset_at_ms.saturating_sub(now_ms)).unwrap_or(0);
    Limited {
        bucket,
        // Rounded up so a client that waits exactly this long finds the slot free.
        retry_after_secs: wait_ms.div_ceil(1000).max(1),
        reset_at_ms,
        cached,
    }
}

fn bucket_index(bucket: Bucket) -> usize {
    Bucket::ALL
        .iter()
        .position(|b| *b == bucket)
        .expect("every bucket is in ALL")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_is_at_least_one() {
        assert_eq!(refusal(Bucket::Text, 0, 1, false).retry_after_secs, 1);
        assert_eq!(refusal(Bucket::Text, 0, 1000, false).retry_after_secs, 1);
        assert_eq!(refusal(Bucket::Text, 0, 1001, false).retry_after_secs, 2);
        assert_eq!(refusal(Bucket::Text, 5, 5, true).retry_after_secs, 1);
    }
}
