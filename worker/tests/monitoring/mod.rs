//! Helpers of the monitoring suites (`alerts.rs`, `metrics.rs`, `admin.rs`, `browser.rs`): a
//! queue of the test's own on the shared redis-server, a webhook receiver on loopback, and
//! cleanup of the keys the dashboard and the monitor add.

#![allow(dead_code, unreachable_pub)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use scenergy_queue::{JobState, Priority, Queue, QueueOptions};
use scenergy_redis::{Cmd, Redis};
use scenergy_testkit::TestRedis;
use serde_json::Value;

/// Every test body runs under this bound.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(90);

/// A queue of the test's own (TCP), and the Redis it is on.
pub async fn queue() -> (Queue, Redis) {
    let redis = TestRedis::tcp().await.redis;
    let name = format!("mt-{:08x}", rand::random::<u32>());
    (
        Queue::new(redis.clone(), &name, QueueOptions::default()).unwrap(),
        redis,
    )
}

/// Deletes the queue's keys (status keys expire on their own).
pub async fn cleanup(queue: &Queue) {
    let k = queue.keys();
    let mut del = Cmd::new("DEL")
        .arg(k.jobs())
        .arg(k.fair())
        .arg(k.delayed())
        .arg(k.active())
        .arg(k.meta())
        .arg(k.events())
        .arg(k.wake())
        .arg(k.custom("workers"))
        .arg(k.custom("alerts"));
    for p in Priority::ALL {
        del = del.arg(k.ready(p));
    }
    for s in [JobState::Completed, JobState::Failed, JobState::Cancelled] {
        del = del.arg(k.finished(s).unwrap());
    }
    queue.redis().query(&del).await.unwrap();
}

/// A webhook on loopback that records every JSON body and fails the first `fail_first`
/// requests with a 500.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
}

#[derive(Clone)]
struct ReceiverState {
    bodies: Arc<Mutex<Vec<Value>>>,
    failures_left: Arc<Mutex<u32>>,
}

async fn hook(State(state): State<ReceiverState>, body: String) -> StatusCode {
    {
        let mut left = state.failures_left.lock().unwrap();
        if *left > 0 {
            *left -= 1;
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
    }
    let value: Value = serde_json::from_str(&body).expect("alerts are JSON");
    state.bodies.lock().unwrap().push(value);
    StatusCode::OK
}

impl Receiver {
    pub async fn start(fail_first: u32) -> Self {
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let state = ReceiverState {
            bodies: bodies.clone(),
            failures_left: Arc::new(Mutex::new(fail_first)),
        };
        let app = Router::new().route("/hook", post(hook)).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, bodies }
    }

    pub fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }

    /// Waits until `n` alerts arrived (panics after `within`), then a little longer to catch
    /// any extra one, and returns them all.
    pub async fn expect(&self, n: usize, within: Duration) -> Vec<Value> {
        let deadline = Instant::now() + within;
        while self.bodies.lock().unwrap().len() < n {
            assert!(
                Instant::now() < deadline,
                "expected {n} alerts, got {:#?}",
                self.bodies()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.bodies()
    }
}
