//! Webhook alerts (issue #8): a monitor task in every worker watches the queue and the key pool
//! and POSTs Slack-compatible JSON (`text`, plus structured fields) to `ALERT_WEBHOOK_URL`.
//!
//! Conditions, each named for the gate and the payload's `condition` field:
//! - `job_failed`: a job failed for good (from the queue's event stream);
//! - `stalled`: a job's lease ran out and it was recovered or failed as stalled (the stream
//!   shows an active job put back, or failed, by a claim);
//! - `backlog`: more than `ALERT_BACKLOG_THRESHOLD` jobs waiting for `ALERT_BACKLOG_MINUTES`;
//! - `key_disabled:<key id>`: a Gemini key was disabled; `keys_cooling`: no key is usable;
//! - `no_worker`: jobs have waited longer than `ALERT_HEARTBEAT_SECS` and no worker showed
//!   life (claimed, or renewed a lease) in that time.
//!
//! Each condition alerts at most once per `ALERT_WINDOW_MINUTES` while it lasts and sends one
//! resolve message when it clears (event conditions clear after a quiet window). The decision
//! is one script call ([`Queue::alert_gate`]), so several instances never send the same alert
//! twice. Sending never blocks the monitor, let alone job processing: alerts go into a bounded
//! buffer that drops the oldest on overflow, and a background task POSTs them with retries
//! and backoff.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;

use scenergy_config::{ConfigError, Env, ExposeSecret, SecretString};
use scenergy_keypool::{KeyPool, KeyState};
use scenergy_queue::{Gate, JobState, Listing, MonitorTick, Queue, now_ms};
use serde::Serialize;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Alerts waiting to be sent; past this the oldest are dropped.
pub const BUFFER: usize = 64;
/// Attempts per alert before it is given up (logged).
const ATTEMPTS: u32 = 6;
/// One POST's bound.
const POST_TIMEOUT: Duration = Duration::from_secs(10);
/// Stream entries one tick reads at most.
const EVENTS_PER_TICK: u32 = 500;
/// Active jobs the monitor remembers for stall detection.
const MAX_TRACKED: usize = 100_000;

/// `ALERT_*` settings; present only when `ALERT_WEBHOOK_URL` is set.
#[derive(Debug, Clone)]
pub struct AlertConfig {
    /// `ALERT_WEBHOOK_URL` (a secret: Slack's URL carries its credentials).
    pub webhook_url: SecretString,
    /// `ALERT_BACKLOG_THRESHOLD` (default 100): waiting jobs above this are a backlog…
    pub backlog_threshold: u64,
    /// … once it lasts `ALERT_BACKLOG_MINUTES` (default 10).
    pub backlog_for: Duration,
    /// `ALERT_WINDOW_MINUTES` (default 15): at most one alert per condition per window.
    pub window: Duration,
    /// `ALERT_HEARTBEAT_SECS` (default 180): how long jobs may wait with no worker alive.
    pub heartbeat_timeout: Duration,
    /// `ALERT_CHECK_SECS` (default 30): how often the monitor looks.
    pub check_every: Duration,
}

impl AlertConfig {
    pub fn from_env(env: &Env) -> Result<Option<Self>, ConfigError> {
        let Some(url) = env.url("ALERT_WEBHOOK_URL", &["http", "https"])? else {
            return Ok(None);
        };
        let positive = |var: &str, default: u64| -> Result<u64, ConfigError> {
            let n: u64 = env.or(var, default)?;
            if n == 0 {
                return Err(ConfigError::invalid(var, "must be at least 1"));
            }
            Ok(n)
        };
        Ok(Some(Self {
            webhook_url: SecretString::from(url),
            backlog_threshold: env.or("ALERT_BACKLOG_THRESHOLD", 100)?,
            backlog_for: Duration::from_secs(60 * positive("ALERT_BACKLOG_MINUTES", 10)?),
            window: Duration::from_secs(60 * positive("ALERT_WINDOW_MINUTES", 15)?),
            heartbeat_timeout: Duration::from_secs(positive("ALERT_HEARTBEAT_SECS", 180)?),
            check_every: Duration::from_secs(positive("ALERT_CHECK_SECS", 30)?),
        }))
    }
}

