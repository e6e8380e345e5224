//! Connection settings read from the environment, and opening the pool.

use std::time::Duration;

use scenergy_config::{ConfigError, Env, ExposeSecret, SecretString};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::DbError;

/// Default pool size: one worker instance runs a handful of jobs at once, and every query is
/// short, so a small pool is plenty and leaves room on a small managed database.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 5;

/// How long a query waits for a free connection before failing as transient.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the database is and how many connections to hold.
#[derive(Debug, Clone)]
pub struct DbConfig {
    /// `DATABASE_URL`; a secret because it usually carries a password.
    pub url: SecretString,
    /// `DATABASE_MAX_CONNECTIONS`, default [`DEFAULT_MAX_CONNECTIONS`].
    pub max_connections: u32,
    /// How long to wait for a connection (also bounds the first connect);
    /// [`DEFAULT_ACQUIRE_TIMEOUT`] unless set in code.
    pub acquire_timeout: Duration,
}

impl DbConfig {
    /// Reads `DATABASE_URL` (required, `postgres://` or `postgresql://`) and
    /// `DATABASE_MAX_CONNECTIONS` (optional, at least 1).
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let url = env.secret("DATABASE_URL")?;
        let exposed = url.expose_secret();
        // The value is a secret, so the reason names the expected shape, never the value.
        if !(exposed.starts_with("postgres://") || exposed.starts_with("postgresql://")) {
            return Err(ConfigError::invalid(
                "DATABASE_URL",
                "expected a URL starting with postgres:// or postgresql://",
            ));
        }
        let max_connections = env.or("DATABASE_MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS)?;
        if max_connections == 0 {
            return Err(ConfigError::invalid(
                "DATABASE_MAX_CONNECTIONS",
                "must be at least 1",
            ));
        }
        Ok(Self {
            url,
            max_connections,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
        })
    }

    /// Opens a pool and checks one connection, so a wrong URL fails at start-up rather than on
    /// the first job.
    pub async fn connect(&self) -> Result<PgPool, DbError> {
        PgPoolOptions::new()
            .max_connections(self.max_connections)
            .acquire_timeout(self.acquire_timeout)
            .connect(self.url.expose_secret())
            .await
            .map_err(DbError::Connect)
    }
}

/// Opens a pool with `config`; the same as [`DbConfig::connect`].
pub async fn connect(config: &DbConfig) -> Result<PgPool, DbError> {
    config.connect().await
}

/// Creates the database `config` names when it does not exist yet (the server must be up and
/// the user allowed to create databases). Returns whether it was created.
pub async fn create_database_if_missing(config: &DbConfig) -> Result<bool, DbError> {
    use sqlx::migrate::MigrateDatabase;
    let url = config.url.expose_secret();
    if sqlx::Postgres::database_exists(url)
        .await
        .map_err(DbError::Connect)?
    {
        return Ok(false);
    }
    sqlx::Postgres::create_database(url)
        .await
        .map_err(DbError::Connect)?;
    Ok(true)
}

/// Applies the embedded migrations that have not run yet.
pub async fn migrate(pool: &PgPool) -> Result<(), DbError> {
    crate::MIGRATOR.run(pool).await?;
    Ok(())
}

/// A round trip to the server, for readiness checks.
pub async fn ping(pool: &PgPool) -> Result<(), DbError> {
    sqlx::query_scalar!(r#"SELECT 1 AS "one!""#)
        .fetch_one(pool)
        .await?;
    Ok(())
}
