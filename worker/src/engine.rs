//! The engine both modes share: the claim loop, the generation slots, the lease heartbeat and
//! the wind-down.
//!
//! Concurrency is counted in generation calls in flight (`WORKER_CONCURRENCY` slots per
//! process), not in jobs: a claimed job's items wait for free slots, and the loop claims the
//! next job only when a slot is free and no claimed item is still waiting for one, so an
//! instance never sits on jobs that another instance could be running.
//!
//! A run ends when its `stop` token fires (SIGTERM, the drain deadline) or, for a drain, when
//! the queue has nothing claimable and none of its jobs is left. Then nothing new starts;
//! items in flight get `SHUTDOWN_GRACE_SECS` to finish, and whatever is left is aborted and
//! released to the queue, first in line, so another worker takes it up at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use scenergy_db::PgPool;
use scenergy_gemini::ImageProvider;
use scenergy_keypool::KeyPool;
use scenergy_queue::{ClaimedJob, JobId, Queue, defaults, now_ms};
use scenergy_redis::TcpTransport;
use scenergy_storage::Storage;
use serde::Serialize;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::retry;
use crate::settings::RunSettings;

/// An idle `serve` loop over REST (no blocking wait possible) looks again this often.
const REST_IDLE_POLL: Duration = Duration::from_secs(30);
/// While a drain's own jobs are still running and nothing is claimable, it claims again when
/// one of them ends, or after this long for jobs enqueued meanwhile (whose wake also starts a
/// drain of its own). An empty claim is about ten commands on the server; once a second would
/// cost hundreds a minute during a long job.
const DRAIN_RECHECK: Duration = Duration::from_secs(5);

/// The image model and the keys to call it with (`None` for the offline provider).
#[derive(Clone)]
pub struct Generator {
    pub provider: Arc<dyn ImageProvider>,
    pub pool: Option<Arc<KeyPool>>,
}

impl std::fmt::Debug for Generator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generator")
            .field("provider", &self.provider.name())
            .field("pool", &self.pool)
            .finish()
    }
}

/// Everything a job needs. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Worker {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) run: RunSettings,
    pub(crate) queue: Queue,
    pub(crate) db: PgPool,
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) generator: Generator,
    /// The lease token of every job this process claims.
    pub(crate) lease_token: String,
    slots: Arc<Semaphore>,
    /// Items of claimed jobs that wait for a slot, plus one per job still loading.
    waiting: AtomicUsize,
    capacity: Notify,
    jobs: Mutex<HashMap<JobId, Arc<JobControl>>>,
}

/// How a running job is told to stop.
#[derive(Debug)]
pub(crate) struct JobControl {
    /// Start no more items (the run is winding down).
    pub(crate) wind_down: CancellationToken,
    /// Drop the items in flight (the grace is over, or the lease is lost).
    pub(crate) abort: CancellationToken,
    /// A cancel was requested; seen on a heartbeat or a progress write.
    pub(crate) cancel: CancellationToken,
    lost: AtomicBool,
}

impl JobControl {
    pub(crate) fn lose(&self) {
        self.lost.store(true, Ordering::SeqCst);
        self.abort.cancel();
    }

    pub(crate) fn is_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// Whether an item that has not started yet should still start.
    pub(crate) fn may_start(&self) -> bool {
        !(self.wind_down.is_cancelled() || self.abort.is_cancelled() || self.cancel.is_cancelled())
    }
}

/// A generation slot; handing it back wakes a claim loop that waits for capacity.
#[derive(Debug)]
pub(crate) struct Slot {
    _permit: OwnedSemaphorePermit,
    inner: Weak<Inner>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.upgrade() {
            // The permit is released after this body; waiters re-check after a yield.
            inner.capacity.notify_waiters();
        }
    }
}

/// See [`Worker::waiting_ticket`]. Dropping it counts as done, so a job or an item that ends
/// any way at all (a panic included) never leaves the count stuck.
#[derive(Debug)]
pub(crate) struct Waiting(Option<Arc<Inner>>);

impl Waiting {
    pub(crate) fn done(&mut self) {
        if let Some(inner) = self.0.take() {
            inner.waiting.fetch_sub(1, Ordering::SeqCst);
            inner.capacity.notify_waiters();
        }
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.done();
    }
}

