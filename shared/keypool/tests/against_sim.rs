//! The key pool end to end: a real redis-server, the real Gemini simulator (`tools/gemini-sim`)
//! over HTTP and the real client (`scenergy-gemini`), with time compressed so that a "minute"
//! lasts a few seconds on both sides. The throughput test runs its callers in two OS processes
//! (this test binary re-executes itself as the second one) sharing one simulator and one pool
//! namespace, as two worker instances would share Google's quota.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{Harness, namespace};
use gemini_sim::{LatencyRange, SimConfig, SimStats, SpawnedSim};
use scenergy_gemini::{
    ErrorClass, GeminiClient, GeminiConfig, GeminiError, GeneratedImage, ImageQuality, ImageRequest,
};
use scenergy_keypool::{
    ApiKey, DisableReason, KeyLease, KeyOutcome, KeyPool, KeyState, PoolConfig, PoolError,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

/// Every test body is bounded, so a hung service fails the test instead of CI.
const BOUND: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------------
// Helpers shared by the tests (and by the child process).

fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The tokio instant at which the wall clock will read `at_ms` (both processes agree on wall
/// time, not on each other's `Instant`s).
fn instant_at(at_ms: i64) -> Instant {
    Instant::now() + Duration::from_millis(u64::try_from(at_ms - wall_ms()).unwrap_or(0))
}

/// Sleeps until the wall clock reads at least `at_ms`.
async fn sleep_until_wall(at_ms: i64) {
    tokio::time::sleep_until(instant_at(at_ms)).await;
    while wall_ms() < at_ms {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

fn secrets(n: usize) -> Vec<String> {
    let run = rand::random::<u32>();
    (0..n).map(|i| format!("AIza-sim-{run}-{i}")).collect()
}

fn pool_config(ns: &str, window: Duration, rpm: u32) -> PoolConfig {
    let mut config = PoolConfig::with_window(ns, window);
    config.rpm_per_key = rpm;
    config
}

async fn tcp_pool(secrets: &[String], config: PoolConfig) -> KeyPool {
    let keys = secrets.iter().map(ApiKey::new).collect();
    KeyPool::new(Harness::tcp().await.redis, keys, config).expect("pool builds")
}

fn client(base_url: &str) -> GeminiClient {
    GeminiClient::new(GeminiConfig {
        base_url: base_url.to_owned(),
        timeout: Duration::from_secs(10),
        ..GeminiConfig::default()
    })
    .expect("client builds")
}

/// Simulator images are rendered at 1K ÷ 16 (64×64): the pixels prove nothing here and
/// rendering them must not be what limits throughput on a loaded machine.
fn sim_config(rpm: u32, minute: Duration) -> SimConfig {
    SimConfig {
        rpm_per_key: rpm,
        minute,
        latency: LatencyRange {
            min: Duration::from_millis(5),
            max: Duration::from_millis(20),
        },
        render_divisor: 16,
        ..SimConfig::default()
    }
}

async fn spawn_sim(config: SimConfig) -> (String, SpawnedSim) {
    gemini_sim::spawn_local(config)
        .await
        .expect("the simulator starts")
}

async fn generate(client: &GeminiClient, lease: &KeyLease) -> Result<GeneratedImage, GeminiError> {
    let request = ImageRequest::new("a ceramic mug on an oak table", "1:1", ImageQuality::K1);
    client
        .generate_image(lease.key().secret().expose_secret(), &request)
        .await
}

/// What the pool is told about a call: the mapping every Lane B caller uses.
fn outcome_of(result: &Result<GeneratedImage, GeminiError>) -> KeyOutcome {
    let Err(error) = result else {
        return KeyOutcome::Success;
    };
    match error.class() {
        ErrorClass::CoolKey { per_day: true, .. } => KeyOutcome::DailyQuota,
        ErrorClass::CoolKey { retry_after, .. } => KeyOutcome::RateLimited { retry_after },
        ErrorClass::DisableKey => KeyOutcome::InvalidKey,
        // Not the key's fault: the key stays in rotation.
        ErrorClass::Retryable | ErrorClass::Fatal => KeyOutcome::Success,
    }
}

#[expect(
    clippy::print_stderr,
    reason = "measurements for the test log (shown with --nocapture)"
)]
fn note(line: &str) {
    eprintln!("{line}");
}

// ---------------------------------------------------------------------------------------------
// 1. Three keys at 60 per "minute", 30 callers in two processes, four compressed minutes.

/// Its name, for the child process's `--exact` filter.
const TWO_PROCESSES: &str = "two_processes_share_three_keys_at_full_rate";
/// Set in the child's environment: its [`ChildPlan`] as JSON.
const CHILD_ENV: &str = "SCENERGY_KEYPOOL_SIM_CHILD";
/// Prefix of the child's one result line on stdout.
const RESULT_MARKER: &str = "KEYPOOL_SIM_CHILD_RESULT ";

const KEYS: usize = 3;
const RPM: u32 = 60;
/// The compressed minute: the simulator's `minute` and the pool's `window`.
const MINUTE: Duration = Duration::from_secs(3);
const MINUTES: u32 = 4;
const CALLERS_PER_PROCESS: usize = 15;
/// Head start for the child to exec, connect to Redis and get ready before the run begins.
const LEAD: Duration = Duration::from_millis(2_500);

/// What the parent tells the child.
#[derive(Debug, Serialize, Deserialize)]
struct ChildPlan {
    sim_url: String,
    namespace: String,
    secrets: Vec<String>,
    start_ms: i64,
    end_ms: i64,
}

/// What one process's callers did.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Tally {
    successes: u64,
    /// Admission stamps of the calls that got a 429.
    rate_limited: Vec<i64>,
    /// Anything other than success or a 429 (none expected: the simulator injects no faults).
    other: Vec<String>,
    /// `(key id, admission stamp)` of every lease that was used for a call.
    stamps: Vec<(String, i64)>,
}

impl Tally {
    fn absorb(&mut self, other: Self) {
        self.successes += other.successes;
        self.rate_limited.extend(other.rate_limited);
        self.other.extend(other.other);
        self.stamps.extend(other.stamps);
    }
}

/// `callers` tasks, each looping acquire → generate_image → report from `start_ms` until no
/// key can be had before `end_ms`.
async fn run_callers(
    pool: Arc<KeyPool>,
    client: GeminiClient,
    callers: usize,
    start_ms: i64,
    end_ms: i64,
) -> Tally {
    sleep_until_wall(start_ms).await;
    let end = instant_at(end_ms);
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let (pool, client) = (Arc::clone(&pool), client.clone());
            tokio::spawn(async move {
                let mut tally = Tally::default();
                while wall_ms() < end_ms {
                    let lease = match pool.acquire(end).await {
                        Ok(lease) => lease,
                        Err(PoolError::Exhausted { .. }) => break,
                        Err(e) => panic!("acquire failed: {e}"),
                    };
                    if lease.stamp_ms() >= end_ms {
                        // Admitted at the deadline: outside the measured run, so not used.
                        break;
                    }
                    tally.stamps.push((lease.id().to_owned(), lease.stamp_ms()));
                    let result = generate(&client, &lease).await;
                    let outcome = outcome_of(&result);
                    match (&result, outcome) {
                        (Ok(_), _) => tally.successes += 1,
                        (Err(_), KeyOutcome::RateLimited { .. }) => {
                            tally.rate_limited.push(lease.stamp_ms());
                        }
                        (Err(e), _) => tally.other.push(e.to_string()),
                    }
                    pool.report(&lease, outcome).await.expect("report");
                }
                tally
            })
        })
        .collect();
    let mut total = Tally::default();
    for task in tasks {
        total.absorb(task.await.expect("caller task"));
    }
    total
}

