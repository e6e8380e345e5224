//! Structured JSON logging shared by every binary.
//!
//! One line per event, one JSON object per line, with the fields the original design asked for:
//! `timestamp`, `level`, `service`, `message`, followed by the event's own fields and those of the
//! spans it runs in (`jobId`, `duration`, …). Rust code names fields in snake_case (`job_id`);
//! they are written in camelCase (`jobId`) so the logs match the JSON the API speaks. On Cloud Run
//! (detected by `K_SERVICE`) each line also carries `severity`, which Cloud Logging reads. On
//! Lambda, the advanced logging controls apply: `AWS_LAMBDA_LOG_FORMAT=Text` switches to plain
//! text lines, `JSON` (or unset) keeps JSON, and `AWS_LAMBDA_LOG_LEVEL` (`TRACE` … `FATAL`) sets
//! the level unless `RUST_LOG` says otherwise, as in the Lambda runtime's own subscriber.
//! This crate must stay free of any service logic: it only formats and installs the subscriber.

mod format;

pub use format::JsonLines;

use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{EnvFilter, Registry};

/// How the logs of a process look, read from its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    /// An `EnvFilter` spec.
    pub filter: String,
    /// Plain text lines (`AWS_LAMBDA_LOG_FORMAT=Text`) instead of JSON.
    pub text: bool,
    /// Cloud Logging's `severity` field (on Cloud Run, `K_SERVICE` is set).
    pub severity: bool,
}

impl LogSettings {
    /// The filter is `RUST_LOG`, else `AWS_LAMBDA_LOG_LEVEL` (`FATAL` read as `error`), else
    /// `LOG_LEVEL`, else `default_filter`.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>, default_filter: &str) -> Self {
        let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let lambda_level = set("AWS_LAMBDA_LOG_LEVEL").map(|level| {
            let level = level.trim().to_ascii_lowercase();
            if level == "fatal" {
                "error".to_owned()
            } else {
                level
            }
        });
        let filter = set("RUST_LOG")
            .or(lambda_level)
            .or_else(|| set("LOG_LEVEL"))
            .unwrap_or_else(|| default_filter.to_owned());
        Self {
            filter,
            text: set("AWS_LAMBDA_LOG_FORMAT")
                .is_some_and(|f| f.trim().eq_ignore_ascii_case("text")),
            severity: set("K_SERVICE").is_some(),
        }
    }

    /// From the process environment.
    pub fn from_env(default_filter: &str) -> Self {
        Self::from_vars(|name| std::env::var(name).ok(), default_filter)
    }
}

/// Builds the subscriber from the process environment ([`LogSettings::from_env`]);
/// `default_filter` is used when no level variable is set. Generic over the sink so tests can
/// capture output (or pass `std::io::sink`).
pub fn get_subscriber<W>(
    service: &str,
    default_filter: &str,
    sink: W,
) -> impl Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    subscriber_with(service, &LogSettings::from_env(default_filter), sink)
}

/// [`get_subscriber`] with explicit settings.
pub fn subscriber_with<W>(
    service: &str,
    settings: &LogSettings,
    sink: W,
) -> impl Subscriber + Send + Sync + use<W>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(&settings.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let format = JsonLines::new(service)
        .with_severity(settings.severity)
        .with_text(settings.text);
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
