//! Errors from the database layer.

/// What went wrong talking to PostgreSQL.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The pool could not open a connection (server down, bad credentials, TLS).
    #[error("could not connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    /// Applying the embedded migrations failed.
    #[error("migrating the database failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed, including a constraint rejecting a row.
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
    /// A row held a value this crate does not understand, e.g. an unknown job state.
    #[error("unexpected value in {column}: {value:?}")]
    Corrupt { column: &'static str, value: String },
}

impl DbError {
    /// Whether trying again later may succeed: lost connections, pool timeouts, serialization
    /// failures and deadlocks. Constraint violations and bad SQL are permanent.
    pub fn is_transient(&self) -> bool {
        let err = match self {
            Self::Connect(err) | Self::Query(err) => err,
            Self::Migrate(_) | Self::Corrupt { .. } => return false,
        };
        match err {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                // 40001 serialization failure, 40P01 deadlock, class 08 connection exception,
                // 57P01..57P03 server shutting down or not yet accepting connections.
                code == "40001"
                    || code == "40P01"
                    || code.starts_with("08")
                    || code.starts_with("57P")
            }),
            _ => false,
        }
    }

    /// The name of the constraint that rejected a write, if that is what happened.
    pub fn constraint(&self) -> Option<&str> {
        match self {
            Self::Query(sqlx::Error::Database(db)) => db.constraint(),
            _ => None,
        }
    }
}
