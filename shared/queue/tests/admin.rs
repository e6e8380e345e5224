//! The dashboard's and the alert monitor's operations, on both transports: lists, lookups,
//! retry, remove, promote, timelines, statistics, the monitor tick and the alert gate. Every
//! test that changes jobs checks records, sets and status keys after each operation.

#![allow(
    clippy::cloned_ref_to_slice_refs,
    reason = "`&[id.clone()]` reads better in assertions"
)]

mod common;

use common::{LEASE, check, enqueue, job, on_both_transports};
use scenergy_queue::{
    FailOutcome, Gate, JobId, JobState, Listing, Priority, Promotion, Queue, QueueError, Removal,
    now_ms,
};
use scenergy_redis::Cmd;

on_both_transports!(
    lists_page_through_each_state,
    finds_a_clients_jobs_by_scanning,
    retries_failed_jobs_one_or_all,
    removes_jobs_that_are_not_running,
    promotes_a_delayed_job,
    a_jobs_timeline_follows_its_events,
    stats_count_finished_jobs_by_window,
    the_monitor_tick_reads_beats_backlog_and_new_events,
    the_alert_gate_sends_once_per_window_and_resolves_once,
);

async fn extra_cleanup(q: &Queue) {
    let keys = q.keys();
    q.redis()
        .query(
            &Cmd::new("DEL")
                .arg(keys.custom("workers"))
                .arg(keys.custom("alerts")),
        )
        .await
        .unwrap();
}

/// Claims the next job and fails it for good; returns its id.
async fn fail_next(q: &Queue, now: i64) -> JobId {
    let claim = q.claim("w", 1, LEASE, now).await.unwrap();
    let id = claim.jobs[0].id.clone();
    let out = q.fail("w", &id, "boom", false, 0, now).await.unwrap();
    assert_eq!(out, FailOutcome::Failed);
    id
}

async fn lists_page_through_each_state(q: &Queue) {
    let now = now_ms();
    let mut ids = Vec::new();
    for n in 0..2 {
        ids.push(enqueue(q, job("a", Priority::Urgent, n)).await);
    }
    for n in 2..5 {
        ids.push(enqueue(q, job("a", Priority::Normal, n)).await);
    }
    let delayed = enqueue(q, job("a", Priority::Batch, 9).delay_ms(60_000)).await;
    // The first urgent job runs and fails.
    let failed = fail_next(q, now).await;
    assert_eq!(failed, ids[0]);
    check(q, &ids).await;

    let all = q
        .list_jobs(Listing::State(JobState::Waiting), 0, 10, false)
        .await
        .unwrap();
    assert_eq!(all.total, 4);
    let listed: Vec<&str> = all.jobs.iter().map(|j| j.id.as_str()).collect();
    let expected: Vec<&str> = ids[1..].iter().map(JobId::as_str).collect();
    assert_eq!(listed, expected, "claim order across priorities");
    // A page that spans the urgent and normal sets.
    let page = q
        .list_jobs(Listing::State(JobState::Waiting), 1, 2, false)
        .await
        .unwrap();
    let listed: Vec<&str> = page.jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(listed, [ids[2].as_str(), ids[3].as_str()]);
    let normal = q
        .list_jobs(Listing::Waiting(Priority::Normal), 0, 10, true)
        .await
        .unwrap();
    assert_eq!(normal.total, 3);
    assert_eq!(normal.jobs[0].id, ids[4].as_str(), "newest first");

    let d = q
        .list_jobs(Listing::State(JobState::Delayed), 0, 10, false)
        .await
        .unwrap();
    assert_eq!(d.total, 1);
    assert_eq!(d.jobs[0].id, delayed.as_str());
    assert!(d.jobs[0].score >= now + 59_000, "score = due time");
    let f = q
        .list_jobs(Listing::State(JobState::Failed), 0, 10, true)
        .await
        .unwrap();
    assert_eq!(f.total, 1);
    let record = f.jobs[0].record.as_ref().unwrap();
    assert_eq!(record.error.as_deref(), Some("boom"));
    assert_eq!(record.state, JobState::Failed);
    let past_end = q
        .list_jobs(Listing::State(JobState::Waiting), 10, 10, false)
        .await
        .unwrap();
    assert_eq!((past_end.total, past_end.jobs.len()), (4, 0));
}

