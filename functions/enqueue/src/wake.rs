//! Waking the worker after an enqueue (DESIGN §5, `WAKE_TRANSPORT`).
//!
//! The wake is sent BEFORE the reply because Lambda freezes the process once the response is
//! returned, so it is bounded by `WAKE_TIMEOUT_MS` and never fails the request: a lost wake only
//! delays the job until the scheduled `/drain` (the safety net) or the next enqueue.
//! The request carries no body: the worker drains its own queue, so there is nothing to say.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use scenergy_config::ExposeSecret;

use crate::settings::WakeConfig;

/// Enqueues within this many seconds share one QStash deduplication id, so a burst makes one
/// delivery (one drain) instead of one per job.
pub const DEDUP_WINDOW_SECS: u64 = 5;
/// The deduplication header QStash documents (features/deduplication).
pub const DEDUP_HEADER: &str = "Upstash-Deduplication-Id";

/// What a wake did; logged, never returned to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WakeOutcome {
    Disabled,
    Sent,
    Failed,
    TimedOut,
}

/// Sends wakes. Build once; cheap to clone.
#[derive(Debug, Clone)]
pub struct Waker {
    config: WakeConfig,
    http: reqwest::Client,
    timeout: Duration,
    queue: String,
}

impl Waker {
    pub fn new(config: WakeConfig, timeout: Duration, queue: &str) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()?;
        Ok(Self {
            config,
            http,
            timeout,
            queue: queue.to_owned(),
        })
    }

    /// The QStash deduplication id for `unix_secs`: one per queue per [`DEDUP_WINDOW_SECS`].
    pub fn dedup_id(queue: &str, unix_secs: u64) -> String {
        format!("wake-{queue}-{}", unix_secs / DEDUP_WINDOW_SECS)
    }

    /// Sends one wake, waiting at most the configured timeout. Never fails.
    pub async fn wake(&self) -> WakeOutcome {
        let request = match &self.config {
            WakeConfig::None => return WakeOutcome::Disabled,
            WakeConfig::Http { url, worker_token } => self
                .http
                .post(url)
                .bearer_auth(worker_token.expose_secret()),
            WakeConfig::Qstash {
                qstash_url,
                qstash_token,
                destination,
                worker_token,
            } => {
                let secs = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let mut request = self
                    .http
                    .post(format!("{qstash_url}/v2/publish/{destination}"))
                    .bearer_auth(qstash_token.expose_secret())
                    .header("Upstash-Method", "POST")
                    .header(DEDUP_HEADER, Self::dedup_id(&self.queue, secs));
                if let Some(token) = worker_token {
                    // QStash forwards `Upstash-Forward-*` headers to the destination, prefix
                    // stripped, so the worker can check its own bearer token as well.
                    request = request.header(
                        "Upstash-Forward-Authorization",
                        format!("Bearer {}", token.expose_secret()),
                    );
                }
                request
            }
        };
        // reqwest's timeout covers the exchange; this one also bounds DNS and the body.
        match tokio::time::timeout(self.timeout, request.send()).await {
            Ok(Ok(response)) if response.status().is_success() => WakeOutcome::Sent,
            Ok(Ok(response)) => {
                tracing::warn!(status = %response.status(), "worker wake was refused");
                WakeOutcome::Failed
            }
            Ok(Err(e)) if e.is_timeout() => {
                tracing::warn!(
                    timeout_ms = self.timeout.as_millis(),
                    "worker wake timed out"
                );
                WakeOutcome::TimedOut
            }
            Ok(Err(e)) => {
                tracing::warn!(error.message = %e, "worker wake failed");
                WakeOutcome::Failed
            }
            Err(_) => {
                tracing::warn!(
                    timeout_ms = self.timeout.as_millis(),
                    "worker wake timed out"
                );
                WakeOutcome::TimedOut
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_within_the_window_shares_one_dedup_id() {
        assert_eq!(Waker::dedup_id("images", 100), "wake-images-20");
        assert_eq!(
            Waker::dedup_id("images", 100),
            Waker::dedup_id("images", 104)
        );
        assert_ne!(
            Waker::dedup_id("images", 104),
            Waker::dedup_id("images", 105)
        );
        assert_ne!(Waker::dedup_id("a", 100), Waker::dedup_id("b", 100));
    }
}
