//! The Redis side: one auto-reconnecting multiplexed RESP2 connection. A request's commands are
//! written as one contiguous packet, so a pipeline runs in order on one connection and a
//! `MULTI … EXEC` block cannot be interleaved with other requests' commands.

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{IntoConnectionInfo, Pipeline, ProtocolVersion, RedisError, Value};

use crate::GatewayConfig;
use crate::encode::error_text;

/// Why a request could not be answered by Redis at all.
#[derive(Debug)]
pub(crate) enum BackendError {
    /// Redis did not answer within the command timeout.
    Timeout,
    /// Redis could not be reached or the connection broke.
    Unavailable(RedisError),
}

/// How a `/multi-exec` ended.
#[derive(Debug)]
pub(crate) enum TxOutcome {
    /// `EXEC` ran: one reply per command (runtime errors inline).
    Executed(Vec<Value>),
    /// The transaction was discarded; the Redis error text (e.g. `EXECABORT …`).
    Aborted(String),
}

#[derive(Clone)]
pub(crate) struct Backend {
    conn: ConnectionManager,
    db: i64,
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backend")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

impl Backend {
    /// Connects (RESP2 regardless of the URL) and waits for the first connection.
    pub(crate) async fn connect(config: &GatewayConfig) -> Result<Self, RedisError> {
        let info = config.redis_url.as_str().into_connection_info()?;
        let redis = info
            .redis_settings()
            .clone()
            .set_protocol(ProtocolVersion::RESP2);
        let db = redis.db();
        let client = redis::Client::open(info.set_redis_settings(redis))?;
        let manager_config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(config.command_timeout))
            .set_connection_timeout(Some(config.connect_timeout))
            .set_max_delay(std::time::Duration::from_secs(2))
            .set_number_of_retries(4);
        let conn = ConnectionManager::new_with_config(client, manager_config).await?;
        Ok(Self { conn, db })
    }

    /// The database the connection is bound to (what `SELECT 0` is pinned to).
    pub(crate) fn db(&self) -> i64 {
        self.db
    }

    /// Sends `commands` as one pipeline and returns one reply per command, errors inline.
    pub(crate) async fn pipeline(
        &self,
        commands: &[&Vec<Vec<u8>>],
    ) -> Result<Vec<Value>, BackendError> {
        if commands.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for command in commands {
            add(&mut pipe, command);
        }
        self.send(&pipe, commands.len()).await
    }

    /// Runs `commands` inside `MULTI … EXEC`, written as one packet so the block is contiguous.
    pub(crate) async fn transaction(
        &self,
        commands: &[&Vec<Vec<u8>>],
    ) -> Result<TxOutcome, BackendError> {
        let mut pipe = redis::pipe();
        pipe.cmd("MULTI");
        for command in commands {
            add(&mut pipe, command);
        }
        pipe.cmd("EXEC");
        let mut replies = self.send(&pipe, commands.len() + 2).await?;
        if let Some(Value::ServerError(error)) = replies.first() {
            // MULTI itself failed; EXEC then fails too and nothing was queued.
            return Ok(TxOutcome::Aborted(error_text(error)));
        }
        Ok(match replies.pop() {
            Some(Value::Array(items)) => TxOutcome::Executed(items),
            Some(Value::ServerError(error)) => TxOutcome::Aborted(error_text(&error)),
            Some(Value::Nil) => TxOutcome::Aborted("EXECABORT Transaction aborted".to_owned()),
            other => {
                tracing::warn!(reply = ?other, "unexpected EXEC reply");
                TxOutcome::Aborted("ERR unexpected EXEC reply".to_owned())
            }
        })
    }

    /// Sends the packet; a connection that turns out to be broken (e.g. after a Redis restart) is
    /// replaced by the manager and the packet is sent once more.
    async fn send(&self, pipe: &Pipeline, count: usize) -> Result<Vec<Value>, BackendError> {
        let mut conn = self.conn.clone();
        let first = conn.send_packed_commands(pipe, 0, count).await;
        let result = match first {
            Err(e)
                if !e.is_timeout() && (e.is_connection_dropped() || e.is_unrecoverable_error()) =>
            {
                tracing::info!(error = %e, "Redis connection lost; retrying once on a new connection");
                conn.send_packed_commands(pipe, 0, count).await
            }
            other => other,
        };
        result.map_err(|e| {
            if e.is_timeout() {
                BackendError::Timeout
            } else {
                BackendError::Unavailable(e)
            }
        })
    }
}

fn add(pipe: &mut Pipeline, command: &[Vec<u8>]) {
    let mut cmd = redis::Cmd::new();
    for arg in command {
        cmd.arg(arg.as_slice());
    }
    pipe.add_command(cmd);
}
