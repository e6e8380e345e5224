//! A local server that speaks the Upstash Redis REST protocol in front of a plain redis-server.
//!
//! This crate owns the gateway: request parsing (JSON body, pipeline, multi-exec and path form),
//! bearer/`_token` auth, the list of commands refused over REST, Upstash's Lua shebang quirk,
//! and the JSON/base64 response encoding. It talks RESP2 to Redis through one auto-reconnecting
//! multiplexed connection. It knows nothing about Scenergy's jobs; tests and the local dev stack
//! use it so code written against Upstash REST runs against redis-server.

mod args;
mod backend;
mod encode;
mod forbidden;
mod prepare;
mod routes;
mod scripts;

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Default cap on a request body (Upstash's free-tier max request size).
pub const DEFAULT_MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// Default time Redis gets to answer one request (a command, pipeline or transaction).
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// Settings of one gateway instance.
#[derive(Clone)]
pub struct GatewayConfig {
    /// `redis://` or `rediss://` URL of the backing redis-server (a `/N` database is honoured).
    pub redis_url: String,
    /// The REST token clients must present (`Authorization: Bearer` or `?_token=`).
    pub token: String,
    /// Largest accepted request body; bigger bodies get 413.
    pub max_body_bytes: usize,
    /// How long Redis may take to answer one request before the client gets 504.
    pub command_timeout: Duration,
    /// How long one attempt to connect to Redis may take.
    pub connect_timeout: Duration,
}

impl GatewayConfig {
    /// A config with default limits.
    pub fn new(redis_url: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            redis_url: redis_url.into(),
            token: token.into(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
            connect_timeout: Duration::from_secs(2),
        }
    }
}

impl fmt::Debug for GatewayConfig {
    // The token is a secret; the URL may carry a password, so only its presence is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatewayConfig")
            .field("redis_url", &"<set>")
            .field("token", &"<redacted>")
            .field("max_body_bytes", &self.max_body_bytes)
            .field("command_timeout", &self.command_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

/// Why the gateway could not start or keep serving.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("invalid gateway config: {0}")]
    Config(String),
    #[error("could not connect to Redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("gateway I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Builds the router; connects to Redis first, so a wrong URL or a stopped server fails here.
pub async fn app(config: GatewayConfig) -> Result<axum::Router, GatewayError> {
    if config.token.is_empty() {
        return Err(GatewayError::Config(
            "the token must not be empty".to_owned(),
        ));
    }
    let backend = backend::Backend::connect(&config).await?;
    Ok(routes::router(backend, &config))
}

/// Serves the gateway on `listener` until `shutdown` resolves, then drains open requests.
/// Logs one line with the listen address once Redis is connected.
pub async fn serve(
    listener: TcpListener,
    config: GatewayConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), GatewayError> {
    let router = app(config).await?;
    tracing::info!(listen = %listener.local_addr()?, "upstash-gateway listening");
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// A gateway running in a background task; dropping it stops the server.
#[derive(Debug)]
pub struct SpawnedGateway {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl SpawnedGateway {
    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops gracefully: lets in-flight requests finish (bounded to 5 s), then returns.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for SpawnedGateway {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Binds 127.0.0.1:0, serves in a background tokio task, returns the base URL
/// ("http://127.0.0.1:PORT") and a handle that stops the server on drop.
pub async fn spawn_local(config: GatewayConfig) -> Result<(String, SpawnedGateway), GatewayError> {
    let router = app(config).await?;
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
    });
    let handle = SpawnedGateway {
        addr,
        stop: Some(stop),
        task: Some(task),
    };
    Ok((format!("http://{addr}"), handle))
}

/// Resolves on ctrl-c or (on Unix) SIGTERM; for the binary's graceful shutdown.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
