//! Webhook alerts against a local receiver: each condition fires once per window however many
//! instances watch, resolves once, survives a failing webhook, and names the job or key.

mod monitoring;

use std::sync::Arc;
use std::time::Duration;

use monitoring::{Receiver, TEST_TIMEOUT, cleanup, queue};
use scenergy_config::SecretString;
use scenergy_keypool::{ApiKey, KeyOutcome, KeyPool, PoolConfig};
use scenergy_queue::{NewJob, Priority, Queue, now_ms};
use scenergy_testkit::bounded;
use scenergy_worker::alerts::{AlertConfig, AlertSender, Liveness, Monitor};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const WINDOW: Duration = Duration::from_secs(60);

fn config(receiver: &Receiver) -> AlertConfig {
    AlertConfig {
        webhook_url: SecretString::from(receiver.url.clone()),
        backlog_threshold: 2,
        backlog_for: Duration::ZERO,
        window: WINDOW,
        heartbeat_timeout: Duration::from_secs(120),
        check_every: Duration::from_millis(100),
    }
}

fn monitor(
    queue: &Queue,
    pool: Option<Arc<KeyPool>>,
    config: AlertConfig,
    liveness: Liveness,
    stop: &CancellationToken,
) -> Monitor {
    let (sender, _task) = AlertSender::spawn(config.webhook_url.clone(), 16, stop.clone());
    Monitor::new(queue.clone(), pool, config, liveness, sender)
}

fn job(n: u64) -> NewJob {
    NewJob::new("image_generation", "client-a", json!({ "n": n }))
}

fn of<'a>(alerts: &'a [Value], condition: &str) -> Vec<&'a Value> {
    alerts
        .iter()
        .filter(|a| a["condition"] == condition)
        .collect()
}

#[tokio::test]
async fn a_permanent_failure_alerts_once_across_instances_and_resolves_once() {
    bounded(TEST_TIMEOUT, async {
        let (q, _redis) = queue().await;
        // The webhook fails the first POST: the sender retries it.
        let receiver = Receiver::start(1).await;
        let stop = CancellationToken::new();
        let alive = Liveness::default();
        alive.beat();
        let mut a = monitor(&q, None, config(&receiver), alive.clone(), &stop);
        let mut b = monitor(&q, None, config(&receiver), alive.clone(), &stop);
        let id = q.enqueue(job(1)).await.unwrap().job_id;
        let claim = q.claim("w", 1, 30_000, now_ms()).await.unwrap();
        assert_eq!(claim.jobs[0].id, id);
        q.fail(
            "w",
            &id,
            "invalid payload: missing field `prompt`",
            false,
            0,
            now_ms(),
        )
        .await
        .unwrap();
        let now = now_ms();
        a.tick(now).await.unwrap();
        b.tick(now + 1).await.unwrap();
        let alerts = receiver.expect(1, Duration::from_secs(10)).await;
        assert_eq!(alerts.len(), 1, "{alerts:#?}");
        let alert = &alerts[0];
        assert_eq!(alert["condition"], "job_failed");
        assert_eq!(alert["status"], "firing");
        assert_eq!(alert["queue"], q.name());
        assert_eq!(alert["details"]["jobs"][0]["jobId"], id.as_str());
        let text = alert["text"].as_str().unwrap();
        assert!(
            text.contains(id.as_str()) && text.contains("missing field"),
            "{text}"
        );

        // A second failure within the window: quiet.
        q.enqueue(job(2)).await.unwrap();
        let claim = q.claim("w", 1, 30_000, now_ms()).await.unwrap();
        q.fail("w", &claim.jobs[0].id, "boom", false, 0, now_ms())
            .await
            .unwrap();
        a.tick(now + 10).await.unwrap();
        b.tick(now + 11).await.unwrap();
        // A quiet window later both instances try to resolve; one message goes out.
        let later = now + 10 + i64::try_from(WINDOW.as_millis()).unwrap();
        a.tick(later).await.unwrap();
        b.tick(later + 1).await.unwrap();
        let alerts = receiver.expect(2, Duration::from_secs(10)).await;
        assert_eq!(alerts.len(), 2, "{alerts:#?}");
        assert_eq!(alerts[1]["condition"], "job_failed");
        assert_eq!(alerts[1]["status"], "resolved");
        stop.cancel();
        cleanup(&q).await;
    })
    .await;
}

#[tokio::test]
async fn a_backlog_alerts_and_resolves_when_it_drains() {
    bounded(TEST_TIMEOUT, async {
        let (q, _redis) = queue().await;
        let receiver = Receiver::start(0).await;
        let stop = CancellationToken::new();
        let alive = Liveness::default();
        alive.beat();
        let mut m = monitor(&q, None, config(&receiver), alive, &stop);
        for n in 0..3 {
            q.enqueue(job(n).priority(Priority::Batch)).await.unwrap();
        }
        m.tick(now_ms()).await.unwrap();
        let alerts = receiver.expect(1, Duration::from_secs(10)).await;
        assert_eq!(alerts[0]["condition"], "backlog");
        assert_eq!(alerts[0]["details"]["waiting"], 3);
        m.tick(now_ms()).await.unwrap();
        q.claim("w", 2, 30_000, now_ms()).await.unwrap();
        m.tick(now_ms()).await.unwrap();
        let alerts = receiver.expect(2, Duration::from_secs(10)).await;
        assert_eq!(alerts.len(), 2, "{alerts:#?}");
        assert_eq!(
            (&alerts[1]["condition"], &alerts[1]["status"]),
            (&json!("backlog"), &json!("resolved"))
        );
        stop.cancel();
        cleanup(&q).await;
    })
    .await;
}

