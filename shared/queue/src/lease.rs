//! Operations on claimed jobs (heartbeat, progress, complete, fail, release, finish_cancelled)
//! and cancel. A wrong or expired token is [`QueueError::LeaseLost`] (or listed as lost).

use scenergy_redis::Value;

use crate::types::{CancelOutcome, Completion, FailOutcome, Heartbeat};
use crate::{JobId, JobState, Queue, QueueError, defaults, scripts};

fn ids(values: Value) -> Result<Vec<String>, QueueError> {
    values
        .into_array()?
        .into_iter()
        .map(|v| {
            v.into_opt_string()?
                .ok_or_else(|| QueueError::reply("nil id"))
        })
        .collect()
}

fn state_text(v: Option<&Value>) -> String {
    v.and_then(|v| v.as_str().ok())
        .unwrap_or_default()
        .to_owned()
}

impl Queue {
    /// Renews the leases of `ids` still held by `token` to `now + lease_ms`.
    pub async fn heartbeat(
        &self,
        token: &str,
        ids_: &[JobId],
        lease_ms: u64,
        now: i64,
    ) -> Result<Heartbeat, QueueError> {
        if ids_.is_empty() {
            return Ok(Heartbeat::default());
        }
        if ids_.len() > defaults::MAX_CLAIM as usize {
            let mut out = Heartbeat::default();
            for chunk in ids_.chunks(defaults::MAX_CLAIM as usize) {
                let part = Box::pin(self.heartbeat(token, chunk, lease_ms, now)).await?;
                out.renewed.extend(part.renewed);
                out.lost.extend(part.lost);
                out.cancel_requested.extend(part.cancel_requested);
            }
            return Ok(out);
        }
        let mut call = self.call(&scripts::HEARTBEAT, now).arg(token).arg(lease_ms);
        for id in ids_ {
            call = call.arg(id.as_str());
        }
        let reply = call.run(self.redis()).await?.into_array()?;
        let [renewed, lost, cancel] = <[Value; 3]>::try_from(reply)
            .map_err(|r| QueueError::reply(format!("heartbeat reply {r:?}")))?;
        let parse = |v: Value| -> Result<Vec<JobId>, QueueError> {
            ids(v)?.iter().map(|s| self.own_id(s)).collect()
        };
        Ok(Heartbeat {
            renewed: parse(renewed)?,
            lost: parse(lost)?,
            cancel_requested: parse(cancel)?,
        })
    }

    /// Stores progress (any JSON) in the record and the status. Returns whether a cancel was
    /// requested.
    pub async fn progress(
        &self,
        id: &JobId,
        token: &str,
        progress: &serde_json::Value,
        now: i64,
    ) -> Result<bool, QueueError> {
        let text = serde_json::to_string(progress).map_err(QueueError::reply)?;
        let reply = self
            .call(&scripts::PROGRESS, now)
            .arg(token)
            .arg(id.as_str())
            .arg(text)
            .run(self.redis())
            .await?
            .into_array()?;
        match reply.first().map(Value::as_int) {
            Some(Ok(1)) => Ok(reply.get(1).map(Value::as_int).transpose()? == Some(1)),
            Some(Ok(0)) => Err(QueueError::LeaseLost {
                job_id: id.clone(),
                state: state_text(reply.get(1)),
            }),
            _ => Err(QueueError::reply(format!("progress reply {reply:?}"))),
        }
    }

    /// Completes jobs with their results (any JSON), in one script call.
    pub async fn complete(
        &self,
        token: &str,
        results: &[(JobId, serde_json::Value)],
        now: i64,
    ) -> Result<Completion, QueueError> {
        let mut out = Completion::default();
        if results.is_empty() {
            return Ok(out);
        }
        if results.len() > defaults::MAX_CLAIM as usize {
            for chunk in results.chunks(defaults::MAX_CLAIM as usize) {
                let part = Box::pin(self.complete(token, chunk, now)).await?;
                out.completed.extend(part.completed);
                out.lost.extend(part.lost);
            }
            return Ok(out);
        }
        let mut call = self.call(&scripts::COMPLETE, now).arg(token);
        for (id, result) in results {
            call = call
                .arg(id.as_str())
                .arg(serde_json::to_string(result).map_err(QueueError::reply)?);
        }
        let reply = call.run(self.redis()).await?.into_array()?;
        if reply.len() != results.len() {
            return Err(QueueError::reply(format!("complete reply {reply:?}")));
        }
        for ((id, _), ok) in results.iter().zip(reply) {
            if ok.as_int()? == 1 {
                out.completed.push(id.clone());
            } else {
                out.lost.push(id.clone());
            }
        }
        Ok(out)
    }