/// How one job ended, as far as this process is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum JobEnd {
    Completed,
    Failed,
    /// Failed this attempt; the queue retries it after a backoff.
    Retrying,
    Cancelled,
    /// Handed back to the queue unfinished (wind-down).
    Released,
    /// Another worker holds it now, or its final write could not be made; the lease runs out
    /// and the queue hands it to the next worker, which resumes it.
    Lost,
}

/// What a job task reports to its run.
#[derive(Debug, Clone)]
pub(crate) struct JobReport {
    pub(crate) end: JobEnd,
    pub(crate) images: u32,
}

/// What one run did: the `/drain` reply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunSummary {
    pub jobs_claimed: u32,
    pub completed: u32,
    pub failed: u32,
    pub retrying: u32,
    pub cancelled: u32,
    pub released: u32,
    pub lost: u32,
    /// Images generated and stored in this run.
    pub images: u32,
    /// Expired leases of other workers recovered while claiming.
    pub stalled_recovered: u32,
    /// `empty` (nothing left to claim), `paused` (the queue is paused) or `stopped` (deadline
    /// or shutdown).
    pub ended: &'static str,
    pub duration_ms: u64,
}

impl RunSummary {
    fn record(&mut self, report: Result<JobReport, tokio::task::JoinError>) {
        let report = report.unwrap_or_else(|error| {
            // A panic in a job is a bug; its lease runs out and the job is retried elsewhere.
            tracing::error!(%error, "job task panicked");
            JobReport {
                end: JobEnd::Lost,
                images: 0,
            }
        });
        self.images += report.images;
        let counter = match report.end {
            JobEnd::Completed => &mut self.completed,
            JobEnd::Failed => &mut self.failed,
            JobEnd::Retrying => &mut self.retrying,
            JobEnd::Cancelled => &mut self.cancelled,
            JobEnd::Released => &mut self.released,
            JobEnd::Lost => &mut self.lost,
        };
        *counter += 1;
    }
}

/// How a run looks for work when the queue is empty.
#[derive(Debug, Clone, Copy)]
pub enum RunMode<'a> {
    /// `worker serve`: wait for a wake (BLPOP on `blocking`, a dedicated TCP connection; with
    /// `None`, over REST, poll) and go on until stopped.
    Forever { blocking: Option<&'a TcpTransport> },
    /// `/drain`: return once nothing is claimable and this run's jobs have ended.
    UntilEmpty,
}