#[tokio::test]
async fn a_recovered_stall_alerts() {
    bounded(TEST_TIMEOUT, async {
        let (q, _redis) = queue().await;
        let receiver = Receiver::start(0).await;
        let stop = CancellationToken::new();
        let alive = Liveness::default();
        alive.beat();
        let mut m = monitor(&q, None, config(&receiver), alive, &stop);
        let id = q.enqueue(job(1)).await.unwrap().job_id;
        // A worker claims it with a tiny lease and dies.
        q.claim("dead-worker", 1, 1, now_ms()).await.unwrap();
        m.tick(now_ms()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let claim = q.claim("live-worker", 1, 30_000, now_ms()).await.unwrap();
        assert_eq!((claim.reclaimed, claim.jobs[0].id.clone()), (1, id.clone()));
        m.tick(now_ms()).await.unwrap();
        let alerts = receiver.expect(1, Duration::from_secs(10)).await;
        let stalled = of(&alerts, "stalled");
        assert_eq!(stalled.len(), 1, "{alerts:#?}");
        assert_eq!(stalled[0]["details"]["jobs"][0]["jobId"], id.as_str());
        assert_eq!(stalled[0]["details"]["jobs"][0]["outcome"], "requeued");
        stop.cancel();
        cleanup(&q).await;
    })
    .await;
}

#[tokio::test]
async fn waiting_jobs_with_no_live_worker_alert_until_one_shows_up() {
    bounded(TEST_TIMEOUT, async {
        let (q, _redis) = queue().await;
        let receiver = Receiver::start(0).await;
        let stop = CancellationToken::new();
        let mut cfg = config(&receiver);
        cfg.backlog_threshold = 100;
        cfg.heartbeat_timeout = Duration::from_millis(500);
        let liveness = Liveness::default();
        let mut m = monitor(&q, None, cfg, liveness.clone(), &stop);
        q.enqueue(job(1)).await.unwrap();
        // Not long enough yet: nothing.
        m.tick(now_ms()).await.unwrap();
        m.tick(now_ms() + 1_000).await.unwrap();
        let alerts = receiver.expect(1, Duration::from_secs(10)).await;
        assert_eq!(alerts.len(), 1, "{alerts:#?}");
        assert_eq!(alerts[0]["condition"], "no_worker");
        assert_eq!(alerts[0]["severity"], "critical");
        // The engine claims again: the monitor beats for it and the alert resolves.
        liveness.beat();
        m.tick(now_ms()).await.unwrap();
        let alerts = receiver.expect(2, Duration::from_secs(10)).await;
        assert_eq!(
            (&alerts[1]["condition"], &alerts[1]["status"]),
            (&json!("no_worker"), &json!("resolved"))
        );
        stop.cancel();
        cleanup(&q).await;
    })
    .await;
}

#[tokio::test]
async fn a_disabled_key_and_a_pool_with_every_key_cooling_alert() {
    bounded(TEST_TIMEOUT, async {
        let (q, redis) = queue().await;
        let receiver = Receiver::start(0).await;
        let stop = CancellationToken::new();
        let tag: u32 = rand::random();
        let keys: Vec<ApiKey> = (1..=2)
            .map(|i| ApiKey::new(format!("AIza-alerts-{tag:08x}-{i}")))
            .collect();
        let config = PoolConfig::with_window(format!("mt-{tag:08x}"), Duration::from_secs(60));
        let pool = Arc::new(KeyPool::new(redis.clone(), keys.clone(), config).unwrap());
        let alive = Liveness::default();
        alive.beat();
        let mut m = monitor(
            &q,
            Some(pool.clone()),
            self::config(&receiver),
            alive,
            &stop,
        );
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let first = pool.acquire(deadline).await.unwrap();
        pool.report(&first, KeyOutcome::InvalidKey).await.unwrap();
        m.tick(now_ms()).await.unwrap();
        let alerts = receiver.expect(1, Duration::from_secs(10)).await;
        let disabled = format!("key_disabled:{}", first.id());
        assert_eq!(alerts[0]["condition"], disabled.as_str());
        assert!(alerts[0]["text"].as_str().unwrap().contains("invalid_key"));
        assert!(
            !alerts[0].to_string().contains("AIza"),
            "no key in the alert"
        );
        let second = pool.acquire(deadline).await.unwrap();
        assert_ne!(second.id(), first.id());
        pool.report(
            &second,
            KeyOutcome::RateLimited {
                retry_after: Some(Duration::from_secs(60)),
            },
        )
        .await
        .unwrap();
        m.tick(now_ms()).await.unwrap();
        let alerts = receiver.expect(2, Duration::from_secs(10)).await;
        assert_eq!(alerts[1]["condition"], "keys_cooling");
        // An operator re-enables the bad key: both conditions clear.
        pool.enable(first.id()).await.unwrap();
        m.tick(now_ms()).await.unwrap();
        let alerts = receiver.expect(4, Duration::from_secs(10)).await;
        assert_eq!(alerts.len(), 4, "{alerts:#?}");
        for condition in [disabled.as_str(), "keys_cooling"] {
            let resolved = of(&alerts[2..], condition);
            assert_eq!(resolved.len(), 1, "{condition}: {alerts:#?}");
            assert_eq!(resolved[0]["status"], "resolved");
        }
        stop.cancel();
        let state = format!("{{keys:mt-{tag:08x}}}:state");
        let events = format!("{{keys:mt-{tag:08x}}}:events");
        redis
            .query(&scenergy_redis::Cmd::new("DEL").arg(state).arg(events))
            .await
            .unwrap();
        cleanup(&q).await;
    })
    .await;
}
