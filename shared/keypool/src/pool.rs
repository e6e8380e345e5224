//! [`KeyPool`]: acquire a key (waiting when all are busy), report how the call went.

use std::fmt;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use scenergy_redis::{Cmd, Redis, RedisError, Script, Value};
use tokio::sync::broadcast;
use tokio::time::Instant;

use crate::health::{DisableReason, KeyHealth, KeyState, PoolEvent};
use crate::{ApiKey, PoolConfig, PoolError, next_pacific_midnight};

static ACQUIRE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/acquire.lua")));
static REPORT: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("../lua/report.lua")));

/// Milliseconds since the epoch; the scripts take time from the caller.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

fn system_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// One granted call on one key. Report it with [`KeyPool::report`].
#[derive(Debug, Clone)]
pub struct KeyLease {
    key: ApiKey,
    probe: bool,
    stamp_ms: i64,
}

impl KeyLease {
    pub fn key(&self) -> &ApiKey {
        &self.key
    }

    pub fn id(&self) -> &str {
        self.key.id()
    }

    /// Whether this call is the half-open probe after a cooldown: its report decides whether
    /// the key takes full traffic again.
    pub fn is_probe(&self) -> bool {
        self.probe
    }

    /// The admission stamp recorded in the key's budget log (ms).
    pub fn stamp_ms(&self) -> i64 {
        self.stamp_ms
    }
}

/// How a leased call ended, as far as the key is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOutcome {
    Success,
    /// 429 for a per-minute quota; `retry_after` from the body's `RetryInfo.retryDelay`.
    RateLimited {
        retry_after: Option<Duration>,
    },
    /// 429 for a per-day quota: disabled until the next Pacific midnight.
    DailyQuota,
    /// 400 `API_KEY_INVALID` or 403: disabled until [`KeyPool::enable`], and an event is raised.
    InvalidKey,
}

/// The Gemini keys of every worker instance, with budgets and cooldowns shared through Redis.
pub struct KeyPool {
    redis: Redis,
    keys: Vec<ApiKey>,
    config: PoolConfig,
    events: broadcast::Sender<PoolEvent>,
    clock: Clock,
}

impl fmt::Debug for KeyPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPool")
            .field("keys", &self.keys)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

enum Attempt {
    Granted(KeyLease),
    /// Nothing usable; the earliest ms a key may be, or `None` if all are disabled for good.
    Wait(Option<i64>),
}

impl KeyPool {
    pub fn new(redis: Redis, keys: Vec<ApiKey>, config: PoolConfig) -> Result<Self, PoolError> {
        if keys.is_empty() {
            return Err(PoolError::NoKeys);
        }
        for (i, key) in keys.iter().enumerate() {
            if keys[..i].iter().any(|k| k.id() == key.id()) {
                return Err(PoolError::DuplicateKey(key.id().to_owned()));
            }
        }
        Ok(Self {
            redis,
            keys,
            config,
            events: broadcast::channel(64).0,
            clock: Arc::new(system_ms),
        })
    }

    /// Replaces the system clock (tests jump to tomorrow's quota reset with it). Every pool on
    /// one namespace must read the same clock, as with the system clock across machines.
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn config(&self) -> &PoolConfig {
        &self.config
    }

    /// Disable events raised by this instance (the Redis stream has every instance's).
    pub fn subscribe(&self) -> broadcast::Receiver<PoolEvent> {
        self.events.subscribe()
    }

    /// A key for one call. When none is usable now, sleeps (with jitter) until the earliest one
    /// may be, and tries again; fails with [`PoolError::Exhausted`] as soon as that moment lies
    /// past `deadline`, and with [`PoolError::AllDisabled`] when no key will ever come back
    /// by itself.
    pub async fn acquire(&self, deadline: Instant) -> Result<KeyLease, PoolError> {
        loop {
            let now = (self.clock)();
            let next_at = match self.try_acquire(now).await? {
                Attempt::Granted(lease) => return Ok(lease),
                Attempt::Wait(None) => return Err(PoolError::AllDisabled),
                Attempt::Wait(Some(at)) => at,
            };
            let wait = Duration::from_millis(u64::try_from(next_at - now).unwrap_or(0).max(1));
            let left = deadline.saturating_duration_since(Instant::now());
            if wait > left {
                return Err(PoolError::Exhausted {
                    next_available_in: wait,
                });
            }
            // Every waiter saw the same moment; spreading them out keeps them from arriving
            // together (only one can have the probe anyway).
            let spread = u64::try_from(wait.as_millis() / 5)
                .unwrap_or(u64::MAX)
                .max(10);
            let jitter = Duration::from_millis(rand::random::<u64>() % (spread + 1));
            tracing::debug!(?wait, ?jitter, "all Gemini keys busy; waiting");
            tokio::time::sleep((wait + jitter).min(left)).await;
        }
    }

    async fn try_acquire(&self, now: i64) -> Result<Attempt, PoolError> {
        let mut call = ACQUIRE
            .call()
            .key(self.config.state_key())
            .arg(now)
            .arg(ms(self.config.window))
            .arg(self.config.rpm_per_key)
            .arg(ms(self.config.probe_timeout))
            .arg(ms(self.config.poll()));
        for key in &self.keys {
            call = call.arg(key.id());
        }
        let reply = call.run(&self.redis).await?.into_array()?;
        let ints = reply
            .iter()
            .map(Value::as_int)
            .collect::<Result<Vec<i64>, RedisError>>()?;
        match ints.as_slice() {
            [1, index, probe, stamp] => {
                let key = usize::try_from(*index - 1)
                    .ok()
                    .and_then(|i| self.keys.get(i))
                    .ok_or_else(|| RedisError::Protocol(format!("acquire.lua chose {index}")))?;
                if *probe == 1 {
                    tracing::info!(key = key.id(), "probing Gemini key after cooldown");
                }
                Ok(Attempt::Granted(KeyLease {
                    key: key.clone(),
                    probe: *probe == 1,
                    stamp_ms: *stamp,
                }))
            }
            [0, next] => Ok(Attempt::Wait((*next >= 0).then_some(*next))),
            _ => Err(RedisError::Protocol(format!("acquire.lua returned {reply:?}")).into()),
        }
    }

