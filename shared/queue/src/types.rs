//! The queue's vocabulary: priorities, states, jobs and what operations return.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{JobId, defaults};

/// Urgent before normal before batch; FIFO (and fair across clients) within one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Urgent,
    Normal,
    Batch,
}

impl Priority {
    /// In the order claims serve them.
    pub const ALL: [Self; 3] = [Self::Urgent, Self::Normal, Self::Batch];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Urgent => "urgent",
            Self::Normal => "normal",
            Self::Batch => "batch",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Priority {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "urgent" => Ok(Self::Urgent),
            "normal" => Ok(Self::Normal),
            "batch" => Ok(Self::Batch),
            other => Err(format!(
                "unknown priority {other:?} (urgent, normal or batch)"
            )),
        }
    }
}

/// Where a job is. The status key shows `Waiting` as `"queued"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Waiting,
    Delayed,
    Active,
    Completed,
    Failed,
    Cancelled,
}

impl JobState {
    /// The name in the job record.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Delayed => "delayed",
            Self::Active => "active",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// The name in the status document the frontend reads.
    pub fn status_name(self) -> &'static str {
        match self {
            Self::Waiting => "queued",
            other => other.as_str(),
        }
    }

    pub fn is_finished(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}

impl FromStr for JobState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "waiting" => Self::Waiting,
            "delayed" => Self::Delayed,
            "active" => Self::Active,
            "completed" => Self::Completed,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            other => return Err(format!("unknown job state {other:?}")),
        })
    }
}

/// A job to enqueue. [`NewJob::new`] fills in the defaults of [`defaults`].
#[derive(Debug, Clone)]
pub struct NewJob {
    pub job_type: String,
    pub client_id: String,
    pub priority: Priority,
    pub payload: serde_json::Value,
    pub attempts: u32,
    pub max_stalls: u32,
    pub backoff_ms: u64,
    /// 0 = ready at once; otherwise the job waits in `delayed` this long.
    pub delay_ms: u64,
    /// Same `(client_id, key)` within 24 h returns the first job and creates nothing.
    pub idempotency_key: Option<String>,
}

impl NewJob {
    pub fn new(
        job_type: impl Into<String>,
        client_id: impl Into<String>,
        payload: serde_json::Value,
    ) -> Self {
        Self {
            job_type: job_type.into(),
            client_id: client_id.into(),
            priority: Priority::Normal,
            payload,
            attempts: defaults::ATTEMPTS,
            max_stalls: defaults::MAX_STALLS,
            backoff_ms: defaults::BACKOFF_MS,
            delay_ms: 0,
            idempotency_key: None,
        }
    }

    #[must_use]
    pub fn priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    #[must_use]
    pub fn delay_ms(mut self, delay_ms: u64) -> Self {
        self.delay_ms = delay_ms;
        self
    }

    #[must_use]
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts.max(1);
        self
    }

    #[must_use]
    pub fn max_stalls(mut self, max_stalls: u32) -> Self {
        self.max_stalls = max_stalls;
        self
    }

    #[must_use]
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }
}

/// The job record as stored in `{q:Q}:jobs`. `payload`, `progress` and `result` are JSON text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobRecord {
    pub id: String,
    pub queue: String,
    #[serde(rename = "type")]
    pub job_type: String,
    pub client_id: String,
    pub priority: Priority,
    pub payload: String,
    pub state: JobState,
    pub attempts: u32,
    pub attempts_made: u32,
    pub max_stalls: u32,
    pub stalls: u32,
    pub backoff_ms: u64,
    pub progress: Option<String>,
    pub result: Option<String>,
    pub error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub lease_token: Option<String>,
    pub slot: u64,
    pub seq: u64,
    pub cancel_requested: bool,
    pub idempotency_key: Option<String>,
}

/// What `enqueue` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enqueued {
    pub job_id: JobId,
    /// `false` when an idempotency key matched an existing job.
    pub created: bool,
}

/// A job whose lease the caller now holds.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedJob {
    pub id: JobId,
    pub job_type: String,
    pub client_id: String,
    pub priority: Priority,
    pub payload: serde_json::Value,
    pub attempts: u32,
    /// Including this one.
    pub attempts_made: u32,
    pub stalls: u32,
    pub backoff_ms: u64,
    pub created_at: i64,
}

impl ClaimedJob {
    /// Whether a retryable failure now would be retried.
    pub fn can_retry(&self) -> bool {
        self.attempts_made < self.attempts
    }

    /// The backoff before the next attempt: exponential, with jitter, capped.
    pub fn retry_delay_ms(&self) -> u64 {
        crate::backoff::retry_delay_ms(
            self.backoff_ms,
            self.attempts_made,
            defaults::BACKOFF_CAP_MS,
        )
    }
}

/// What one claim did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Claim {
    pub jobs: Vec<ClaimedJob>,
    /// Earliest delayed job or lease expiry, when fewer jobs than asked were claimed: an idle
    /// worker may sleep until then (or until woken).
    pub next_wake_at_ms: Option<i64>,
    /// The global start rate is used up until this time.
    pub rate_limited_until_ms: Option<i64>,
    pub paused: bool,
    /// Housekeeping done by this claim.
    pub promoted: u32,
    pub reclaimed: u32,
    pub stall_failed: u32,
}

/// What a heartbeat found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Heartbeat {
    /// Still ours; leases renewed.
    pub renewed: Vec<JobId>,
    /// Not ours any more: stop working on them.
    pub lost: Vec<JobId>,
    /// Ours, but a cancel was requested: stop and call `finish_cancelled`.
    pub cancel_requested: Vec<JobId>,
}

/// What `complete` did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Completion {
    pub completed: Vec<JobId>,
    /// Leases lost before completion: their results were not recorded.
    pub lost: Vec<JobId>,
}

/// What `fail` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOutcome {
    /// Back in `delayed`, claimable from `due_at_ms`.
    Retrying { due_at_ms: i64 },
    /// Failed for good.
    Failed,
    /// A cancel had been requested, so the job was cancelled instead of retried.
    Cancelled,
}

/// What `cancel` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// It was waiting or delayed and is now cancelled.
    Cancelled,
    /// It is active: the flag is set, and the worker sees it on its next heartbeat or progress.
    Requested,
    /// It had already finished in this state; nothing changed.
    AlreadyFinished(JobState),
}

/// Sizes of the queue's sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub urgent: u64,
    pub normal: u64,
    pub batch: u64,
    pub delayed: u64,
    pub active: u64,
    pub completed: u64,
    pub failed: u64,
    pub cancelled: u64,
    pub paused: bool,
}

impl Counts {
    pub fn waiting(&self) -> u64 {
        self.urgent + self.normal + self.batch
    }
}

/// What `trim` removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Trimmed {
    pub removed: u64,
    /// The per-call limit was reached; call again.
    pub more: bool,
}