/// The child process: the same callers against the same simulator and namespace.
async fn child(plan: &str) {
    let plan: ChildPlan = serde_json::from_str(plan).expect("child plan");
    let pool = tcp_pool(&plan.secrets, pool_config(&plan.namespace, MINUTE, RPM)).await;
    let tally = run_callers(
        Arc::new(pool),
        client(&plan.sim_url),
        CALLERS_PER_PROCESS,
        plan.start_ms,
        plan.end_ms,
    )
    .await;
    let line = serde_json::to_string(&tally).expect("tally serializes");
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    // On a line of its own: libtest has just written "test <name> ... " without a newline.
    writeln!(out, "\n{RESULT_MARKER}{line}").expect("write the result line");
    out.flush().expect("flush stdout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_three_keys_at_full_rate() {
    if let Ok(plan) = std::env::var(CHILD_ENV) {
        scenergy_testkit::bounded(BOUND, child(&plan)).await;
        return;
    }
    scenergy_testkit::bounded(BOUND, two_processes()).await;
    common::cleanup().await;
}

async fn two_processes() {
    let (sim_url, sim) = spawn_sim(sim_config(RPM, MINUTE)).await;
    let ns = namespace();
    let secrets = secrets(KEYS);
    let start_ms = wall_ms() + i64::try_from(LEAD.as_millis()).unwrap();
    let end_ms = start_ms + i64::try_from((MINUTE * MINUTES).as_millis()).unwrap();
    let plan = ChildPlan {
        sim_url: sim_url.clone(),
        namespace: ns.clone(),
        secrets: secrets.clone(),
        start_ms,
        end_ms,
    };
    let child = tokio::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            TWO_PROCESSES,
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD_ENV, serde_json::to_string(&plan).unwrap())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the child process starts");
    // Read its stdout while our own callers run, so a full pipe can never block it.
    let child = tokio::spawn(child.wait_with_output());

    let pool = Arc::new(tcp_pool(&secrets, pool_config(&ns, MINUTE, RPM)).await);
    let mine = run_callers(
        Arc::clone(&pool),
        client(&sim_url),
        CALLERS_PER_PROCESS,
        start_ms,
        end_ms,
    )
    .await;
    let output = child.await.unwrap().expect("the child process ran");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "child failed: {stdout}");
    let theirs: Tally = stdout
        .lines()
        .find_map(|l| l.split_once(RESULT_MARKER).map(|(_, json)| json))
        .map(|json| serde_json::from_str(json).expect("child result"))
        .unwrap_or_else(|| panic!("no result line from the child: {stdout}"));
    let stats: SimStats = sim.stats();

    let (mine_calls, theirs_calls) = (mine.stamps.len(), theirs.stamps.len());
    let mut all = Tally::default();
    all.absorb(mine);
    all.absorb(theirs);
    let calls: u64 = stats.calls_per_key.values().sum();
    let successes = calls - stats.rate_limited;
    // The ideal: every caller stops as soon as no key can be had before `end_ms`, and leases
    // stamped at or after `end_ms` are never used, so every call was admitted in
    // [start_ms, start_ms + MINUTES × MINUTE). That span is MINUTES disjoint windows, and the
    // pool's sliding log gives a key at most RPM admissions in any one window, so at most
    //     ideal = KEYS × RPM × MINUTES = 3 × 60 × 4 = 720
    // calls can succeed. Warm-up is NOT subtracted: the whole budget is available from
    // `start_ms` and both processes are connected and waiting before it (LEAD). Connection
    // set-up, wake-up jitter and the per-window drift of the sliding log all come out of the
    // 10 % margin:
    //     required = ceil(0.9 × ideal) = 648 successes (simulator counters).
    let ideal = u64::from(RPM) * KEYS as u64 * u64::from(MINUTES);
    let required = (ideal * 9).div_ceil(10);
    let rate_429 = stats.rate_limited as f64 / calls.max(1) as f64;
    let mut limited_at: Vec<i64> = all.rate_limited.iter().map(|t| t - start_ms).collect();
    limited_at.sort_unstable();
    let window_ms = i64::try_from(MINUTE.as_millis()).unwrap();
    let mut per_window = vec![0_u32; MINUTES as usize + 1];
    for (_, stamp) in &all.stamps {
        let i = usize::try_from((stamp - start_ms) / window_ms).unwrap_or(0);
        per_window[i.min(MINUTES as usize)] += 1;
    }
    note(&format!(
        "two processes: {calls} calls ({mine_calls} here, {theirs_calls} in the child), \
         {successes} ok = {:.1} % of {ideal}, {} × 429 = {:.2} % (admitted at +{limited_at:?} \
         ms), calls per window {per_window:?}, peak {} in flight, per key {:?}",
        100.0 * successes as f64 / ideal as f64,
        stats.rate_limited,
        100.0 * rate_429,
        stats.concurrent_peak,
        stats.calls_per_key.values().collect::<Vec<_>>(),
    ));

    // Both processes called, through the pool only, and the simulator saw every call.
    assert!(mine_calls > 0 && theirs_calls > 0, "both processes called");
    assert_eq!(
        calls,
        (mine_calls + theirs_calls) as u64,
        "sim saw every call"
    );
    assert_eq!(stats.calls_per_key.len(), KEYS, "all keys used");
    assert_eq!(
        all.successes, successes,
        "callers and sim agree on successes"
    );
    assert_eq!(all.rate_limited.len() as u64, stats.rate_limited);
    assert!(all.other.is_empty(), "unexpected errors: {:?}", all.other);
    assert!(
        stats.concurrent_peak > CALLERS_PER_PROCESS as u64,
        "both processes had calls in flight at once (peak {})",
        stats.concurrent_peak
    );

    assert!(
        rate_429 < 0.01,
        "{} of {calls} calls got a 429 ({:.2} %)",
        stats.rate_limited,
        100.0 * rate_429
    );
    assert!(
        successes >= required,
        "{successes} successes < {required} (90 % of {ideal})"
    );

    // No key exceeded its budget: from the simulator's counters over the run (calls, 429s
    // included, ≤ RPM × MINUTES per key), and exactly, from both processes' admission stamps
    // (≤ RPM in every window starting at any admission).
    for n in stats.calls_per_key.values() {
        assert!(*n <= u64::from(RPM * MINUTES), "a key got {n} calls");
    }
    let mut by_key: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (id, stamp) in all.stamps {
        assert!(
            (start_ms..end_ms).contains(&stamp),
            "stamp {stamp} outside the run"
        );
        by_key.entry(id).or_default().push(stamp);
    }
    for (id, mut stamps) in by_key {
        stamps.sort_unstable();
        for (i, &t) in stamps.iter().enumerate() {
            let inside = stamps[i..]
                .iter()
                .take_while(|&&u| u < t + window_ms)
                .count();
            assert!(
                inside <= RPM as usize,
                "key {id}: {inside} calls in the window from {t}"
            );
        }
    }
    let health = pool.health().await.unwrap();
    assert_eq!(
        health.iter().map(|h| h.calls).sum::<u64>(),
        calls,
        "the pool counted every lease from both processes"
    );
}