fn lease_token() -> String {
    let host = std::env::var("HOSTNAME")
        .or_else(|_| std::env::var("K_REVISION"))
        .unwrap_or_else(|_| "worker".to_owned());
    format!(
        "{host}-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn until(at_ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(at_ms - now_ms()).unwrap_or(0))
}

impl Worker {
    /// Builds the engine and starts its heartbeat task (which holds no strong reference and
    /// ends with the last clone).
    pub fn new(
        run: RunSettings,
        queue: Queue,
        db: PgPool,
        storage: Arc<dyn Storage>,
        generator: Generator,
    ) -> Self {
        let inner = Arc::new(Inner {
            slots: Arc::new(Semaphore::new(run.concurrency)),
            run,
            queue,
            db,
            storage,
            generator,
            lease_token: lease_token(),
            waiting: AtomicUsize::new(0),
            capacity: Notify::new(),
            jobs: Mutex::new(HashMap::new()),
        });
        tokio::spawn(heartbeats(Arc::downgrade(&inner)));
        Self { inner }
    }

    pub fn queue(&self) -> &Queue {
        &self.inner.queue
    }

    pub fn db(&self) -> &PgPool {
        &self.inner.db
    }

    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.inner.storage
    }

    pub fn generator(&self) -> &Generator {
        &self.inner.generator
    }

    pub fn settings(&self) -> &RunSettings {
        &self.inner.run
    }

    fn has_capacity(&self) -> bool {
        self.inner.slots.available_permits() > 0 && self.inner.waiting.load(Ordering::SeqCst) == 0
    }

    /// Claims and runs jobs until `stop` fires or, in [`RunMode::UntilEmpty`], the queue has
    /// nothing claimable left; then winds down (see the module docs).
    pub async fn run(&self, mode: RunMode<'_>, stop: CancellationToken) -> RunSummary {
        let started = Instant::now();
        let mut summary = RunSummary::default();
        let mut tasks: JoinSet<JobReport> = JoinSet::new();
        let abort_all = CancellationToken::new();
        let mut redis_failures = 0;
        let lease_ms = ms(self.inner.run.lease);
        summary.ended = loop {
            while let Some(done) = tasks.try_join_next() {
                summary.record(done);
            }
            if stop.is_cancelled() {
                break "stopped";
            }
            let capacity = self.inner.capacity.notified();
            tokio::pin!(capacity);
            capacity.as_mut().enable();
            if !self.has_capacity() {
                tokio::select! {
                    () = &mut capacity => {}
                    Some(done) = tasks.join_next() => summary.record(done),
                    () = stop.cancelled() => {}
                }
                // The slot's permit is returned just after its notification.
                tokio::task::yield_now().await;
                continue;
            }
            let claim = match self
                .inner
                .queue
                .claim(&self.inner.lease_token, 1, lease_ms, now_ms())
                .await
            {
                Ok(claim) => {
                    redis_failures = 0;
                    crate::alerts::Liveness::global().beat();
                    if claim.rate_limited_until_ms.is_some() {
                        crate::metrics::Metrics::global().rate_limited("queue_start_rate");
                    }
                    claim
                }
                Err(error) => {
                    let wait = retry::delay(redis_failures);
                    redis_failures += 1;
                    tracing::warn!(%error, retry_in_ms = ms(wait), "claim failed");
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = stop.cancelled() => {}
                    }
                    continue;
                }
            };
            summary.stalled_recovered += claim.reclaimed;
            if let Some(job) = claim.jobs.into_iter().next() {
                summary.jobs_claimed += 1;
                let control = self.register(&job, &stop, &abort_all);
                let loading = self.waiting_ticket();
                let worker = self.clone();
                tasks.spawn(async move { worker.run_job(job, control, loading).await });
                continue;
            }
            let rate_limited = claim
                .rate_limited_until_ms
                .filter(|at| *at > now_ms())
                .map(until);
            match mode {
                RunMode::UntilEmpty => {
                    if rate_limited.is_none() && tasks.is_empty() {
                        break if claim.paused { "paused" } else { "empty" };
                    }
                    tokio::select! {
                        Some(done) = tasks.join_next() => summary.record(done),
                        () = tokio::time::sleep(rate_limited.unwrap_or(DRAIN_RECHECK)) => {}
                        () = stop.cancelled() => {}
                    }
                }
                RunMode::Forever { blocking } => {
                    let wait = rate_limited
                        .or_else(|| claim.next_wake_at_ms.map(until))
                        .unwrap_or(defaults::WAKE_WAIT_MAX)
                        .clamp(Duration::from_millis(10), defaults::WAKE_WAIT_MAX);
                    tokio::select! {
                        Some(done) = tasks.join_next() => summary.record(done),
                        () = self.idle(blocking, wait, rate_limited.is_some()) => {}
                        () = stop.cancelled() => {}
                    }
                }
            }
        };
        if !tasks.is_empty() {
            // `stop` fired, so every job's `wind_down` has: nothing new starts.
            let grace = tokio::time::sleep(self.inner.run.shutdown_grace);
            tokio::pin!(grace);
            loop {
                tokio::select! {
                    next = tasks.join_next() => match next {
                        Some(done) => summary.record(done),
                        None => break,
                    },
                    () = &mut grace => break,
                }
            }
            if !tasks.is_empty() {
                tracing::info!(jobs = tasks.len(), "grace over; releasing unfinished work");
                abort_all.cancel();
                while let Some(done) = tasks.join_next().await {
                    summary.record(done);
                }
            }
        }
        summary.duration_ms = ms(started.elapsed());
        summary
    }

    /// A drain: [`RunMode::UntilEmpty`] that also stops claiming `deadline` from now, or when
    /// `parent` fires (SIGTERM), then winds down as every run does.
    pub async fn drain(&self, deadline: Duration, parent: &CancellationToken) -> RunSummary {
        let stop = parent.child_token();
        let timer = stop.clone();
        let deadline_timer = tokio::spawn(async move {
            tokio::time::sleep(deadline).await;
            timer.cancel();
        });
        let summary = self.run(RunMode::UntilEmpty, stop).await;
        deadline_timer.abort();
        tracing::info!(
            completed = summary.completed,
            failed = summary.failed,
            released = summary.released,
            images = summary.images,
            ended = summary.ended,
            duration = summary.duration_ms,
            "drain ended"
        );
        summary
    }

    /// Waits for a wake on the dedicated connection, or sleeps when there is none (REST) or
    /// when only the start rate is in the way.
    async fn idle(&self, blocking: Option<&TcpTransport>, wait: Duration, rate_limited: bool) {
        match blocking {
            Some(conn) if !rate_limited => {
                if let Err(error) = self.inner.queue.wait_for_wake(conn, wait).await {
                    tracing::warn!(%error, "waiting for a wake failed");
                    tokio::time::sleep(retry::delay(3)).await;
                }
            }
            Some(_) => tokio::time::sleep(wait).await,
            None => tokio::time::sleep(wait.min(REST_IDLE_POLL)).await,
        }
    }

    fn register(
        &self,
        job: &ClaimedJob,
        stop: &CancellationToken,
        abort_all: &CancellationToken,
    ) -> Arc<JobControl> {
        let control = Arc::new(JobControl {
            wind_down: stop.child_token(),
            abort: abort_all.child_token(),
            cancel: CancellationToken::new(),
            lost: AtomicBool::new(false),
        });
        self.inner
            .jobs_lock()
            .insert(job.id.clone(), control.clone());
        control
    }

    /// Runs one claimed job to its end and forgets it.
    async fn run_job(
        self,
        job: ClaimedJob,
        control: Arc<JobControl>,
        loading: Waiting,
    ) -> JobReport {
        let id = job.id.clone();
        let job_type = job.job_type.clone();
        let span = tracing::info_span!("job", job_id = %id, job_type = %job.job_type);
        let started = Instant::now();
        let report = tracing::Instrument::instrument(
            crate::job::run(&self, job, &control, loading),
            span.clone(),
        )
        .await;
        self.inner.jobs_lock().remove(&id);
        crate::metrics::Metrics::global().job_finished(&job_type, report.end, started.elapsed());
        span.in_scope(|| {
            tracing::info!(
                end = ?report.end,
                images = report.images,
                duration = ms(started.elapsed()),
                "job ended"
            );
        });
        report
    }

    /// Counts one thing (a claimed job still loading, or an item) as waiting for a slot
    /// until the ticket is done or dropped; the loop claims nothing while any ticket is out.
    pub(crate) fn waiting_ticket(&self) -> Waiting {
        self.inner.waiting.fetch_add(1, Ordering::SeqCst);
        Waiting(Some(self.inner.clone()))
    }

    /// A generation slot, once one is free.
    pub(crate) async fn slot(&self) -> Slot {
        let permit = self
            .inner
            .slots
            .clone()
            .acquire_owned()
            .await
            .unwrap_or_else(|_| unreachable!("the slot semaphore is never closed"));
        Slot {
            _permit: permit,
            inner: Arc::downgrade(&self.inner),
        }
    }
}

