//! The worker wake, against local receivers: the http wake with its bearer token, the QStash
//! publish call (path, headers, one deduplication id per burst) and a black-holed wake URL
//! that must not hold the reply past `WAKE_TIMEOUT_MS`.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use common::{TEST_TIMEOUT, TestApp, body, serve};
use scenergy_testkit::bounded;

/// Headers of every request a receiver got.
type Seen = Arc<Mutex<Vec<HeaderMap>>>;

fn header(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// A stand-in worker: records each `POST /drain`.
async fn worker() -> (String, Seen) {
    let seen = Seen::default();
    let router = Router::new()
        .route(
            "/drain",
            post(|State(seen): State<Seen>, headers: HeaderMap| async move {
                seen.lock().unwrap().push(headers);
                StatusCode::OK
            }),
        )
        .with_state(seen.clone());
    (format!("{}/drain", serve(router).await), seen)
}

#[tokio::test]
async fn the_http_wake_reaches_the_worker_with_its_bearer_token() {
    bounded(TEST_TIMEOUT, async {
        let (drain, seen) = worker().await;
        let app = TestApp::spawn(&[
            ("WAKE_TRANSPORT", "http"),
            ("WORKER_WAKE_URL", &drain),
            ("WORKER_TOKEN", "worker-secret"),
        ])
        .await;
        assert_eq!(app.enqueue("acme", &body()).await.status(), 202);
        // Sent before the reply, so it has arrived by now.
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 1);
        assert_eq!(
            header(&seen[0], "authorization").as_deref(),
            Some("Bearer worker-secret")
        );
    })
    .await;
}

/// A stand-in QStash: checks the publish call, deduplicates on `Upstash-Deduplication-Id` the
/// way QStash documents (a duplicate is accepted with 202 and not delivered) and delivers new
/// messages to the destination with the forwarded headers.
#[derive(Clone, Default)]
struct FakeQstash {
    publishes: Arc<Mutex<Vec<(String, HeaderMap)>>>,
    dedup: Arc<Mutex<HashSet<String>>>,
}

async fn publish(
    State(q): State<FakeQstash>,
    Path(destination): Path<String>,
    headers: HeaderMap,
) -> (StatusCode, String) {
    q.publishes
        .lock()
        .unwrap()
        .push((destination.clone(), headers.clone()));
    if header(&headers, "authorization").as_deref() != Some("Bearer qstash-secret") {
        return (StatusCode::UNAUTHORIZED, "{}".to_owned());
    }
    let Some(id) = header(&headers, "upstash-deduplication-id") else {
        return (StatusCode::BAD_REQUEST, "{}".to_owned());
    };
    if !q.dedup.lock().unwrap().insert(id) {
        return (StatusCode::ACCEPTED, r#"{"messageId":"dup"}"#.to_owned());
    }
    let mut delivery = reqwest::Client::new().post(&destination);
    if let Some(auth) = header(&headers, "upstash-forward-authorization") {
        delivery = delivery.header("authorization", auth);
    }
    delivery.send().await.unwrap();
    (StatusCode::CREATED, r#"{"messageId":"m1"}"#.to_owned())
}

#[tokio::test]
async fn a_burst_of_qstash_wakes_shares_one_dedup_id_and_delivers_once() {
    bounded(TEST_TIMEOUT, async {
        let (drain, delivered) = worker().await;
        let qstash = FakeQstash::default();
        let qstash_url = serve(
            Router::new()
                .route("/v2/publish/{*destination}", post(publish))
                .with_state(qstash.clone()),
        )
        .await;
        let app = TestApp::spawn(&[
            ("WAKE_TRANSPORT", "qstash"),
            ("QSTASH_URL", &qstash_url),
            ("QSTASH_TOKEN", "qstash-secret"),
            ("WORKER_WAKE_URL", &drain),
            ("WORKER_TOKEN", "worker-secret"),
            ("WAKE_TIMEOUT_MS", "300"),
        ])
        .await;
        // The dedup id changes every 5 s; start early in a window so the burst fits in one.
        let into_window = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis()
            % 5000;
        if into_window > 2500 {
            tokio::time::sleep(Duration::from_millis(
                u64::try_from(5100 - into_window).unwrap(),
            ))
            .await;
        }
        for _ in 0..20 {
            assert_eq!(app.enqueue("acme", &body()).await.status(), 202);
        }
        assert_eq!(app.queue.counts().await.unwrap().urgent, 20);

        let publishes = qstash.publishes.lock().unwrap().clone();
        assert_eq!(publishes.len(), 20, "every enqueue publishes");
        let ids: HashSet<_> = publishes
            .iter()
            .map(|(_, h)| header(h, "upstash-deduplication-id").unwrap())
            .collect();
        assert_eq!(ids.len(), 1, "one dedup id for the burst: {ids:?}");
        let id = ids.into_iter().next().unwrap();
        assert!(
            id.starts_with(&format!("wake-{}-", app.queue.name())),
            "{id}"
        );
        for (destination, h) in &publishes {
            assert_eq!(
                destination, &drain,
                "the path is /v2/publish/<WORKER_WAKE_URL>"
            );
            assert_eq!(header(h, "upstash-method").as_deref(), Some("POST"));
        }
        let delivered = delivered.lock().unwrap().clone();
        assert_eq!(delivered.len(), 1, "QStash delivers one wake for the burst");
        assert_eq!(
            header(&delivered[0], "authorization").as_deref(),
            Some("Bearer worker-secret")
        );
    })
    .await;
}

#[tokio::test]
async fn a_black_holed_wake_url_does_not_hold_the_reply() {
    bounded(TEST_TIMEOUT, async {
        // Accepts connections and never answers.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        let url = format!("http://{addr}/drain");
        let app = TestApp::spawn(&[
            ("WAKE_TRANSPORT", "http"),
            ("WORKER_WAKE_URL", &url),
            ("WORKER_TOKEN", "worker-secret"),
            ("WAKE_TIMEOUT_MS", "250"),
        ])
        .await;
        // Warm the Redis connection and scripts so the timing measures the wake alone.
        assert_eq!(app.enqueue("warm", &body()).await.status(), 202);
        let started = Instant::now();
        let response = app.enqueue("acme", &body()).await;
        let elapsed = started.elapsed();
        assert_eq!(response.status(), 202);
        assert!(
            elapsed >= Duration::from_millis(250),
            "the wake was attempted: {elapsed:?}"
        );
        assert!(
            elapsed < Duration::from_millis(250 + 750),
            "reply held: {elapsed:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn an_unreachable_worker_never_fails_the_enqueue() {
    bounded(TEST_TIMEOUT, async {
        let url = format!("http://127.0.0.1:{}/drain", scenergy_testkit::free_port());
        let app = TestApp::spawn(&[
            ("WAKE_TRANSPORT", "http"),
            ("WORKER_WAKE_URL", &url),
            ("WORKER_TOKEN", "worker-secret"),
        ])
        .await;
        assert_eq!(app.enqueue("acme", &body()).await.status(), 202);
        assert_eq!(app.queue.counts().await.unwrap().urgent, 1);
    })
    .await;
}
