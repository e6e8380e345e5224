//! Typed configuration read from the environment.
//!
//! This crate owns the rules every binary follows when it reads its settings: a variable is
//! either absent, present and well-formed, or present and malformed, and the last two cases
//! never blur. A malformed value is an error that names the variable, so start-up stops with a
//! message an operator can act on. Secrets are returned as [`SecretString`] so they cannot be
//! printed by accident. It must not know about any particular service's variables; each crate
//! declares its own settings on top of [`Env`].

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

pub use secrecy::{ExposeSecret, SecretString};

/// A configuration problem, always naming the variable at fault.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{var} is required but not set")]
    Missing { var: String },
    #[error("{var} is invalid: {reason}")]
    Invalid { var: String, reason: String },
}

impl ConfigError {
    /// The variable this error is about.
    pub fn var(&self) -> &str {
        match self {
            Self::Missing { var } | Self::Invalid { var, .. } => var,
        }
    }

    pub fn missing(var: &str) -> Self {
        Self::Missing {
            var: var.to_owned(),
        }
    }

    pub fn invalid(var: &str, reason: impl fmt::Display) -> Self {
        Self::Invalid {
            var: var.to_owned(),
            reason: reason.to_string(),
        }
    }
}

/// Where variables come from: the process environment in binaries, a map in tests.
#[derive(Clone)]
pub struct Env {
    source: Source,
}

#[derive(Clone)]
enum Source {
    Process,
    Map(HashMap<String, String>),
}

impl fmt::Debug for Env {
    // Values may be secrets, so only the kind of source is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Source::Process => f.write_str("Env(process)"),
            Source::Map(map) => write!(f, "Env(map of {} vars)", map.len()),
        }
    }
}

impl Env {
    /// The process environment.
    pub fn process() -> Self {
        Self {
            source: Source::Process,
        }
    }

    /// A fixed set of variables, for tests and for tools that build settings themselves.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            source: Source::Map(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
            ),
        }
    }

    /// The raw value; an empty or all-whitespace value counts as unset, because that is what a
    /// blank line in an env file or a deploy template means.
    pub fn raw(&self, var: &str) -> Option<String> {
        let value = match &self.source {
            Source::Process => std::env::var_os(var).map(|v| v.to_string_lossy().into_owned()),
            Source::Map(map) => map.get(var).cloned(),
        }?;
        if value.trim().is_empty() {
            None
        } else {
            Some(value)
        }
    }

    /// A required value parsed with [`FromStr`].
    pub fn required<T>(&self, var: &str) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        self.optional(var)?.ok_or_else(|| ConfigError::Missing {
            var: var.to_owned(),
        })
    }

    /// An optional value: `Ok(None)` when unset, an error when set but malformed.
    pub fn optional<T>(&self, var: &str) -> Result<Option<T>, ConfigError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        self.raw(var)
            .map(|raw| {
                raw.trim()
                    .parse::<T>()
                    .map_err(|e| ConfigError::invalid(var, e))
            })
            .transpose()
    }

    /// A value with a default used when the variable is unset.
    pub fn or<T>(&self, var: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        Ok(self.optional(var)?.unwrap_or(default))
    }

    /// A boolean accepting `true/false`, `1/0`, `yes/no`, `on/off` in any case.
    pub fn flag(&self, var: &str, default: bool) -> Result<bool, ConfigError> {
        match self.raw(var) {
            None => Ok(default),
            Some(raw) => match raw.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(true),
                "false" | "0" | "no" | "off" => Ok(false),
                other => Err(ConfigError::invalid(
                    var,
                    format!("expected true or false, got {other:?}"),
                )),
            },
        }
    }

    /// A required secret. The value is never part of an error message.
    pub fn secret(&self, var: &str) -> Result<SecretString, ConfigError> {
        self.optional_secret(var)?
            .ok_or_else(|| ConfigError::Missing {
                var: var.to_owned(),
            })
    }

    /// An optional secret.
    pub fn optional_secret(&self, var: &str) -> Result<Option<SecretString>, ConfigError> {
        Ok(self
            .raw(var)
            .map(|v| SecretString::from(v.trim().to_owned())))
    }

    /// A URL-shaped value: it must start with `http://` or `https://` (or one of `schemes`).
    pub fn url(&self, var: &str, schemes: &[&str]) -> Result<Option<String>, ConfigError> {
        let Some(raw) = self.raw(var) else {
            return Ok(None);
        };
        let raw = raw.trim().trim_end_matches('/').to_owned();
        if schemes.iter().any(|s| raw.starts_with(&format!("{s}://"))) {
            Ok(Some(raw))
        } else {
            Err(ConfigError::invalid(
                var,
                format!(
                    "expected a URL starting with {}",
                    schemes.join("://, ") + "://"
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_required_names_the_variable() {
        let env = Env::from_pairs([("OTHER", "1")]);
        let err = env.required::<u32>("WORKER_CONCURRENCY").unwrap_err();
        assert_eq!(err.var(), "WORKER_CONCURRENCY");
        assert_eq!(
            err.to_string(),
            "WORKER_CONCURRENCY is required but not set"
        );
    }

    #[test]
    fn malformed_value_is_an_error_not_a_default() {
        let env = Env::from_pairs([("WORKER_CONCURRENCY", "five")]);
        let err = env.or::<u32>("WORKER_CONCURRENCY", 5).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("WORKER_CONCURRENCY is invalid:"),
            "{err}"
        );
    }

    #[test]
    fn blank_counts_as_unset_and_default_applies() {
        let env = Env::from_pairs([("WORKER_CONCURRENCY", "  ")]);
        assert_eq!(env.or::<u32>("WORKER_CONCURRENCY", 5).unwrap(), 5);
        let env = Env::from_pairs([("WORKER_CONCURRENCY", " 7 ")]);
        assert_eq!(env.or::<u32>("WORKER_CONCURRENCY", 5).unwrap(), 7);
    }

    #[test]
    fn flags_accept_common_spellings_and_reject_others() {
        let env = Env::from_pairs([("A", "TRUE"), ("B", "0"), ("C", "maybe")]);
        assert!(env.flag("A", false).unwrap());
        assert!(!env.flag("B", true).unwrap());
        assert!(env.flag("MISSING", true).unwrap());
        assert_eq!(env.flag("C", false).unwrap_err().var(), "C");
    }

    #[test]
    fn secrets_do_not_leak_into_debug_or_errors() {
        let env = Env::from_pairs([("TOKEN", "hunter2")]);
        let secret = env.secret("TOKEN").unwrap();
        assert_eq!(secret.expose_secret(), "hunter2");
        assert!(!format!("{secret:?}").contains("hunter2"));
        assert!(!format!("{env:?}").contains("hunter2"));
    }

    #[test]
    fn urls_are_checked_and_trailing_slash_trimmed() {
        let env = Env::from_pairs([("U", "https://example.test/"), ("BAD", "example.test")]);
        assert_eq!(
            env.url("U", &["http", "https"]).unwrap().as_deref(),
            Some("https://example.test")
        );
        assert_eq!(env.url("BAD", &["http", "https"]).unwrap_err().var(), "BAD");
        assert_eq!(env.url("NONE", &["http"]).unwrap(), None);
    }
}
