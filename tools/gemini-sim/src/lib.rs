//! gemini-sim: a local, faithful simulator of the Gemini `generateContent` REST API.
//!
//! It owns the wire format as a *server*: request parsing (camelCase and snake_case), the
//! real error envelopes of specs/gemini.md §4, a per-key RPM limit with real 429 bodies
//! (`QuotaFailure` + `RetryInfo` with the true time left in the window), fault injection
//! (503, 500, held calls, prompt blocks), real PNG images at the requested aspect ratio and
//! size class, and schema-satisfying JSON for structured-output requests. Tests start it
//! in-process with [`spawn_local`]; the end-to-end run uses the `gemini-sim` binary.
//! It knows nothing about the client crate, so the client is tested against an independent
//! implementation of the protocol.
//!
//! # Layout
//! - `config.rs`: [`SimConfig`] (tests) and [`SimArgs`] (binary flags / `GEMINI_SIM_*`).
//! - `server.rs`: routes and the generateContent pipeline and its validation 400s.
//! - `respond.rs`: 200 bodies (images, JSON, text, blocks); `render.rs`: PNG sizes + pixels;
//!   `schema.rs`: JSON documents from a response schema.
//! - `unknown.rs`: the "Unknown name … Cannot find field." 400s.
//! - `envelope.rs`: the real error bodies; `hooks.rs`: `[[sim:…]]` prompt test hooks.
//! - `state.rs`: counters ([`SimStats`]) and per-key windows; `error.rs`: [`SimError`].

mod config;
mod envelope;
mod error;
mod hooks;
mod render;
mod respond;
mod schema;
mod server;
mod state;
mod unknown;
mod wire;

use std::net::SocketAddr;

pub use config::{LatencyRange, SimArgs, SimConfig};
pub use error::SimError;
pub use state::SimStats;

use state::AppState;

/// A running in-process simulator. Dropping it stops the server (held calls end at once).
#[derive(Debug)]
pub struct SpawnedSim {
    addr: SocketAddr,
    state: AppState,
    shutdown: tokio::sync::watch::Sender<bool>,
}

impl SpawnedSim {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A snapshot of the counters (same data as `GET /_sim/stats`).
    pub fn stats(&self) -> SimStats {
        self.state.stats()
    }

    /// Clears counters and rate windows (same as `POST /_sim/reset`).
    pub fn reset(&self) {
        self.state.reset();
    }
}

impl Drop for SpawnedSim {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

async fn bind(config: &SimConfig) -> Result<tokio::net::TcpListener, SimError> {
    config.validate()?;
    tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| SimError::Bind {
            addr: config.listen.to_string(),
            source,
        })
}

/// Starts the simulator on a background task; returns its base URL (`http://127.0.0.1:PORT`,
/// no trailing slash) and the handle that keeps it alive.
pub async fn spawn_local(config: SimConfig) -> anyhow::Result<(String, SpawnedSim)> {
    let listener = bind(&config).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::watch::channel(false);
    let state = AppState::new(config, rx.clone());
    let router = server::router(state.clone());
    tokio::spawn(async move {
        let mut rx = rx;
        let result = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = rx.wait_for(|stop| *stop).await;
            })
            .await;
        if let Err(error) = result {
            tracing::warn!(%error, "gemini-sim server ended with an error");
        }
    });
    Ok((
        format!("http://{addr}"),
        SpawnedSim {
            addr,
            state,
            shutdown: tx,
        },
    ))
}

/// Runs the simulator in the foreground until Ctrl-C / SIGTERM (the binary's main loop).
pub async fn serve(config: SimConfig) -> anyhow::Result<()> {
    let listener = bind(&config).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::watch::channel(false);
    tracing::info!(
        %addr,
        rpm_per_key = config.rpm_per_key,
        minute_ms = config.minute.as_millis() as u64,
        invalid_keys = config.invalid_keys.len(),
        "gemini-sim listening"
    );
    let state = AppState::new(config, rx);
    axum::serve(listener, server::router(state))
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            // Release held ("timeout") calls so shutdown is not blocked for minutes.
            let _ = tx.send(true);
        })
        .await?;
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