/// When this process's engine last showed life: a claim (even an empty one) or a lease
/// renewal. The monitor beats for the worker only while this is recent.
#[derive(Debug, Clone, Default)]
pub struct Liveness(Arc<AtomicI64>);

static LIVENESS: LazyLock<Liveness> = LazyLock::new(Liveness::default);

impl Liveness {
    /// The process's own, which the engine marks.
    pub fn global() -> Liveness {
        LIVENESS.clone()
    }

    /// The engine claimed or renewed leases just now.
    pub fn beat(&self) {
        self.0.store(now_ms(), Ordering::Relaxed);
    }

    fn alive_within(&self, timeout: Duration, now: i64) -> bool {
        now - self.0.load(Ordering::Relaxed) < ms(timeout)
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Whether an alert opens, repeats or closes its condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Firing,
    Reminder,
    Resolved,
}

/// One webhook message: Slack reads `text`; the rest is for anything else.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub text: String,
    pub condition: String,
    pub status: Status,
    pub severity: &'static str,
    pub queue: String,
    pub summary: String,
    pub details: serde_json::Value,
    pub at_ms: i64,
    pub instance: String,
}

/// The buffer between the monitor and the sending task.
#[derive(Debug, Default)]
struct Buffer {
    alerts: Mutex<VecDeque<Alert>>,
    ready: Notify,
    dropped: AtomicU64,
}

/// Hands alerts to the background sender without ever waiting.
#[derive(Debug, Clone)]
pub struct AlertSender {
    buffer: Arc<Buffer>,
    capacity: usize,
}

impl AlertSender {
    /// Starts the sending task (it ends when `stop` fires) and returns its handle.
    pub fn spawn(
        url: SecretString,
        capacity: usize,
        stop: CancellationToken,
    ) -> (Self, JoinHandle<()>) {
        let sender = Self {
            buffer: Arc::new(Buffer::default()),
            capacity: capacity.max(1),
        };
        let task = tokio::spawn(deliver(sender.buffer.clone(), url, stop));
        (sender, task)
    }

    /// Queues an alert; when the buffer is full the oldest one is dropped (and counted).
    pub fn send(&self, alert: Alert) {
        let mut q = self
            .buffer
            .alerts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while q.len() >= self.capacity {
            q.pop_front();
            self.buffer.dropped.fetch_add(1, Ordering::Relaxed);
        }
        q.push_back(alert);
        drop(q);
        self.buffer.ready.notify_one();
    }

    /// Alerts dropped because the buffer was full.
    pub fn dropped(&self) -> u64 {
        self.buffer.dropped.load(Ordering::Relaxed)
    }

