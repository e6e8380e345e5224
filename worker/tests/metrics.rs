//! `GET /metrics`: the text exposition format parsed back, with the process's counters and
//! histograms, queue depth by priority read at scrape time and the key pool's shared state.

mod monitoring;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use monitoring::{TEST_TIMEOUT, cleanup, queue};
use scenergy_config::SecretString;
use scenergy_keypool::{ApiKey, KeyOutcome, KeyPool, PoolConfig};
use scenergy_queue::{NewJob, Priority, now_ms};
use scenergy_testkit::bounded;
use scenergy_worker::JobEnd;
use scenergy_worker::metrics::{CONTENT_TYPE, Metrics, MetricsState, router};
use serde_json::json;

/// One sample: metric name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

/// A strict reader of the text format: every sample belongs to a family declared by
/// `# HELP` and `# TYPE` before it, label values are quoted and escaped, values are numbers.
fn parse(text: &str) -> Vec<Sample> {
    let mut declared: HashSet<String> = HashSet::new();
    let mut helped: HashSet<String> = HashSet::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            helped.insert(rest.split(' ').next().unwrap().to_owned());
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split(' ');
            let name = parts.next().unwrap().to_owned();
            let kind = parts.next().unwrap();
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            assert!(helped.contains(&name), "TYPE before HELP: {line}");
            declared.insert(name);
            continue;
        }
        assert!(!line.starts_with('#') && !line.is_empty(), "{line:?}");
        let (series, value) = line.rsplit_once(' ').unwrap();
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("value of {line}"));
        let (name, labels) = match series.split_once('{') {
            None => (series.to_owned(), BTreeMap::new()),
            Some((name, rest)) => {
                let inner = rest.strip_suffix('}').unwrap_or_else(|| panic!("{line}"));
                let mut labels = BTreeMap::new();
                let mut chars = inner.chars().peekable();
                while chars.peek().is_some() {
                    let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
                    assert_eq!(chars.next(), Some('"'), "{line}");
                    let mut v = String::new();
                    loop {
                        match chars.next().unwrap_or_else(|| panic!("{line}")) {
                            '\\' => match chars.next() {
                                Some('n') => v.push('\n'),
                                Some(c) => v.push(c),
                                None => panic!("{line}"),
                            },
                            '"' => break,
                            c => v.push(c),
                        }
                    }
                    labels.insert(key, v);
                    if chars.peek() == Some(&',') {
                        chars.next();
                    }
                }
                (name.to_owned(), labels)
            }
        };
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|f| declared.contains(*f)))
            .unwrap_or(&name);
        assert!(declared.contains(family), "undeclared family: {line}");
        samples.push((name, labels, value));
    }
    samples
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|(n, l, _)| {
            n == name
                && labels.len() == l.len()
                && labels
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|(_, _, v)| *v)
}

