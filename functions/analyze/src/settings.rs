//! Typed settings of the analyze function, read once at start-up (DESIGN §9). Every error names
//! its variable, so a bad deploy stops with a message an operator can act on.

use std::time::Duration;

use scenergy_config::{ConfigError, Env};
use scenergy_gemini::GeminiConfig;
use scenergy_http::JwtVerifier;
use scenergy_keypool::{ApiKey, PoolConfig, keys_from_env};
use scenergy_ratelimit::RateLimitConfig;
use scenergy_redis::RedisConfig;
use tower_http::cors::CorsLayer;

/// Default for `ANALYZE_KEY_WAIT_MS`: how long one product may wait for a Gemini key.
pub const DEFAULT_KEY_WAIT_MS: u64 = 5_000;
/// Upper bound on `ANALYZE_KEY_WAIT_MS`: the wait is user latency on a synchronous endpoint,
/// and Lambda's (and the browser's) patience is a few tens of seconds.
pub const MAX_KEY_WAIT_MS: u64 = 20_000;

/// Everything the analyze function reads from the environment.
#[derive(Debug, Clone)]
pub struct Settings {
    pub redis: RedisConfig,
    pub verifier: JwtVerifier,
    pub cors: CorsLayer,
    /// `AI_RATE_LIMIT_TEXT` / `AI_RATE_LIMIT_VISION`; tests compress the window.
    pub rate_limit: RateLimitConfig,
    /// `GOOGLE_AI_STUDIO_API_KEY`, `_2`, …; empty means the offline provider.
    pub keys: Vec<ApiKey>,
    /// `GEMINI_API_BASE_URL`, models and timeouts.
    pub gemini: GeminiConfig,
    /// `GEMINI_KEY_RPM`. Namespace `gemini`, the worker's, so Lane A and Lane B share each
    /// key's budget and cooldowns instead of overrunning a key between them.
    pub pool: PoolConfig,
    /// `ANALYZE_KEY_WAIT_MS`: when every key is cooling, how long to wait before answering 503.
    pub key_wait: Duration,
}

impl Settings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let key_wait_ms = env.or("ANALYZE_KEY_WAIT_MS", DEFAULT_KEY_WAIT_MS)?;
        if !(1..=MAX_KEY_WAIT_MS).contains(&key_wait_ms) {
            return Err(ConfigError::invalid(
                "ANALYZE_KEY_WAIT_MS",
                format!("must be 1-{MAX_KEY_WAIT_MS} ms"),
            ));
        }
        Ok(Self {
            redis: RedisConfig::from_env(env)?,
            verifier: JwtVerifier::from_env(env)?,
            cors: scenergy_http::cors::from_env(env)?,
            rate_limit: RateLimitConfig::from_env(env)?,
            keys: keys_from_env(env)?,
            gemini: GeminiConfig::from_env(env)?,
            pool: PoolConfig::from_env(env)?,
            key_wait: Duration::from_millis(key_wait_ms),
        })
    }

    /// Whether requests are answered by the offline provider (no key configured).
    pub fn is_offline(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn env(extra: &[(&str, &str)]) -> Env {
        let mut pairs = vec![
            ("AUTH_JWT_SECRET", SECRET),
            ("UPSTASH_REDIS_REST_URL", "http://127.0.0.1:1"),
            ("UPSTASH_REDIS_REST_TOKEN", "t"),
        ];
        pairs.extend_from_slice(extra);
        Env::from_pairs(pairs)
    }

    #[test]
    fn defaults_are_offline_with_the_design_limits() {
        let s = Settings::from_env(&env(&[])).unwrap();
        assert!(s.is_offline());
        assert_eq!(s.key_wait, Duration::from_secs(5));
        assert_eq!(s.rate_limit.limit(scenergy_ratelimit::Bucket::Text), 50);
        let s = Settings::from_env(&env(&[("GOOGLE_AI_STUDIO_API_KEY", "k1")])).unwrap();
        assert!(!s.is_offline());
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        let var = |extra: &[(&str, &str)]| {
            Settings::from_env(&env(extra))
                .unwrap_err()
                .var()
                .to_owned()
        };
        assert_eq!(var(&[("ANALYZE_KEY_WAIT_MS", "0")]), "ANALYZE_KEY_WAIT_MS");
        assert_eq!(var(&[("AI_RATE_LIMIT_TEXT", "0")]), "AI_RATE_LIMIT_TEXT");
        assert_eq!(
            var(&[("GEMINI_API_BASE_URL", "ftp://x")]),
            "GEMINI_API_BASE_URL"
        );
        assert_eq!(
            var(&[("GOOGLE_AI_STUDIO_API_KEY_2", "k")]),
            "GOOGLE_AI_STUDIO_API_KEY_2"
        );
        let no_secret = Env::from_pairs([("REDIS_URL", "redis://x")]);
        assert_eq!(
            Settings::from_env(&no_secret).unwrap_err().var(),
            "AUTH_JWT_SECRET"
        );
    }
}
