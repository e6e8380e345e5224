//! Errors from object keys and storage backends.

/// An object key that is not safe to use (see [`crate::ObjectKey`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid object key {key:?}: {reason}")]
pub struct KeyError {
    pub key: String,
    pub reason: &'static str,
}

/// A storage operation that failed, sorted by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The object does not exist (from [`crate::Storage::fetch`]; `get` and `head` return `None`).
    #[error("object {key} not found")]
    NotFound { key: String },
    /// Worth retrying: connection refused or reset, timeouts, 5xx and 429 responses.
    #[error("storage {op} failed, retryable: {message}")]
    Transient { op: &'static str, message: String },
    /// Retrying will not help: bad credentials, a missing bucket, a refused request, a full disk.
    #[error("storage {op} failed: {message}")]
    Permanent { op: &'static str, message: String },
}

impl StorageError {
    /// Whether the same call may succeed later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Transient { .. })
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    /// Sorts a local I/O error: interruptions and timeouts are transient, the rest (permissions,
    /// a full disk, a file where a directory should be) need an operator.
    pub(crate) fn from_io(op: &'static str, err: &std::io::Error) -> Self {
        use std::io::ErrorKind;
        let message = err.to_string();
        match err.kind() {
            ErrorKind::Interrupted | ErrorKind::TimedOut | ErrorKind::WouldBlock => {
                Self::Transient { op, message }
            }
            _ => Self::Permanent { op, message },
        }
    }
}
