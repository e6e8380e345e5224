//! The event formatter: one JSON object per line.

use std::fmt;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// Formats events as JSON lines with `timestamp, level, service, message` first, or, for
/// Lambda's `AWS_LAMBDA_LOG_FORMAT=Text`, as plain `LEVEL message key=value …` lines (no
/// timestamp: CloudWatch stamps every line itself).
#[derive(Debug, Clone)]
pub struct JsonLines {
    service: String,
    severity: bool,
    text: bool,
}

impl JsonLines {
    pub fn new(service: &str) -> Self {
        Self {
            service: service.to_owned(),
            severity: false,
            text: false,
        }
    }

    /// Adds Cloud Logging's `severity` field.
    pub fn with_severity(mut self, on: bool) -> Self {
        self.severity = on;
        self
    }

    /// Plain text lines instead of JSON (Lambda's `Text` log format).
    pub fn with_text(mut self, on: bool) -> Self {
        self.text = on;
        self
    }
}

/// `LEVEL message key=value …`, values as JSON so spaces and quotes stay unambiguous.
fn text_line(line: &Map<String, Value>) -> String {
    let mut out = String::new();
    out.push_str(line["level"].as_str().unwrap_or_default());
    out.push(' ');
    out.push_str(line["message"].as_str().unwrap_or_default());
    for (k, v) in line {
        if matches!(k.as_str(), "timestamp" | "level" | "message" | "severity") {
            continue;
        }
        out.push(' ');
        out.push_str(k);
        out.push('=');
        match v {
            Value::String(s) if !s.is_empty() && !s.contains([' ', '"', '=', '\\']) => {
                out.push_str(s);
            }
            other => out.push_str(&other.to_string()),
        }
    }
    out
}

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let mut line = Map::new();
        line.insert("timestamp".into(), Value::String(now_rfc3339()));
        line.insert("level".into(), Value::String(meta.level().to_string()));
        if self.severity {
            line.insert(
                "severity".into(),
                Value::String(severity(*meta.level()).into()),
            );
        }
        line.insert("service".into(), Value::String(self.service.clone()));
        line.insert("message".into(), Value::String(String::new()));
        line.insert("target".into(), Value::String(meta.target().to_owned()));

        // Span fields first (outermost to innermost), so an event's own field of the same name
        // wins. JsonFields stored each span's fields as a JSON object string.
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let ext = span.extensions();
                let Some(fields) = ext.get::<FormattedFields<JsonFields>>() else {
                    continue;
                };
                if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(fields) {
                    for (k, v) in map {
                        line.insert(camel_case(&k), v);
                    }
                }
            }
        }

        let mut visitor = FieldVisitor(&mut line);
        event.record(&mut visitor);

        let text = if self.text {
            text_line(&line)
        } else {
            serde_json::to_string(&line).map_err(|_| fmt::Error)?
        };
        writeln!(writer, "{text}")
    }
}

struct FieldVisitor<'a>(&'a mut Map<String, Value>);

impl FieldVisitor<'_> {
    fn put(&mut self, field: &Field, value: Value) {
        self.0.insert(camel_case(field.name()), value);
    }
}

impl Visit for FieldVisitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_owned()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        // The whole cause chain, so an operator sees why, not only what.
        let mut chain = value.to_string();
        let mut source = value.source();
        while let Some(cause) = source {
            chain.push_str(": ");
            chain.push_str(&cause.to_string());
            source = cause.source();
        }
        self.put(field, Value::String(chain));
    }
}

