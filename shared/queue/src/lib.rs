//! The Scenergy job queue: priorities with per-client fairness, leases with stall recovery,
//! retries with backoff, delays, idempotent enqueue, cancellation, a global start rate and a
//! status key that always agrees with the queue.
//!
//! Every operation is one Lua script (one round trip, atomic) that behaves the same over TCP and
//! over Upstash REST. All of a queue's keys share the hash tag `{q:<queue>}`, and every key a
//! script touches comes in through KEYS; per-job status keys (`job-status:{q:<queue>}:<jobId>`)
//! are derived inside the scripts from a prefix passed in KEYS, so they stay in the queue's slot.
//! The protocol, its keys and its command costs are in `docs/queue-protocol.md`.
//!
//! Time is always passed in (`now`, ms since the epoch; [`now_ms`] for the real clock), so
//! tests control lease expiry, delays and the start rate.
//!
//! # Layout
//! - `lua/_prelude.lua`: the KEYS/ARGV layout and helpers shared by every script;
//!   `lua/<op>.lua`: one file per operation, each opening with its KEYS/ARGV/Returns.
//! - [`queue`]: [`Queue`], [`QueueOptions`], enqueue, claim, counts, trim, wake-up.
//! - `lease.rs`: heartbeat, progress, complete, fail, cancel, finish_cancelled, release.
//! - [`types`]: [`Priority`], [`JobState`], [`NewJob`], [`JobRecord`] and the result types.
//! - [`keys`]: [`JobId`], [`status_key`], key names.
//! - [`backoff`]: retry delays. [`defaults`]: every default and bound.
//! - [`admin`]: the dashboard's lists, lookups, statistics and operator actions (retry,
//!   remove, promote). [`monitor`]: what the alert monitor reads, and the alert gate.
//! - `scripts.rs`: the scripts, built once. `error.rs`: [`QueueError`].

pub mod admin;
pub mod backoff;
pub mod defaults;
mod error;
pub mod keys;
mod lease;
pub mod monitor;
pub mod queue;
mod scripts;
pub mod types;

pub use admin::{
    ClientPage, JobPage, ListedJob, Listing, Promotion, QueueStats, Removal, Retried, Timeline,
    TimelineEntry, Window,
};
pub use error::QueueError;
pub use keys::{JobId, Keys, status_key, validate_queue_name};
pub use monitor::{FailedJob, Gate, MonitorTick, QueueEvent};
pub use queue::{Queue, QueueOptions, now_ms, wake_transport};
pub use types::{
    CancelOutcome, Claim, ClaimedJob, Completion, Counts, Enqueued, FailOutcome, Heartbeat,
    JobRecord, JobState, NewJob, Priority, Trimmed,
};