impl Inner {
    fn jobs_lock(&self) -> std::sync::MutexGuard<'_, HashMap<JobId, Arc<JobControl>>> {
        self.jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Renews the leases of every job this process holds, three times per lease, and tells a
/// job when its lease was lost or a cancel was requested. Costs nothing while idle.
async fn heartbeats(inner: Weak<Inner>) {
    let Some(period) = inner.upgrade().map(|i| i.run.lease / 3) else {
        return;
    };
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let held: Vec<(JobId, Arc<JobControl>)> = inner
            .jobs_lock()
            .iter()
            .map(|(id, c)| (id.clone(), c.clone()))
            .collect();
        if held.is_empty() {
            continue;
        }
        let ids: Vec<JobId> = held.iter().map(|(id, _)| id.clone()).collect();
        match inner
            .queue
            .heartbeat(&inner.lease_token, &ids, ms(inner.run.lease), now_ms())
            .await
        {
            Ok(beat) => {
                crate::alerts::Liveness::global().beat();
                for (id, control) in &held {
                    if beat.lost.contains(id) {
                        tracing::warn!(job_id = %id, "lease lost; stopping the job here");
                        control.lose();
                    } else if beat.cancel_requested.contains(id) {
                        control.cancel.cancel();
                    }
                }
            }
            Err(error) => tracing::warn!(%error, jobs = ids.len(), "heartbeat failed"),
        }
    }
}