// ---------------------------------------------------------------------------------------------
// 2. A key that turns out invalid is retired after its first 400.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_key_is_retired_after_its_first_400() {
    scenergy_testkit::bounded(BOUND, invalid_key_is_retired()).await;
    common::cleanup().await;
}

async fn invalid_key_is_retired() {
    const CALLERS: usize = 4;
    const SUCCESSES_EACH: usize = 8;
    let secrets = secrets(3);
    // The middle key: round robin hands it out on the very first round.
    let bad_secret = secrets[1].clone();
    let mut sim = sim_config(60, Duration::from_secs(60));
    sim.invalid_keys = vec![bad_secret.clone()];
    let (sim_url, sim) = spawn_sim(sim).await;
    let pool = Arc::new(tcp_pool(&secrets, PoolConfig::new(namespace())).await);
    let bad = ApiKey::new(&bad_secret);
    let mut events = pool.subscribe();
    let client = client(&sim_url);

    let tasks: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (pool, client) = (Arc::clone(&pool), client.clone());
            tokio::spawn(async move {
                let (mut ok, mut invalid) = (0, 0);
                while ok < SUCCESSES_EACH {
                    let lease = pool.acquire(Instant::now() + Duration::from_secs(10)).await;
                    let lease = lease.expect("a good key is always available");
                    let result = generate(&client, &lease).await;
                    let outcome = outcome_of(&result);
                    pool.report(&lease, outcome).await.expect("report");
                    match (result, outcome) {
                        (Ok(_), _) => ok += 1,
                        (Err(GeminiError::InvalidKey), KeyOutcome::InvalidKey) => invalid += 1,
                        (Err(e), _) => panic!("unexpected error: {e}"),
                    }
                }
                invalid
            })
        })
        .collect();
    let mut invalid_seen = 0;
    for task in tasks {
        invalid_seen += task.await.unwrap();
    }

    let stats = sim.stats();
    let bad_calls = stats.calls_per_key.get(&bad_secret).copied().unwrap_or(0);
    note(&format!(
        "invalid key: {bad_calls} call(s) on it, {} in all",
        stats.calls_per_key.values().sum::<u64>()
    ));
    // Every lease on the bad key ended in exactly one 400, seen by one caller.
    assert_eq!(bad_calls, invalid_seen);
    // At least one call is needed to learn the key is bad. More than one can happen only
    // while the first 400 is in flight: callers that leased the key before any report landed
    // each make one call with it. A caller holds one lease at a time, and its own 400 disables
    // the key before it acquires again, so no caller can hit the key twice: at most CALLERS.
    assert!(
        (1..=CALLERS as u64).contains(&bad_calls),
        "{bad_calls} calls on the invalid key"
    );

    let row = pool
        .health()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.id == bad.id())
        .unwrap();
    assert_eq!(
        row.state,
        KeyState::Disabled {
            reason: DisableReason::InvalidKey,
            until_ms: None
        }
    );
    assert_eq!(row.calls, bad_calls, "every lease on it reached the sim");
    // The broadcast carries the disable once, even when a concurrent second 400 is reported:
    // only the report that changed the key's state announces it.
    let mut received = Vec::new();
    while let Ok(event) = events.try_recv() {
        received.push(event);
    }
    assert_eq!(received.len(), 1, "{received:?}");
    for event in &received {
        assert_eq!(
            (event.key_id.as_str(), event.reason, event.until_ms),
            (bad.id(), DisableReason::InvalidKey, None)
        );
    }
    let stored = pool.recent_events(10).await.unwrap();
    assert_eq!(stored.len(), 1, "one disable in the stream: {stored:?}");
    assert_eq!(stored[0].key_id, bad.id());

    // Retired for good: more traffic never reaches it.
    for _ in 0..12 {
        let lease = pool.acquire(Instant::now() + Duration::from_secs(5)).await;
        let lease = lease.unwrap();
        assert_ne!(lease.id(), bad.id());
        let result = generate(&client, &lease).await;
        assert!(result.is_ok(), "{:?}", result.err());
        pool.report(&lease, KeyOutcome::Success).await.unwrap();
    }
    let after = sim.stats();
    assert_eq!(after.calls_per_key.get(&bad_secret), Some(&bad_calls));
    let good: u64 = after
        .calls_per_key
        .iter()
        .filter(|(k, _)| **k != bad_secret)
        .map(|(_, n)| n)
        .sum();
    assert_eq!(good, (CALLERS * SUCCESSES_EACH + 12) as u64);
    assert_eq!(after.rate_limited, 0);
}

