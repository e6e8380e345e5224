//! What the dashboard sees: each key's state and counters, and the events it raised.

use serde::Serialize;

/// Why a key is out of rotation for a long time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DisableReason {
    /// A per-day quota ran out; back at the next Pacific midnight.
    DailyQuota,
    /// Google rejected the key (400 `API_KEY_INVALID` or 403); back when an operator says so.
    InvalidKey,
}

impl DisableReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DailyQuota => "daily_quota",
            Self::InvalidKey => "invalid_key",
        }
    }

    pub(crate) fn parse(s: &str) -> Self {
        if s == "daily_quota" {
            Self::DailyQuota
        } else {
            Self::InvalidKey
        }
    }
}

/// A key's place in the cooldown cycle. Times are ms since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum KeyState {
    Healthy,
    /// After a 429, until `until_ms`; then one probe call decides.
    Cooling {
        until_ms: i64,
    },
    /// One call is testing the key after a cooldown; others skip it until it reports.
    Probing {
        since_ms: i64,
    },
    /// `until_ms: None` = until an operator re-enables it.
    Disabled {
        reason: DisableReason,
        until_ms: Option<i64>,
    },
}

impl KeyState {
    /// Parses a `<id>:st` field (see `lua/acquire.lua`). A cooldown or dated disable whose time
    /// has passed shows as `Healthy`: the next acquire takes it as a probe.
    pub(crate) fn parse(field: Option<&str>, now_ms: i64) -> Self {
        let Some(field) = field else {
            return Self::Healthy;
        };
        let mut parts = field.split('|');
        let kind = parts.next().unwrap_or_default();
        let t: i64 = parts.next().and_then(|t| t.parse().ok()).unwrap_or(0);
        match kind {
            "p" => Self::Probing { since_ms: t },
            "c" if t > now_ms => Self::Cooling { until_ms: t },
            "d" if t == 0 || t > now_ms => Self::Disabled {
                reason: DisableReason::parse(parts.next().unwrap_or_default()),
                until_ms: (t != 0).then_some(t),
            },
            _ => Self::Healthy,
        }
    }
}

/// One row of [`KeyPool::health`](crate::KeyPool::health).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyHealth {
    pub id: String,
    #[serde(flatten)]
    pub state: KeyState,
    /// Leases granted, across all instances, ever.
    pub calls: u64,
    /// 429s and daily-quota reports, ever.
    pub rate_limited: u64,
}

/// A key was taken out of rotation for a long time; for alerts. Published on the pool's
/// broadcast channel and appended to the capped stream `{keys:<namespace>}:events`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PoolEvent {
    pub key_id: String,
    pub reason: DisableReason,
    pub until_ms: Option<i64>,
    pub at_ms: i64,
}
