//! Prometheus metrics: a process-wide [`Metrics`] registry that the engine feeds as jobs and
//! items end, and `GET /metrics` ([`router`]), which renders it in the text exposition format
//! together with what it reads at scrape time: queue depth by state and priority
//! ([`Queue::stats`], one script call per queue) and the key pool's shared counters and key
//! states ([`KeyPool::health`], one HGETALL).
//!
//! The format is written by hand (it is small and stable); a scrape that cannot reach Redis
//! still returns the process's own counters, with `scenergy_queue_up 0`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use scenergy_config::{ExposeSecret, SecretString};
use scenergy_keypool::{KeyOutcome, KeyPool, KeyState};
use scenergy_queue::{Priority, Queue, now_ms};
use subtle::ConstantTimeEq;

use crate::engine::JobEnd;

/// Upper bounds (s) of the job duration histogram: jobs run from seconds to many minutes.
const JOB_BUCKETS: [f64; 10] = [
    1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 3600.0,
];
/// Upper bounds (s) of the item duration histogram: one model call plus upload and row.
const ITEM_BUCKETS: [f64; 10] = [0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0];

/// The content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Debug, Clone)]
struct Histogram {
    bounds: &'static [f64],
    /// Per bucket, not cumulative; the last slot is +Inf.
    counts: Vec<u64>,
    sum: f64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
        }
    }

    fn observe(&mut self, secs: f64) {
        let i = self
            .bounds
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(self.bounds.len());
        self.counts[i] += 1;
        self.sum += secs;
    }
}

#[derive(Debug, Default)]
struct Families {
    /// (job type, final state) → jobs.
    jobs: BTreeMap<(String, &'static str), u64>,
    job_seconds: BTreeMap<String, Histogram>,
    /// item outcome → items.
    items: BTreeMap<String, u64>,
    item_seconds: BTreeMap<String, Histogram>,
    /// (key id, outcome) → calls made by this process.
    gemini_calls: BTreeMap<(String, &'static str), u64>,
    /// key id → cooldowns this process started (429s and daily quotas it reported).
    cooldowns: BTreeMap<String, u64>,
    /// limiter → refusals seen by this process.
    refusals: BTreeMap<&'static str, u64>,
}

/// The process's counters and histograms. Each update takes one short lock; they happen once
/// per job, item or model call, never in a tight loop.
#[derive(Debug, Default)]
pub struct Metrics {
    families: Mutex<Families>,
}

static GLOBAL: LazyLock<Arc<Metrics>> = LazyLock::new(|| Arc::new(Metrics::default()));

/// The label of a job's end.
pub fn end_label(end: JobEnd) -> &'static str {
    match end {
        JobEnd::Completed => "completed",
        JobEnd::Failed => "failed",
        JobEnd::Retrying => "retrying",
        JobEnd::Cancelled => "cancelled",
        JobEnd::Released => "released",
        JobEnd::Lost => "lost",
    }
}

/// The label of a model call's outcome for its key.
pub fn key_outcome_label(outcome: KeyOutcome) -> &'static str {
    match outcome {
        KeyOutcome::Success => "success",
        KeyOutcome::RateLimited { .. } => "rate_limited",
        KeyOutcome::DailyQuota => "daily_quota",
        KeyOutcome::InvalidKey => "invalid_key",
    }
}

impl Metrics {
    /// The registry the worker's engine and `GET /metrics` share.
    pub fn global() -> Arc<Self> {
        GLOBAL.clone()
    }

    fn lock(&self) -> MutexGuard<'_, Families> {
        self.families.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A job ended in this process (`duration` from claim to end).
    pub fn job_finished(&self, job_type: &str, end: JobEnd, duration: Duration) {
        let mut f = self.lock();
        *f.jobs
            .entry((job_type.to_owned(), end_label(end)))
            .or_default() += 1;
        f.job_seconds
            .entry(job_type.to_owned())
            .or_insert_with(|| Histogram::new(&JOB_BUCKETS))
            .observe(duration.as_secs_f64());
    }

