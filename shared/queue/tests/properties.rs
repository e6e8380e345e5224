//! Ordering, leases and retries (DESIGN.md §4), each on both transports: TCP and Upstash REST
//! through the local gateway, against the same real redis-server. Every test checks after every
//! operation that the status keys agree with the queue (`common::check`).
#![allow(
    clippy::cloned_ref_to_slice_refs,
    reason = "`&[id.clone()]` reads better in assertions"
)]

mod common;

use common::{LEASE, check, drain_one_by_one, enqueue, job, on_both_transports};
use scenergy_queue::{FailOutcome, JobId, JobState, NewJob, Priority, Queue, now_ms};
use serde_json::json;

on_both_transports!(
    priority_order_and_fifo_within_a_priority,
    clients_share_a_priority_fairly,
    expired_leases_are_reclaimed_then_fail_after_max_stalls,
    heartbeats_keep_leases,
    retries_wait_for_their_delay_and_stop_at_the_attempt_limit,
    non_retryable_failures_are_final_at_once,
    delayed_jobs_are_promoted_when_due,
);

async fn priority_order_and_fifo_within_a_priority(q: &Queue) {
    let n1 = enqueue(q, job("a", Priority::Normal, 1)).await;
    let b1 = enqueue(q, job("a", Priority::Batch, 2)).await;
    let u1 = enqueue(q, job("a", Priority::Urgent, 3)).await;
    let n2 = enqueue(q, job("a", Priority::Normal, 4)).await;
    let u2 = enqueue(q, job("a", Priority::Urgent, 5)).await;
    let b2 = enqueue(q, job("a", Priority::Batch, 6)).await;
    let n3 = enqueue(q, job("a", Priority::Normal, 7)).await;
    let all = [
        n1.clone(),
        b1.clone(),
        u1.clone(),
        n2.clone(),
        u2.clone(),
        b2.clone(),
        n3.clone(),
    ];
    check(q, &all).await;
    let order = drain_one_by_one(q, now_ms()).await;
    assert_eq!(order, [u1, u2, n1, n2, n3, b1, b2]);
    check(q, &all).await;
    assert_eq!(q.counts().await.unwrap().active, 7);
}

async fn clients_share_a_priority_fairly(q: &Queue) {
    let many: Vec<NewJob> = (0..1000).map(|n| job("big", Priority::Batch, n)).collect();
    let big: Vec<JobId> = q
        .enqueue_many(many)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.job_id)
        .collect();
    assert_eq!(big.len(), 1000);
    let small = enqueue(q, job("small", Priority::Batch, 0)).await;
    let now = now_ms();
    let mut first = Vec::new();
    for _ in 0..3 {
        first.extend(
            q.claim("w", 1, LEASE, now)
                .await
                .unwrap()
                .jobs
                .into_iter()
                .map(|j| j.id),
        );
    }
    assert!(
        first.contains(&small),
        "the newcomer is served within the first claims, got {first:?}"
    );
    check(q, &first).await;
    // The big client's jobs stay FIFO.
    let rest = drain_one_by_one(q, now).await;
    let big_order: Vec<JobId> = first
        .iter()
        .chain(&rest)
        .filter(|id| **id != small)
        .cloned()
        .collect();
    assert_eq!(big_order, big);
    let c = q.counts().await.unwrap();
    assert_eq!((c.batch, c.active), (0, 1001));
    // Drained clients leave no field behind: the fair hash stays bounded.
    let fields = q
        .redis()
        .query(&scenergy_redis::Cmd::new("HKEYS").arg(q.keys().fair()))
        .await
        .unwrap()
        .into_array()
        .unwrap();
    let mut fields: Vec<&str> = fields.iter().map(|f| f.as_str().unwrap()).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["batch:floor", "seq"]);
}

async fn expired_leases_are_reclaimed_then_fail_after_max_stalls(q: &Queue) {
    let t = now_ms();
    let first = enqueue(q, job("a", Priority::Normal, 1).max_stalls(1)).await;
    let second = enqueue(q, job("a", Priority::Normal, 2)).await;
    let ids = [first.clone(), second.clone()];
    let c1 = q.claim("w1", 1, 1_000, t).await.unwrap();
    assert_eq!(c1.jobs[0].id, first);
    assert_eq!(
        c1.next_wake_at_ms, None,
        "claimed all asked for, so no wake time"
    );
    check(q, &ids).await;
    // Not expired yet: the other job is claimed, the first stays with w1.
    let c2 = q.claim("w2", 5, 1_000, t + 500).await.unwrap();
    assert_eq!(c2.jobs.iter().map(|j| &j.id).collect::<Vec<_>>(), [&second]);
    assert_eq!(
        c2.next_wake_at_ms,
        Some(t + 1_000),
        "idle worker learns the next lease expiry"
    );
    // Expired: reclaimed (stalls 1) and served before anything later.
    let later = enqueue(q, job("a", Priority::Normal, 3)).await;
    let c3 = q.claim("w3", 1, 1_000, t + 1_001).await.unwrap();
    assert_eq!(c3.reclaimed, 1);
    assert_eq!(
        c3.jobs[0].id, first,
        "reclaimed job keeps its place at the front"
    );
    assert_eq!((c3.jobs[0].stalls, c3.jobs[0].attempts_made), (1, 2));
    let all = [first.clone(), second.clone(), later.clone()];
    check(q, &all).await;
    // The old holder has lost it.
    let hb = q
        .heartbeat("w1", &[first.clone()], 1_000, t + 1_002)
        .await
        .unwrap();
    assert_eq!(hb.lost, [first.clone()]);
    let done = q
        .complete("w1", &[(first.clone(), json!("late"))], t + 1_003)
        .await
        .unwrap();
    assert_eq!(done.lost, [first.clone()]);
    // Second expiry: over max_stalls, fails with the reason.
    let c4 = q.claim("w4", 1, 1_000, t + 2_002).await.unwrap();
    assert_eq!(c4.stall_failed, 1);
    let record = q.job(&first).await.unwrap().unwrap();
    assert_eq!(record.state, JobState::Failed);
    assert_eq!(
        record.error.as_deref(),
        Some("stalled 2 times (worker lost); max_stalls=1")
    );
    check(q, &all).await;
}