async fn finds_a_clients_jobs_by_scanning(q: &Queue) {
    let mut mine = Vec::new();
    for n in 0..30 {
        let client = if n % 3 == 0 { "client-x" } else { "client-y" };
        let id = enqueue(q, job(client, Priority::Normal, n)).await;
        if n % 3 == 0 {
            mine.push(id.as_str().to_owned());
        }
    }
    // A client whose id is a substring of another's is not matched.
    enqueue(q, job("client-x2", Priority::Normal, 99)).await;
    let mut found = Vec::new();
    let mut cursor = 0;
    for _ in 0..100 {
        let page = q.find_by_client("client-x", cursor).await.unwrap();
        found.extend(page.jobs.into_iter().map(|r| {
            assert_eq!(r.client_id, "client-x");
            r.id
        }));
        cursor = page.cursor;
        if cursor == 0 {
            break;
        }
    }
    found.sort();
    mine.sort();
    assert_eq!(found, mine);
}

async fn retries_failed_jobs_one_or_all(q: &Queue) {
    let now = now_ms();
    let mut ids = Vec::new();
    for n in 0..4 {
        ids.push(enqueue(q, job("a", Priority::Normal, n)).await);
    }
    let mut failed = Vec::new();
    for _ in 0..4 {
        failed.push(fail_next(q, now).await);
    }
    check(q, &ids).await;

    let one = q.retry_failed(&[failed[0].clone()], now).await.unwrap();
    assert_eq!(one.retried, [failed[0].clone()]);
    let record = q.job(&failed[0]).await.unwrap().unwrap();
    assert_eq!(record.state, JobState::Waiting);
    assert_eq!((record.attempts_made, record.error), (0, None));
    check(q, &ids).await;
    // Not failed any more: skipped.
    let again = q.retry_failed(&[failed[0].clone()], now).await.unwrap();
    assert_eq!((again.retried.len(), again.skipped), (0, 1));

    let some = q.retry_all_failed(2, now).await.unwrap();
    assert_eq!(some.retried.len(), 2);
    assert!(some.more);
    let rest = q.retry_all_failed(10, now).await.unwrap();
    assert_eq!(rest.retried.len(), 1);
    assert!(!rest.more);
    check(q, &ids).await;
    assert_eq!(q.counts().await.unwrap().normal, 4);
    // Retried jobs are claimable again, with their attempts back.
    let claim = q.claim("w", 10, LEASE, now).await.unwrap();
    assert_eq!(claim.jobs.len(), 4);
    assert!(claim.jobs.iter().all(|j| j.attempts_made == 1));
    let wrong = JobId::generate("other-queue");
    assert!(matches!(
        q.retry_failed(&[wrong], now).await,
        Err(QueueError::WrongQueue { .. })
    ));
}

async fn removes_jobs_that_are_not_running(q: &Queue) {
    let now = now_ms();
    let running = enqueue(q, job("a", Priority::Urgent, 0)).await;
    let claim = q.claim("w", 1, LEASE, now).await.unwrap();
    assert_eq!(claim.jobs[0].id, running);
    let waiting = enqueue(q, job("a", Priority::Normal, 1).idempotency_key("k")).await;
    let delayed = enqueue(q, job("a", Priority::Normal, 2).delay_ms(60_000)).await;
    let done = enqueue(q, job("b", Priority::Batch, 3)).await;
    let claim = q.claim("w", 2, LEASE, now).await.unwrap();
    let done_claim = claim.jobs.iter().find(|j| j.id == done).unwrap();
    q.complete("w", &[(done_claim.id.clone(), serde_json::json!({}))], now)
        .await
        .unwrap();
    // The waiting one was claimed too; give it back to ready.
    q.release("w", &[waiting.clone()], now).await.unwrap();
    check(
        q,
        &[
            running.clone(),
            waiting.clone(),
            delayed.clone(),
            done.clone(),
        ],
    )
    .await;

    assert_eq!(
        q.remove(&running, now).await.unwrap(),
        Removal::RefusedActive
    );
    for (id, state) in [
        (&waiting, JobState::Waiting),
        (&delayed, JobState::Delayed),
        (&done, JobState::Completed),
    ] {
        assert_eq!(q.remove(id, now).await.unwrap(), Removal::Removed(state));
        assert!(q.job(id).await.unwrap().is_none());
        assert!(q.status(id).await.unwrap().is_none(), "status deleted");
        assert!(matches!(
            q.remove(id, now).await,
            Err(QueueError::NotFound(_))
        ));
    }
    let counts = q.counts().await.unwrap();
    assert_eq!(
        (
            counts.waiting(),
            counts.delayed,
            counts.completed,
            counts.active
        ),
        (0, 0, 0, 1)
    );
    // The idempotency key is free again.
    let again = q
        .enqueue(job("a", Priority::Normal, 4).idempotency_key("k"))
        .await
        .unwrap();
    assert!(again.created);
    check(q, &[running, again.job_id]).await;
}