    /// An item (product × variant) ended: `outcome` is the `item ended` log's (`stored`,
    /// `failed`, `failed-retryable`, `aborted`; `not-started` items are not timed).
    pub fn item_finished(&self, outcome: &str, duration: Duration) {
        let mut f = self.lock();
        *f.items.entry(outcome.to_owned()).or_default() += 1;
        f.item_seconds
            .entry(outcome.to_owned())
            .or_insert_with(|| Histogram::new(&ITEM_BUCKETS))
            .observe(duration.as_secs_f64());
    }

    /// A model call on key `key_id` ended with `outcome` (what was reported to the pool).
    pub fn gemini_call(&self, key_id: &str, outcome: KeyOutcome) {
        let mut f = self.lock();
        *f.gemini_calls
            .entry((key_id.to_owned(), key_outcome_label(outcome)))
            .or_default() += 1;
        if matches!(
            outcome,
            KeyOutcome::RateLimited { .. } | KeyOutcome::DailyQuota
        ) {
            *f.cooldowns.entry(key_id.to_owned()).or_default() += 1;
        }
    }

    /// A limiter refused or delayed work: `queue_start_rate` (a claim hit
    /// `MAX_JOBS_PER_SECOND`), `gemini_keys` (no key had budget before the wait bound).
    pub fn rate_limited(&self, limiter: &'static str) {
        *self.lock().refusals.entry(limiter).or_default() += 1;
    }

    /// The process's own families in the text format.
    pub fn render(&self, out: &mut String) {
        let f = self.lock();
        family(
            out,
            "scenergy_jobs_total",
            "counter",
            "Jobs that ended in this process, by type and final state (retrying, released and lost are not final for the queue).",
        );
        for ((job_type, state), n) in &f.jobs {
            sample(
                out,
                "scenergy_jobs_total",
                &[("type", job_type), ("state", state)],
                *n,
            );
        }
        family(
            out,
            "scenergy_job_duration_seconds",
            "histogram",
            "Time from claim to end of the jobs this process ran.",
        );
        for (job_type, h) in &f.job_seconds {
            histogram(out, "scenergy_job_duration_seconds", ("type", job_type), h);
        }
        family(
            out,
            "scenergy_items_total",
            "counter",
            "Items (product x variant) that ended in this process, by outcome.",
        );
        for (outcome, n) in &f.items {
            sample(out, "scenergy_items_total", &[("outcome", outcome)], *n);
        }
        family(
            out,
            "scenergy_item_duration_seconds",
            "histogram",
            "Time of one item: model call, upload and asset row.",
        );
        for (outcome, h) in &f.item_seconds {
            histogram(
                out,
                "scenergy_item_duration_seconds",
                ("outcome", outcome),
                h,
            );
        }
        family(
            out,
            "scenergy_gemini_calls_total",
            "counter",
            "Gemini calls made by this process, by key id and outcome.",
        );
        for ((key, outcome), n) in &f.gemini_calls {
            sample(
                out,
                "scenergy_gemini_calls_total",
                &[("key", key), ("outcome", outcome)],
                *n,
            );
        }
        family(
            out,
            "scenergy_gemini_cooldowns_total",
            "counter",
            "Cooldowns this process put keys in (429 or daily quota), by key id.",
        );
        for (key, n) in &f.cooldowns {
            sample(out, "scenergy_gemini_cooldowns_total", &[("key", key)], *n);
        }
        family(
            out,
            "scenergy_rate_limit_refusals_total",
            "counter",
            "Work a limiter refused or held back in this process: queue_start_rate (MAX_JOBS_PER_SECOND), gemini_keys (no key had budget in time).",
        );
        for (limiter, n) in &f.refusals {
            sample(
                out,
                "scenergy_rate_limit_refusals_total",
                &[("limiter", limiter)],
                *n,
            );
        }
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value with `\`, `"` and newlines escaped, as the format requires.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn labels(pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

fn sample(out: &mut String, name: &str, pairs: &[(&str, &str)], value: impl std::fmt::Display) {
    let _ = writeln!(out, "{name}{} {value}", labels(pairs));
}

fn histogram(out: &mut String, name: &str, label: (&str, &str), h: &Histogram) {
    let mut cumulative = 0;
    for (i, count) in h.counts.iter().enumerate() {
        cumulative += count;
        let le = h
            .bounds
            .get(i)
            .map_or_else(|| "+Inf".to_owned(), f64::to_string);
        sample(
            out,
            &format!("{name}_bucket"),
            &[label, ("le", &le)],
            cumulative,
        );
    }
    sample(out, &format!("{name}_sum"), &[label], h.sum);
    sample(out, &format!("{name}_count"), &[label], cumulative);
}

/// What `GET /metrics` reads.
#[derive(Debug, Clone)]
pub struct MetricsState {
    pub metrics: Arc<Metrics>,
    pub queues: Vec<Queue>,
    pub pool: Option<Arc<KeyPool>>,
    /// `METRICS_TOKEN`: when set, scrapes must send it as a bearer token.
    pub token: Option<SecretString>,
}

/// `GET /metrics`.
pub fn router(state: MetricsState) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(Arc::new(state))
}

async fn scrape(State(state): State<Arc<MetricsState>>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !bool::from(
            given
                .trim()
                .as_bytes()
                .ct_eq(token.expose_secret().as_bytes()),
        ) {
            return (
                StatusCode::UNAUTHORIZED,
                "a bearer METRICS_TOKEN is required\n",
            )
                .into_response();
        }
    }
    let mut out = String::with_capacity(8 * 1024);
    state.metrics.render(&mut out);
    render_queues(&mut out, &state.queues).await;
    if let Some(pool) = &state.pool {
        render_pool(&mut out, pool).await;
    }
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], out).into_response()
}

