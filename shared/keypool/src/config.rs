//! [`PoolConfig`]: per-key budget, window, namespace, probe and cooldown timings.

use std::time::Duration;

use scenergy_config::{ConfigError, Env};

/// How the pool shares its keys. Every instance using one namespace must agree on these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolConfig {
    /// Calls per key in any window (`GEMINI_KEY_RPM`, default 60).
    pub rpm_per_key: u32,
    /// 60 s in production; tests compress it, and every other timing defaults to a multiple.
    pub window: Duration,
    /// Keys are `{keys:<namespace>}:state` and `{keys:<namespace>}:events`.
    pub namespace: String,
    /// Cooldown after a 429 that carried no `retryDelay` (default: one window).
    pub default_cooldown: Duration,
    /// How long a probe may stay unanswered before another caller takes it over (its holder
    /// may have died). Default 5 windows: image calls can take minutes (specs/gemini.md §5).
    pub probe_timeout: Duration,
    /// Approximate cap on the event stream's length.
    pub events_maxlen: u32,
}

impl PoolConfig {
    pub fn new(namespace: impl Into<String>) -> Self {
        Self::with_window(namespace, Duration::from_secs(60))
    }

    /// Defaults scaled to `window`, for time-compressed tests.
    pub fn with_window(namespace: impl Into<String>, window: Duration) -> Self {
        let window = window.max(Duration::from_millis(1));
        Self {
            rpm_per_key: 60,
            window,
            namespace: namespace.into(),
            default_cooldown: window,
            probe_timeout: window * 5,
            events_maxlen: 1000,
        }
    }

    /// `GEMINI_KEY_RPM` (default 60, at least 1); namespace `gemini`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let mut config = Self::new("gemini");
        config.rpm_per_key = env.or("GEMINI_KEY_RPM", 60_u32)?;
        if config.rpm_per_key == 0 {
            return Err(ConfigError::invalid("GEMINI_KEY_RPM", "must be at least 1"));
        }
        Ok(config)
    }

    pub(crate) fn state_key(&self) -> String {
        format!("{{keys:{}}}:state", self.namespace)
    }

    pub(crate) fn events_key(&self) -> String {
        format!("{{keys:{}}}:events", self.namespace)
    }

    /// How soon a waiter looks again when only a probe's answer can free a key.
    pub(crate) fn poll(&self) -> Duration {
        (self.window / 20).max(Duration::from_millis(20))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_and_defaults() {
        let config = PoolConfig::from_env(&Env::from_pairs([("GEMINI_KEY_RPM", "15")])).unwrap();
        assert_eq!(config.rpm_per_key, 15);
        assert_eq!(config.window, Duration::from_secs(60));
        assert_eq!(config.default_cooldown, Duration::from_secs(60));
        assert_eq!(config.state_key(), "{keys:gemini}:state");
        assert_eq!(config.events_key(), "{keys:gemini}:events");
        let err = PoolConfig::from_env(&Env::from_pairs([("GEMINI_KEY_RPM", "x")])).unwrap_err();
        assert_eq!(err.var(), "GEMINI_KEY_RPM");
    }
}
