//! The shared Gemini key pool for Lane B: every worker instance draws keys from one pool whose
//! per-key budgets, cooldowns and disables live in Redis, so ten instances never overrun a key
//! together and a 429 seen by one instance steers all of them away from that key.
//!
//! It owns `{keys:<namespace>}:state` (one hash: every key's state, budget log and counters,
//! plus the round-robin cursor) and `{keys:<namespace>}:events` (a capped stream of disable
//! events for alerts). [`KeyPool::acquire`] is ONE script call that rotates, checks cooldowns
//! and takes budget atomically; when nothing is usable it waits for the earliest key instead of
//! failing. [`KeyPool::report`] cools (429 + jitter, extend-only), disables (daily quota until
//! Pacific midnight; invalid key until re-enabled, with an event) and closes the half-open
//! probe that every key passes through after a cooldown. Keys are identified by the first 8 hex
//! digits of their SHA-1 and never printed. States, scripts and command counts are in
//! `docs/ai-layer.md`.
//!
//! # Layout
//! - `lua/acquire.lua`, `lua/report.lua`: the two scripts (KEYS/ARGV/Returns in their headers;
//!   the state hash's fields are described in `acquire.lua`).
//! - [`key`]: [`ApiKey`], [`keys_from_env`] (`GOOGLE_AI_STUDIO_API_KEY`, `_2`, …).
//! - [`config`]: [`PoolConfig`] (`GEMINI_KEY_RPM`, window, timings).
//! - `pool.rs`: [`KeyPool`], [`KeyLease`], [`KeyOutcome`].
//! - [`health`]: [`KeyHealth`], [`KeyState`], [`PoolEvent`] for the dashboard and alerts.
//! - [`pacific`]: the daily quota reset, midnight America/Los_Angeles.
//! - `error.rs`: [`PoolError`].

pub mod config;
mod error;
pub mod health;
pub mod key;
pub mod pacific;
mod pool;

pub use config::PoolConfig;
pub use error::PoolError;
pub use health::{DisableReason, KeyHealth, KeyState, PoolEvent};
pub use key::{ApiKey, keys_from_env};
pub use pacific::next_pacific_midnight;
pub use pool::{Clock, KeyLease, KeyOutcome, KeyPool};
