//! Typed settings of the worker, read once at start-up (DESIGN §9 and issue #6). Every error
//! names its variable, so a bad deploy stops with a message an operator can act on.

use std::time::Duration;

use scenergy_config::{ConfigError, Env, ExposeSecret, SecretString};
use scenergy_db::DbConfig;
use scenergy_gemini::GeminiConfig;
use scenergy_keypool::{ApiKey, PoolConfig, keys_from_env};
use scenergy_queue::validate_queue_name;
use scenergy_redis::RedisConfig;
use scenergy_storage::StorageConfig;

/// The queue the worker drains unless `QUEUE_NAME` says otherwise (the enqueue function's too).
pub const DEFAULT_QUEUE: &str = "images";
/// `WORKER_CONCURRENCY`: generation calls in flight per instance (DESIGN §9).
pub const DEFAULT_CONCURRENCY: usize = 5;
pub const MAX_CONCURRENCY: usize = 64;
/// `MAX_JOBS_PER_SECOND`: job starts per second across every worker (DESIGN §9).
pub const DEFAULT_MAX_JOBS_PER_SECOND: u32 = 10;
/// `LEASE_SECS`: how long a claimed job stays ours without a heartbeat. A crashed worker's
/// jobs are claimable again this long after its last heartbeat.
pub const DEFAULT_LEASE_SECS: u64 = 30;
/// `SHUTDOWN_GRACE_SECS`: after SIGTERM, how long items in flight may finish before the rest
/// is released. Cloud Run allows 10 s between SIGTERM and SIGKILL.
pub const DEFAULT_SHUTDOWN_GRACE_SECS: u64 = 8;
/// `DRAIN_DEADLINE_SECS`: the longest drain, and the default when the request names none. It
/// must end (grace included) before the platform's request timeout (Cloud Run: 900 s here).
pub const DEFAULT_DRAIN_DEADLINE_SECS: u64 = 840;
/// `OUTAGE_RETRY_SECS`: how long one step (a database write, an upload) retries a transient
/// failure before the job is handed back to the queue to retry later.
pub const DEFAULT_OUTAGE_RETRY_SECS: u64 = 120;
/// `KEY_WAIT_SECS`: how long one item waits for a Gemini key while every key is cooling.
pub const DEFAULT_KEY_WAIT_SECS: u64 = 600;
/// The shortest `WORKER_TOKEN`: it guards an endpoint that spends API quota.
pub const MIN_WORKER_TOKEN: usize = 16;

/// How `/drain` callers prove who they are.
#[derive(Debug, Clone, Default)]
pub struct DrainAuth {
    /// `WORKER_TOKEN`, sent as `Authorization: Bearer …` (the `http` wake, the Scheduler).
    pub worker_token: Option<SecretString>,
    /// `QSTASH_CURRENT_SIGNING_KEY` and `QSTASH_NEXT_SIGNING_KEY` (the `qstash` wake).
    pub qstash_keys: Option<(SecretString, SecretString)>,
    /// `WORKER_WAKE_URL`: when set, a QStash signature must name exactly this URL (`sub`).
    pub public_url: Option<String>,
}

/// How the worker runs jobs, independent of where its services are.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub queue_name: String,
    pub concurrency: usize,
    pub max_jobs_per_second: u32,
    pub lease: Duration,
    pub shutdown_grace: Duration,
    pub drain_deadline: Duration,
    pub outage_retry: Duration,
    pub key_wait: Duration,
}

impl Default for RunSettings {
    fn default() -> Self {
        Self {
            queue_name: DEFAULT_QUEUE.to_owned(),
            concurrency: DEFAULT_CONCURRENCY,
            max_jobs_per_second: DEFAULT_MAX_JOBS_PER_SECOND,
            lease: Duration::from_secs(DEFAULT_LEASE_SECS),
            shutdown_grace: Duration::from_secs(DEFAULT_SHUTDOWN_GRACE_SECS),
            drain_deadline: Duration::from_secs(DEFAULT_DRAIN_DEADLINE_SECS),
            outage_retry: Duration::from_secs(DEFAULT_OUTAGE_RETRY_SECS),
            key_wait: Duration::from_secs(DEFAULT_KEY_WAIT_SECS),
        }
    }
}

