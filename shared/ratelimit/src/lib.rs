//! The Lane A rate limiter: one Redis-backed bucket per Gemini model class (`gemini-text`,
//! `gemini-vision`, `gemini-image`), shared by every Lambda and worker that calls Gemini
//! directly, so that together they never send more than the configured calls per window.
//!
//! It owns the bucket keys `{rl:<namespace>}:<bucket>` and nothing else. Each check is ONE
//! script call (`lua/check.lua`) over an exact sliding-window log kept in a single string key:
//! never more than `limit` admissions in any window, at 2 commands per refused check and 3 per
//! admitted one (EVALSHA included). A refusal is then cached in the process until the moment a
//! slot frees, so a hot refused bucket costs no Redis commands at all. The algorithm, the
//! exactness argument, the clock-skew caveat and the command counts are in `docs/ai-layer.md`.
//!
//! # Layout
//! - `lua/check.lua`: the check script (KEYS/ARGV/Returns in its header).
//! - [`config`]: [`Bucket`], [`RateLimitConfig`] (`AI_RATE_LIMIT_*`).
//! - `limiter.rs`: [`RateLimiter`] (`check`, `check_at`, `with_rate_limit`), the denial cache.
//! - `error.rs`: [`Limited`] (the refusal, with `retry_after`) and [`RateLimitError`].

pub mod config;
mod error;
mod limiter;

pub use config::{Bucket, RateLimitConfig};
pub use error::{Limited, RateLimitError};
pub use limiter::{Admitted, RateLimiter, now_ms};
