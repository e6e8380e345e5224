//! Replies, shaped as Upstash's REST API can carry them.

use crate::RedisError;

/// A Redis reply. Status replies (`OK`, `PONG`) arrive as [`Value::Bytes`], as they do over REST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Nil,
    Int(i64),
    Bytes(Vec<u8>),
    Array(Vec<Value>),
}

impl Value {
    pub fn is_nil(&self) -> bool {
        matches!(self, Self::Nil)
    }

    pub fn as_int(&self) -> Result<i64, RedisError> {
        match self {
            Self::Int(n) => Ok(*n),
            // Scripts sometimes return numbers as strings (ZSCORE, INCRBYFLOAT, tostring()).
            Self::Bytes(b) => std::str::from_utf8(b)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| self.unexpected("an integer")),
            _ => Err(self.unexpected("an integer")),
        }
    }

    pub fn as_bytes(&self) -> Result<&[u8], RedisError> {
        match self {
            Self::Bytes(b) => Ok(b),
            _ => Err(self.unexpected("a string")),
        }
    }

    pub fn as_str(&self) -> Result<&str, RedisError> {
        std::str::from_utf8(self.as_bytes()?)
            .map_err(|_| RedisError::Protocol("expected UTF-8 text".to_owned()))
    }

    /// `None` for nil, the text otherwise.
    pub fn into_opt_string(self) -> Result<Option<String>, RedisError> {
        match self {
            Self::Nil => Ok(None),
            Self::Bytes(b) => String::from_utf8(b)
                .map(Some)
                .map_err(|_| RedisError::Protocol("expected UTF-8 text".to_owned())),
            other => Err(other.unexpected("a string or nil")),
        }
    }

    pub fn into_array(self) -> Result<Vec<Value>, RedisError> {
        match self {
            Self::Array(items) => Ok(items),
            other => Err(other.unexpected("an array")),
        }
    }

    fn unexpected(&self, wanted: &str) -> RedisError {
        RedisError::Protocol(format!("expected {wanted}, got {self:?}"))
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Self::Bytes(s.as_bytes().to_vec())
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Self::Int(n)
    }
}