    /// Records how a leased call went. A plain success costs nothing (acquire counted it).
    pub async fn report(&self, lease: &KeyLease, outcome: KeyOutcome) -> Result<(), PoolError> {
        let now = (self.clock)();
        let (op, until, reason) = match outcome {
            KeyOutcome::Success if !lease.probe => return Ok(()),
            KeyOutcome::Success => ("ok", 0, ""),
            KeyOutcome::RateLimited { retry_after } => {
                let base = retry_after.unwrap_or(self.config.default_cooldown);
                ("cool", now + ms(base) + jitter_ms(base), "")
            }
            KeyOutcome::DailyQuota => {
                // Jittered so instances do not all probe the key at 00:00:00.
                let until = next_pacific_midnight(now) + jitter_ms(self.config.default_cooldown);
                ("off", until, DisableReason::DailyQuota.as_str())
            }
            KeyOutcome::InvalidKey => ("off", 0, DisableReason::InvalidKey.as_str()),
        };
        let reply = REPORT
            .call()
            .key(self.config.state_key())
            .key(self.config.events_key())
            .arg(now)
            .arg(lease.id())
            .arg(op)
            .arg(until)
            .arg(reason)
            .arg(self.config.events_maxlen)
            .run(&self.redis)
            .await?
            .into_array()?;
        let (state, changed) = match reply.as_slice() {
            [state, changed] => (state.as_str()?.to_owned(), changed.as_int()? == 1),
            _ => return Err(RedisError::Protocol(format!("report returned {reply:?}")).into()),
        };
        tracing::info!(
            key = lease.id(),
            ?outcome,
            state,
            changed,
            "Gemini key report"
        );
        // Only the report that disabled the key announces it; concurrent reports of the same
        // bad key find it already disabled.
        if op == "off" && changed {
            let event = PoolEvent {
                key_id: lease.id().to_owned(),
                reason: DisableReason::parse(reason),
                until_ms: (until != 0).then_some(until),
                at_ms: now,
            };
            tracing::warn!(key = lease.id(), reason, "Gemini key disabled");
            // Nobody listening is fine: the Redis stream keeps the event.
            let _ = self.events.send(event);
        }
        Ok(())
    }

    /// Every key's state and counters, from Redis (one HGETALL, no script).
    pub async fn health(&self) -> Result<Vec<KeyHealth>, PoolError> {
        let flat = self
            .redis
            .query(&Cmd::new("HGETALL").arg(self.config.state_key()))
            .await?
            .into_array()?;
        let mut fields = std::collections::HashMap::new();
        for pair in flat.chunks(2) {
            if let [k, v] = pair {
                fields.insert(k.as_str()?.to_owned(), v.as_str()?.to_owned());
            }
        }
        let now = (self.clock)();
        let count = |name: String| fields.get(&name).and_then(|v| v.parse().ok()).unwrap_or(0);
        Ok(self
            .keys
            .iter()
            .map(|key| KeyHealth {
                id: key.id().to_owned(),
                state: KeyState::parse(
                    fields.get(&format!("{}:st", key.id())).map(String::as_str),
                    now,
                ),
                calls: count(format!("{}:calls", key.id())),
                rate_limited: count(format!("{}:rl", key.id())),
            })
            .collect())
    }

    /// Puts a disabled or cooling key straight back into rotation (operator action).
    pub async fn enable(&self, key_id: &str) -> Result<(), PoolError> {
        let field = format!("{key_id}:st");
        self.redis
            .query(&Cmd::new("HDEL").arg(self.config.state_key()).arg(field))
            .await?;
        Ok(())
    }

    /// The newest `count` events from the pool's stream, newest first, from every instance.
    pub async fn recent_events(&self, count: u32) -> Result<Vec<PoolEvent>, PoolError> {
        let cmd = Cmd::new("XREVRANGE")
            .arg(self.config.events_key())
            .args(["+", "-", "COUNT"])
            .arg(count);
        let mut events = Vec::new();
        for entry in self.redis.query(&cmd).await?.into_array()? {
            let Some(Value::Array(flat)) = entry.into_array()?.into_iter().nth(1) else {
                continue;
            };
            let mut get = std::collections::HashMap::new();
            for pair in flat.chunks(2) {
                if let [k, v] = pair {
                    get.insert(k.as_str()?.to_owned(), v.as_str()?.to_owned());
                }
            }
            let num = |k: &str| get.get(k).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
            events.push(PoolEvent {
                key_id: get.get("key").cloned().unwrap_or_default(),
                reason: DisableReason::parse(get.get("reason").map_or("", String::as_str)),
                until_ms: Some(num("until")).filter(|u| *u != 0),
                at_ms: num("at"),
            });
        }
        Ok(events)
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// 0–20 % of `base` (specs/gemini.md §6.3), so instances that saw the same 429 come back apart.
fn jitter_ms(base: Duration) -> i64 {
    let span = u64::try_from(base.as_millis() / 5).unwrap_or(u64::MAX);
    i64::try_from(rand::random::<u64>() % (span + 1)).unwrap_or(0)
}