async fn promotes_a_delayed_job(q: &Queue) {
    let now = now_ms();
    let delayed = enqueue(q, job("a", Priority::Normal, 0).delay_ms(3_600_000)).await;
    let waiting = enqueue(q, job("a", Priority::Normal, 1)).await;
    assert_eq!(
        q.promote(&waiting, now).await.unwrap(),
        Promotion::NotDelayed(JobState::Waiting)
    );
    assert_eq!(q.promote(&delayed, now).await.unwrap(), Promotion::Promoted);
    check(q, &[delayed.clone(), waiting.clone()]).await;
    let claim = q.claim("w", 2, LEASE, now).await.unwrap();
    let got: Vec<&JobId> = claim.jobs.iter().map(|j| &j.id).collect();
    assert_eq!(
        got,
        [&waiting, &delayed],
        "promoted behind the jobs already in line"
    );
    assert!(matches!(
        q.promote(&JobId::generate(q.name()), now).await,
        Err(QueueError::NotFound(_))
    ));
}

async fn a_jobs_timeline_follows_its_events(q: &Queue) {
    let now = now_ms();
    let id = enqueue(q, job("a", Priority::Normal, 0)).await;
    let other = enqueue(q, job("b", Priority::Normal, 1)).await;
    fail_next(q, now).await;
    q.retry_failed(&[id.clone()], now).await.unwrap();
    let record = q.job(&id).await.unwrap().unwrap();
    let timeline = q.timeline(&record).await.unwrap();
    let steps: Vec<(&str, &str)> = timeline
        .entries
        .iter()
        .map(|e| (e.event.as_str(), e.to.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            ("enqueued", "waiting"),
            ("claimed", "active"),
            ("failed", "failed"),
            ("retried", "waiting"),
        ]
    );
    assert!(!timeline.truncated);
    let other = q.job(&other).await.unwrap().unwrap();
    assert_eq!(q.timeline(&other).await.unwrap().entries.len(), 1);
}

async fn stats_count_finished_jobs_by_window(q: &Queue) {
    let now = now_ms();
    let hour = 3_600_000;
    for n in 0..6 {
        enqueue(q, job("a", Priority::Normal, n)).await;
    }
    let claim = q.claim("w", 5, LEASE, now).await.unwrap();
    let ids: Vec<JobId> = claim.jobs.iter().map(|j| j.id.clone()).collect();
    // Finished 10 minutes ago, 2 hours ago and 2 days ago.
    q.complete(
        "w",
        &[(ids[0].clone(), serde_json::json!(1))],
        now - hour / 6,
    )
    .await
    .unwrap();
    q.complete(
        "w",
        &[(ids[1].clone(), serde_json::json!(1))],
        now - 2 * hour,
    )
    .await
    .unwrap();
    q.complete(
        "w",
        &[(ids[2].clone(), serde_json::json!(1))],
        now - 48 * hour,
    )
    .await
    .unwrap();
    q.fail("w", &ids[3], "x", false, 0, now - hour / 2)
        .await
        .unwrap();
    q.cancel(&ids[4], now).await.unwrap();
    q.finish_cancelled("w", &ids[4], now).await.unwrap();
    let stats = q.stats(now).await.unwrap();
    assert_eq!(
        (
            stats.last_hour.completed,
            stats.last_hour.failed,
            stats.last_hour.cancelled
        ),
        (1, 1, 1)
    );
    assert_eq!((stats.last_day.completed, stats.last_day.failed), (2, 1));
    assert_eq!(stats.last_hour.failure_rate(), Some(0.5));
    assert_eq!(stats.counts.completed, 3);
    assert_eq!(stats.counts.normal, 1);
    let age = stats.oldest_waiting_age_ms(now + 5_000).unwrap();
    assert!((4_000..60_000).contains(&age), "{age}");
    // Clean: finished jobs older than a day go.
    let trimmed = q.trim(24 * hour as u64, u64::MAX >> 12, now).await.unwrap();
    assert_eq!(trimmed.removed, 1);
    assert_eq!(q.stats(now).await.unwrap().counts.completed, 2);
}

