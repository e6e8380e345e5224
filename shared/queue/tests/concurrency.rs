//! 10,000 jobs drained by several OS processes with many concurrent consumers each: every job
//! completes exactly once, none is lost, none is left active.
//!
//! The consumer processes are this test binary re-executed with `SCENERGY_QUEUE_CONSUMER` set,
//! running only the `consumer_process` test.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{Harness, tcp_redis};
use scenergy_queue::{JobId, NewJob, Priority, Queue, QueueOptions, now_ms};
use scenergy_redis::{Cmd, Value};
use serde_json::json;

const CONSUMER_ENV: &str = "SCENERGY_QUEUE_CONSUMER";
const JOBS: usize = 10_000;
const PROCESSES: usize = 4;
const CONSUMERS_PER_PROCESS: usize = 8;
const BATCH: u32 = 16;

/// The body of each consumer process that the test below starts (with `--ignored`). Ignored in
/// normal runs, so it is not counted as a test that passes without checking anything.
#[test]
#[ignore = "entry point of the consumer processes of ten_thousand_jobs_across_processes_complete_exactly_once"]
fn consumer_process() {
    let Ok(queue) = std::env::var(CONSUMER_ENV) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let q = Queue::new(tcp_redis().await, &queue, QueueOptions::default()).unwrap();
        let tasks: Vec<_> = (0..CONSUMERS_PER_PROCESS)
            .map(|i| {
                let q = q.clone();
                tokio::spawn(
                    async move { consume(&q, &format!("{}-{i}", std::process::id())).await },
                )
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
}

async fn consume(q: &Queue, token: &str) {
    let claims = q.keys().custom("test:claims");
    let done = q.keys().custom("test:done");
    loop {
        let claim = q.claim(token, BATCH, 60_000, now_ms()).await.unwrap();
        if claim.jobs.is_empty() {
            let c = q.counts().await.unwrap();
            if c.waiting() + c.delayed == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        }
        let count: Vec<Cmd> = claim
            .jobs
            .iter()
            .map(|j| Cmd::new("HINCRBY").arg(&claims).arg(j.id.as_str()).arg(1))
            .collect();
        q.redis().pipeline(&count).await.unwrap();
        let results: Vec<(JobId, serde_json::Value)> = claim
            .jobs
            .iter()
            .map(|j| (j.id.clone(), json!({ "by": token })))
            .collect();
        let out = q.complete(token, &results, now_ms()).await.unwrap();
        assert!(out.lost.is_empty(), "no lease expires in this test");
        let record: Vec<Cmd> = out
            .completed
            .iter()
            .map(|id| Cmd::new("HINCRBY").arg(&done).arg(id.as_str()).arg(1))
            .collect();
        q.redis().pipeline(&record).await.unwrap();
    }
}

async fn all_ones(q: &Queue, key: &str, ids: &HashSet<String>) {
    let reply = q
        .redis()
        .query(&Cmd::new("HGETALL").arg(key))
        .await
        .unwrap()
        .into_array()
        .unwrap();
    let mut seen = HashSet::new();
    for pair in reply.chunks(2) {
        let id = pair[0].as_str().unwrap().to_owned();
        assert_eq!(pair[1].as_int().unwrap(), 1, "{key}: {id} exactly once");
        seen.insert(id);
    }
    assert_eq!(seen.len(), ids.len(), "{key}: every job");
    assert!(seen == *ids, "{key}: exactly the enqueued jobs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_jobs_across_processes_complete_exactly_once() {
    let h = Harness::tcp(QueueOptions::default()).await;
    let q = h.queue.clone();
    tokio::time::timeout(Duration::from_secs(180), async move {
        let clients = ["a", "b", "c", "d", "e"];
        let jobs: Vec<NewJob> = (0..JOBS)
            .map(|n| {
                let prio = Priority::ALL[n % 3];
                NewJob::new("noop", clients[n % clients.len()], json!({ "n": n })).priority(prio)
            })
            .collect();
        let mut ids = HashSet::new();
        for chunk in jobs.chunks(2_000) {
            for e in q.enqueue_many(chunk.to_vec()).await.unwrap() {
                assert!(e.created);
                ids.insert(e.job_id.as_str().to_owned());
            }
        }
        assert_eq!(ids.len(), JOBS);
        assert_eq!(q.counts().await.unwrap().waiting(), JOBS as u64);

        let exe = std::env::current_exe().unwrap();
        let mut children: Vec<_> = (0..PROCESSES)
            .map(|_| {
                tokio::process::Command::new(&exe)
                    .args([
                        "consumer_process",
                        "--exact",
                        "--ignored",
                        "--nocapture",
                        "--test-threads=1",
                    ])
                    .env(CONSUMER_ENV, q.name())
                    .kill_on_drop(true)
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in &mut children {
            assert!(
                child.wait().await.unwrap().success(),
                "a consumer process failed"
            );
        }

        let c = q.counts().await.unwrap();
        assert_eq!(
            (c.completed, c.active, c.waiting(), c.delayed, c.failed),
            (JOBS as u64, 0, 0, 0, 0)
        );
        all_ones(&q, &q.keys().custom("test:claims"), &ids).await;
        all_ones(&q, &q.keys().custom("test:done"), &ids).await;
        // The work really was spread over the processes.
        let records = q
            .redis()
            .query(&Cmd::new("HVALS").arg(q.keys().jobs()))
            .await
            .unwrap()
            .into_array()
            .unwrap();
        let processes: HashSet<String> = records
            .iter()
            .map(|r| {
                let r: scenergy_queue::JobRecord =
                    serde_json::from_str(r.as_str().unwrap()).unwrap();
                let by: serde_json::Value =
                    serde_json::from_str(r.result.as_deref().unwrap()).unwrap();
                by["by"]
                    .as_str()
                    .unwrap()
                    .split('-')
                    .next()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert!(processes.len() >= 2, "jobs completed by {processes:?}");
        let statuses: Vec<Cmd> = ids
            .iter()
            .map(|id| Cmd::new("GET").arg(scenergy_queue::status_key(&JobId::parse(id).unwrap())))
            .collect();
        for reply in q.redis().pipeline(&statuses).await.unwrap() {
            let Ok(Value::Bytes(doc)) = reply else {
                panic!("every job has a status")
            };
            let doc: serde_json::Value = serde_json::from_slice(&doc).unwrap();
            assert_eq!(doc["status"], "completed");
        }
    })
    .await
    .expect("the drain finished in time");
    common::cleanup(&h.queue).await;
}