#[tokio::test]
async fn the_scrape_parses_and_carries_every_family() {
    bounded(TEST_TIMEOUT, async {
        let (q, redis) = queue().await;
        for (n, p) in [
            Priority::Urgent,
            Priority::Normal,
            Priority::Normal,
            Priority::Batch,
        ]
        .into_iter()
        .enumerate()
        {
            q.enqueue(NewJob::new("image_generation", "c", json!({ "n": n })).priority(p))
                .await
                .unwrap();
        }
        q.claim("w", 1, 30_000, now_ms()).await.unwrap();
        let tag: u32 = rand::random();
        let keys = vec![
            ApiKey::new(format!("AIza-metrics-{tag:08x}-1")),
            ApiKey::new(format!("AIza-metrics-{tag:08x}-2")),
        ];
        let namespace = format!("mt-{tag:08x}");
        let pool = Arc::new(
            KeyPool::new(
                redis.clone(),
                keys,
                PoolConfig::with_window(namespace.clone(), Duration::from_secs(60)),
            )
            .unwrap(),
        );
        let lease = pool
            .acquire(tokio::time::Instant::now() + Duration::from_secs(5))
            .await
            .unwrap();
        let outcome = KeyOutcome::RateLimited {
            retry_after: Some(Duration::from_secs(30)),
        };
        pool.report(&lease, outcome).await.unwrap();

        let metrics = Arc::new(Metrics::default());
        metrics.job_finished(
            "image_generation",
            JobEnd::Completed,
            Duration::from_secs(42),
        );
        metrics.job_finished(
            "image_generation",
            JobEnd::Failed,
            Duration::from_millis(900),
        );
        metrics.item_finished("stored", Duration::from_millis(1_500));
        metrics.item_finished("failed-retryable", Duration::from_secs(3));
        metrics.gemini_call(lease.id(), KeyOutcome::Success);
        metrics.gemini_call(lease.id(), outcome);
        metrics.rate_limited("queue_start_rate");
        // A hostile job type cannot break the format.
        metrics.job_finished("we\"ird\\type\n", JobEnd::Lost, Duration::from_secs(1));

        let state = MetricsState {
            metrics,
            queues: vec![q.clone()],
            pool: Some(pool.clone()),
            token: None,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/metrics", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router(state)).await.unwrap() });
        let response = reqwest::get(&url).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], CONTENT_TYPE);
        let text = response.text().await.unwrap();
        let s = parse(&text);

        let job = |state| {
            value(
                &s,
                "scenergy_jobs_total",
                &[("type", "image_generation"), ("state", state)],
            )
        };
        assert_eq!((job("completed"), job("failed")), (Some(1.0), Some(1.0)));
        assert_eq!(
            value(
                &s,
                "scenergy_jobs_total",
                &[("type", "we\"ird\\type\n"), ("state", "lost")]
            ),
            Some(1.0)
        );
        let bucket = |le| {
            value(
                &s,
                "scenergy_job_duration_seconds_bucket",
                &[("type", "image_generation"), ("le", le)],
            )
        };
        assert_eq!(
            (bucket("1"), bucket("30"), bucket("60"), bucket("+Inf")),
            (Some(1.0), Some(1.0), Some(2.0), Some(2.0))
        );
        let sum = value(
            &s,
            "scenergy_job_duration_seconds_sum",
            &[("type", "image_generation")],
        )
        .unwrap();
        assert!((sum - 42.9).abs() < 1e-9, "{sum}");
        assert_eq!(
            value(&s, "scenergy_items_total", &[("outcome", "stored")]),
            Some(1.0)
        );
        assert_eq!(
            value(
                &s,
                "scenergy_item_duration_seconds_count",
                &[("outcome", "failed-retryable")]
            ),
            Some(1.0)
        );
        let calls = |outcome| {
            value(
                &s,
                "scenergy_gemini_calls_total",
                &[("key", lease.id()), ("outcome", outcome)],
            )
        };
        assert_eq!(
            (calls("success"), calls("rate_limited")),
            (Some(1.0), Some(1.0))
        );
        assert_eq!(
            value(
                &s,
                "scenergy_gemini_cooldowns_total",
                &[("key", lease.id())]
            ),
            Some(1.0)
        );
        assert_eq!(
            value(
                &s,
                "scenergy_rate_limit_refusals_total",
                &[("limiter", "queue_start_rate")]
            ),
            Some(1.0)
        );

        // Read at scrape time from the queue.
        let name = q.name();
        let waiting = |p| {
            value(
                &s,
                "scenergy_queue_waiting",
                &[("queue", name), ("priority", p)],
            )
        };
        assert_eq!(
            (waiting("urgent"), waiting("normal"), waiting("batch")),
            (Some(0.0), Some(2.0), Some(1.0))
        );
        let jobs = |state| {
            value(
                &s,
                "scenergy_queue_jobs",
                &[("queue", name), ("state", state)],
            )
        };
        assert_eq!((jobs("waiting"), jobs("active")), (Some(3.0), Some(1.0)));
        assert_eq!(
            value(&s, "scenergy_queue_up", &[("queue", name)]),
            Some(1.0)
        );
        assert_eq!(
            value(&s, "scenergy_queue_paused", &[("queue", name)]),
            Some(0.0)
        );
        assert!(
            value(
                &s,
                "scenergy_queue_oldest_waiting_seconds",
                &[("queue", name)]
            )
            .unwrap()
                >= 0.0
        );
        // And from the key pool.
        assert_eq!(
            value(
                &s,
                "scenergy_gemini_key_calls_total",
                &[("key", lease.id())]
            ),
            Some(1.0)
        );
        assert_eq!(
            value(
                &s,
                "scenergy_gemini_key_rate_limited_total",
                &[("key", lease.id())]
            ),
            Some(1.0)
        );
        assert_eq!(
            value(
                &s,
                "scenergy_gemini_key_state",
                &[("key", lease.id()), ("state", "cooling")]
            ),
            Some(1.0)
        );
        assert_eq!(value(&s, "scenergy_gemini_keys_cooling", &[]), Some(1.0));
        assert!(!text.contains("AIza"), "no key in the scrape");

        redis
            .query(
                &scenergy_redis::Cmd::new("DEL")
                    .arg(format!("{{keys:{namespace}}}:state"))
                    .arg(format!("{{keys:{namespace}}}:events")),
            )
            .await
            .unwrap();
        cleanup(&q).await;
    })
    .await;
}

#[tokio::test]
async fn a_metrics_token_is_required_when_set() {
    bounded(TEST_TIMEOUT, async {
        let (q, _redis) = queue().await;
        let state = MetricsState {
            metrics: Arc::new(Metrics::default()),
            queues: vec![q.clone()],
            pool: None,
            token: Some(SecretString::from("metrics-token-0123456789")),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/metrics", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router(state)).await.unwrap() });
        let client = reqwest::Client::new();
        assert_eq!(client.get(&url).send().await.unwrap().status(), 401);
        let ok = client
            .get(&url)
            .bearer_auth("metrics-token-0123456789")
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200);
        parse(&ok.text().await.unwrap());
        cleanup(&q).await;
    })
    .await;
}