fn severity(level: Level) -> &'static str {
    match level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARNING",
        Level::INFO => "INFO",
        Level::DEBUG | Level::TRACE => "DEBUG",
    }
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// `job_id` → `jobId`; names without underscores pass through unchanged.
fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
        type Writer = Capture;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    fn lines(capture: &Capture) -> Vec<Value> {
        let bytes = capture.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).expect("every line is JSON"))
            .collect()
    }

    #[test]
    fn events_carry_the_design_fields_and_span_fields() {
        let capture = Capture::default();
        let subscriber = crate::get_subscriber("worker", "info", capture.clone());
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("job", job_id = "job-42");
            let _guard = span.enter();
            tracing::info!(duration = 1250_u64, "job finished");
        });
        let lines = lines(&capture);
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["service"], "worker");
        assert_eq!(line["message"], "job finished");
        assert_eq!(line["jobId"], "job-42");
        assert_eq!(line["duration"], 1250);
        let ts = line["timestamp"].as_str().unwrap();
        assert!(
            time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339).is_ok(),
            "{ts}"
        );
        // `message` is the fourth key: the design's fields lead every line.
        let keys: Vec<_> = line.as_object().unwrap().keys().cloned().collect();
        assert_eq!(&keys[..4], ["timestamp", "level", "service", "message"]);
    }

    #[test]
    fn severity_is_added_for_cloud_logging_and_errors_keep_their_chain() {
        let capture = Capture::default();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .fmt_fields(JsonFields::new())
                .event_format(JsonLines::new("worker").with_severity(true))
                .with_writer(capture.clone()),
        );
        let err = io::Error::other(io::Error::new(io::ErrorKind::TimedOut, "redis timed out"));
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(
                error = &err as &(dyn std::error::Error + 'static),
                "claim failed"
            );
        });
        let line = &lines(&capture)[0];
        assert_eq!(line["severity"], "WARNING");
        assert!(line["error"].as_str().unwrap().contains("redis timed out"));
    }

    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn snake_case_becomes_camel_case() {
        assert_eq!(camel_case("job_id"), "jobId");
        assert_eq!(camel_case("duration"), "duration");
        assert_eq!(camel_case("error_cause_chain"), "errorCauseChain");
        assert_eq!(camel_case("_private"), "private");
    }
}

#[cfg(test)]
mod lambda_tests {
    use std::collections::HashMap;
    use std::io;
    use std::sync::{Arc, Mutex};

    use crate::{LogSettings, subscriber_with};

    fn settings(pairs: &[(&str, &str)]) -> LogSettings {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        LogSettings::from_vars(|k| map.get(k).cloned(), "info")
    }

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
        type Writer = Capture;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    fn run(settings: &LogSettings) -> String {
        let capture = Capture::default();
        let subscriber = subscriber_with("status", settings, capture.clone());
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!("a debug line");
            tracing::info!(job_id = "images_1", duration = 12_u64, "job read");
            tracing::error!(reason = "two words", "failed");
        });
        String::from_utf8(capture.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn the_level_follows_rust_log_then_lambda_then_log_level() {
        assert_eq!(settings(&[]).filter, "info");
        assert_eq!(settings(&[("LOG_LEVEL", "warn")]).filter, "warn");
        assert_eq!(
            settings(&[("LOG_LEVEL", "warn"), ("AWS_LAMBDA_LOG_LEVEL", "DEBUG")]).filter,
            "debug"
        );
        assert_eq!(
            settings(&[("AWS_LAMBDA_LOG_LEVEL", "FATAL")]).filter,
            "error"
        );
        assert_eq!(
            settings(&[("RUST_LOG", "trace"), ("AWS_LAMBDA_LOG_LEVEL", "ERROR")]).filter,
            "trace"
        );
        let out = run(&settings(&[("AWS_LAMBDA_LOG_LEVEL", "ERROR")]));
        assert_eq!(out.lines().count(), 1, "{out}");
        let out = run(&settings(&[("AWS_LAMBDA_LOG_LEVEL", "DEBUG")]));
        assert_eq!(out.lines().count(), 3, "{out}");
    }

    #[test]
    fn the_lambda_log_format_picks_json_or_text() {
        for json in [&[][..], &[("AWS_LAMBDA_LOG_FORMAT", "JSON")][..]] {
            let out = run(&settings(json));
            for line in out.lines() {
                let v: serde_json::Value = serde_json::from_str(line).expect("JSON lines");
                assert!(v["timestamp"].is_string() && v["level"].is_string());
            }
        }
        let text = settings(&[("AWS_LAMBDA_LOG_FORMAT", "Text")]);
        assert!(text.text);
        let out = run(&text);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert!(lines[0].starts_with("INFO job read "), "{}", lines[0]);
        assert!(lines[0].contains(" service=status"), "{}", lines[0]);
        assert!(lines[0].contains(" jobId=images_1") && lines[0].contains(" duration=12"));
        assert!(lines[1].starts_with("ERROR failed ") && lines[1].contains("reason=\"two words\""));
        assert!(
            !lines[0].contains("timestamp"),
            "CloudWatch stamps text lines itself"
        );
    }
}
