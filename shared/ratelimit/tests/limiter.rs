//! The Lane A limiter against a real redis-server, over TCP and over Upstash REST (through the
//! local gateway). Needs redis-server at `REDIS_URL` (default `redis://127.0.0.1:6379`).
//!
//! The exactness test runs in two OS processes: the parent re-runs this test binary with
//! `--exact <test>` and `RL_EXACT_CHILD` set, and the child hammers the same bucket as the
//! second participant, printing the stamps it was admitted at.

mod common;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{Counting, Harness, namespace};
use scenergy_ratelimit::{Bucket, RateLimitConfig, RateLimitError, RateLimiter, now_ms};
use scenergy_redis::TransportKind;

const CHILD_ENV: &str = "RL_EXACT_CHILD";

macro_rules! on_both_transports {
    ($($name:ident),* $(,)?) => {
        mod tcp {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::bounded(super::$name(scenergy_redis::TransportKind::Tcp, concat!("tcp::", stringify!($name)))).await;
            })*
        }
        mod rest {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::bounded(super::$name(scenergy_redis::TransportKind::Rest, concat!("rest::", stringify!($name)))).await;
            })*
        }
    };
}

on_both_transports!(
    two_processes_never_exceed_the_limit,
    denial_cache_answers_without_redis,
    retry_after_is_when_the_oldest_admission_leaves,
    with_rate_limit_runs_the_call_only_when_admitted,
    buckets_are_independent,
    a_delayed_check_still_sees_the_log,
);

async fn bounded(test: impl Future<Output = ()>) {
    tokio::time::timeout(Duration::from_secs(60), test)
        .await
        .expect("test finished within 60 s");
}

fn limiter(redis: scenergy_redis::Redis, ns: &str, limit: u32, window_ms: u64) -> RateLimiter {
    let config = RateLimitConfig::default()
        .with_namespace(ns)
        .with_window(Duration::from_millis(window_ms))
        .with_limit(Bucket::Text, limit);
    RateLimiter::new(redis, config)
}

const LIMIT: u32 = 25;
const WINDOW_MS: i64 = 2_000;
const WINDOWS: i64 = 3;
const CALLERS: usize = 20;

/// 20 callers hammer one bucket until `end_ms`; returns the stamps they were admitted at.
async fn hammer(kind: TransportKind, ns: &str, start_ms: i64, end_ms: i64) -> Vec<i64> {
    let h = Harness::new(kind).await;
    let limiter = Arc::new(limiter(h.redis.clone(), ns, LIMIT, WINDOW_MS as u64));
    let wait = u64::try_from(start_ms - now_ms()).unwrap_or(0);
    tokio::time::sleep(Duration::from_millis(wait)).await;
    let mut tasks = Vec::new();
    for _ in 0..CALLERS {
        let limiter = Arc::clone(&limiter);
        tasks.push(tokio::spawn(async move {
            let mut admitted = Vec::new();
            loop {
                let now = now_ms();
                if now >= end_ms {
                    return admitted;
                }
                let pause = match limiter.check_at(Bucket::Text, now).await {
                    Ok(a) => {
                        assert!(a.stamp_ms >= now);
                        admitted.push(a.stamp_ms);
                        0
                    }
                    // Demand stays above the limit: come back soon, at most when the slot frees.
                    Err(RateLimitError::Limited(l)) => (l.reset_at_ms - now).clamp(0, 5) as u64,
                    Err(e) => panic!("redis failed: {e}"),
                };
                let jitter = rand::random::<u64>() % 3;
                tokio::time::sleep(Duration::from_millis(pause + jitter)).await;
            }
        }));
    }
    let mut stamps = Vec::new();
    for task in tasks {
        stamps.extend(task.await.expect("caller task"));
    }
    stamps
}

