//! Buckets and their limits, read from the environment.

use std::fmt;
use std::time::Duration;

use scenergy_config::{ConfigError, Env};

/// One Lane A bucket per Gemini model class (DESIGN §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    Text,
    Vision,
    Image,
}

impl Bucket {
    pub const ALL: [Self; 3] = [Self::Text, Self::Vision, Self::Image];

    /// The bucket's name, also the last part of its Redis key.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "gemini-text",
            Self::Vision => "gemini-vision",
            Self::Image => "gemini-image",
        }
    }

    fn index(self) -> usize {
        match self {
            Self::Text => 0,
            Self::Vision => 1,
            Self::Image => 2,
        }
    }
}

impl fmt::Display for Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Limits per bucket, the window they apply to, and the key namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Admissions per window, indexed text, vision, image.
    limits: [u32; 3],
    /// 60 s in production; tests compress it.
    pub window: Duration,
    /// Keys are `{rl:<namespace>}:<bucket>`; one hash tag for all three buckets.
    pub namespace: String,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            limits: [50, 30, 20],
            window: Duration::from_secs(60),
            namespace: "scenergy".to_owned(),
        }
    }
}

impl RateLimitConfig {
    /// `AI_RATE_LIMIT_TEXT` (50), `AI_RATE_LIMIT_VISION` (30), `AI_RATE_LIMIT_IMAGE` (20), per
    /// minute. A malformed or zero value is an error naming its variable.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let mut config = Self::default();
        for (bucket, var) in [
            (Bucket::Text, "AI_RATE_LIMIT_TEXT"),
            (Bucket::Vision, "AI_RATE_LIMIT_VISION"),
            (Bucket::Image, "AI_RATE_LIMIT_IMAGE"),
        ] {
            let limit = env.or::<u32>(var, config.limit(bucket))?;
            if limit == 0 {
                // Zero would refuse every call forever; that is a typo, not a setting.
                return Err(ConfigError::invalid(var, "must be at least 1"));
            }
            config.limits[bucket.index()] = limit;
        }
        Ok(config)
    }

    pub fn limit(&self, bucket: Bucket) -> u32 {
        self.limits[bucket.index()]
    }

    /// Sets one bucket's limit (clamped to at least 1).
    #[must_use]
    pub fn with_limit(mut self, bucket: Bucket, limit: u32) -> Self {
        self.limits[bucket.index()] = limit.max(1);
        self
    }

    #[must_use]
    pub fn with_window(mut self, window: Duration) -> Self {
        self.window = window.max(Duration::from_millis(1));
        self
    }

    #[must_use]
    pub fn with_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// The bucket's Redis key.
    pub fn key(&self, bucket: Bucket) -> String {
        format!("{{rl:{}}}:{}", self.namespace, bucket.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_design() {
        let config = RateLimitConfig::from_env(&Env::from_pairs::<&str, &str>([])).unwrap();
        assert_eq!(config.limit(Bucket::Text), 50);
        assert_eq!(config.limit(Bucket::Vision), 30);
        assert_eq!(config.limit(Bucket::Image), 20);
        assert_eq!(config.window, Duration::from_secs(60));
    }

    #[test]
    fn env_overrides_and_malformed_values_name_the_variable() {
        let env = Env::from_pairs([("AI_RATE_LIMIT_IMAGE", "7")]);
        assert_eq!(
            RateLimitConfig::from_env(&env)
                .unwrap()
                .limit(Bucket::Image),
            7
        );
        let env = Env::from_pairs([("AI_RATE_LIMIT_VISION", "lots")]);
        let err = RateLimitConfig::from_env(&env).unwrap_err();
        assert_eq!(err.var(), "AI_RATE_LIMIT_VISION");
        let env = Env::from_pairs([("AI_RATE_LIMIT_TEXT", "0")]);
        assert_eq!(
            RateLimitConfig::from_env(&env).unwrap_err().var(),
            "AI_RATE_LIMIT_TEXT"
        );
    }

    #[test]
    fn buckets_share_one_hash_tag() {
        let config = RateLimitConfig::default().with_namespace("t1");
        assert_eq!(config.key(Bucket::Text), "{rl:t1}:gemini-text");
        assert_eq!(config.key(Bucket::Image), "{rl:t1}:gemini-image");
    }
}