    /// Alerts waiting to be sent.
    pub fn pending(&self) -> usize {
        self.buffer
            .alerts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

async fn deliver(buffer: Arc<Buffer>, url: SecretString, stop: CancellationToken) {
    let client = match reqwest::Client::builder().timeout(POST_TIMEOUT).build() {
        Ok(c) => c,
        Err(error) => {
            tracing::error!(%error, "alerts: could not build the HTTP client; alerts are off");
            return;
        }
    };
    loop {
        let next = buffer
            .alerts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front();
        let Some(alert) = next else {
            tokio::select! {
                () = buffer.ready.notified() => continue,
                () = stop.cancelled() => return,
            }
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            // The URL is never logged: Slack's carries its credentials.
            let outcome = client
                .post(url.expose_secret())
                .json(&alert)
                .send()
                .await
                .map(|r| r.status());
            match outcome {
                Ok(status) if status.is_success() => {
                    tracing::info!(condition = %alert.condition, status = ?alert.status, "alert sent");
                    break;
                }
                // A 4xx other than 429 will not get better by retrying.
                Ok(status) if status.is_client_error() && status.as_u16() != 429 => {
                    tracing::error!(condition = %alert.condition, http_status = status.as_u16(), "alert refused by the webhook");
                    break;
                }
                outcome => {
                    let reason = match outcome {
                        Ok(status) => format!("HTTP {}", status.as_u16()),
                        Err(e) => e.without_url().to_string(),
                    };
                    if attempt >= ATTEMPTS {
                        tracing::error!(condition = %alert.condition, %reason, attempts = attempt, "alert could not be sent; giving up");
                        break;
                    }
                    let wait = Duration::from_millis(500 << attempt.min(6));
                    tracing::warn!(condition = %alert.condition, %reason, retry_in_ms = wait.as_millis() as u64, "alert not sent; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = stop.cancelled() => return,
                    }
                }
            }
        }
    }
}

/// An event condition's local bookkeeping: what happened since the last alert.
#[derive(Debug, Default)]
struct Happened {
    /// New events in this tick.
    fresh: bool,
    last_at: Option<i64>,
    unsent: u64,
    samples: Vec<serde_json::Value>,
}

/// The monitor of one queue in one process.
#[derive(Debug)]
pub struct Monitor {
    queue: Queue,
    pool: Option<Arc<KeyPool>>,
    config: AlertConfig,
    liveness: Liveness,
    alerts: AlertSender,
    instance: String,
    last_id: String,
    /// Jobs last seen going active, for telling a stall from a promotion.
    active: HashMap<String, i64>,
    backlog_since: Option<i64>,
    failed: Happened,
    stalled: Happened,
    /// Key ids this monitor saw disabled (to resolve them when they come back).
    disabled: Vec<String>,
    /// Whether each condition held at the last look.
    held: Mutex<HashMap<String, bool>>,
}

impl Monitor {
    pub fn new(
        queue: Queue,
        pool: Option<Arc<KeyPool>>,
        config: AlertConfig,
        liveness: Liveness,
        alerts: AlertSender,
    ) -> Self {
        let host = std::env::var("HOSTNAME")
            .or_else(|_| std::env::var("K_REVISION"))
            .unwrap_or_else(|_| "worker".to_owned());
        Self {
            instance: format!(
                "{host}-{}-{:08x}",
                std::process::id(),
                rand::random::<u32>()
            ),
            last_id: format!("{}-0", now_ms()),
            queue,
            pool,
            config,
            liveness,
            alerts,
            active: HashMap::new(),
            backlog_since: None,
            failed: Happened::default(),
            stalled: Happened::default(),
            disabled: Vec::new(),
            held: Mutex::new(HashMap::new()),
        }
    }

    /// Runs ticks every `ALERT_CHECK_SECS` until `stop` fires. Errors are logged, never fatal.
    pub async fn run(mut self, stop: CancellationToken) {
        if let Err(error) = self.seed().await {
            tracing::warn!(%error, "alerts: could not read the active jobs");
        }
        let mut tick = tokio::time::interval(self.config.check_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = stop.cancelled() => return,
            }
            if let Err(error) = self.tick(now_ms()).await {
                tracing::warn!(%error, "alerts: monitor tick failed");
            }
        }
    }

    /// Remembers the jobs active now, so their stalls are recognised.
    async fn seed(&mut self) -> Result<(), scenergy_queue::QueueError> {
        for page in 0..10 {
            let list = self
                .queue
                .list_jobs(Listing::State(JobState::Active), page * 100, 100, false)
                .await?;
            for job in &list.jobs {
                self.active.insert(job.id.clone(), now_ms());
            }
            if (page + 1) * 100 >= list.total {
                break;
            }
        }
        Ok(())
    }

    /// One look at the queue and the pool; sends what the gate allows.
    pub async fn tick(&mut self, now: i64) -> Result<(), scenergy_queue::QueueError> {
        let alive = self
            .liveness
            .alive_within(self.config.heartbeat_timeout, now);
        let tick = self
            .queue
            .monitor_tick(&self.instance, alive, &self.last_id, EVENTS_PER_TICK, now)
            .await?;
        self.last_id = tick.last_id(&self.last_id).to_owned();
        self.read_events(&tick, now);
        self.event_condition("job_failed", now).await?;
        self.event_condition("stalled", now).await?;
        self.backlog(&tick, now).await?;
        self.heartbeat(&tick, now).await?;
        self.keys(now).await
    }

    fn read_events(&mut self, tick: &MonitorTick, now: i64) {
        for failed in &tick.failed {
            self.failed.fresh = true;
            self.failed.last_at = Some(now);
            self.failed.unsent += 1;
            if self.failed.samples.len() < 5 {
                self.failed.samples.push(serde_json::json!({
                    "jobId": failed.id, "type": failed.job_type,
                    "clientId": failed.client_id, "error": failed.error,
                }));
            }
        }
        for event in &tick.events {
            for (id, to) in &event.jobs {
                let was_active = if to == "active" {
                    if self.active.len() < MAX_TRACKED {
                        self.active.insert(id.clone(), event.at_ms);
                    }
                    false
                } else {
                    self.active.remove(id).is_some()
                };
                // Only a claim moves an active job back to waiting or to failed on its own: the
                // lease ran out. (A release or fail is another event name.)
                if was_active && event.event == "claimed" && (to == "waiting" || to == "failed") {
                    self.stalled.fresh = true;
                    self.stalled.last_at = Some(now);
                    self.stalled.unsent += 1;
                    if self.stalled.samples.len() < 5 {
                        self.stalled.samples.push(serde_json::json!({
                            "jobId": id, "outcome": if to == "failed" { "failed" } else { "requeued" },
                        }));
                    }
                }
            }
        }
    }

    fn alert(
        &self,
        condition: &str,
        status: Status,
        severity: &'static str,
        summary: String,
        details: serde_json::Value,
        now: i64,
    ) -> Alert {
        let icon = match status {
            Status::Firing => ":rotating_light:",
            Status::Reminder => ":warning:",
            Status::Resolved => ":white_check_mark:",
        };
        let word = match status {
            Status::Firing => "",
            Status::Reminder => "still: ",
            Status::Resolved => "resolved: ",
        };
        Alert {
            text: format!("{icon} [{}] {word}{summary}", self.queue.name()),
            condition: condition.to_owned(),
            status,
            severity: if status == Status::Resolved {
                "info"
            } else {
                severity
            },
            queue: self.queue.name().to_owned(),
            summary,
            details,
            at_ms: now,
            instance: self.instance.clone(),
        }
    }

    /// Asks the gate and queues the alert if this instance is the one to send it.
    async fn gate(
        &self,
        condition: &str,
        firing: bool,
        now: i64,
        make: impl FnOnce(Status) -> Alert,
    ) -> Result<bool, scenergy_queue::QueueError> {
        // A resolve costs a script call, so it is only asked for when this condition held at
        // this monitor's last look, or before its first (an earlier instance may have left it
        // firing).
        let held = self
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(condition)
            .copied();
        if !firing && held == Some(false) {
            return Ok(false);
        }
        let window = u64::try_from(self.config.window.as_millis()).unwrap_or(u64::MAX);
        let gate = self
            .queue
            .alert_gate(condition, firing, window, now)
            .await?;
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(condition.to_owned(), firing);
        let status = match gate {
            Gate::Quiet => return Ok(false),
            Gate::Remind => Status::Reminder,
            Gate::Send if firing => Status::Firing,
            Gate::Send => Status::Resolved,
        };
        self.alerts.send(make(status));
        Ok(true)
    }

    fn happened(&mut self, name: &str) -> &mut Happened {
        if name == "job_failed" {
            &mut self.failed
        } else {
            &mut self.stalled
        }
    }

    /// Fires when this tick saw new events (with the count since this instance last sent),
    /// resolves after a whole window without any.
    async fn event_condition(
        &mut self,
        name: &'static str,
        now: i64,
    ) -> Result<(), scenergy_queue::QueueError> {
        let window = ms(self.config.window);
        let h = self.happened(name);
        let fresh = std::mem::take(&mut h.fresh);
        let (last, unsent, samples) = (h.last_at, h.unsent, h.samples.clone());
        if fresh {
            let summary = if name == "job_failed" {
                let first = samples.first().map_or(String::new(), |s| {
                    format!(
                        ": {} ({})",
                        s["jobId"].as_str().unwrap_or_default(),
                        s["error"].as_str().unwrap_or_default()
                    )
                });
                format!("{unsent} job(s) failed permanently{first}")
            } else {
                format!("{unsent} job(s) stalled (worker lost) and were recovered or failed")
            };
            let details = serde_json::json!({ "count": unsent, "jobs": samples });
            let sent = self
                .gate(name, true, now, |s| {
                    self.alert(name, s, "error", summary, details, now)
                })
                .await?;
            if sent {
                let h = self.happened(name);
                h.unsent = 0;
                h.samples.clear();
            }
        } else if last.is_some_and(|last| now - last >= window) {
            let quiet = self.config.window.as_secs() / 60;
            let summary = if name == "job_failed" {
                format!("no job failed in the last {quiet} min")
            } else {
                format!("no stalled job in the last {quiet} min")
            };
            self.gate(name, false, now, |s| {
                self.alert(name, s, "error", summary, serde_json::json!({}), now)
            })
            .await?;
            *self.happened(name) = Happened::default();
        }
        Ok(())
    }

    async fn backlog(
        &mut self,
        tick: &MonitorTick,
        now: i64,
    ) -> Result<(), scenergy_queue::QueueError> {
        let threshold = self.config.backlog_threshold;
        if tick.waiting > threshold {
            let since = *self.backlog_since.get_or_insert(now);
            if now - since >= ms(self.config.backlog_for) {
                let summary = format!(
                    "backlog: {} jobs waiting (threshold {threshold}) for {} min or more",
                    tick.waiting,
                    self.config.backlog_for.as_secs() / 60
                );
                let details = serde_json::json!({ "waiting": tick.waiting, "threshold": threshold, "sinceMs": since });
                self.gate("backlog", true, now, |s| {
                    self.alert("backlog", s, "warning", summary, details, now)
                })
                .await?;
            }
        } else {
            self.backlog_since = None;
            let summary = format!(
                "backlog: {} jobs waiting, at or below {threshold}",
                tick.waiting
            );
            self.gate("backlog", false, now, |s| {
                self.alert(
                    "backlog",
                    s,
                    "warning",
                    summary,
                    serde_json::json!({ "waiting": tick.waiting }),
                    now,
                )
            })
            .await?;
        }
        Ok(())
    }

    async fn heartbeat(
        &self,
        tick: &MonitorTick,
        now: i64,
    ) -> Result<(), scenergy_queue::QueueError> {
        let timeout = ms(self.config.heartbeat_timeout);
        let waited = tick.oldest_waiting_created_at.map(|t| now - t);
        let beat_age = tick.newest_beat_ms.map(|t| now - t);
        let stuck = !tick.paused
            && tick.waiting > 0
            && waited.is_some_and(|w| w >= timeout)
            && beat_age.is_none_or(|b| b >= timeout);
        if stuck {
            let summary = format!(
                "no worker alive: {} jobs waiting, the oldest for {} s, and no worker claimed or renewed a lease in {} s",
                tick.waiting,
                waited.unwrap_or(0) / 1000,
                self.config.heartbeat_timeout.as_secs()
            );
            let details = serde_json::json!({ "waiting": tick.waiting, "oldestWaitingMs": waited, "lastBeatAgeMs": beat_age });
            self.gate("no_worker", true, now, |s| {
                self.alert("no_worker", s, "critical", summary, details, now)
            })
            .await?;
        } else {
            let summary = "a worker is taking jobs again".to_owned();
            self.gate("no_worker", false, now, |s| {
                self.alert(
                    "no_worker",
                    s,
                    "critical",
                    summary,
                    serde_json::json!({}),
                    now,
                )
            })
            .await?;
        }
        Ok(())
    }

    async fn keys(&mut self, now: i64) -> Result<(), scenergy_queue::QueueError> {
        let Some(pool) = self.pool.clone() else {
            return Ok(());
        };
        let health = match pool.health().await {
            Ok(h) => h,
            Err(error) => {
                tracing::warn!(%error, "alerts: could not read the key pool");
                return Ok(());
            }
        };
        let mut still = Vec::new();
        for key in &health {
            let condition = format!("key_disabled:{}", key.id);
            if let KeyState::Disabled { reason, until_ms } = key.state {
                still.push(key.id.clone());
                let summary = match until_ms {
                    Some(until) => format!(
                        "Gemini key {} disabled ({}) for {} more min",
                        key.id,
                        reason.as_str(),
                        (until - now).max(0) / 60_000
                    ),
                    None => format!(
                        "Gemini key {} disabled ({}) until an operator re-enables it",
                        key.id,
                        reason.as_str()
                    ),
                };
                let details = serde_json::json!({ "key": key.id, "reason": reason.as_str(), "untilMs": until_ms });
                self.gate(&condition, true, now, |s| {
                    self.alert(&condition, s, "error", summary, details, now)
                })
                .await?;
            } else if self.disabled.contains(&key.id) {
                let summary = format!("Gemini key {} is back in rotation", key.id);
                self.gate(&condition, false, now, |s| {
                    self.alert(
                        &condition,
                        s,
                        "error",
                        summary,
                        serde_json::json!({ "key": key.id }),
                        now,
                    )
                })
                .await?;
            }
        }
        self.disabled = still;
        let usable = health
            .iter()
            .filter(|k| matches!(k.state, KeyState::Healthy))
            .count();
        if !health.is_empty() && usable == 0 {
            let until = health
                .iter()
                .filter_map(|k| match k.state {
                    KeyState::Cooling { until_ms } => Some(until_ms),
                    _ => None,
                })
                .min();
            let summary = format!(
                "all {} Gemini keys are cooling or disabled; image calls wait{}",
                health.len(),
                until.map_or(String::new(), |u| format!(
                    " (the first is back in {} s)",
                    (u - now).max(0) / 1000
                ))
            );
            let details = serde_json::json!({ "keys": health });
            self.gate("keys_cooling", true, now, |s| {
                self.alert("keys_cooling", s, "warning", summary, details, now)
            })
            .await?;
        } else if !health.is_empty() {
            let summary = format!("{usable} of {} Gemini keys usable again", health.len());
            self.gate("keys_cooling", false, now, |s| {
                self.alert(
                    "keys_cooling",
                    s,
                    "warning",
                    summary,
                    serde_json::json!({}),
                    now,
                )
            })
            .await?;
        }
        Ok(())
    }
}

/// Starts the sender and the monitor of `queue`; both end when `stop` fires.
pub fn spawn(
    config: AlertConfig,
    queue: Queue,
    pool: Option<Arc<KeyPool>>,
    stop: CancellationToken,
) -> (AlertSender, JoinHandle<()>) {
    let (sender, _delivery) = AlertSender::spawn(config.webhook_url.clone(), BUFFER, stop.clone());
    let monitor = Monitor::new(queue, pool, config, Liveness::global(), sender.clone());
    (sender, tokio::spawn(monitor.run(stop)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(n: u32) -> Alert {
        Alert {
            text: format!("alert {n}"),
            condition: "test".to_owned(),
            status: Status::Firing,
            severity: "info",
            queue: "q".to_owned(),
            summary: String::new(),
            details: serde_json::Value::Null,
            at_ms: 0,
            instance: String::new(),
        }
    }

    #[tokio::test]
    async fn a_full_buffer_drops_the_oldest_and_never_blocks() {
        // Nothing listens on port 9 of loopback: every POST fails and is retried slowly.
        let stop = CancellationToken::new();
        let (sender, task) = AlertSender::spawn(
            SecretString::from("http://127.0.0.1:9/hook"),
            2,
            stop.clone(),
        );
        for n in 0..6 {
            sender.send(alert(n));
        }
        assert!(sender.pending() <= 2);
        assert!(sender.dropped() >= 3, "{}", sender.dropped());
        let newest = sender
            .buffer
            .alerts
            .lock()
            .unwrap()
            .back()
            .cloned()
            .unwrap();
        assert_eq!(newest.text, "alert 5", "the newest is kept");
        stop.cancel();
        task.await.unwrap();
    }

    #[test]
    fn config_needs_the_url_and_names_bad_variables() {
        assert!(
            AlertConfig::from_env(&Env::from_pairs([("X", "1")]))
                .unwrap()
                .is_none()
        );
        let c = AlertConfig::from_env(&Env::from_pairs([(
            "ALERT_WEBHOOK_URL",
            "https://hooks.example/T/B/x",
        )]))
        .unwrap()
        .unwrap();
        assert_eq!((c.backlog_threshold, c.backlog_for.as_secs()), (100, 600));
        for (var, value) in [
            ("ALERT_WEBHOOK_URL", "ftp://x"),
            ("ALERT_BACKLOG_THRESHOLD", "many"),
            ("ALERT_BACKLOG_MINUTES", "0"),
            ("ALERT_WINDOW_MINUTES", "-1"),
        ] {
            let mut pairs = vec![("ALERT_WEBHOOK_URL", "https://hooks.example/x")];
            pairs.push((var, value));
            let err = AlertConfig::from_env(&Env::from_pairs(pairs)).unwrap_err();
            assert_eq!(err.var(), var);
        }
    }
}
