//! RESP over TCP or TLS (`redis://`, `rediss://`) on the `redis` crate's connection manager.
//!
//! The connection manager multiplexes every caller over one connection and replaces it when it
//! breaks, so a Redis restart costs the commands in flight at that moment and nothing after.
//! We try a command once more when the connection dropped under it: the old server is gone,
//! so it cannot also be running the first attempt.

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::{Cmd, RedisError, RedisTransport, Reply, ServerError, TransportKind, Value};

/// How to reach Redis over TCP.
#[derive(Debug, Clone)]
pub struct TcpConfig {
    /// `redis://[user:pass@]host:port[/db]` or `rediss://…` for TLS.
    pub url: String,
    pub connect_timeout: Duration,
    /// How long to wait for a reply. Blocking commands add their own timeout on top.
    pub response_timeout: Duration,
}

impl TcpConfig {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            connect_timeout: Duration::from_secs(2),
            response_timeout: Duration::from_secs(5),
        }
    }
}

/// The TCP/TLS transport.
#[derive(Clone)]
pub struct TcpTransport {
    manager: ConnectionManager,
    response_timeout: Duration,
}

impl std::fmt::Debug for TcpTransport {
    // The URL may hold a password, so it is not kept, let alone printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpTransport").finish_non_exhaustive()
    }
}

impl TcpTransport {
    /// Connects once, so a wrong URL fails at start-up rather than at the first job.
    pub async fn connect(config: TcpConfig) -> Result<Self, RedisError> {
        Self::open(&config, Some(config.response_timeout)).await
    }

    /// Connects a transport of its own for blocking commands ([`TcpTransport::query_blocking`]).
    /// Its connection manager has no reply timeout, because that timeout would cut a longer
    /// BLPOP short; each blocking call bounds its own wait instead.
    pub async fn connect_blocking(config: TcpConfig) -> Result<Self, RedisError> {
        Self::open(&config, None).await
    }

    async fn open(config: &TcpConfig, reply_timeout: Option<Duration>) -> Result<Self, RedisError> {
        let timeout = config.response_timeout;
        let client = redis::Client::open(config.url.as_str()).map_err(|e| map_error(e, timeout))?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.connect_timeout))
            .set_response_timeout(reply_timeout)
            .set_number_of_retries(3)
            .set_max_delay(Duration::from_secs(1));
        let manager = ConnectionManager::new_with_config(client, manager_config)
            .await
            .map_err(|e| map_error(e, timeout))?;
        Ok(Self {
            manager,
            response_timeout: timeout,
        })
    }

    /// Runs `cmd` with a reply timeout of its own, for blocking commands (BLPOP, BZPOPMIN) whose
    /// server-side timeout is longer than the transport's default.
    ///
    /// Call it on a transport from [`TcpTransport::connect_blocking`]: while Redis holds a BLPOP,
    /// every other command multiplexed on the same connection waits behind it, and an ordinary
    /// transport's reply timeout would end the wait early.
    pub async fn query_blocking(&self, cmd: &Cmd, wait: Duration) -> Result<Value, RedisError> {
        let mut con = self.manager.clone();
        let command = to_redis(cmd);
        let total = wait + self.response_timeout;
        match tokio::time::timeout(total, command.query_async::<redis::Value>(&mut con)).await {
            Ok(result) => single(result, total),
            Err(_) => Err(RedisError::Timeout(total)),
        }
    }

    async fn run_pipeline(&self, pipe: &redis::Pipeline) -> redis::RedisResult<Vec<redis::Value>> {
        let mut con = self.manager.clone();
        match pipe.query_async(&mut con).await {
            Err(e) if e.is_connection_dropped() => pipe.query_async(&mut con).await,
            other => other,
        }
    }
}

#[async_trait]
impl RedisTransport for TcpTransport {
    fn kind(&self) -> TransportKind {
        TransportKind::Tcp
    }

    async fn query(&self, cmd: &Cmd) -> Result<Value, RedisError> {
        let command = to_redis(cmd);
        let mut con = self.manager.clone();
        let result = match command.query_async::<redis::Value>(&mut con).await {
            Err(e) if e.is_connection_dropped() => command.query_async(&mut con).await,
            other => other,
        };
        single(result, self.response_timeout)
    }