/// Everything `worker serve` reads from the environment.
#[derive(Debug, Clone)]
pub struct Settings {
    pub redis: RedisConfig,
    pub db: DbConfig,
    pub storage: StorageConfig,
    /// `GOOGLE_AI_STUDIO_API_KEY`, `_2`, …; empty means the offline provider.
    pub keys: Vec<ApiKey>,
    pub gemini: GeminiConfig,
    /// Namespace `gemini`, shared with the analyze function, so both lanes draw on one budget.
    pub pool: PoolConfig,
    pub run: RunSettings,
    pub auth: DrainAuth,
    /// `ENABLE_BULL_BOARD` + `ADMIN_TOKEN`: the dashboard at `/admin/queues`.
    pub admin: Option<crate::admin::AdminConfig>,
    /// `ALERT_WEBHOOK_URL` and the `ALERT_*` thresholds.
    pub alerts: Option<crate::alerts::AlertConfig>,
    /// `METRICS_TOKEN`: when set, `/metrics` wants it as a bearer token.
    pub metrics_token: Option<SecretString>,
}

fn secs(env: &Env, var: &str, default: u64, min: u64) -> Result<Duration, ConfigError> {
    let secs: u64 = env.or(var, default)?;
    if secs < min {
        return Err(ConfigError::invalid(var, format!("must be at least {min}")));
    }
    Ok(Duration::from_secs(secs))
}

impl RunSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let queue_name = env.or("QUEUE_NAME", DEFAULT_QUEUE.to_owned())?;
        validate_queue_name(&queue_name).map_err(|e| ConfigError::invalid("QUEUE_NAME", e))?;
        let concurrency: usize = env.or("WORKER_CONCURRENCY", DEFAULT_CONCURRENCY)?;
        if !(1..=MAX_CONCURRENCY).contains(&concurrency) {
            return Err(ConfigError::invalid(
                "WORKER_CONCURRENCY",
                format!("must be 1-{MAX_CONCURRENCY}"),
            ));
        }
        Ok(Self {
            queue_name,
            concurrency,
            max_jobs_per_second: env.or("MAX_JOBS_PER_SECOND", DEFAULT_MAX_JOBS_PER_SECOND)?,
            lease: secs(env, "LEASE_SECS", DEFAULT_LEASE_SECS, 2)?,
            shutdown_grace: secs(env, "SHUTDOWN_GRACE_SECS", DEFAULT_SHUTDOWN_GRACE_SECS, 0)?,
            drain_deadline: secs(env, "DRAIN_DEADLINE_SECS", DEFAULT_DRAIN_DEADLINE_SECS, 1)?,
            outage_retry: secs(env, "OUTAGE_RETRY_SECS", DEFAULT_OUTAGE_RETRY_SECS, 1)?,
            key_wait: secs(env, "KEY_WAIT_SECS", DEFAULT_KEY_WAIT_SECS, 1)?,
        })
    }
}