async fn render_queues(out: &mut String, queues: &[Queue]) {
    let now = now_ms();
    let mut rows = Vec::new();
    for queue in queues {
        match queue.stats(now).await {
            Ok(stats) => rows.push((queue.name(), Some(stats))),
            Err(error) => {
                tracing::warn!(%error, queue = queue.name(), "metrics: could not read the queue");
                rows.push((queue.name(), None));
            }
        }
    }
    family(
        out,
        "scenergy_queue_up",
        "gauge",
        "1 if the queue could be read at this scrape.",
    );
    for (name, stats) in &rows {
        sample(
            out,
            "scenergy_queue_up",
            &[("queue", name)],
            u8::from(stats.is_some()),
        );
    }
    let rows: Vec<_> = rows
        .into_iter()
        .filter_map(|(n, s)| s.map(|s| (n, s)))
        .collect();
    family(
        out,
        "scenergy_queue_waiting",
        "gauge",
        "Jobs waiting to be claimed, by priority.",
    );
    for (name, s) in &rows {
        for (p, n) in Priority::ALL
            .iter()
            .zip([s.counts.urgent, s.counts.normal, s.counts.batch])
        {
            sample(
                out,
                "scenergy_queue_waiting",
                &[("queue", name), ("priority", p.as_str())],
                n,
            );
        }
    }
    family(
        out,
        "scenergy_queue_jobs",
        "gauge",
        "Jobs in each state (finished states as retention keeps them).",
    );
    for (name, s) in &rows {
        let c = &s.counts;
        for (state, n) in [
            ("waiting", c.waiting()),
            ("delayed", c.delayed),
            ("active", c.active),
            ("completed", c.completed),
            ("failed", c.failed),
            ("cancelled", c.cancelled),
        ] {
            sample(
                out,
                "scenergy_queue_jobs",
                &[("queue", name), ("state", state)],
                n,
            );
        }
    }
    family(
        out,
        "scenergy_queue_paused",
        "gauge",
        "1 if the queue is paused.",
    );
    for (name, s) in &rows {
        sample(
            out,
            "scenergy_queue_paused",
            &[("queue", name)],
            u8::from(s.counts.paused),
        );
    }
    family(
        out,
        "scenergy_queue_oldest_waiting_seconds",
        "gauge",
        "Age of the oldest waiting job (0 when none waits).",
    );
    for (name, s) in &rows {
        #[allow(clippy::cast_precision_loss, reason = "seconds for display")]
        let age = s.oldest_waiting_age_ms(now).unwrap_or(0) as f64 / 1000.0;
        sample(
            out,
            "scenergy_queue_oldest_waiting_seconds",
            &[("queue", name)],
            age,
        );
    }
}

