//! Simulator settings: [`SimConfig`] for tests, [`SimArgs`] for the binary (flags and
//! `GEMINI_SIM_*` variables map one to one onto the config fields).

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use crate::error::SimError;

/// Inclusive latency range added to every generateContent call (uniform draw).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LatencyRange {
    pub min: Duration,
    pub max: Duration,
}

impl LatencyRange {
    pub fn fixed(ms: u64) -> Self {
        Self {
            min: Duration::from_millis(ms),
            max: Duration::from_millis(ms),
        }
    }
}

impl FromStr for LatencyRange {
    type Err = SimError;

    /// `MIN..MAX` or a single `MS`, in milliseconds.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || SimError::InvalidLatency(s.to_owned());
        let (min, max) = match s.split_once("..") {
            Some((a, b)) => (a.trim(), b.trim().trim_start_matches('=')),
            None => (s.trim(), s.trim()),
        };
        let min: u64 = min.parse().map_err(|_| bad())?;
        let max: u64 = max.parse().map_err(|_| bad())?;
        if min > max {
            return Err(bad());
        }
        Ok(Self {
            min: Duration::from_millis(min),
            max: Duration::from_millis(max),
        })
    }
}

/// Everything the simulator can be told. `Default` is what tests want: an ephemeral port,
/// no latency, no faults, 60 RPM per key over a real minute.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Address to bind; port 0 picks a free port (the `Default`).
    pub listen: SocketAddr,
    /// Requests allowed per key per window; 0 = unlimited.
    pub rpm_per_key: u32,
    /// Length of the rate-limit "minute", so tests can compress time.
    pub minute: Duration,
    pub latency: LatencyRange,
    pub error_rate_503: f64,
    pub error_rate_500: f64,
    /// Fraction of calls held for `timeout_hold` and then answered 504.
    pub timeout_rate: f64,
    /// Fraction of calls answered with `promptFeedback.blockReason`.
    pub block_rate: f64,
    /// Keys answered 400 API_KEY_INVALID.
    pub invalid_keys: Vec<String>,
    /// Keys answered 403 PERMISSION_DENIED ("reported as leaked").
    pub leaked_keys: Vec<String>,
    /// How long a "timeout" call is held: far beyond any sane client timeout.
    pub timeout_hold: Duration,
    /// Images are rendered at the real pixel size divided by this (1 = real size). Rendering
    /// full 4K PNGs would dominate test time while proving nothing extra; the aspect ratio
    /// stays exact because every real size is a multiple of 16.
    pub render_divisor: u32,
    /// Reject 2K/4K on `gemini-2.5-flash-image` with a 400 instead of silently rendering 1K
    /// (the real behaviour is unverified, spec §2.3).
    pub strict_image_size: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            rpm_per_key: 60,
            minute: Duration::from_secs(60),
            latency: LatencyRange::default(),
            error_rate_503: 0.0,
            error_rate_500: 0.0,
            timeout_rate: 0.0,
            block_rate: 0.0,
            invalid_keys: Vec::new(),
            leaked_keys: Vec::new(),
            timeout_hold: Duration::from_secs(600),
            render_divisor: 4,
            strict_image_size: false,
        }
    }
}

impl SimConfig {
    /// Checks the rates; called by `spawn`.
    pub fn validate(&self) -> Result<(), SimError> {
        for (flag, value) in [
            ("error-rate-503", self.error_rate_503),
            ("error-rate-500", self.error_rate_500),
            ("timeout-rate", self.timeout_rate),
            ("block-rate", self.block_rate),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(SimError::InvalidRate { flag, value });
            }
        }
        Ok(())
    }
}