async fn the_monitor_tick_reads_beats_backlog_and_new_events(q: &Queue) {
    let now = now_ms();
    let start = format!("{}-0", now - 1);
    let first = q.monitor_tick("w1", false, &start, 100, now).await.unwrap();
    assert_eq!(first.newest_beat_ms, None);
    assert_eq!(first.waiting, 0);
    assert!(first.events.is_empty());

    enqueue(q, job("a", Priority::Normal, 0)).await;
    enqueue(q, job("a", Priority::Urgent, 1)).await;
    let failed = fail_next(q, now).await;
    let tick = q
        .monitor_tick("w1", true, first.last_id(&start), 100, now + 10)
        .await
        .unwrap();
    assert_eq!(tick.newest_beat_ms, Some(now + 10));
    assert_eq!(tick.waiting, 1);
    assert!(!tick.paused);
    assert!(tick.oldest_waiting_created_at.is_some());
    let names: Vec<&str> = tick.events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(names, ["enqueued", "enqueued", "claimed", "failed"]);
    assert_eq!(
        tick.events[3].jobs,
        [(failed.to_string(), "failed".to_owned())]
    );
    assert_eq!(tick.failed.len(), 1);
    assert_eq!(tick.failed[0].id, failed.as_str());
    assert_eq!(tick.failed[0].error, "boom");
    assert_eq!(tick.failed[0].client_id, "a");
    // Nothing new since the last id; another worker's later beat shows.
    let last = tick.last_id(&start).to_owned();
    let quiet = q
        .monitor_tick("w2", true, &last, 100, now + 20)
        .await
        .unwrap();
    assert!(quiet.events.is_empty());
    assert_eq!(quiet.newest_beat_ms, Some(now + 20));
    q.set_paused(true).await.unwrap();
    let paused = q
        .monitor_tick("w2", false, &last, 100, now + 30)
        .await
        .unwrap();
    assert!(paused.paused);
    assert_eq!(paused.events.len(), 1);
    extra_cleanup(q).await;
}

async fn the_alert_gate_sends_once_per_window_and_resolves_once(q: &Queue) {
    let now = now_ms();
    let window: i64 = 60_000;
    let gate = |firing, at| q.alert_gate("backlog", firing, window.unsigned_abs(), at);
    assert_eq!(gate(false, now).await.unwrap(), Gate::Quiet, "never fired");
    assert_eq!(gate(true, now).await.unwrap(), Gate::Send);
    // A second instance asking within the window stays quiet.
    assert_eq!(gate(true, now + 1).await.unwrap(), Gate::Quiet);
    assert_eq!(gate(true, now + window - 1).await.unwrap(), Gate::Quiet);
    assert_eq!(gate(true, now + window).await.unwrap(), Gate::Remind);
    assert_eq!(gate(true, now + window + 1).await.unwrap(), Gate::Quiet);
    assert_eq!(gate(false, now + window + 2).await.unwrap(), Gate::Send);
    assert_eq!(gate(false, now + window + 3).await.unwrap(), Gate::Quiet);
    assert_eq!(gate(true, now + window + 4).await.unwrap(), Gate::Send);
    // Conditions are independent.
    assert_eq!(
        q.alert_gate("other", true, 60_000, now).await.unwrap(),
        Gate::Send
    );
    extra_cleanup(q).await;
}
