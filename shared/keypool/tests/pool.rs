//! The key pool against a real redis-server, over TCP and over Upstash REST (through the local
//! gateway), with time compressed to windows of a second or two.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use common::{Harness, namespace};
use scenergy_keypool::{
    ApiKey, DisableReason, KeyOutcome, KeyPool, KeyState, PoolConfig, PoolError,
    next_pacific_midnight,
};
use scenergy_redis::{Redis, TransportKind};
use tokio::time::Instant;

macro_rules! on_both_transports {
    ($($name:ident),* $(,)?) => {
        mod tcp {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::bounded(super::$name(scenergy_redis::TransportKind::Tcp)).await; })*
        }
        mod rest {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::bounded(super::$name(scenergy_redis::TransportKind::Rest)).await; })*
        }
    };
}

on_both_transports!(
    round_robin_across_healthy_keys,
    budget_is_shared_by_two_pools,
    rate_limited_key_cools_and_traffic_moves,
    cooldown_end_admits_one_probe_first,
    failed_probe_cools_again,
    invalid_key_is_retired_with_an_event,
    all_cooling_waits_for_the_first_back,
    daily_quota_disables_until_the_pacific_reset,
);

async fn bounded(test: impl Future<Output = ()>) {
    tokio::time::timeout(Duration::from_secs(60), test)
        .await
        .expect("test finished within 60 s");
    common::cleanup().await;
}

fn keys(n: usize) -> Vec<ApiKey> {
    let run = rand::random::<u32>();
    (0..n)
        .map(|i| ApiKey::new(format!("AIza-test-{run}-{i}")))
        .collect()
}

fn config(ns: &str, window_ms: u64, rpm: u32) -> PoolConfig {
    let mut config = PoolConfig::with_window(ns, Duration::from_millis(window_ms));
    config.rpm_per_key = rpm;
    config
}

fn pool(redis: &Redis, keys: &[ApiKey], config: &PoolConfig) -> KeyPool {
    KeyPool::new(redis.clone(), keys.to_vec(), config.clone()).expect("pool builds")
}

fn soon(ms: u64) -> Instant {
    Instant::now() + Duration::from_millis(ms)
}

async fn round_robin_across_healthy_keys(kind: TransportKind) {
    let h = Harness::new(kind).await;
    let keys = keys(3);
    let pool = pool(&h.redis, &keys, &config(&namespace(), 10_000, 100));
    let mut order = Vec::new();
    for _ in 0..6 {
        order.push(pool.acquire(soon(1_000)).await.unwrap().id().to_owned());
    }
    let ids: Vec<String> = keys.iter().map(|k| k.id().to_owned()).collect();
    assert_eq!(order, [&ids[..], &ids[..]].concat());
    for row in pool.health().await.unwrap() {
        assert_eq!(
            (row.state, row.calls, row.rate_limited),
            (KeyState::Healthy, 2, 0)
        );
    }
}

async fn budget_is_shared_by_two_pools(kind: TransportKind) {
    const WINDOW: i64 = 1_500;
    const RPM: usize = 4;
    let (a, b) = (Harness::new(kind).await, Harness::new(kind).await);
    let keys = keys(2);
    let config = config(&namespace(), WINDOW as u64, RPM as u32);
    let pools = [
        Arc::new(pool(&a.redis, &keys, &config)),
        Arc::new(pool(&b.redis, &keys, &config)),
    ];
    let end = soon(3 * WINDOW as u64);
    let mut tasks = Vec::new();
    for pool in &pools {
        for _ in 0..8 {
            let pool = Arc::clone(pool);
            tasks.push(tokio::spawn(async move {
                let mut got = Vec::new();
                loop {
                    match pool.acquire(end).await {
                        Ok(lease) => {
                            pool.report(&lease, KeyOutcome::Success).await.unwrap();
                            got.push((lease.id().to_owned(), lease.stamp_ms()));
                        }
                        Err(PoolError::Exhausted { .. }) => return got,
                        Err(e) => panic!("acquire failed: {e}"),
                    }
                }
            }));
        }
    }
    let mut by_key: HashMap<String, Vec<i64>> = HashMap::new();
    for task in tasks {
        for (id, stamp) in task.await.unwrap() {
            by_key.entry(id).or_default().push(stamp);
        }
    }
    assert_eq!(by_key.len(), 2, "both keys were used");
    for (id, mut stamps) in by_key {
        stamps.sort_unstable();
        for (i, &t) in stamps.iter().enumerate() {
            let inside = stamps[i..].iter().take_while(|&&u| u < t + WINDOW).count();
            assert!(
                inside <= RPM,
                "key {id}: {inside} calls in the window from {t}"
            );
        }
        // Three windows of demand far above the budget: the budget was used, not wasted.
        assert!(
            stamps.len() >= 2 * RPM,
            "key {id} served only {}",
            stamps.len()
        );
    }
}

