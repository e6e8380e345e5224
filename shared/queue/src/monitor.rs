//! What an alert monitor reads from the queue ([`Queue::monitor_tick`]: liveness beats, the
//! backlog, the events since its last tick) and the gate that keeps several instances from
//! sending the same alert twice ([`Queue::alert_gate`]). Both are one script each.

use scenergy_redis::Value;

use crate::admin::text;
use crate::{Queue, QueueError, scripts};

/// One entry of the queue's event stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEvent {
    pub stream_id: String,
    /// The operation: `enqueued`, `claimed`, `completed`, `failed`, `retried`, …
    pub event: String,
    /// Each job it moved, with its new state.
    pub jobs: Vec<(String, String)>,
    pub at_ms: i64,
}

/// A job that failed for good, as the monitor describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedJob {
    pub id: String,
    pub job_type: String,
    pub client_id: String,
    pub error: String,
}

/// What one monitor tick saw.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MonitorTick {
    /// Jobs in the ready sets.
    pub waiting: u64,
    pub paused: bool,
    pub oldest_waiting_created_at: Option<i64>,
    /// The newest liveness beat of any worker on this queue.
    pub newest_beat_ms: Option<i64>,
    /// Stream entries after the id passed in, oldest first.
    pub events: Vec<QueueEvent>,
    /// The jobs those events failed for good (at most the number asked for).
    pub failed: Vec<FailedJob>,
}

impl MonitorTick {
    /// The id to pass to the next tick.
    pub fn last_id<'a>(&'a self, previous: &'a str) -> &'a str {
        self.events
            .last()
            .map_or(previous, |e| e.stream_id.as_str())
    }
}

/// What the gate decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// This instance sends: the condition is new (or, for a resolve, it was firing).
    Send,
    /// This instance sends a reminder: the condition has lasted a whole window.
    Remind,
    /// Another instance (or an earlier tick) already did; stay quiet.
    Quiet,
}

fn int(v: &Value) -> Result<i64, QueueError> {
    Ok(v.as_int()?)
}

impl Queue {
    /// One monitor tick: records this worker's beat when `alive`, and returns the backlog, the
    /// newest beat of any worker and up to `max_events` stream entries after `after_id` (a
    /// stream id such as `1700000000000-0`).
    pub async fn monitor_tick(
        &self,
        worker_id: &str,
        alive: bool,
        after_id: &str,
        max_events: u32,
        now: i64,
    ) -> Result<MonitorTick, QueueError> {
        let reply = self
            .call(&scripts::MONITOR, now)
            .key(self.keys().custom("workers"))
            .arg(worker_id)
            .arg(if alive { "1" } else { "0" })
            .arg(after_id)
            .arg(max_events.max(1))
            .arg(20)
            .run(self.redis())
            .await?
            .into_array()?;
        let [waiting, paused, oldest, beat, events, failed] = <[Value; 6]>::try_from(reply)
            .map_err(|r| QueueError::reply(format!("monitor reply {r:?}")))?;
        let events = events
            .into_array()?
            .into_iter()
            .map(|e| {
                let e = e.into_array()?;
                let [id, event, jobs, at] = e.as_slice() else {
                    return Err(QueueError::reply(format!("monitor event {e:?}")));
                };
                let jobs: Vec<serde_json::Value> =
                    serde_json::from_str(jobs.as_str()?).unwrap_or_default();
                Ok(QueueEvent {
                    stream_id: text(id),
                    event: text(event),
                    jobs: jobs
                        .iter()
                        .map(|j| {
                            let field = |k: &str| j[k].as_str().unwrap_or_default().to_owned();
                            (field("id"), field("to"))
                        })
                        .collect(),
                    at_ms: int(at)?,
                })
            })
            .collect::<Result<_, QueueError>>()?;
        let failed = failed
            .into_array()?
            .into_iter()
            .map(|f| {
                let f = f.into_array()?;
                let [id, job_type, client_id, error] = f.as_slice() else {
                    return Err(QueueError::reply(format!("monitor failed job {f:?}")));
                };
                Ok(FailedJob {
                    id: text(id),
                    job_type: text(job_type),
                    client_id: text(client_id),
                    error: text(error),
                })
            })
            .collect::<Result<_, QueueError>>()?;
        let opt = |v: &Value| -> Result<Option<i64>, QueueError> {
            let n = int(v)?;
            Ok((n >= 0).then_some(n))
        };
        Ok(MonitorTick {
            waiting: int(&waiting)?.unsigned_abs(),
            paused: int(&paused)? == 1,
            oldest_waiting_created_at: opt(&oldest)?,
            newest_beat_ms: opt(&beat)?,
            events,
            failed,
        })
    }

    /// Whether this instance should send the alert (`firing`) or the resolve message
    /// (`!firing`) for `condition`: at most once per `window_ms` while it lasts, once when it
    /// clears, and never by two instances (one script call decides).
    pub async fn alert_gate(
        &self,
        condition: &str,
        firing: bool,
        window_ms: u64,
        now: i64,
    ) -> Result<Gate, QueueError> {
        let n = self
            .call(&scripts::ALERT_GATE, now)
            .key(self.keys().custom("alerts"))
            .arg(condition)
            .arg(if firing { "fire" } else { "resolve" })
            .arg(window_ms)
            .run(self.redis())
            .await?
            .as_int()?;
        Ok(match n {
            1 => Gate::Send,
            2 => Gate::Remind,
            _ => Gate::Quiet,
        })
    }
}