async fn render_pool(out: &mut String, pool: &KeyPool) {
    let health = match pool.health().await {
        Ok(h) => h,
        Err(error) => {
            tracing::warn!(%error, "metrics: could not read the key pool");
            return;
        }
    };
    family(
        out,
        "scenergy_gemini_key_calls_total",
        "counter",
        "Calls granted on each key by every instance (the pool's shared counter).",
    );
    for k in &health {
        sample(
            out,
            "scenergy_gemini_key_calls_total",
            &[("key", &k.id)],
            k.calls,
        );
    }
    family(
        out,
        "scenergy_gemini_key_rate_limited_total",
        "counter",
        "429s and daily-quota answers on each key, from every instance.",
    );
    for k in &health {
        sample(
            out,
            "scenergy_gemini_key_rate_limited_total",
            &[("key", &k.id)],
            k.rate_limited,
        );
    }
    family(
        out,
        "scenergy_gemini_key_state",
        "gauge",
        "1 for each key's current state (healthy, cooling, probing, disabled).",
    );
    let mut cooling = 0_u32;
    for k in &health {
        let state = match k.state {
            KeyState::Healthy => "healthy",
            KeyState::Cooling { .. } => {
                cooling += 1;
                "cooling"
            }
            KeyState::Probing { .. } => "probing",
            KeyState::Disabled { .. } => "disabled",
        };
        for s in ["healthy", "cooling", "probing", "disabled"] {
            sample(
                out,
                "scenergy_gemini_key_state",
                &[("key", &k.id), ("state", s)],
                u8::from(s == state),
            );
        }
    }
    family(
        out,
        "scenergy_gemini_keys_cooling",
        "gauge",
        "Keys cooling down after a 429 right now.",
    );
    sample(out, "scenergy_gemini_keys_cooling", &[], cooling);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(labels(&[("a", "x\"y\\z\nw")]), r#"{a="x\"y\\z\nw"}"#);
        assert_eq!(labels(&[]), "");
    }

    #[test]
    fn histograms_are_cumulative_and_end_with_inf() {
        let m = Metrics::default();
        m.item_finished("stored", Duration::from_millis(300));
        m.item_finished("stored", Duration::from_secs(3));
        m.item_finished("stored", Duration::from_secs(500));
        let mut out = String::new();
        m.render(&mut out);
        assert!(
            out.contains(
                "scenergy_item_duration_seconds_bucket{outcome=\"stored\",le=\"0.25\"} 0\n"
            )
        );
        assert!(
            out.contains(
                "scenergy_item_duration_seconds_bucket{outcome=\"stored\",le=\"0.5\"} 1\n"
            )
        );
        assert!(
            out.contains("scenergy_item_duration_seconds_bucket{outcome=\"stored\",le=\"5\"} 2\n")
        );
        assert!(
            out.contains(
                "scenergy_item_duration_seconds_bucket{outcome=\"stored\",le=\"+Inf\"} 3\n"
            )
        );
        assert!(out.contains("scenergy_item_duration_seconds_count{outcome=\"stored\"} 3\n"));
        assert!(out.contains("scenergy_items_total{outcome=\"stored\"} 3\n"));
    }
}
