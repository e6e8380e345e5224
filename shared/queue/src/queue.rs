//! [`Queue`]: one queue's handle, with enqueue, claim and the read-only operations.
//! The per-job operations of a lease holder are in `lease.rs`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use scenergy_redis::{Cmd, Redis, Script, ScriptCall, TcpConfig, TcpTransport, Value, run_all};

use crate::keys::{Keys, validate_queue_name};
use crate::types::{Claim, ClaimedJob, Counts, Enqueued, JobRecord, JobState, NewJob, Trimmed};
use crate::{JobId, QueueError, defaults, scripts};

/// Milliseconds since the Unix epoch: the `now` every operation takes.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A TCP connection of its own for [`Queue::wait_for_wake`].
pub async fn wake_transport(redis_url: &str) -> Result<TcpTransport, QueueError> {
    Ok(TcpTransport::connect_blocking(TcpConfig::new(redis_url)).await?)
}

/// Per-queue settings.
#[derive(Debug, Clone)]
pub struct QueueOptions {
    /// Jobs started per second across all workers (`MAX_JOBS_PER_SECOND`); 0 = no limit.
    pub max_jobs_per_second: u32,
    pub events_max_len: u64,
    pub status_ttl_secs: u64,
    pub live_status_ttl_secs: u64,
    pub idempotency_ttl_secs: u64,
    pub promote_limit: u32,
    pub reclaim_limit: u32,
}

impl Default for QueueOptions {
    fn default() -> Self {
        Self {
            max_jobs_per_second: 0,
            events_max_len: defaults::EVENTS_MAX_LEN,
            status_ttl_secs: defaults::STATUS_TTL_SECS,
            live_status_ttl_secs: defaults::LIVE_STATUS_TTL_SECS,
            idempotency_ttl_secs: defaults::IDEMPOTENCY_TTL_SECS,
            promote_limit: defaults::PROMOTE_LIMIT,
            reclaim_limit: defaults::RECLAIM_LIMIT,
        }
    }
}

/// One queue over either transport. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Queue {
    redis: Redis,
    name: String,
    keys: Keys,
    options: QueueOptions,
}

