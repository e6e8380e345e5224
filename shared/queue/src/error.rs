//! The queue's error type.

use scenergy_redis::RedisError;

use crate::JobId;

/// Why a queue operation failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// Redis could not run the operation (connection, timeout, server error).
    #[error(transparent)]
    Redis(#[from] RedisError),
    /// Queue names are 1–48 characters of `a-z`, `0-9` and `-`.
    #[error("invalid queue name {0:?}: use 1-48 characters of a-z, 0-9 and '-'")]
    InvalidQueueName(String),
    /// Not of the form `<queue>_<26 lowercase base32 characters>`.
    #[error("invalid job id {0:?}")]
    InvalidJobId(String),
    /// The job id names another queue.
    #[error("job {job_id} belongs to queue {queue:?}, not this one")]
    WrongQueue { job_id: JobId, queue: String },
    /// The job is not in the queue (never enqueued, or trimmed).
    #[error("job {0} does not exist")]
    NotFound(JobId),
    /// The caller's lease on the job is gone: it was reclaimed after the lease expired, released,
    /// or the job is no longer active. The caller must stop working on it.
    #[error("lease on job {job_id} lost (job state: {state:?})")]
    LeaseLost { job_id: JobId, state: String },
    /// A script answered with something its wrapper does not understand.
    #[error("unexpected reply from a queue script: {0}")]
    Reply(String),
}

impl QueueError {
    pub(crate) fn reply(what: impl std::fmt::Display) -> Self {
        Self::Reply(what.to_string())
    }
}
