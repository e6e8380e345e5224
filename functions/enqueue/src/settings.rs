//! Typed settings of the enqueue function, read once at start-up (DESIGN §9). Every error names
//! its variable, so a bad deploy stops with a message an operator can act on.

use std::time::Duration;

use scenergy_config::{ConfigError, Env, SecretString};
use scenergy_http::JwtVerifier;
use scenergy_queue::validate_queue_name;
use scenergy_redis::RedisConfig;
use tower_http::cors::CorsLayer;

/// The queue jobs go to unless `QUEUE_NAME` says otherwise.
pub const DEFAULT_QUEUE: &str = "images";
/// Enqueues per client per minute unless `ENQUEUE_RATE_LIMIT_PER_MINUTE` says otherwise.
pub const DEFAULT_RATE_LIMIT_PER_MINUTE: u32 = 60;
/// Default bound on the wake call (`WAKE_TIMEOUT_MS`).
pub const DEFAULT_WAKE_TIMEOUT_MS: u64 = 250;
/// Upper bound on `WAKE_TIMEOUT_MS`: the wake runs before the reply, so it is user latency.
pub const MAX_WAKE_TIMEOUT_MS: u64 = 300;
/// QStash's public API, used when `QSTASH_URL` is unset.
pub const DEFAULT_QSTASH_URL: &str = "https://qstash.upstash.io";

/// How the worker is told that a job is waiting (`WAKE_TRANSPORT`).
#[derive(Debug, Clone)]
pub enum WakeConfig {
    /// No wake; the scheduled `/drain` picks jobs up.
    None,
    /// POST `WORKER_WAKE_URL` with `Authorization: Bearer WORKER_TOKEN`.
    Http {
        url: String,
        worker_token: SecretString,
    },
    /// Publish to QStash (`QSTASH_URL`, `QSTASH_TOKEN`), which then POSTs `WORKER_WAKE_URL`.
    Qstash {
        qstash_url: String,
        qstash_token: SecretString,
        destination: String,
        /// Forwarded to the worker when set; the worker may rely on QStash's signature instead.
        worker_token: Option<SecretString>,
    },
}

/// Everything the enqueue function reads from the environment.
#[derive(Debug, Clone)]
pub struct Settings {
    pub redis: RedisConfig,
    pub verifier: JwtVerifier,
    pub cors: CorsLayer,
    pub queue_name: String,
    pub rate_limit_per_minute: u32,
    pub wake: WakeConfig,
    pub wake_timeout: Duration,
}

impl Settings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let queue_name = env.or("QUEUE_NAME", DEFAULT_QUEUE.to_owned())?;
        validate_queue_name(&queue_name).map_err(|e| ConfigError::invalid("QUEUE_NAME", e))?;
        let rate_limit_per_minute = env.or(
            "ENQUEUE_RATE_LIMIT_PER_MINUTE",
            DEFAULT_RATE_LIMIT_PER_MINUTE,
        )?;
        if rate_limit_per_minute == 0 {
            // Zero would refuse every enqueue forever; that is a typo, not a setting.
            return Err(ConfigError::invalid(
                "ENQUEUE_RATE_LIMIT_PER_MINUTE",
                "must be at least 1",
            ));
        }
        let wake_timeout_ms = env.or("WAKE_TIMEOUT_MS", DEFAULT_WAKE_TIMEOUT_MS)?;
        if !(1..=MAX_WAKE_TIMEOUT_MS).contains(&wake_timeout_ms) {
            return Err(ConfigError::invalid(
                "WAKE_TIMEOUT_MS",
                format!("must be 1-{MAX_WAKE_TIMEOUT_MS} ms"),
            ));
        }
        Ok(Self {
            redis: RedisConfig::from_env(env)?,
            verifier: JwtVerifier::from_env(env)?,
            cors: scenergy_http::cors::from_env(env)?,
            queue_name,
            rate_limit_per_minute,
            wake: wake_from_env(env)?,
            wake_timeout: Duration::from_millis(wake_timeout_ms),
        })
    }
}

