//! Idempotency, cancellation, start rate, release, retention, pause and wake-up, each on both
//! transports (see `properties.rs`). Every test checks the status keys after every operation.
#![allow(
    clippy::cloned_ref_to_slice_refs,
    reason = "`&[id.clone()]` reads better in assertions"
)]

mod common;

use std::time::Duration;

use common::{Harness, LEASE, check, enqueue, job, on_both_transports};
use scenergy_queue::{
    CancelOutcome, FailOutcome, JobId, JobState, NewJob, Priority, Queue, QueueError, QueueOptions,
    now_ms,
};
use scenergy_redis::{Cmd, Value};
use serde_json::json;

fn rate_limited() -> QueueOptions {
    QueueOptions {
        max_jobs_per_second: 5,
        ..QueueOptions::default()
    }
}

on_both_transports!(
    idempotent_enqueue_returns_the_same_job,
    cancelling_waiting_and_delayed_jobs_removes_them,
    cancelling_an_active_job_is_seen_by_the_worker,
    start_rate_is_limited_across_claims(crate::rate_limited()),
    release_puts_jobs_back_first_in_line,
    trim_removes_old_and_excess_finished_jobs,
    json_values_round_trip_exactly,
    paused_queues_claim_nothing,
    tokens_of_other_workers_are_rejected,
);

async fn idempotent_enqueue_returns_the_same_job(q: &Queue) {
    let first = q
        .enqueue(job("a", Priority::Normal, 1).idempotency_key("k1"))
        .await
        .unwrap();
    assert!(first.created);
    let again = q
        .enqueue(job("a", Priority::Normal, 2).idempotency_key("k1"))
        .await
        .unwrap();
    assert_eq!(
        (again.job_id.clone(), again.created),
        (first.job_id.clone(), false)
    );
    let other_client = q
        .enqueue(job("b", Priority::Normal, 3).idempotency_key("k1"))
        .await
        .unwrap();
    assert!(other_client.created);
    // Duplicates inside one batch too.
    let batch = q
        .enqueue_many(vec![
            job("c", Priority::Batch, 1).idempotency_key("x"),
            job("c", Priority::Batch, 2).idempotency_key("x"),
            job("a", Priority::Batch, 3).idempotency_key("k1"),
        ])
        .await
        .unwrap();
    assert!(batch[0].created && !batch[1].created && !batch[2].created);
    assert_eq!(batch[1].job_id, batch[0].job_id);
    assert_eq!(batch[2].job_id, first.job_id);
    let counts = q.counts().await.unwrap();
    assert_eq!(counts.waiting(), 3);
    let record = q.job(&first.job_id).await.unwrap().unwrap();
    assert_eq!(
        record.payload, r#"{"n":1}"#,
        "the first job's payload is kept"
    );
    check(
        q,
        &[first.job_id, other_client.job_id, batch[0].job_id.clone()],
    )
    .await;
}

async fn cancelling_waiting_and_delayed_jobs_removes_them(q: &Queue) {
    let t = now_ms();
    let waiting = enqueue(q, job("a", Priority::Urgent, 1)).await;
    let delayed = q
        .enqueue_many_at(vec![job("a", Priority::Normal, 2).delay_ms(1_000)], t)
        .await
        .unwrap();
    let delayed = delayed[0].job_id.clone();
    let ids = [waiting.clone(), delayed.clone()];
    check(q, &ids).await;
    assert_eq!(
        q.cancel(&waiting, t).await.unwrap(),
        CancelOutcome::Cancelled
    );
    assert_eq!(
        q.cancel(&delayed, t).await.unwrap(),
        CancelOutcome::Cancelled
    );
    check(q, &ids).await;
    let c = q.claim("w", 10, LEASE, t + 10_000).await.unwrap();
    assert!(c.jobs.is_empty() && c.promoted == 0);
    assert_eq!(
        q.cancel(&waiting, t).await.unwrap(),
        CancelOutcome::AlreadyFinished(JobState::Cancelled)
    );
    let counts = q.counts().await.unwrap();
    assert_eq!(
        (counts.cancelled, counts.waiting(), counts.delayed),
        (2, 0, 0)
    );
    let missing = JobId::generate(q.name());
    assert!(matches!(
        q.cancel(&missing, t).await,
        Err(QueueError::NotFound(_))
    ));
    check(q, &ids).await;
}