// ---------------------------------------------------------------------------------------------
// 3. Every key cooling: callers wait for the cooldown instead of failing.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_keys_cooling_callers_wait_not_fail() {
    scenergy_testkit::bounded(BOUND, all_keys_cooling()).await;
    common::cleanup().await;
}

/// One caller's story: when it got its first 429 (and the delay it was told), when it was done.
#[derive(Debug)]
struct Waited {
    first_429: Option<(Instant, Duration)>,
    done: Instant,
}

async fn all_keys_cooling() {
    // The simulator allows 5 calls per key per 2 s; the pool thinks a key may take 60 (a key
    // shared with someone else, or a lower quota than configured), so only 429s cool it.
    // 14 callers need one success each: 10 fit in the first window, the other 4 get 429s on
    // both keys (all 429s fall in that first window), wait, and fit in the second.
    const SIM_RPM: u32 = 5;
    const WINDOW: Duration = Duration::from_secs(2);
    const CALLERS: usize = 14;
    let secrets = secrets(2);
    let (sim_url, sim) = spawn_sim(sim_config(SIM_RPM, WINDOW)).await;
    let pool = Arc::new(tcp_pool(&secrets, pool_config(&namespace(), WINDOW, 60)).await);
    let client = client(&sim_url);

    // Watches the pool's view: were all keys cooling at once?
    let done = Arc::new(AtomicBool::new(false));
    let most_cooling = Arc::new(AtomicUsize::new(0));
    let watcher = {
        let (pool, done, most) = (
            Arc::clone(&pool),
            Arc::clone(&done),
            Arc::clone(&most_cooling),
        );
        tokio::spawn(async move {
            while !done.load(Ordering::SeqCst) {
                let cooling = pool
                    .health()
                    .await
                    .unwrap()
                    .iter()
                    .filter(|h| matches!(h.state, KeyState::Cooling { .. }))
                    .count();
                most.fetch_max(cooling, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };

    let started = Instant::now();
    // Longer than any cooldown here (2 s + 20 % jitter), with room for a loaded machine.
    let deadline = started + Duration::from_secs(20);
    let tasks: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (pool, client) = (Arc::clone(&pool), client.clone());
            tokio::spawn(async move {
                let mut first_429 = None;
                loop {
                    let lease = pool.acquire(deadline).await?;
                    let result = generate(&client, &lease).await;
                    let outcome = outcome_of(&result);
                    pool.report(&lease, outcome).await?;
                    match (result, outcome) {
                        (Ok(_), _) => {
                            return Ok::<_, PoolError>(Waited {
                                first_429,
                                done: Instant::now(),
                            });
                        }
                        (Err(_), KeyOutcome::RateLimited { retry_after }) => {
                            let delay = retry_after.expect("the simulator sends retryDelay");
                            first_429.get_or_insert((Instant::now(), delay));
                        }
                        (Err(e), _) => panic!("unexpected error: {e}"),
                    }
                }
            })
        })
        .collect();
    let mut waited = Vec::new();
    for task in tasks {
        // No PoolError::Exhausted (or any other): every caller got its call through.
        waited.push(
            task.await
                .unwrap()
                .expect("the caller waited and succeeded"),
        );
    }
    done.store(true, Ordering::SeqCst);
    watcher.await.unwrap();

    let stats = sim.stats();
    let throttled: Vec<&Waited> = waited.iter().filter(|w| w.first_429.is_some()).collect();
    let last_first_429 = throttled
        .iter()
        .filter_map(|w| w.first_429.map(|(at, _)| at))
        .max()
        .unwrap_or(started);
    note(&format!(
        "all cooling: {} callers throttled, {} × 429 ({:?}), slowest done after {:?}",
        throttled.len(),
        stats.rate_limited,
        stats.rate_limited_per_key.values().collect::<Vec<_>>(),
        waited.iter().map(|w| w.done - started).max().unwrap(),
    ));
    assert_eq!(
        stats.calls_per_key.values().sum::<u64>() - stats.rate_limited,
        CALLERS as u64,
        "one success per caller"
    );
    assert_eq!(
        stats.rate_limited_per_key.len(),
        2,
        "both keys were rate limited"
    );
    assert_eq!(
        most_cooling.load(Ordering::SeqCst),
        2,
        "both keys cooled at once"
    );
    for row in pool.health().await.unwrap() {
        assert!(row.rate_limited >= 1, "{row:?}");
    }
    // Only SIM_RPM calls per key fit in the first window.
    assert!(throttled.len() >= CALLERS - 2 * SIM_RPM as usize);
    // The simulator's windows began at or after `started` and were full, so nobody throttled
    // could succeed before a whole window had passed. Measured from its own first 429, a
    // caller waited at least the retryDelay it was given, less how far apart the two keys'
    // windows began (both began before the last first-round 429) and a little for the 429's
    // trip back to the caller.
    let skew = last_first_429 - started + Duration::from_millis(20);
    for w in &throttled {
        let (at, delay) = w.first_429.unwrap();
        assert!(
            w.done - started >= WINDOW,
            "{:?} after the start",
            w.done - started
        );
        assert!(
            w.done - at + skew >= delay,
            "waited {:?} after a 429 saying {delay:?} (skew {skew:?})",
            w.done - at
        );
    }
}
