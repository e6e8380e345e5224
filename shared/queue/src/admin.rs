//! The dashboard's operations: job lists, lookups, the overview's statistics and the operator
//! actions (retry, remove, promote). Each is one script (`lua/<op>.lua`); pause, cancel and
//! clean are [`Queue::set_paused`], [`Queue::cancel`] and [`Queue::trim`].

use scenergy_redis::Value;

use crate::types::{JobRecord, JobState, Priority};
use crate::{Counts, JobId, Queue, QueueError, scripts};

/// Most jobs one list call returns.
pub const MAX_PAGE: u32 = 100;
/// Most failed jobs one retry-all call moves.
pub const MAX_RETRY_ALL: u32 = 1_000;
/// Most stream entries one timeline call reads.
pub const TIMELINE_SCAN: u32 = 2_000;
/// Records one client lookup call examines.
pub const CLIENT_SCAN: u32 = 500;
const HOUR_MS: i64 = 60 * 60 * 1_000;
/// Jobs per ready set looked at for the oldest waiting one (see `lua/stats.lua`).
const OLDEST_SAMPLE: u32 = 10;

/// Which jobs to list: a state, or the waiting jobs of one priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Waiting jobs of every priority, in claim order.
    State(JobState),
    Waiting(Priority),
}

impl Listing {
    fn script_name(self) -> &'static str {
        match self {
            Self::State(s) => s.as_str(),
            Self::Waiting(p) => p.as_str(),
        }
    }
}

/// One listed job: its record and its score in the set (due time for delayed jobs, lease
/// expiry for active ones, finish time for finished ones, the fair slot for waiting ones).
#[derive(Debug, Clone, PartialEq)]
pub struct ListedJob {
    pub id: String,
    pub score: i64,
    /// `None` if the set names a job whose record is gone (should not happen).
    pub record: Option<JobRecord>,
}

/// A page of [`Queue::list_jobs`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JobPage {
    /// Jobs in the listing (all pages).
    pub total: u64,
    pub jobs: Vec<ListedJob>,
}

/// A page of [`Queue::find_by_client`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClientPage {
    /// Pass it back for the next page; `0` when the scan is complete.
    pub cursor: u64,
    pub jobs: Vec<JobRecord>,
}

/// What a retry did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Retried {
    pub retried: Vec<JobId>,
    /// Ids that were not failed jobs (or not there).
    pub skipped: u64,
    /// Retry-all reached its limit and failed jobs remain.
    pub more: bool,
}

/// What `remove` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Gone, with its status and idempotency key; it was in this state.
    Removed(JobState),
    /// The job is active: cancel it instead.
    RefusedActive,
}

/// What `promote` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Promotion {
    Promoted,
    /// Not delayed; nothing changed.
    NotDelayed(JobState),
}

/// One event of a job, from the queue's stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    pub stream_id: String,
    /// The operation (`enqueued`, `claimed`, `failed`, `retried`, …).
    pub event: String,
    /// The job's state after it.
    pub to: String,
    pub at_ms: i64,
}

/// A job's events, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Timeline {
    pub entries: Vec<TimelineEntry>,
    /// The read limit was reached: later events may be missing.
    pub truncated: bool,
}

/// Finished jobs within a time window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Window {
    pub completed: u64,
    pub failed: u64,
    pub cancelled: u64,
}

impl Window {
    pub fn finished(&self) -> u64 {
        self.completed + self.failed + self.cancelled
    }

    /// Failed over completed + failed (`None` when neither happened).
    pub fn failure_rate(&self) -> Option<f64> {
        let ended = self.completed + self.failed;
        #[allow(clippy::cast_precision_loss, reason = "a ratio for display")]
        (ended > 0).then(|| self.failed as f64 / ended as f64)
    }
}

/// The overview of one queue.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct QueueStats {
    pub counts: Counts,
    pub last_hour: Window,
    pub last_day: Window,
    /// `createdAt` of the oldest waiting job (see `lua/stats.lua` for the sample it looks at).
    pub oldest_waiting_created_at: Option<i64>,
}

impl QueueStats {
    pub fn oldest_waiting_age_ms(&self, now: i64) -> Option<i64> {
        self.oldest_waiting_created_at.map(|t| (now - t).max(0))
    }
}

fn int(v: &Value) -> Result<i64, QueueError> {
    Ok(v.as_int()?)
}

fn uint(v: &Value) -> Result<u64, QueueError> {
    Ok(v.as_int()?.unsigned_abs())
}

pub(crate) fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

