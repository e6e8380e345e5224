//! Every default and bound of the queue, in one place.

use std::time::Duration;

/// Attempts per job (the first run plus retries).
pub const ATTEMPTS: u32 = 3;
/// Lease expiries a job survives before it fails as stalled.
pub const MAX_STALLS: u32 = 1;
/// Base of the exponential retry backoff.
pub const BACKOFF_MS: u64 = 1_000;
/// Upper bound of one retry delay.
pub const BACKOFF_CAP_MS: u64 = 10 * 60 * 1_000;
/// How long an idempotency key maps to its job.
pub const IDEMPOTENCY_TTL_SECS: u64 = 24 * 60 * 60;
/// Status TTL of finished jobs (refreshed on each write).
pub const STATUS_TTL_SECS: u64 = 60 * 60;
/// Status TTL of live jobs (queued, delayed, active): long, so a deep queue never loses them.
pub const LIVE_STATUS_TTL_SECS: u64 = 7 * 24 * 60 * 60;
/// Approximate cap of the events stream (`XADD … MAXLEN ~`).
pub const EVENTS_MAX_LEN: u64 = 10_000;
/// Due delayed jobs promoted per claim.
pub const PROMOTE_LIMIT: u32 = 1_000;
/// Expired leases reclaimed per claim.
pub const RECLAIM_LIMIT: u32 = 1_000;
/// Finished jobs removed per trim call.
pub const TRIM_LIMIT: u32 = 1_000;
/// Jobs per enqueue script call in `enqueue_many`.
pub const ENQUEUE_CHUNK: usize = 200;
/// Largest `max_jobs` of one claim, and most jobs per heartbeat/complete/release script call
/// (longer lists are split; Lua's `unpack` has a stack limit).
pub const MAX_CLAIM: u32 = 1_000;
/// Longest single wait of an idle worker on the wake list.
pub const WAKE_WAIT_MAX: Duration = Duration::from_secs(300);