impl DrainAuth {
    /// At least one way in is required: a worker whose `/drain` nobody can call never drains,
    /// and one anybody can call spends the API quota for them.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let worker_token = env.optional_secret("WORKER_TOKEN")?;
        if let Some(token) = &worker_token
            && token.expose_secret().len() < MIN_WORKER_TOKEN
        {
            return Err(ConfigError::invalid(
                "WORKER_TOKEN",
                format!("must be at least {MIN_WORKER_TOKEN} characters"),
            ));
        }
        let current = env.optional_secret("QSTASH_CURRENT_SIGNING_KEY")?;
        let next = env.optional_secret("QSTASH_NEXT_SIGNING_KEY")?;
        let qstash_keys = match (current, next) {
            (Some(current), Some(next)) => Some((current, next)),
            (None, None) => None,
            (Some(_), None) => return Err(ConfigError::missing("QSTASH_NEXT_SIGNING_KEY")),
            (None, Some(_)) => return Err(ConfigError::missing("QSTASH_CURRENT_SIGNING_KEY")),
        };
        if worker_token.is_none() && qstash_keys.is_none() {
            return Err(ConfigError::missing(
                "WORKER_TOKEN (or QSTASH_CURRENT_SIGNING_KEY and QSTASH_NEXT_SIGNING_KEY)",
            ));
        }
        Ok(Self {
            worker_token,
            qstash_keys,
            public_url: env.url("WORKER_WAKE_URL", &["http", "https"])?,
        })
    }
}

impl Settings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            redis: RedisConfig::from_env(env)?,
            db: DbConfig::from_env(env)?,
            storage: StorageConfig::from_env(env)?,
            keys: keys_from_env(env)?,
            gemini: GeminiConfig::from_env(env)?,
            pool: PoolConfig::from_env(env)?,
            run: RunSettings::from_env(env)?,
            auth: DrainAuth::from_env(env)?,
            admin: crate::admin::AdminConfig::from_env(env)?,
            alerts: crate::alerts::AlertConfig::from_env(env)?,
            metrics_token: env.optional_secret("METRICS_TOKEN")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        let mut all = vec![
            ("REDIS_URL", "redis://127.0.0.1:6379"),
            ("DATABASE_URL", "postgres://postgres@127.0.0.1/postgres"),
            ("WORKER_TOKEN", "a-worker-token-long-enough"),
        ];
        all.extend_from_slice(pairs);
        Env::from_pairs(all)
    }

    #[test]
    fn defaults_follow_the_design() {
        let s = Settings::from_env(&env(&[])).unwrap();
        assert_eq!(s.run.concurrency, 5);
        assert_eq!(s.run.max_jobs_per_second, 10);
        assert_eq!(s.run.queue_name, "images");
        assert!(s.keys.is_empty(), "no key: the offline provider");
        assert!(s.auth.qstash_keys.is_none());
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (var, value) in [
            ("WORKER_CONCURRENCY", "0"),
            ("WORKER_CONCURRENCY", "many"),
            ("MAX_JOBS_PER_SECOND", "-1"),
            ("LEASE_SECS", "1"),
            ("DRAIN_DEADLINE_SECS", "0"),
            ("QUEUE_NAME", "Bad_Name"),
            ("WORKER_TOKEN", "short"),
            ("QSTASH_CURRENT_SIGNING_KEY", "sig_current"),
            ("WORKER_WAKE_URL", "ftp://x"),
        ] {
            let err = Settings::from_env(&env(&[(var, value)])).unwrap_err();
            let expected = if var == "QSTASH_CURRENT_SIGNING_KEY" {
                "QSTASH_NEXT_SIGNING_KEY"
            } else {
                var
            };
            assert_eq!(err.var(), expected, "{var}={value}: {err}");
        }
    }

    #[test]
    fn drain_needs_a_way_in() {
        let env = Env::from_pairs([
            ("REDIS_URL", "redis://127.0.0.1:6379"),
            ("DATABASE_URL", "postgres://postgres@127.0.0.1/postgres"),
        ]);
        let err = Settings::from_env(&env).unwrap_err();
        assert!(err.to_string().contains("WORKER_TOKEN"), "{err}");
        let qstash_only = Env::from_pairs([
            ("QSTASH_CURRENT_SIGNING_KEY", "sig_current"),
            ("QSTASH_NEXT_SIGNING_KEY", "sig_next"),
        ]);
        assert!(
            DrainAuth::from_env(&qstash_only)
                .unwrap()
                .worker_token
                .is_none()
        );
    }
}