async fn cancelling_an_active_job_is_seen_by_the_worker(q: &Queue) {
    let t = now_ms();
    let a = enqueue(q, job("a", Priority::Normal, 1)).await;
    let b = enqueue(q, job("a", Priority::Normal, 2)).await;
    let ids = [a.clone(), b.clone()];
    q.claim("w", 2, LEASE, t).await.unwrap();
    let hb = q.heartbeat("w", &ids, LEASE, t + 1).await.unwrap();
    assert!(hb.cancel_requested.is_empty());
    assert_eq!(q.cancel(&a, t + 2).await.unwrap(), CancelOutcome::Requested);
    assert_eq!(q.cancel(&b, t + 2).await.unwrap(), CancelOutcome::Requested);
    check(q, &ids).await;
    let hb = q.heartbeat("w", &ids, LEASE, t + 3).await.unwrap();
    assert_eq!(hb.cancel_requested, ids);
    assert!(
        q.progress(&b, "w", &json!({"done": 1, "of": 4}), t + 4)
            .await
            .unwrap()
    );
    check(q, &ids).await;
    q.finish_cancelled("w", &a, t + 5).await.unwrap();
    // A worker that fails a job with a cancel request cancels it rather than retrying.
    assert_eq!(
        q.fail("w", &b, "stopped", true, 0, t + 6).await.unwrap(),
        FailOutcome::Cancelled
    );
    check(q, &ids).await;
    assert_eq!(
        q.cancel(&a, t + 7).await.unwrap(),
        CancelOutcome::AlreadyFinished(JobState::Cancelled)
    );
    assert_eq!(q.counts().await.unwrap().cancelled, 2);
}

async fn start_rate_is_limited_across_claims(q: &Queue) {
    let jobs: Vec<NewJob> = (0..60).map(|n| job("a", Priority::Normal, n)).collect();
    q.enqueue_many(jobs).await.unwrap();
    let second = now_ms() / 1_000 * 1_000 + 10_000;
    let c = q.claim("w1", 50, LEASE, second + 100).await.unwrap();
    assert_eq!(c.jobs.len(), 5);
    let c = q.claim("w2", 50, LEASE, second + 900).await.unwrap();
    assert_eq!(
        c.jobs.len(),
        0,
        "another worker in the same second gets nothing"
    );
    assert_eq!(c.rate_limited_until_ms, Some(second + 1_000));
    let c = q.claim("w2", 3, LEASE, second + 1_000).await.unwrap();
    assert_eq!(c.jobs.len(), 3);
    let c = q.claim("w1", 50, LEASE, second + 1_500).await.unwrap();
    assert_eq!(c.jobs.len(), 2);
    let ids: Vec<JobId> = c.jobs.into_iter().map(|j| j.id).collect();
    check(q, &ids).await;
    assert_eq!(q.counts().await.unwrap().active, 10);
}

async fn release_puts_jobs_back_first_in_line(q: &Queue) {
    let t = now_ms();
    let a = enqueue(q, job("a", Priority::Normal, 1)).await;
    let b = enqueue(q, job("b", Priority::Normal, 2)).await;
    let c = q.claim("w", 1, LEASE, t).await.unwrap();
    assert_eq!(c.jobs[0].id, a);
    let lost = q.release("w", &[a.clone()], t + 1).await.unwrap();
    assert!(lost.is_empty());
    check(q, &[a.clone(), b.clone()]).await;
    let c = q.claim("w2", 1, LEASE, t + 2).await.unwrap();
    assert_eq!(c.jobs[0].id, a, "released job is first in line");
    assert_eq!(
        (c.jobs[0].attempts_made, c.jobs[0].stalls),
        (1, 0),
        "no attempt or stall counted"
    );
    assert_eq!(
        q.release("w", &[a.clone()], t + 3).await.unwrap(),
        [a.clone()],
        "w no longer holds it"
    );
    check(q, &[a, b]).await;
}

async fn trim_removes_old_and_excess_finished_jobs(q: &Queue) {
    let t = now_ms();
    let jobs: Vec<NewJob> = (0..6).map(|n| job("a", Priority::Normal, n)).collect();
    let ids: Vec<JobId> = q
        .enqueue_many(jobs)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.job_id)
        .collect();
    q.claim("w", 6, LEASE, t).await.unwrap();
    for (i, id) in ids.iter().enumerate() {
        let at = t + 1_000 * i64::try_from(i).unwrap();
        if i % 2 == 0 {
            q.complete("w", &[(id.clone(), json!(i))], at)
                .await
                .unwrap();
        } else {
            q.fail("w", id, "bad", false, 0, at).await.unwrap();
        }
    }
    check(q, &ids).await;
    // By age: finished before t + 1_500 (ids 0 and 1) go.
    let out = q.trim(10_000, 100, t + 11_500).await.unwrap();
    assert_eq!(out.removed, 2);
    assert!(q.job(&ids[0]).await.unwrap().is_none() && q.job(&ids[1]).await.unwrap().is_none());
    // By count: keep 1 per set, the newest.
    let out = q.trim(1_000_000, 1, t + 11_500).await.unwrap();
    assert_eq!(out.removed, 2);
    let counts = q.counts().await.unwrap();
    assert_eq!((counts.completed, counts.failed), (1, 1));
    check(q, &ids[4..]).await;
}

