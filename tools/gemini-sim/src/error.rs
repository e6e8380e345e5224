//! Errors of the simulator itself (bad flags, bind failures), not the API errors it simulates;
//! those are built in `envelope.rs`.

/// A problem starting the simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// `--latency-ms` must look like `MIN..MAX` (or a single number) with MIN <= MAX.
    #[error("invalid latency range {0:?}: expected MIN..MAX in milliseconds")]
    InvalidLatency(String),
    /// A rate flag outside 0.0..=1.0.
    #[error("{flag} must be between 0.0 and 1.0, got {value}")]
    InvalidRate { flag: &'static str, value: f64 },
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
}
