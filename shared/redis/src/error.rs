use std::time::Duration;

/// An error reply from Redis itself (`ERR …`, `NOSCRIPT …`, `WRONGTYPE …`), with its full text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ServerError(pub String);

impl ServerError {
    /// The error's first word: `ERR`, `NOSCRIPT`, `EXECABORT`, …
    pub fn code(&self) -> &str {
        self.0.split_whitespace().next().unwrap_or_default()
    }

    /// Clients match NOSCRIPT on a substring because REST gateways prefix messages differently.
    pub fn is_noscript(&self) -> bool {
        self.0.contains("NOSCRIPT")
    }
}

/// Why a Redis call failed.
#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    /// Redis ran the command and answered with an error.
    #[error(transparent)]
    Server(#[from] ServerError),
    /// The server could not be reached (after the transport's own retries).
    #[error("could not reach Redis")]
    Connection(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// No answer within the transport's timeout. The command may or may not have run.
    #[error("Redis did not answer within {0:?}")]
    Timeout(Duration),
    /// The REST endpoint refused the token.
    #[error("the Upstash REST endpoint rejected the token: {0}")]
    Unauthorized(String),
    /// The REST endpoint answered with an HTTP error that is not a Redis error.
    #[error("the Upstash REST endpoint answered HTTP {status}: {message}")]
    Http { status: u16, message: String },
    /// A reply we could not understand.
    #[error("unexpected reply from Redis: {0}")]
    Protocol(String),
    /// A command that this transport cannot carry (binary arguments in a JSON body).
    #[error("command cannot be sent over this transport: {0}")]
    Unencodable(String),
}

impl RedisError {
    /// The Redis error reply, when that is what this is.
    pub fn server(&self) -> Option<&ServerError> {
        match self {
            Self::Server(e) => Some(e),
            _ => None,
        }
    }

    /// Whether trying again later could help: connection trouble and timeouts, not Redis errors.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Connection(_) | Self::Timeout(_))
            || matches!(self, Self::Http { status, .. } if *status >= 500)
    }
}