async fn heartbeats_keep_leases(q: &Queue) {
    let t = now_ms();
    let id = enqueue(q, job("a", Priority::Normal, 1)).await;
    q.claim("w1", 1, 1_000, t).await.unwrap();
    for i in 1..=5 {
        let hb = q
            .heartbeat("w1", &[id.clone()], 1_000, t + i * 900)
            .await
            .unwrap();
        assert_eq!(hb.renewed, [id.clone()]);
        let c = q.claim("w2", 1, 1_000, t + i * 900 + 500).await.unwrap();
        assert!(
            c.jobs.is_empty() && c.reclaimed == 0,
            "renewed lease is not reclaimed"
        );
        check(q, &[id.clone()]).await;
    }
    let done = q
        .complete("w1", &[(id.clone(), json!({"ok": true}))], t + 5_000)
        .await
        .unwrap();
    assert_eq!(done.completed, [id.clone()]);
    check(q, &[id]).await;
}

async fn retries_wait_for_their_delay_and_stop_at_the_attempt_limit(q: &Queue) {
    let t = now_ms();
    let id = enqueue(q, job("a", Priority::Normal, 1).attempts(2)).await;
    let c = q.claim("w", 1, LEASE, t).await.unwrap();
    assert_eq!(c.jobs[0].attempts_made, 1);
    assert!(c.jobs[0].can_retry());
    let out = q
        .fail("w", &id, "upstream 503", true, 5_000, t + 10)
        .await
        .unwrap();
    assert_eq!(
        out,
        FailOutcome::Retrying {
            due_at_ms: t + 5_010
        }
    );
    check(q, &[id.clone()]).await;
    let early = q.claim("w", 1, LEASE, t + 5_009).await.unwrap();
    assert!(early.jobs.is_empty(), "not claimable before its delay");
    assert_eq!(early.next_wake_at_ms, Some(t + 5_010));
    check(q, &[id.clone()]).await;
    let due = q.claim("w", 1, LEASE, t + 5_010).await.unwrap();
    assert_eq!(due.promoted, 1);
    assert_eq!(due.jobs[0].id, id);
    assert_eq!(due.jobs[0].attempts_made, 2);
    assert!(!due.jobs[0].can_retry());
    check(q, &[id.clone()]).await;
    let out = q
        .fail("w", &id, "upstream 503 again", true, 5_000, t + 5_020)
        .await
        .unwrap();
    assert_eq!(out, FailOutcome::Failed, "attempts used up");
    let record = q.job(&id).await.unwrap().unwrap();
    assert_eq!(
        (record.state, record.error.as_deref()),
        (JobState::Failed, Some("upstream 503 again"))
    );
    check(q, &[id]).await;
}

async fn non_retryable_failures_are_final_at_once(q: &Queue) {
    let t = now_ms();
    let id = enqueue(q, job("a", Priority::Normal, 1).attempts(5)).await;
    q.claim("w", 1, LEASE, t).await.unwrap();
    let out = q
        .fail("w", &id, "validation: prompt is empty", false, 1_000, t + 1)
        .await
        .unwrap();
    assert_eq!(out, FailOutcome::Failed);
    let c = q.claim("w", 1, LEASE, t + 60_000).await.unwrap();
    assert!(c.jobs.is_empty());
    let counts = q.counts().await.unwrap();
    assert_eq!((counts.failed, counts.delayed, counts.waiting()), (1, 0, 0));
    check(q, &[id]).await;
}

async fn delayed_jobs_are_promoted_when_due(q: &Queue) {
    let t = now_ms();
    let late = q
        .enqueue_many_at(vec![job("a", Priority::Normal, 1).delay_ms(2_000)], t)
        .await
        .unwrap();
    let soon = q
        .enqueue_many_at(vec![job("a", Priority::Normal, 2).delay_ms(1_000)], t)
        .await
        .unwrap();
    let (late, soon) = (late[0].job_id.clone(), soon[0].job_id.clone());
    check(q, &[late.clone(), soon.clone()]).await;
    let c = q.claim("w", 5, LEASE, t + 999).await.unwrap();
    assert!(c.jobs.is_empty());
    assert_eq!(c.next_wake_at_ms, Some(t + 1_000));
    let c = q.claim("w", 5, LEASE, t + 1_000).await.unwrap();
    assert_eq!(
        c.jobs.iter().map(|j| j.id.clone()).collect::<Vec<_>>(),
        [soon.clone()]
    );
    let c = q.claim("w", 5, LEASE, t + 2_000).await.unwrap();
    assert_eq!(
        c.jobs.iter().map(|j| j.id.clone()).collect::<Vec<_>>(),
        [late.clone()]
    );
    check(q, &[late, soon]).await;
}
