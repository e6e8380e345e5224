//! One Redis protocol over two transports.
//!
//! Every queue, status and rate-limit operation in Scenergy is a Lua script, so the rest of the
//! system needs very little from Redis: run a command, run a pipeline, run a transaction, and run
//! a script by SHA with a fallback to its source. [`RedisTransport`] is that seam, and it is
//! internal: it exists so the same scripts behave the same way whether they travel
//!
//! - over **Upstash REST** ([`RestTransport`], reqwest; used by the Lambda functions, which cannot
//!   hold TCP connections across invocations), or
//! - over **RESP on TCP/TLS** ([`TcpTransport`], the `redis` crate's connection manager; used by
//!   the worker, which reconnects by itself after a Redis restart).
//!
//! Both return the same [`Value`] shape. Upstash's REST API cannot tell a status reply from a
//! bulk string, so neither can we: both are [`Value::Bytes`].
//!
//! # Layout
//! - [`cmd`]: the command builder and argument encoding.
//! - [`value`]: replies and the accessors scripts' wrappers use.
//! - [`script`]: Lua scripts, EVALSHA with EVAL fallback, batched calls.
//! - [`rest`], [`tcp`]: the two transports.
//! - [`config`]: choosing a transport from the environment.
//!
//! This crate must not know any key names or scripts of its own; those belong to the crates that
//! own the data (the queue, the rate limiter, the key pool).

pub mod cmd;
pub mod config;
mod error;
pub mod rest;
pub mod script;
pub mod tcp;
mod transport;
pub mod value;

pub use cmd::{Arg, Cmd};
pub use config::{RedisConfig, connect};
pub use error::{RedisError, ServerError};
pub use rest::{RestConfig, RestTransport};
pub use script::{Script, ScriptCall, run_all};
pub use tcp::{TcpConfig, TcpTransport};
pub use transport::{Redis, RedisTransport, Reply, TransportKind};
pub use value::Value;