    async fn pipeline(&self, cmds: &[Cmd]) -> Result<Vec<Reply>, RedisError> {
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        for cmd in cmds {
            pipe.add_command(to_redis(cmd));
        }
        let values = self
            .run_pipeline(&pipe)
            .await
            .map_err(|e| map_error(e, self.response_timeout))?;
        Ok(values.into_iter().map(reply).collect())
    }

    async fn transaction(&self, cmds: &[Cmd]) -> Result<Vec<Reply>, RedisError> {
        let mut pipe = redis::pipe();
        pipe.atomic().ignore_errors();
        for cmd in cmds {
            pipe.add_command(to_redis(cmd));
        }
        let values = self
            .run_pipeline(&pipe)
            .await
            .map_err(|e| map_error(e, self.response_timeout))?;
        // `ignore_errors` hands back EXEC's reply as a one-element array; a discarded
        // transaction is a single error in it, a committed one the array of results.
        let exec = match values.as_slice() {
            [redis::Value::Array(_)] | [redis::Value::ServerError(_)] => {
                values.into_iter().next().expect("one element")
            }
            _ => redis::Value::Array(values),
        };
        match exec {
            redis::Value::ServerError(e) => Err(RedisError::Server(server_error(&e))),
            redis::Value::Array(items) => Ok(items.into_iter().map(reply).collect()),
            redis::Value::Nil => Err(RedisError::Protocol("transaction was aborted".to_owned())),
            other => Err(RedisError::Protocol(format!(
                "unexpected EXEC reply {other:?}"
            ))),
        }
    }
}

fn to_redis(cmd: &Cmd) -> redis::Cmd {
    let (name, args) = cmd.parts().split_first().expect("a command has a name");
    let mut command = redis::cmd(&String::from_utf8_lossy(name));
    for arg in args {
        command.arg(arg.as_slice());
    }
    command
}

fn single(
    result: redis::RedisResult<redis::Value>,
    timeout: Duration,
) -> Result<Value, RedisError> {
    match result {
        Ok(value) => reply(value).map_err(RedisError::Server),
        Err(e) => Err(map_error(e, timeout)),
    }
}

fn reply(value: redis::Value) -> Reply {
    match value {
        redis::Value::ServerError(e) => Err(server_error(&e)),
        other => Ok(convert(other)),
    }
}

/// RESP3-only shapes never reach us (we speak RESP2), but are mapped the way RESP2 would say them.
fn convert(value: redis::Value) -> Value {
    use redis::Value as R;
    match value {
        R::Nil => Value::Nil,
        R::Int(n) => Value::Int(n),
        R::BulkString(b) => Value::Bytes(b),
        R::SimpleString(s) => Value::Bytes(s.into_bytes()),
        R::Okay => Value::Bytes(b"OK".to_vec()),
        R::Array(items) | R::Set(items) => Value::Array(items.into_iter().map(convert).collect()),
        R::Map(pairs) => Value::Array(
            pairs
                .into_iter()
                .flat_map(|(k, v)| [convert(k), convert(v)])
                .collect(),
        ),
        R::Boolean(b) => Value::Int(i64::from(b)),
        R::Double(d) => Value::Bytes(d.to_string().into_bytes()),
        R::VerbatimString { text, .. } => Value::Bytes(text.into_bytes()),
        R::BigNumber(n) => Value::Bytes(n),
        R::Attribute { data, .. } => convert(*data),
        R::Push { data, .. } => Value::Array(data.into_iter().map(convert).collect()),
        R::ServerError(e) => Value::Bytes(server_error(&e).0.into_bytes()),
        _ => Value::Nil,
    }
}

fn server_error(e: &redis::ServerError) -> ServerError {
    ServerError(match e.details() {
        Some(detail) => format!("{} {detail}", e.code()),
        None => e.code().to_owned(),
    })
}

/// `timeout` is the wait that applied, so a timeout error says how long it was.
fn map_error(e: redis::RedisError, timeout: Duration) -> RedisError {
    if let Some(code) = e.code() {
        return RedisError::Server(ServerError(match e.detail() {
            Some(detail) => format!("{code} {detail}"),
            None => code.to_owned(),
        }));
    }
    if e.is_timeout() {
        return RedisError::Timeout(timeout);
    }
    if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() {
        return RedisError::Connection(Box::new(e));
    }
    RedisError::Protocol(e.to_string())
}