async fn json_values_round_trip_exactly(q: &Queue) {
    let payload = json!({
        "empty": [], "obj": {}, "big": 9_007_199_254_740_993_u64, "float": 0.1, "neg": -1.5e300,
        "text": "héllo \"wörld\" / \u{1F600}", "nested": [[1, 2], {"a": null}]
    });
    let id = enqueue(q, NewJob::new("generate", "a", payload.clone())).await;
    let t = now_ms();
    let c = q.claim("w", 1, LEASE, t).await.unwrap();
    assert_eq!(c.jobs[0].payload, payload);
    assert_eq!(c.jobs[0].payload.to_string(), payload.to_string());
    q.progress(&id, "w", &json!({"images": [], "pct": 33.3}), t + 1)
        .await
        .unwrap();
    check(q, &[id.clone()]).await;
    assert_eq!(
        q.status(&id).await.unwrap().unwrap()["progress"],
        json!({"images": [], "pct": 33.3})
    );
    q.complete("w", &[(id.clone(), payload.clone())], t + 2)
        .await
        .unwrap();
    assert_eq!(q.status(&id).await.unwrap().unwrap()["result"], payload);
    check(q, &[id]).await;
}

async fn paused_queues_claim_nothing(q: &Queue) {
    let id = enqueue(q, job("a", Priority::Normal, 1)).await;
    assert!(
        q.set_paused(true).await.unwrap(),
        "pausing changes the flag"
    );
    assert!(
        !q.set_paused(true).await.unwrap(),
        "pausing twice changes nothing"
    );
    let c = q.claim("w", 5, LEASE, now_ms()).await.unwrap();
    assert!(c.paused && c.jobs.is_empty());
    assert!(q.counts().await.unwrap().paused);
    assert!(q.set_paused(false).await.unwrap());
    let last = q
        .redis()
        .query(
            &Cmd::new("XREVRANGE")
                .arg(q.keys().events())
                .args(["+", "-", "COUNT", "2"]),
        )
        .await
        .unwrap()
        .into_array()
        .unwrap();
    let event_of = |entry: &Value| {
        let fields = entry.clone().into_array().unwrap()[1]
            .clone()
            .into_array()
            .unwrap();
        fields[1].as_str().unwrap().to_owned()
    };
    assert_eq!(
        [event_of(&last[0]), event_of(&last[1])],
        ["resumed", "paused"],
        "each change is an event in the stream"
    );
    let c = q.claim("w", 5, LEASE, now_ms()).await.unwrap();
    assert!(!c.paused);
    assert_eq!(c.jobs[0].id, id);
    check(q, &[id]).await;
}

async fn tokens_of_other_workers_are_rejected(q: &Queue) {
    let t = now_ms();
    let id = enqueue(q, job("a", Priority::Normal, 1)).await;
    q.claim("w", 1, LEASE, t).await.unwrap();
    assert!(matches!(
        q.progress(&id, "intruder", &json!(1), t).await,
        Err(QueueError::LeaseLost { .. })
    ));
    assert!(matches!(
        q.fail("intruder", &id, "x", true, 0, t).await,
        Err(QueueError::LeaseLost { .. })
    ));
    assert!(matches!(
        q.finish_cancelled("intruder", &id, t).await,
        Err(QueueError::LeaseLost { .. })
    ));
    assert_eq!(
        q.complete("intruder", &[(id.clone(), json!(1))], t)
            .await
            .unwrap()
            .lost,
        [id.clone()]
    );
    assert_eq!(
        q.heartbeat("intruder", &[id.clone()], 1, t)
            .await
            .unwrap()
            .lost,
        [id.clone()]
    );
    check(q, &[id.clone()]).await;
    q.complete("w", &[(id.clone(), json!(1))], t).await.unwrap();
    assert!(matches!(
        q.progress(&id, "w", &json!(1), t).await,
        Err(QueueError::LeaseLost { .. })
    ));
    check(q, &[id]).await;
}

#[tokio::test]
async fn an_idle_worker_is_woken_by_enqueue() {
    let h = Harness::tcp(QueueOptions::default()).await;
    let q = h.queue.clone();
    let blocking = scenergy_queue::wake_transport(&common::redis_url())
        .await
        .unwrap();
    tokio::time::timeout(common::TEST_TIMEOUT, async move {
        // Nothing to do: the claim clears the wake list and the wait times out.
        assert!(
            q.claim("w", 1, LEASE, now_ms())
                .await
                .unwrap()
                .jobs
                .is_empty()
        );
        assert!(
            !q.wait_for_wake(&blocking, Duration::from_millis(200))
                .await
                .unwrap()
        );
        let waiter = {
            let q = q.clone();
            tokio::spawn(async move {
                q.wait_for_wake(&blocking, Duration::from_secs(20))
                    .await
                    .unwrap()
            })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = std::time::Instant::now();
        enqueue(&q, job("a", Priority::Normal, 1)).await;
        assert!(waiter.await.unwrap(), "woken, not timed out");
        assert!(started.elapsed() < Duration::from_secs(5));
    })
    .await
    .expect("test timed out");
    common::cleanup(&h.queue).await;
}

#[tokio::test]
async fn an_idle_wait_can_outlast_the_reply_timeout() {
    let h = Harness::tcp(QueueOptions::default()).await;
    let blocking = scenergy_queue::wake_transport(&common::redis_url())
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let woken = tokio::time::timeout(
        Duration::from_secs(20),
        h.queue.wait_for_wake(&blocking, Duration::from_secs(7)),
    )
    .await
    .expect("test timed out")
    .expect("a 7 s BLPOP is not cut short by the 5 s default reply timeout");
    assert!(!woken);
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(6_500), "{elapsed:?}");
}
