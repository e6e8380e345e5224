//! Test harness: real redis-server, a random queue per test, an in-process REST gateway, and
//! the consistency check every property test runs after every operation.
#![allow(dead_code, unreachable_pub, unused_macros, unused_imports)]

use std::time::Duration;

use scenergy_queue::{JobId, JobState, NewJob, Priority, Queue, QueueOptions};
use scenergy_redis::{Cmd, Redis, Value};
use scenergy_testkit::TestRedis;
use serde_json::json;

/// Every test must finish within this.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(60);

pub use scenergy_testkit::{GATEWAY_TOKEN as TOKEN, redis_url};

/// A random queue name so parallel tests never share keys.
pub fn queue_name() -> String {
    format!("t-{:016x}", rand::random::<u64>())
}

pub struct Harness {
    pub queue: Queue,
    _redis: TestRedis,
}

pub async fn tcp_redis() -> Redis {
    TestRedis::tcp().await.redis
}

impl Harness {
    pub async fn tcp(options: QueueOptions) -> Self {
        Self::on(TestRedis::tcp().await, options)
    }

    pub async fn rest(options: QueueOptions) -> Self {
        Self::on(TestRedis::rest().await, options)
    }

    fn on(redis: TestRedis, options: QueueOptions) -> Self {
        let queue = Queue::new(redis.redis.clone(), &queue_name(), options).unwrap();
        Self {
            queue,
            _redis: redis,
        }
    }
}

/// Checks, for every job in `ids`, that the record, the sorted sets and the status key agree:
/// the job is in exactly the set of its state, and the status document shows that state, its
/// attempts, progress and result.
pub async fn check(queue: &Queue, ids: &[JobId]) {
    let keys = queue.keys();
    let mut sets: Vec<(String, Option<JobState>, Option<Priority>)> = Priority::ALL
        .iter()
        .map(|p| (keys.ready(*p).to_owned(), Some(JobState::Waiting), Some(*p)))
        .collect();
    sets.push((keys.delayed().to_owned(), Some(JobState::Delayed), None));
    sets.push((keys.active().to_owned(), Some(JobState::Active), None));
    for s in [JobState::Completed, JobState::Failed, JobState::Cancelled] {
        sets.push((keys.finished(s).unwrap().to_owned(), Some(s), None));
    }
    for id in ids {
        let record = queue
            .job(id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{id} has a record"));
        let cmds: Vec<Cmd> = sets
            .iter()
            .map(|(k, _, _)| Cmd::new("ZSCORE").arg(k).arg(id.as_str()))
            .collect();
        let replies = queue.redis().pipeline(&cmds).await.unwrap();
        let member_of: Vec<usize> = replies
            .iter()
            .enumerate()
            .filter(|(_, r)| !matches!(r, Ok(Value::Nil)))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(
            member_of.len(),
            1,
            "{id} ({:?}) is in exactly one set, found {member_of:?}",
            record.state
        );
        let (_, state, prio) = &sets[member_of[0]];
        assert_eq!(Some(record.state), *state, "{id}: record state vs set");
        if let Some(p) = prio {
            assert_eq!(record.priority, *p, "{id}: ready set of its priority");
        }
        let status = queue
            .status(id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{id} has a status"));
        assert_eq!(
            status["status"],
            record.state.status_name(),
            "{id}: status vs record"
        );
        assert_eq!(status["jobId"], id.as_str());
        assert_eq!(status["clientId"], record.client_id.as_str());
        assert_eq!(status["type"], record.job_type.as_str());
        assert_eq!(status["attempts"], record.attempts_made);
        assert_eq!(status["updatedAt"], record.updated_at);
        let json = |s: &Option<String>| {
            s.as_deref().map_or(serde_json::Value::Null, |s| {
                serde_json::from_str(s).unwrap()
            })
        };
        assert_eq!(status["progress"], json(&record.progress), "{id}: progress");
        assert_eq!(status["result"], json(&record.result), "{id}: result");
        assert_eq!(
            status["error"],
            record
                .error
                .as_deref()
                .map_or(serde_json::Value::Null, Into::into)
        );
        let ttl = queue
            .redis()
            .query(&Cmd::new("TTL").arg(scenergy_queue::status_key(id)))
            .await
            .unwrap()
            .as_int()
            .unwrap();
        assert!(ttl > 0, "{id}: status has a TTL");
        assert_eq!(
            record.lease_token.is_some(),
            record.state == JobState::Active,
            "{id}: lease token iff active"
        );
    }
}

/// Generates `mod tcp` and `mod rest`, one `#[tokio::test]` per property in each, with an
/// optional `QueueOptions` expression per property.
macro_rules! on_both_transports {
    ($($name:ident $(($opts:expr))?),* $(,)?) => {
        mod tcp {
            $(#[tokio::test] async fn $name() {
                let h = $crate::common::Harness::tcp($crate::common::opts!($($opts)?)).await;
                tokio::time::timeout($crate::common::TEST_TIMEOUT, super::$name(&h.queue)).await.expect("test timed out");
                $crate::common::cleanup(&h.queue).await;
            })*
        }
        mod rest {
            $(#[tokio::test] async fn $name() {
                let h = $crate::common::Harness::rest($crate::common::opts!($($opts)?)).await;
                tokio::time::timeout($crate::common::TEST_TIMEOUT, super::$name(&h.queue)).await.expect("test timed out");
                $crate::common::cleanup(&h.queue).await;
            })*
        }
    };
}

macro_rules! opts {
    () => {
        scenergy_queue::QueueOptions::default()
    };
    ($e:expr) => {
        $e
    };
}
pub(crate) use {on_both_transports, opts};

pub const LEASE: u64 = 30_000;

pub async fn enqueue(q: &Queue, job: NewJob) -> JobId {
    let e = q.enqueue(job).await.unwrap();
    assert!(e.created);
    e.job_id
}

pub fn job(client: &str, priority: Priority, n: u64) -> NewJob {
    NewJob::new("generate", client, json!({ "n": n })).priority(priority)
}

/// Claims one job at a time until empty, returning the ids in order.
pub async fn drain_one_by_one(q: &Queue, now: i64) -> Vec<JobId> {
    let mut out = Vec::new();
    loop {
        let claim = q.claim("w", 1, LEASE, now).await.unwrap();
        if claim.jobs.is_empty() {
            return out;
        }
        out.extend(claim.jobs.into_iter().map(|j| j.id));
    }
}

/// Deletes a test queue's keys (status and idempotency keys expire on their own).
pub async fn cleanup(queue: &Queue) {
    let keys = queue.keys();
    let mut del = Cmd::new("DEL")
        .arg(keys.jobs())
        .arg(keys.fair())
        .arg(keys.delayed())
        .arg(keys.active())
        .arg(keys.meta())
        .arg(keys.events())
        .arg(keys.wake())
        .arg(keys.custom("test:claims"))
        .arg(keys.custom("test:done"));
    for p in Priority::ALL {
        del = del.arg(keys.ready(p));
    }
    for s in [JobState::Completed, JobState::Failed, JobState::Cancelled] {
        del = del.arg(keys.finished(s).unwrap());
    }
    queue.redis().query(&del).await.unwrap();
}