async fn rate_limited_key_cools_and_traffic_moves(kind: TransportKind) {
    let h = Harness::new(kind).await;
    let keys = keys(3);
    let pool = pool(&h.redis, &keys, &config(&namespace(), 10_000, 100));
    let first = pool.acquire(soon(1_000)).await.unwrap();
    let before = wall_ms();
    let retry = Some(Duration::from_millis(5_000));
    pool.report(&first, KeyOutcome::RateLimited { retry_after: retry })
        .await
        .unwrap();
    let row = &pool.health().await.unwrap()[0];
    let KeyState::Cooling { until_ms } = row.state else {
        panic!("{row:?}");
    };
    // retryDelay plus 0–20 % jitter.
    assert!((before + 5_000..=wall_ms() + 6_000).contains(&until_ms));
    assert_eq!(row.rate_limited, 1);
    for _ in 0..6 {
        let lease = pool.acquire(soon(1_000)).await.unwrap();
        assert_ne!(lease.id(), first.id(), "the cooling key gets no traffic");
    }
}

fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap())
}

async fn cooldown_end_admits_one_probe_first(kind: TransportKind) {
    let h = Harness::new(kind).await;
    let keys = keys(2);
    let pool = Arc::new(pool(&h.redis, &keys, &config(&namespace(), 2_000, 100)));
    let cooled = pool.acquire(soon(1_000)).await.unwrap();
    let retry = Some(Duration::from_millis(300));
    pool.report(&cooled, KeyOutcome::RateLimited { retry_after: retry })
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await; // past 300 ms + 20 % jitter
    // A burst right after the cooldown: the key gets exactly one call, the probe.
    let burst: Vec<_> = (0..10)
        .map(|_| {
            let pool = Arc::clone(&pool);
            tokio::spawn(async move { pool.acquire(soon(1_000)).await.unwrap() })
        })
        .collect();
    let mut on_cooled = Vec::new();
    for task in burst {
        let lease = task.await.unwrap();
        if lease.id() == cooled.id() {
            on_cooled.push(lease);
        } else {
            assert!(!lease.is_probe());
        }
    }
    assert_eq!(on_cooled.len(), 1, "one probe, no herd");
    let probe = &on_cooled[0];
    assert!(probe.is_probe());
    assert!(matches!(
        pool.health().await.unwrap()[0].state,
        KeyState::Probing { .. }
    ));
    pool.report(probe, KeyOutcome::Success).await.unwrap();
    assert_eq!(pool.health().await.unwrap()[0].state, KeyState::Healthy);
    let mut after = Vec::new();
    for _ in 0..4 {
        after.push(pool.acquire(soon(1_000)).await.unwrap());
    }
    assert_eq!(
        after.iter().filter(|l| l.id() == cooled.id()).count(),
        2,
        "full traffic again"
    );
    assert!(after.iter().all(|l| !l.is_probe()));
}

async fn failed_probe_cools_again(kind: TransportKind) {
    let h = Harness::new(kind).await;
    let keys = keys(1);
    let pool = pool(&h.redis, &keys, &config(&namespace(), 2_000, 100));
    let short = Some(Duration::from_millis(200));
    let lease = pool.acquire(soon(1_000)).await.unwrap();
    pool.report(&lease, KeyOutcome::RateLimited { retry_after: short })
        .await
        .unwrap();
    // The only key is cooling: acquire waits ~200 ms and gets the probe.
    let started = Instant::now();
    let probe = pool.acquire(soon(2_000)).await.unwrap();
    assert!(probe.is_probe() && started.elapsed() >= Duration::from_millis(150));
    // While it is out, nobody else gets the key: a short deadline runs out.
    let err = pool.acquire(soon(50)).await.unwrap_err();
    assert!(matches!(err, PoolError::Exhausted { .. }), "{err}");
    let long = Some(Duration::from_millis(3_000));
    pool.report(&probe, KeyOutcome::RateLimited { retry_after: long })
        .await
        .unwrap();
    assert!(matches!(
        pool.health().await.unwrap()[0].state,
        KeyState::Cooling { .. }
    ));
    let err = pool.acquire(soon(300)).await.unwrap_err();
    let PoolError::Exhausted { next_available_in } = err else {
        panic!("{err}");
    };
    assert!(
        next_available_in > Duration::from_millis(2_500),
        "{next_available_in:?}"
    );
}