pub(crate) fn record(raw: &str) -> Result<JobRecord, QueueError> {
    serde_json::from_str(raw).map_err(QueueError::reply)
}

impl Queue {
    /// One page of a listing: `offset` from the start, at most `count` (≤ [`MAX_PAGE`]) jobs,
    /// newest first if asked (not for all waiting jobs, which come in claim order).
    pub async fn list_jobs(
        &self,
        listing: Listing,
        offset: u64,
        count: u32,
        newest_first: bool,
    ) -> Result<JobPage, QueueError> {
        let reply = self
            .call(&scripts::LIST, crate::now_ms())
            .arg(listing.script_name())
            .arg(offset)
            .arg(count.clamp(1, MAX_PAGE))
            .arg(if newest_first { "1" } else { "0" })
            .run(self.redis())
            .await?
            .into_array()?;
        let [total, jobs] = <[Value; 2]>::try_from(reply)
            .map_err(|r| QueueError::reply(format!("list reply {r:?}")))?;
        let jobs = jobs
            .into_array()?
            .into_iter()
            .map(|row| {
                let row = row.into_array()?;
                let [id, score, rec] = row.as_slice() else {
                    return Err(QueueError::reply(format!("list row {row:?}")));
                };
                let record = match rec {
                    Value::Bytes(_) => Some(record(rec.as_str()?)?),
                    _ => None,
                };
                // Scores come back as text; fair-slot scores stay below 2^53.
                let score = score.as_str()?.parse::<f64>().map_err(QueueError::reply)?;
                #[allow(clippy::cast_possible_truncation, reason = "integral scores < 2^53")]
                let score = score as i64;
                Ok(ListedJob {
                    id: text(id),
                    score,
                    record,
                })
            })
            .collect::<Result<_, QueueError>>()?;
        Ok(JobPage {
            total: uint(&total)?,
            jobs,
        })
    }

    /// One HSCAN page of the client's jobs (no index: see `lua/find_client.lua`). Start with
    /// cursor 0; the scan is complete when the returned cursor is 0.
    pub async fn find_by_client(
        &self,
        client_id: &str,
        cursor: u64,
    ) -> Result<ClientPage, QueueError> {
        let reply = self
            .call(&scripts::FIND_CLIENT, crate::now_ms())
            .arg(client_id)
            .arg(cursor)
            .arg(CLIENT_SCAN)
            .run(self.redis())
            .await?
            .into_array()?;
        let [next, found] = <[Value; 2]>::try_from(reply)
            .map_err(|r| QueueError::reply(format!("find reply {r:?}")))?;
        Ok(ClientPage {
            cursor: uint(&next)?,
            jobs: found
                .into_array()?
                .iter()
                .map(|r| record(r.as_str()?))
                .collect::<Result<_, _>>()?,
        })
    }

    /// Puts these failed jobs back in line with fresh attempts. Others are skipped.
    pub async fn retry_failed(&self, ids: &[JobId], now: i64) -> Result<Retried, QueueError> {
        if ids.is_empty() {
            return Ok(Retried::default());
        }
        let mut out = Retried::default();
        for chunk in ids.chunks(MAX_RETRY_ALL as usize) {
            let mut call = self.call(&scripts::RETRY, now).arg(MAX_RETRY_ALL);
            for id in chunk {
                call = call.arg(self.own_id(id.as_str())?.as_str());
            }
            let part = self.retried(call.run(self.redis()).await?)?;
            out.retried.extend(part.retried);
            out.skipped += part.skipped;
        }
        Ok(out)
    }

    /// Retries the `limit` (≤ [`MAX_RETRY_ALL`]) oldest failed jobs; `more` says whether
    /// failed jobs remain.
    pub async fn retry_all_failed(&self, limit: u32, now: i64) -> Result<Retried, QueueError> {
        let reply = self
            .call(&scripts::RETRY, now)
            .arg(limit.clamp(1, MAX_RETRY_ALL))
            .run(self.redis())
            .await?;
        self.retried(reply)
    }

    fn retried(&self, reply: Value) -> Result<Retried, QueueError> {
        let reply = reply.into_array()?;
        let [ids, skipped, more] = <[Value; 3]>::try_from(reply)
            .map_err(|r| QueueError::reply(format!("retry reply {r:?}")))?;
        Ok(Retried {
            retried: ids
                .into_array()?
                .iter()
                .map(|v| self.own_id(v.as_str()?))
                .collect::<Result<_, _>>()?,
            skipped: uint(&skipped)?,
            more: int(&more)? == 1,
        })
    }

