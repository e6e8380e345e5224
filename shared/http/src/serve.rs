//! Runs one Router either under the Lambda runtime or as a plain HTTP server.

use anyhow::Context;
use axum::Router;
use scenergy_config::Env;

/// Under Lambda (`AWS_LAMBDA_RUNTIME_API` is set) hands the Router to `lambda_http`; otherwise
/// serves it on `HOST:PORT` (default `127.0.0.1:8080`) until SIGTERM or ctrl-c.
pub async fn run(app: Router, service: &str) -> anyhow::Result<()> {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        tracing::info!(service, "serving under the Lambda runtime");
        return lambda_http::run(app)
            .await
            .map_err(|e| anyhow::anyhow!(e))
            .context("The Lambda runtime stopped");
    }
    let env = Env::process();
    let port: u16 = env.or("PORT", 8080)?;
    let host: String = env.or("HOST", "127.0.0.1".to_owned())?;
    let listener = tokio::net::TcpListener::bind((host.as_str(), port))
        .await
        .with_context(|| format!("Failed to listen on {host}:{port}"))?;
    tracing::info!(service, addr = %listener.local_addr()?, "listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("The HTTP server stopped with an error")
}

/// Resolves on SIGTERM (what Cloud Run and Lambda send) or ctrl-c.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