impl Queue {
    pub fn new(redis: Redis, name: &str, options: QueueOptions) -> Result<Self, QueueError> {
        validate_queue_name(name)?;
        Ok(Self {
            redis,
            name: name.to_owned(),
            keys: Keys::new(name),
            options,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    pub fn redis(&self) -> &Redis {
        &self.redis
    }

    /// A call of `script` with the shared KEYS and ARGV[1..4] (lua/_prelude.lua).
    pub(crate) fn call<'a>(&self, script: &'a Script, now: i64) -> ScriptCall<'a> {
        let mut call = script.call();
        for key in &self.keys.shared {
            call = call.key(key);
        }
        call.arg(now)
            .arg(self.options.events_max_len)
            .arg(self.options.status_ttl_secs)
            .arg(self.options.live_status_ttl_secs)
    }

    pub(crate) fn own_id(&self, id: &str) -> Result<JobId, QueueError> {
        let id = JobId::parse(id)?;
        if id.queue() == self.name {
            Ok(id)
        } else {
            let queue = id.queue().to_owned();
            Err(QueueError::WrongQueue { job_id: id, queue })
        }
    }

    pub async fn enqueue(&self, job: NewJob) -> Result<Enqueued, QueueError> {
        let mut out = self.enqueue_many_at(vec![job], now_ms()).await?;
        out.pop()
            .ok_or_else(|| QueueError::reply("enqueue returned nothing"))
    }

    /// Enqueues in script calls of up to [`defaults::ENQUEUE_CHUNK`] jobs, all sent in one
    /// pipeline. Results are in input order.
    pub async fn enqueue_many(&self, jobs: Vec<NewJob>) -> Result<Vec<Enqueued>, QueueError> {
        self.enqueue_many_at(jobs, now_ms()).await
    }

    /// [`Queue::enqueue_many`] with an explicit `now` (delays count from it).
    pub async fn enqueue_many_at(
        &self,
        jobs: Vec<NewJob>,
        now: i64,
    ) -> Result<Vec<Enqueued>, QueueError> {
        let mut calls = Vec::new();
        for chunk in jobs.chunks(defaults::ENQUEUE_CHUNK) {
            let mut call = self
                .call(&scripts::ENQUEUE, now)
                .arg(self.options.idempotency_ttl_secs)
                .arg(chunk.len());
            let mut idem_keys = Vec::new();
            let mut args = Vec::new();
            for job in chunk {
                let record = self.new_record(job)?;
                let idem = match &job.idempotency_key {
                    Some(key) => {
                        idem_keys.push(self.keys.idempotency(&job.client_id, key));
                        15 + idem_keys.len() - 1
                    }
                    None => 0,
                };
                args.push((record, job.delay_ms, idem));
            }
            for key in idem_keys {
                call = call.key(key);
            }
            for (record, delay, idem) in args {
                call = call.arg(record).arg(delay).arg(idem);
            }
            calls.push(call);
        }
        let mut out = Vec::with_capacity(jobs.len());
        for reply in run_all(&self.redis, &calls).await? {
            let reply = reply.map_err(scenergy_redis::RedisError::from)?;
            for item in reply.into_array()? {
                let pair = item.into_array()?;
                let [id, created] = pair.as_slice() else {
                    return Err(QueueError::reply(format!("enqueue pair {pair:?}")));
                };
                out.push(Enqueued {
                    job_id: self.own_id(id.as_str()?)?,
                    created: created.as_int()? == 1,
                });
            }
        }
        Ok(out)
    }

    fn new_record(&self, job: &NewJob) -> Result<String, QueueError> {
        let record = JobRecord {
            id: JobId::generate(&self.name).as_str().to_owned(),
            queue: self.name.clone(),
            job_type: job.job_type.clone(),
            client_id: job.client_id.clone(),
            priority: job.priority,
            payload: serde_json::to_string(&job.payload).map_err(QueueError::reply)?,
            state: JobState::Waiting,
            attempts: job.attempts.max(1),
            attempts_made: 0,
            max_stalls: job.max_stalls,
            stalls: 0,
            backoff_ms: job.backoff_ms,
            progress: None,
            result: None,
            error: None,
            created_at: 0,
            updated_at: 0,
            lease_token: None,
            slot: 0,
            seq: 0,
            cancel_requested: false,
            idempotency_key: job.idempotency_key.clone(),
        };
        serde_json::to_string(&record).map_err(QueueError::reply)
    }

    /// Promotes due delayed jobs, reclaims expired leases and claims up to `max_jobs` (at most
    /// [`defaults::MAX_CLAIM`]) with leases of `lease_ms` for `worker_token`.
    pub async fn claim(
        &self,
        worker_token: &str,
        max_jobs: u32,
        lease_ms: u64,
        now: i64,
    ) -> Result<Claim, QueueError> {
        let reply = self
            .call(&scripts::CLAIM, now)
            .arg(worker_token)
            .arg(max_jobs.clamp(1, defaults::MAX_CLAIM))
            .arg(lease_ms)
            .arg(self.options.max_jobs_per_second)
            .arg(self.options.promote_limit)
            .arg(self.options.reclaim_limit)
            .run(&self.redis)
            .await?
            .into_array()?;
        let [paused, limited, next_wake, records, stats] = <[Value; 5]>::try_from(reply)
            .map_err(|r| QueueError::reply(format!("claim reply {r:?}")))?;
        let opt = |v: &Value| -> Result<Option<i64>, QueueError> {
            let n = v.as_int()?;
            Ok((n >= 0).then_some(n))
        };
        let stats = stats.into_array()?;
        let stat = |i: usize| -> Result<u32, QueueError> {
            let n = stats
                .get(i)
                .ok_or_else(|| QueueError::reply("claim stats"))?
                .as_int()?;
            u32::try_from(n).map_err(QueueError::reply)
        };
        let jobs = records
            .into_array()?
            .iter()
            .map(|r| self.claimed_job(r.as_str()?))
            .collect::<Result<_, _>>()?;
        Ok(Claim {
            jobs,
            next_wake_at_ms: opt(&next_wake)?,
            rate_limited_until_ms: opt(&limited)?,
            paused: paused.as_int()? == 1,
            promoted: stat(0)?,
            reclaimed: stat(1)?,
            stall_failed: stat(2)?,
        })
    }

    fn claimed_job(&self, record: &str) -> Result<ClaimedJob, QueueError> {
        let r: JobRecord = serde_json::from_str(record).map_err(QueueError::reply)?;
        Ok(ClaimedJob {
            id: self.own_id(&r.id)?,
            payload: serde_json::from_str(&r.payload).map_err(QueueError::reply)?,
            job_type: r.job_type,
            client_id: r.client_id,
            priority: r.priority,
            attempts: r.attempts,
            attempts_made: r.attempts_made,
            stalls: r.stalls,
            backoff_ms: r.backoff_ms,
            created_at: r.created_at,
        })
    }

    /// Blocks on the wake list for up to `timeout` (at most [`defaults::WAKE_WAIT_MAX`]); `true`
    /// if woken. `blocking` must be a DEDICATED connection from [`wake_transport`]: a blocking
    /// command on a shared, multiplexed connection stalls every other caller.
    pub async fn wait_for_wake(
        &self,
        blocking: &TcpTransport,
        timeout: Duration,
    ) -> Result<bool, QueueError> {
        let timeout = timeout.clamp(Duration::from_millis(10), defaults::WAKE_WAIT_MAX);
        let cmd = Cmd::new("BLPOP")
            .arg(self.keys.wake())
            .arg(format!("{:.3}", timeout.as_secs_f64()));
        Ok(!blocking.query_blocking(&cmd, timeout).await?.is_nil())
    }

    /// Sizes of every set, in one script call.
    pub async fn counts(&self) -> Result<Counts, QueueError> {
        let reply = self
            .call(&scripts::COUNTS, now_ms())
            .run(&self.redis)
            .await?
            .into_array()?;
        let n: Vec<u64> = reply
            .iter()
            .map(|v| v.as_int().map(|n| n.unsigned_abs()))
            .collect::<Result<_, _>>()?;
        let [
            urgent,
            normal,
            batch,
            delayed,
            active,
            completed,
            failed,
            cancelled,
            paused,
        ] = <[u64; 9]>::try_from(n).map_err(|n| QueueError::reply(format!("counts {n:?}")))?;
        Ok(Counts {
            urgent,
            normal,
            batch,
            delayed,
            active,
            completed,
            failed,
            cancelled,
            paused: paused == 1,
        })
    }

    /// Pauses or resumes claiming (enqueue keeps working). Resuming wakes a worker. Returns
    /// whether the flag changed; each change is an event in the stream.
    pub async fn set_paused(&self, paused: bool) -> Result<bool, QueueError> {
        let changed = self
            .call(&scripts::PAUSE, now_ms())
            .arg(if paused { "1" } else { "0" })
            .run(&self.redis)
            .await?
            .as_int()?;
        Ok(changed == 1)
    }

    /// Removes finished jobs older than `max_age_ms` and beyond `max_count` per finished set,
    /// at most [`defaults::TRIM_LIMIT`] per call.
    pub async fn trim(
        &self,
        max_age_ms: u64,
        max_count: u64,
        now: i64,
    ) -> Result<Trimmed, QueueError> {
        let reply = self
            .call(&scripts::TRIM, now)
            .arg(max_age_ms)
            .arg(max_count)
            .arg(defaults::TRIM_LIMIT)
            .run(&self.redis)
            .await?
            .into_array()?;
        let [removed, more] = reply.as_slice() else {
            return Err(QueueError::reply(format!("trim reply {reply:?}")));
        };
        Ok(Trimmed {
            removed: removed.as_int()?.unsigned_abs(),
            more: more.as_int()? == 1,
        })
    }

    /// The stored record of a job (`None` if absent or trimmed). One HGET.
    pub async fn job(&self, id: &JobId) -> Result<Option<JobRecord>, QueueError> {
        let raw = self
            .redis
            .query(&Cmd::new("HGET").arg(self.keys.jobs()).arg(id.as_str()))
            .await?;
        raw.into_opt_string()?
            .map(|s| serde_json::from_str(&s).map_err(QueueError::reply))
            .transpose()
    }

    /// The status document of a job, as the status function reads it. One GET.
    pub async fn status(&self, id: &JobId) -> Result<Option<serde_json::Value>, QueueError> {
        let raw = self
            .redis
            .query(&Cmd::new("GET").arg(crate::status_key(id)))
            .await?;
        raw.into_opt_string()?
            .map(|s| serde_json::from_str(&s).map_err(QueueError::reply))
            .transpose()
    }
}