    /// Deletes a job that is not active (see [`Removal`]); [`QueueError::NotFound`] if absent.
    pub async fn remove(&self, id: &JobId, now: i64) -> Result<Removal, QueueError> {
        let id = self.own_id(id.as_str())?;
        let reply = self
            .call(&scripts::REMOVE, now)
            .key(self.keys().custom("idem:"))
            .arg(id.as_str())
            .run(self.redis())
            .await?
            .into_array()?;
        let outcome = reply.first().map(text).unwrap_or_default();
        let state = reply.get(1).map(text).unwrap_or_default();
        match outcome.as_str() {
            "removed" => Ok(Removal::Removed(state.parse().map_err(QueueError::reply)?)),
            "refused" => Ok(Removal::RefusedActive),
            "missing" => Err(QueueError::NotFound(id)),
            _ => Err(QueueError::reply(format!("remove reply {reply:?}"))),
        }
    }

    /// Moves a delayed job to ready now; [`QueueError::NotFound`] if absent.
    pub async fn promote(&self, id: &JobId, now: i64) -> Result<Promotion, QueueError> {
        let id = self.own_id(id.as_str())?;
        let reply = self
            .call(&scripts::PROMOTE, now)
            .arg(id.as_str())
            .run(self.redis())
            .await?
            .into_array()?;
        let outcome = reply.first().map(text).unwrap_or_default();
        let state = reply.get(1).map(text).unwrap_or_default();
        match outcome.as_str() {
            "promoted" => Ok(Promotion::Promoted),
            "not-delayed" => Ok(Promotion::NotDelayed(
                state.parse().map_err(QueueError::reply)?,
            )),
            "missing" => Err(QueueError::NotFound(id)),
            _ => Err(QueueError::reply(format!("promote reply {reply:?}"))),
        }
    }

    /// The job's events from its creation on, reading at most [`TIMELINE_SCAN`] entries.
    pub async fn timeline(&self, job: &JobRecord) -> Result<Timeline, QueueError> {
        let reply = self
            .call(&scripts::TIMELINE, crate::now_ms())
            .arg(job.id.as_str())
            .arg(format!("{}-0", job.created_at.max(0)))
            .arg(TIMELINE_SCAN)
            .run(self.redis())
            .await?
            .into_array()?;
        let [entries, truncated] = <[Value; 2]>::try_from(reply)
            .map_err(|r| QueueError::reply(format!("timeline reply {r:?}")))?;
        let entries = entries
            .into_array()?
            .into_iter()
            .map(|e| {
                let e = e.into_array()?;
                let [stream_id, event, to, at] = e.as_slice() else {
                    return Err(QueueError::reply(format!("timeline entry {e:?}")));
                };
                Ok(TimelineEntry {
                    stream_id: text(stream_id),
                    event: text(event),
                    to: text(to),
                    at_ms: int(at)?,
                })
            })
            .collect::<Result<_, QueueError>>()?;
        Ok(Timeline {
            entries,
            truncated: int(&truncated)? == 1,
        })
    }

    /// Counts, throughput and failures over the last hour and day, and the oldest waiting job.
    pub async fn stats(&self, now: i64) -> Result<QueueStats, QueueError> {
        let reply = self
            .call(&scripts::STATS, now)
            .arg(HOUR_MS)
            .arg(24 * HOUR_MS)
            .arg(OLDEST_SAMPLE)
            .run(self.redis())
            .await?
            .into_array()?;
        let n = reply.iter().map(int).collect::<Result<Vec<i64>, _>>()?;
        let [
            ur,
            no,
            b,
            d,
            a,
            c,
            f,
            x,
            p,
            c1,
            f1,
            x1,
            c24,
            f24,
            x24,
            oldest,
        ] = <[i64; 16]>::try_from(n).map_err(|n| QueueError::reply(format!("stats {n:?}")))?;
        let u = i64::unsigned_abs;
        Ok(QueueStats {
            counts: Counts {
                urgent: u(ur),
                normal: u(no),
                batch: u(b),
                delayed: u(d),
                active: u(a),
                completed: u(c),
                failed: u(f),
                cancelled: u(x),
                paused: p == 1,
            },
            last_hour: Window {
                completed: u(c1),
                failed: u(f1),
                cancelled: u(x1),
            },
            last_day: Window {
                completed: u(c24),
                failed: u(f24),
                cancelled: u(x24),
            },
            oldest_waiting_created_at: (oldest >= 0).then_some(oldest),
        })
    }
}
