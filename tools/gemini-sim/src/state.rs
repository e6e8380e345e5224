//! Shared mutable state: counters for `/_sim/stats` and the per-key request windows.
//! A plain `std::sync::Mutex` is enough: it is never held across an `.await`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::config::SimConfig;

/// Counters as served by `GET /_sim/stats`. Keys are the raw API keys: the simulator is
/// test-only, and tests need to see how load was spread across them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimStats {
    /// generateContent calls per key, including ones answered 429 or with an injected error.
    pub calls_per_key: BTreeMap<String, u64>,
    pub rate_limited: u64,
    pub rate_limited_per_key: BTreeMap<String, u64>,
    /// 500/503/504 answers produced by the error rates or test hooks.
    pub errors_injected: u64,
    /// Calls answered with `promptFeedback.blockReason`.
    pub blocked: u64,
    /// Highest number of generateContent calls in flight at once.
    pub concurrent_peak: u64,
    pub in_flight: u64,
    /// Every generateContent call, keyed or not.
    pub total_calls: u64,
}

#[derive(Debug)]
struct Window {
    start: Instant,
    count: u32,
}

#[derive(Debug, Default)]
struct Inner {
    stats: SimStats,
    windows: HashMap<String, Window>,
}

/// Everything handlers share.
#[derive(Debug, Clone)]
pub(crate) struct AppState {
    pub(crate) config: Arc<SimConfig>,
    inner: Arc<Mutex<Inner>>,
    pub(crate) shutdown: tokio::sync::watch::Receiver<bool>,
}

/// Decrements `inFlight` when a call ends, however it ends (including client disconnects,
/// which drop the handler future).
#[derive(Debug)]
pub(crate) struct InFlight(AppState);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut inner = self.0.lock();
        inner.stats.in_flight = inner.stats.in_flight.saturating_sub(1);
    }
}

impl AppState {
    pub(crate) fn new(config: SimConfig, shutdown: tokio::sync::watch::Receiver<bool>) -> Self {
        Self {
            config: Arc::new(config),
            inner: Arc::default(),
            shutdown,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves counters that are still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn stats(&self) -> SimStats {
        self.lock().stats.clone()
    }

    pub(crate) fn reset(&self) {
        let mut inner = self.lock();
        let in_flight = inner.stats.in_flight;
        *inner = Inner::default();
        // Calls still running will decrement on exit; keep the gauge consistent.
        inner.stats.in_flight = in_flight;
    }

    pub(crate) fn begin_call(&self) -> InFlight {
        let mut inner = self.lock();
        inner.stats.total_calls += 1;
        inner.stats.in_flight += 1;
        inner.stats.concurrent_peak = inner.stats.concurrent_peak.max(inner.stats.in_flight);
        InFlight(self.clone())
    }

    pub(crate) fn count_key(&self, key: &str) {
        *self
            .lock()
            .stats
            .calls_per_key
            .entry(key.to_owned())
            .or_default() += 1;
    }

    pub(crate) fn count_injected(&self) {
        self.lock().stats.errors_injected += 1;
    }

    pub(crate) fn count_blocked(&self) {
        self.lock().stats.blocked += 1;
    }

    /// Admits a call for `key` or returns the time left in its window. Fixed window per key,
    /// starting at the first call: simple, and the remaining time is exactly what RetryInfo
    /// should report. Rejected calls do not consume budget.
    pub(crate) fn admit(&self, key: &str) -> Result<(), Duration> {
        let limit = self.config.rpm_per_key;
        if limit == 0 {
            return Ok(());
        }
        let minute = self.config.minute;
        let now = Instant::now();
        let mut inner = self.lock();
        let window = inner.windows.entry(key.to_owned()).or_insert(Window {
            start: now,
            count: 0,
        });
        if now.duration_since(window.start) >= minute {
            window.start = now;
            window.count = 0;
        }
        if window.count < limit {
            window.count += 1;
            return Ok(());
        }
        let remaining = (window.start + minute).saturating_duration_since(now);
        inner.stats.rate_limited += 1;
        *inner
            .stats
            .rate_limited_per_key
            .entry(key.to_owned())
            .or_default() += 1;
        // Never advertise a zero delay: a client would spin.
        Err(remaining.max(Duration::from_millis(1)))
    }
}