/// Command-line flags of the `gemini-sim` binary.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "gemini-sim",
    about = "Local simulator of the Gemini generateContent API"
)]
pub struct SimArgs {
    /// Address to listen on.
    #[arg(long, env = "GEMINI_SIM_LISTEN", default_value = "127.0.0.1:8089")]
    pub listen: SocketAddr,
    /// Requests per key per window (0 = unlimited); excess calls get the real 429.
    #[arg(long, env = "GEMINI_SIM_RPM_PER_KEY", default_value_t = 60)]
    pub rpm_per_key: u32,
    /// Length of the rate-limit window in ms (compress "a minute" for tests).
    #[arg(long, env = "GEMINI_SIM_MINUTE_MS", default_value_t = 60_000)]
    pub minute_ms: u64,
    /// Added latency per call, MIN..MAX ms (uniform).
    #[arg(long, env = "GEMINI_SIM_LATENCY_MS", default_value = "0..0")]
    pub latency_ms: LatencyRange,
    /// Fraction of calls answered 503 UNAVAILABLE.
    #[arg(long, env = "GEMINI_SIM_ERROR_RATE_503", default_value_t = 0.0)]
    pub error_rate_503: f64,
    /// Fraction of calls answered 500 INTERNAL.
    #[arg(long, env = "GEMINI_SIM_ERROR_RATE_500", default_value_t = 0.0)]
    pub error_rate_500: f64,
    /// Fraction of calls held for --timeout-hold-ms, then answered 504.
    #[arg(long, env = "GEMINI_SIM_TIMEOUT_RATE", default_value_t = 0.0)]
    pub timeout_rate: f64,
    /// How long a "timeout" call is held.
    #[arg(long, env = "GEMINI_SIM_TIMEOUT_HOLD_MS", default_value_t = 600_000)]
    pub timeout_hold_ms: u64,
    /// Fraction of calls answered with promptFeedback.blockReason.
    #[arg(long, env = "GEMINI_SIM_BLOCK_RATE", default_value_t = 0.0)]
    pub block_rate: f64,
    /// Comma-separated keys answered 400 API_KEY_INVALID.
    #[arg(long, env = "GEMINI_SIM_INVALID_KEYS", value_delimiter = ',')]
    pub invalid_keys: Vec<String>,
    /// Comma-separated keys answered 403 PERMISSION_DENIED (leaked).
    #[arg(long, env = "GEMINI_SIM_LEAKED_KEYS", value_delimiter = ',')]
    pub leaked_keys: Vec<String>,
    /// Render images at real size / N (1 = real size).
    #[arg(long, env = "GEMINI_SIM_RENDER_DIVISOR", default_value_t = 4)]
    pub render_divisor: u32,
    /// Reject 2K/4K on gemini-2.5-flash-image instead of rendering 1K.
    #[arg(long, env = "GEMINI_SIM_STRICT_IMAGE_SIZE", default_value_t = false)]
    pub strict_image_size: bool,
}

impl From<SimArgs> for SimConfig {
    fn from(a: SimArgs) -> Self {
        Self {
            listen: a.listen,
            rpm_per_key: a.rpm_per_key,
            minute: Duration::from_millis(a.minute_ms.max(1)),
            latency: a.latency_ms,
            error_rate_503: a.error_rate_503,
            error_rate_500: a.error_rate_500,
            timeout_rate: a.timeout_rate,
            block_rate: a.block_rate,
            invalid_keys: a
                .invalid_keys
                .into_iter()
                .filter(|k| !k.is_empty())
                .collect(),
            leaked_keys: a
                .leaked_keys
                .into_iter()
                .filter(|k| !k.is_empty())
                .collect(),
            timeout_hold: Duration::from_millis(a.timeout_hold_ms),
            render_divisor: a.render_divisor.max(1),
            strict_image_size: a.strict_image_size,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_parses_ranges_and_single_values() {
        let r: LatencyRange = "100..250".parse().unwrap();
        assert_eq!(r.min, Duration::from_millis(100));
        assert_eq!(r.max, Duration::from_millis(250));
        assert_eq!("7".parse::<LatencyRange>().unwrap(), LatencyRange::fixed(7));
        assert!("9..3".parse::<LatencyRange>().is_err());
        assert!("a..b".parse::<LatencyRange>().is_err());
    }
}