async fn two_processes_never_exceed_the_limit(kind: TransportKind, test_name: &str) {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        // We are the second participant.
        let mut parts = spec.split(',');
        let ns = parts.next().expect("namespace").to_owned();
        let start: i64 = parts.next().expect("start").parse().expect("start ms");
        let stamps = hammer(kind, &ns, start, start + WINDOWS * WINDOW_MS).await;
        let line: Vec<String> = stamps.iter().map(i64::to_string).collect();
        writeln!(std::io::stdout().lock(), "STAMPS:{}", line.join(",")).expect("stdout");
        return;
    }
    let ns = namespace();
    // Both processes start together, after the child has had time to boot and connect.
    let start = now_ms() + 1_500;
    let child = tokio::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, format!("{ns},{start}"))
        .kill_on_drop(true)
        .output();
    let (mine, child) = tokio::join!(hammer(kind, &ns, start, start + WINDOWS * WINDOW_MS), child);
    let child = child.expect("child process ran");
    let out = String::from_utf8_lossy(&child.stdout);
    assert!(
        child.status.success(),
        "child failed: {out}\n{}",
        String::from_utf8_lossy(&child.stderr)
    );
    let theirs: Vec<i64> = out
        .lines()
        // libtest prints "test <name> ... " on the same line first.
        .find_map(|l| l.split_once("STAMPS:").map(|(_, s)| s))
        .expect("child printed its stamps")
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().expect("stamp"))
        .collect();
    assert!(
        !mine.is_empty() && !theirs.is_empty(),
        "both processes were admitted: {} / {}",
        mine.len(),
        theirs.len()
    );

    let mut all: Vec<i64> = mine.iter().chain(&theirs).copied().collect();
    all.sort_unstable();
    // Exact: no window of WINDOW_MS anywhere holds more than LIMIT admissions.
    for (i, &t) in all.iter().enumerate() {
        let inside = all[i..].iter().take_while(|&&u| u < t + WINDOW_MS).count();
        assert!(
            inside <= LIMIT as usize,
            "{inside} admissions in the window from {t}"
        );
    }
    // And not stingy: with demand far above the limit, every window is filled.
    let first = all[0];
    for k in 0..WINDOWS {
        let lo = first + k * WINDOW_MS;
        let n = all
            .iter()
            .filter(|&&t| t >= lo && t < lo + WINDOW_MS)
            .count();
        assert_eq!(n, LIMIT as usize, "window {k} admitted {n}");
    }
    assert_eq!(all.len(), (LIMIT as usize) * WINDOWS as usize);
}

async fn denial_cache_answers_without_redis(kind: TransportKind, _: &str) {
    let h = Harness::new(kind).await;
    let (redis, sent) = Counting::wrap(h.redis.clone());
    let limiter = limiter(redis, &namespace(), 2, 10_000);
    let t0 = now_ms();
    limiter
        .check_at(Bucket::Text, t0)
        .await
        .expect("first admitted");
    limiter
        .check_at(Bucket::Text, t0 + 1)
        .await
        .expect("second admitted");
    let refused = limiter.check_at(Bucket::Text, t0 + 2).await.unwrap_err();
    let refused = refused.limited().expect("a refusal").clone();
    assert!(!refused.cached, "the first refusal comes from Redis");
    assert_eq!(refused.reset_at_ms, t0 + 10_000);
    let before = sent.load(Ordering::SeqCst);
    for i in 0..100 {
        let err = limiter
            .check_at(Bucket::Text, t0 + 3 + i * 90)
            .await
            .unwrap_err();
        let l = err.limited().expect("a refusal");
        assert!(l.cached, "answered from the cache");
        assert_eq!(l.reset_at_ms, t0 + 10_000);
        assert_eq!(
            l.retry_after_secs,
            ((t0 + 10_000 - (t0 + 3 + i * 90)) as u64).div_ceil(1000)
        );
    }
    assert_eq!(
        sent.load(Ordering::SeqCst),
        before,
        "cache hits send no command"
    );
    // At the reset the cache steps aside and Redis admits again.
    limiter
        .check_at(Bucket::Text, t0 + 10_000)
        .await
        .expect("admitted at reset");
    assert_eq!(
        sent.load(Ordering::SeqCst),
        before + 1,
        "one EVALSHA per check"
    );
}