async fn invalid_key_is_retired_with_an_event(kind: TransportKind) {
    let h = Harness::new(kind).await;
    let keys = keys(2);
    let pool = pool(&h.redis, &keys, &config(&namespace(), 10_000, 100));
    let mut events = pool.subscribe();
    let bad = pool.acquire(soon(1_000)).await.unwrap();
    pool.report(&bad, KeyOutcome::InvalidKey).await.unwrap();
    let event = events.try_recv().expect("an event was broadcast");
    assert_eq!(
        (event.key_id.as_str(), event.reason, event.until_ms),
        (bad.id(), DisableReason::InvalidKey, None)
    );
    let stored = pool.recent_events(10).await.unwrap();
    assert_eq!(stored, [event], "the event is in the Redis stream too");
    let row = &pool.health().await.unwrap()[0];
    assert_eq!(
        row.state,
        KeyState::Disabled {
            reason: DisableReason::InvalidKey,
            until_ms: None
        }
    );
    for _ in 0..4 {
        assert_ne!(pool.acquire(soon(1_000)).await.unwrap().id(), bad.id());
    }
    // A pool whose only key is invalid fails at once: waiting cannot help.
    let alone = KeyPool::new(
        h.redis.clone(),
        vec![keys[0].clone()],
        pool.config().clone(),
    )
    .unwrap();
    assert!(matches!(
        alone.acquire(soon(5_000)).await,
        Err(PoolError::AllDisabled)
    ));
    pool.enable(bad.id()).await.unwrap();
    assert_eq!(alone.acquire(soon(1_000)).await.unwrap().id(), bad.id());
}

async fn all_cooling_waits_for_the_first_back(kind: TransportKind) {
    let h = Harness::new(kind).await;
    let keys = keys(2);
    let pool = pool(&h.redis, &keys, &config(&namespace(), 2_000, 100));
    let a = pool.acquire(soon(1_000)).await.unwrap();
    let b = pool.acquire(soon(1_000)).await.unwrap();
    let (short, long) = (Duration::from_millis(600), Duration::from_millis(2_000));
    pool.report(
        &a,
        KeyOutcome::RateLimited {
            retry_after: Some(short),
        },
    )
    .await
    .unwrap();
    pool.report(
        &b,
        KeyOutcome::RateLimited {
            retry_after: Some(long),
        },
    )
    .await
    .unwrap();
    // A deadline before either returns fails fast, saying how long the wait would be.
    let err = pool.acquire(soon(200)).await.unwrap_err();
    let PoolError::Exhausted { next_available_in } = err else {
        panic!("{err}");
    };
    assert!(
        next_available_in > Duration::from_millis(300),
        "{next_available_in:?}"
    );
    // A deadline past the first return waits for it: not an error.
    let started = Instant::now();
    let lease = pool.acquire(soon(1_800)).await.unwrap();
    let waited = started.elapsed();
    assert_eq!(lease.id(), a.id());
    assert!(lease.is_probe());
    assert!(
        waited >= Duration::from_millis(500) && waited < Duration::from_millis(1_700),
        "{waited:?}"
    );
}

async fn daily_quota_disables_until_the_pacific_reset(kind: TransportKind) {
    let h = Harness::new(kind).await;
    let keys = keys(2);
    let now = Arc::new(AtomicI64::new(wall_ms()));
    let clock = Arc::clone(&now);
    let pool = pool(&h.redis, &keys, &config(&namespace(), 2_000, 100))
        .with_clock(Arc::new(move || clock.load(Ordering::SeqCst)));
    let mut events = pool.subscribe();
    let spent = pool.acquire(soon(1_000)).await.unwrap();
    pool.report(&spent, KeyOutcome::DailyQuota).await.unwrap();
    let reset = next_pacific_midnight(now.load(Ordering::SeqCst));
    let row = &pool.health().await.unwrap()[0];
    let KeyState::Disabled {
        reason: DisableReason::DailyQuota,
        until_ms: Some(until),
    } = row.state
    else {
        panic!("{row:?}");
    };
    assert!(
        (reset..=reset + 400).contains(&until),
        "until the reset plus jitter"
    );
    assert_eq!(events.try_recv().unwrap().reason, DisableReason::DailyQuota);
    assert_eq!(row.rate_limited, 1);
    for _ in 0..3 {
        assert_ne!(pool.acquire(soon(1_000)).await.unwrap().id(), spent.id());
    }
    // Tomorrow, after the reset: the key comes back through a probe.
    now.store(until + 1, Ordering::SeqCst);
    let back: Vec<_> = [
        pool.acquire(soon(1_000)).await.unwrap(),
        pool.acquire(soon(1_000)).await.unwrap(),
    ]
    .into_iter()
    .filter(|l| l.id() == spent.id())
    .collect();
    assert_eq!(back.len(), 1);
    assert!(back[0].is_probe());
}