fn wake_from_env(env: &Env) -> Result<WakeConfig, ConfigError> {
    let transport = env.or("WAKE_TRANSPORT", "none".to_owned())?;
    match transport.trim().to_ascii_lowercase().as_str() {
        "none" => Ok(WakeConfig::None),
        "http" => Ok(WakeConfig::Http {
            url: wake_url(env)?,
            worker_token: env.secret("WORKER_TOKEN")?,
        }),
        "qstash" => {
            let qstash_url = match env.url("QSTASH_URL", &["http", "https"])? {
                Some(url) => url.trim_end_matches('/').to_owned(),
                None => DEFAULT_QSTASH_URL.to_owned(),
            };
            Ok(WakeConfig::Qstash {
                qstash_url,
                qstash_token: env.secret("QSTASH_TOKEN")?,
                destination: wake_url(env)?,
                worker_token: env.optional_secret("WORKER_TOKEN")?,
            })
        }
        other => Err(ConfigError::invalid(
            "WAKE_TRANSPORT",
            format!("{other:?} is not one of http, qstash, none"),
        )),
    }
}

fn wake_url(env: &Env) -> Result<String, ConfigError> {
    env.url("WORKER_WAKE_URL", &["http", "https"])?
        .ok_or_else(|| ConfigError::Missing {
            var: "WORKER_WAKE_URL".to_owned(),
        })
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

    fn var_of(extra: &[(&str, &str)]) -> String {
        Settings::from_env(&env(extra))
            .unwrap_err()
            .var()
            .to_owned()
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let s = Settings::from_env(&env(&[])).unwrap();
        assert_eq!(s.queue_name, "images");
        assert_eq!(s.rate_limit_per_minute, 60);
        assert_eq!(s.wake_timeout, Duration::from_millis(250));
        assert!(matches!(s.wake, WakeConfig::None));
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        assert_eq!(var_of(&[("QUEUE_NAME", "Bad_Name")]), "QUEUE_NAME");
        assert_eq!(
            var_of(&[("ENQUEUE_RATE_LIMIT_PER_MINUTE", "0")]),
            "ENQUEUE_RATE_LIMIT_PER_MINUTE"
        );
        assert_eq!(var_of(&[("WAKE_TIMEOUT_MS", "1000")]), "WAKE_TIMEOUT_MS");
        assert_eq!(var_of(&[("WAKE_TRANSPORT", "smoke")]), "WAKE_TRANSPORT");
        assert_eq!(var_of(&[("WAKE_TRANSPORT", "http")]), "WORKER_WAKE_URL");
        assert_eq!(
            var_of(&[
                ("WAKE_TRANSPORT", "http"),
                ("WORKER_WAKE_URL", "http://w/drain")
            ]),
            "WORKER_TOKEN"
        );
        assert_eq!(
            var_of(&[
                ("WAKE_TRANSPORT", "qstash"),
                ("WORKER_WAKE_URL", "http://w/drain")
            ]),
            "QSTASH_TOKEN"
        );
        let no_secret = Env::from_pairs([("REDIS_URL", "redis://x")]);
        assert_eq!(
            Settings::from_env(&no_secret).unwrap_err().var(),
            "AUTH_JWT_SECRET"
        );
    }

    #[test]
    fn qstash_defaults_to_the_public_api() {
        let s = Settings::from_env(&env(&[
            ("WAKE_TRANSPORT", "qstash"),
            ("WORKER_WAKE_URL", "https://worker.example/drain"),
            ("QSTASH_TOKEN", "q"),
        ]))
        .unwrap();
        let WakeConfig::Qstash { qstash_url, .. } = s.wake else {
            panic!("qstash expected");
        };
        assert_eq!(qstash_url, DEFAULT_QSTASH_URL);
    }
}
