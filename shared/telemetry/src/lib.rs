//! Structured JSON logging shared by every binary.
//!
//! One line per event, one JSON object per line, with the fields the original design asked for:
//! `timestamp`, `level`, `service`, `message`, followed by the event's own fields and those of the
//! spans it runs in (`jobId`, `duration`, …). Rust code names fields in snake_case (`job_id`);
//! they are written in camelCase (`jobId`) so the logs match the JSON the API speaks. On Cloud Run
//! (detected by `K_SERVICE`) each line also carries `severity`, which Cloud Logging reads.
//! This crate must stay free of any service logic: it only formats and installs the subscriber.

mod format;

pub use format::JsonLines;

use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{EnvFilter, Registry};

/// Builds the subscriber: `filter` is used when neither `RUST_LOG` nor `LOG_LEVEL` is set.
/// Generic over the sink so tests can capture output (or pass `std::io::sink`).
pub fn get_subscriber<W>(
    service: &str,
    default_filter: &str,
    sink: W,
) -> impl Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = std::env::var("RUST_LOG")
        .or_else(|_| std::env::var("LOG_LEVEL"))
        .ok()
        .and_then(|spec| EnvFilter::try_new(spec).ok())
        .unwrap_or_else(|| EnvFilter::new(default_filter));
    let format = JsonLines::new(service).with_severity(std::env::var_os("K_SERVICE").is_some());
    Registry::default().with(filter).with(
        tracing_subscriber::fmt::layer()
            .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
            .event_format(format)
            .with_writer(sink),
    )
}

/// Installs the JSON subscriber on stdout for `service`. Call once, first thing in `main`.
pub fn init(service: &str) {
    // A second call (tests that start several apps in one process) keeps the first subscriber.
    let _ =
        tracing::subscriber::set_global_default(get_subscriber(service, "info", std::io::stdout));
}

/// Same as [`init`], on stderr: for CLIs whose stdout is their report.
pub fn init_stderr(service: &str) {
    let _ =
        tracing::subscriber::set_global_default(get_subscriber(service, "info", std::io::stderr));
}
