use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::{Cmd, RedisError, ServerError, Value};

/// One element of a pipeline or transaction reply: Redis answers each command on its own.
pub type Reply = Result<Value, ServerError>;

/// Which wire a transport speaks, for logs and for tests that run on both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    Rest,
    Tcp,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Rest => "rest",
            Self::Tcp => "tcp",
        })
    }
}

/// The internal seam between our scripts and the wire. Implementations must give the same
/// answers for the same commands; the conformance suite in `tests/conformance.rs` holds them to it.
#[async_trait]
pub trait RedisTransport: Send + Sync + fmt::Debug + 'static {
    fn kind(&self) -> TransportKind;

    /// One command. A Redis error reply is `Err(RedisError::Server)`.
    async fn query(&self, cmd: &Cmd) -> Result<Value, RedisError>;

    /// Several commands in order, in one round trip, not atomic; each has its own reply.
    async fn pipeline(&self, cmds: &[Cmd]) -> Result<Vec<Reply>, RedisError>;

    /// Several commands atomically (MULTI/EXEC). A command rejected while queueing discards the
    /// whole transaction (`Err(Server("EXECABORT …"))`); runtime errors are per command.
    async fn transaction(&self, cmds: &[Cmd]) -> Result<Vec<Reply>, RedisError>;
}

/// A cheap-to-clone handle over either transport; what the rest of the system holds.
#[derive(Debug, Clone)]
pub struct Redis(Arc<dyn RedisTransport>);

impl Redis {
    pub fn new(transport: impl RedisTransport) -> Self {
        Self(Arc::new(transport))
    }

    pub fn kind(&self) -> TransportKind {
        self.0.kind()
    }

    pub async fn query(&self, cmd: &Cmd) -> Result<Value, RedisError> {
        self.0.query(cmd).await
    }

    pub async fn pipeline(&self, cmds: &[Cmd]) -> Result<Vec<Reply>, RedisError> {
        if cmds.is_empty() {
            return Ok(Vec::new());
        }
        self.0.pipeline(cmds).await
    }

    pub async fn transaction(&self, cmds: &[Cmd]) -> Result<Vec<Reply>, RedisError> {
        if cmds.is_empty() {
            return Ok(Vec::new());
        }
        self.0.transaction(cmds).await
    }
}