    /// Records a failed attempt. Retryable errors are retried after `retry_delay_ms` (see
    /// [`crate::ClaimedJob::retry_delay_ms`]) while attempts remain; non-retryable ones
    /// (validation, safety block, invalid key) fail at once.
    pub async fn fail(
        &self,
        token: &str,
        id: &JobId,
        error: &str,
        retryable: bool,
        retry_delay_ms: u64,
        now: i64,
    ) -> Result<FailOutcome, QueueError> {
        let reply = self
            .call(&scripts::FAIL, now)
            .arg(token)
            .arg(id.as_str())
            .arg(error)
            .arg(if retryable { "1" } else { "0" })
            .arg(retry_delay_ms)
            .run(self.redis())
            .await?
            .into_array()?;
        if reply.first().map(Value::as_int).transpose()? != Some(1) {
            return Err(QueueError::LeaseLost {
                job_id: id.clone(),
                state: state_text(reply.get(1)),
            });
        }
        match (
            state_text(reply.get(1)).as_str(),
            reply.get(2).map(Value::as_int).transpose()?,
        ) {
            ("delayed", Some(due_at_ms)) => Ok(FailOutcome::Retrying { due_at_ms }),
            ("failed", _) => Ok(FailOutcome::Failed),
            ("cancelled", _) => Ok(FailOutcome::Cancelled),
            _ => Err(QueueError::reply(format!("fail reply {reply:?}"))),
        }
    }

    /// Cancels a job: see [`CancelOutcome`].
    pub async fn cancel(&self, id: &JobId, now: i64) -> Result<CancelOutcome, QueueError> {
        let id = self.own_id(id.as_str())?;
        let reply = self
            .call(&scripts::CANCEL, now)
            .arg(id.as_str())
            .run(self.redis())
            .await?
            .into_array()?;
        let outcome = state_text(reply.first());
        let state = state_text(reply.get(1));
        match outcome.as_str() {
            "cancelled" => Ok(CancelOutcome::Cancelled),
            "requested" => Ok(CancelOutcome::Requested),
            "finished" => Ok(CancelOutcome::AlreadyFinished(
                state.parse::<JobState>().map_err(QueueError::reply)?,
            )),
            "missing" => Err(QueueError::NotFound(id)),
            _ => Err(QueueError::reply(format!("cancel reply {reply:?}"))),
        }
    }

    /// The worker stopped a job after seeing its cancel request: the job becomes cancelled.
    pub async fn finish_cancelled(
        &self,
        token: &str,
        id: &JobId,
        now: i64,
    ) -> Result<(), QueueError> {
        let reply = self
            .call(&scripts::FINISH_CANCELLED, now)
            .arg(token)
            .arg(id.as_str())
            .run(self.redis())
            .await?;
        if reply.as_int()? == 1 {
            Ok(())
        } else {
            let state = self
                .job(id)
                .await?
                .map(|r| r.state.as_str().to_owned())
                .unwrap_or_default();
            Err(QueueError::LeaseLost {
                job_id: id.clone(),
                state,
            })
        }
    }

    /// Graceful shutdown: hands active jobs back to ready, first in line, without counting a
    /// stall or an attempt. Returns the ids whose lease was already lost.
    pub async fn release(
        &self,
        token: &str,
        ids_: &[JobId],
        now: i64,
    ) -> Result<Vec<JobId>, QueueError> {
        if ids_.is_empty() {
            return Ok(Vec::new());
        }
        if ids_.len() > defaults::MAX_CLAIM as usize {
            let mut lost = Vec::new();
            for chunk in ids_.chunks(defaults::MAX_CLAIM as usize) {
                lost.extend(Box::pin(self.release(token, chunk, now)).await?);
            }
            return Ok(lost);
        }
        let mut call = self.call(&scripts::RELEASE, now).arg(token);
        for id in ids_ {
            call = call.arg(id.as_str());
        }
        let reply = call.run(self.redis()).await?.into_array()?;
        let mut lost = Vec::new();
        for (id, ok) in ids_.iter().zip(reply) {
            if ok.as_int()? != 1 {
                lost.push(id.clone());
            }
        }
        Ok(lost)
    }
}