async fn retry_after_is_when_the_oldest_admission_leaves(kind: TransportKind, _: &str) {
    let h = Harness::new(kind).await;
    let ns = namespace();
    // A fresh limiter per refusal, so each one is Redis's answer, not the cache's.
    let fresh = || limiter(h.redis.clone(), &ns, 3, 10_000);
    let t0 = now_ms();
    let l = fresh();
    assert_eq!(l.check_at(Bucket::Text, t0).await.unwrap().remaining, 2);
    assert_eq!(
        l.check_at(Bucket::Text, t0 + 1_000)
            .await
            .unwrap()
            .remaining,
        1
    );
    assert_eq!(
        l.check_at(Bucket::Text, t0 + 2_000)
            .await
            .unwrap()
            .remaining,
        0
    );
    let r = fresh()
        .check_at(Bucket::Text, t0 + 2_500)
        .await
        .unwrap_err();
    let r = r.limited().unwrap();
    assert_eq!((r.reset_at_ms, r.retry_after_secs), (t0 + 10_000, 8));
    assert_eq!(r.retry_after(), Duration::from_secs(8));
    let r = fresh()
        .check_at(Bucket::Text, t0 + 9_999)
        .await
        .unwrap_err();
    assert_eq!(
        r.limited().unwrap().retry_after_secs,
        1,
        "never below one second"
    );
    fresh()
        .check_at(Bucket::Text, t0 + 10_000)
        .await
        .expect("the first stamp has left");
    let r = fresh()
        .check_at(Bucket::Text, t0 + 10_000)
        .await
        .unwrap_err();
    assert_eq!(
        r.limited().unwrap().reset_at_ms,
        t0 + 11_000,
        "next is the t0+1 s stamp"
    );
}

async fn with_rate_limit_runs_the_call_only_when_admitted(kind: TransportKind, _: &str) {
    let h = Harness::new(kind).await;
    let limiter = limiter(h.redis.clone(), &namespace(), 1, 30_000);
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let call = || async {
        calls.fetch_add(1, Ordering::SeqCst);
        "analysis"
    };
    assert_eq!(
        limiter.with_rate_limit(Bucket::Text, call).await.unwrap(),
        "analysis"
    );
    let err = limiter
        .with_rate_limit(Bucket::Text, call)
        .await
        .unwrap_err();
    let refused = err.limited().expect("refused");
    assert!((29..=30).contains(&refused.retry_after_secs), "{refused:?}");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the refused call never ran"
    );
}

async fn buckets_are_independent(kind: TransportKind, _: &str) {
    let h = Harness::new(kind).await;
    let config = RateLimitConfig::default()
        .with_namespace(namespace())
        .with_limit(Bucket::Text, 1)
        .with_limit(Bucket::Image, 1);
    let limiter = RateLimiter::new(h.redis.clone(), config);
    limiter.check(Bucket::Text).await.unwrap();
    assert!(limiter.check(Bucket::Text).await.is_err());
    let image = limiter.check(Bucket::Image).await.unwrap();
    assert_eq!((image.limit, image.remaining), (1, 0));
    assert_eq!(limiter.check(Bucket::Vision).await.unwrap().limit, 30);
}

/// A caller reads its clock just before the window ends, but its script runs after the window
/// has passed on Redis's clock: the log must still be there (the TTL has a window of slack).
async fn a_delayed_check_still_sees_the_log(kind: TransportKind, _: &str) {
    let h = Harness::new(kind).await;
    let ns = namespace();
    let t0 = now_ms();
    limiter(h.redis.clone(), &ns, 1, 300)
        .check_at(Bucket::Text, t0)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let late = limiter(h.redis.clone(), &ns, 1, 300)
        .check_at(Bucket::Text, t0 + 299)
        .await;
    let refused = late.expect_err("still inside the first admission's window");
    assert_eq!(refused.limited().unwrap().reset_at_ms, t0 + 300);
}
