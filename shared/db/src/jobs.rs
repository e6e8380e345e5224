//! `generation_job`: the durable history of each job, written by the worker as it runs.

use std::fmt;
use std::str::FromStr;

use serde_json::Value;
use sqlx::PgExecutor;
use time::OffsetDateTime;

use crate::DbError;

/// A job's state as recorded here (the queue's waiting and delayed both read as `Queued`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    Queued,
    Active,
    Completed,
    Failed,
    Cancelled,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Active => "active",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Completed, failed and cancelled jobs have a `finished_at`.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobState {
    type Err = DbError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "queued" => Self::Queued,
            "active" => Self::Active,
            "completed" => Self::Completed,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            other => {
                return Err(DbError::Corrupt {
                    column: "generation_job.state",
                    value: other.to_owned(),
                });
            }
        })
    }
}

/// What the enqueue side knows about a job.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewJob<'a> {
    pub job_id: &'a str,
    pub client_id: &'a str,
    pub session_id: &'a str,
    /// The job's type (the column is `type`).
    pub job_type: &'a str,
    /// `urgent`, `normal` or `batch`.
    pub priority: &'a str,
    pub prompt: &'a str,
    pub settings: &'a Value,
    pub product_ids: &'a [String],
    pub variants_per_product: i32,
}

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum JobOutcome<'a> {
    Completed {
        result: &'a Value,
    },
    /// `result` may carry the items that did succeed.
    Failed {
        error: &'a str,
        result: Option<&'a Value>,
    },
    Cancelled {
        reason: Option<&'a str>,
    },
}

impl JobOutcome<'_> {
    pub fn state(&self) -> JobState {
        match self {
            Self::Completed { .. } => JobState::Completed,
            Self::Failed { .. } => JobState::Failed,
            Self::Cancelled { .. } => JobState::Cancelled,
        }
    }
}

/// A row of `generation_job`.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    pub job_id: String,
    pub client_id: String,
    pub session_id: String,
    pub job_type: String,
    pub priority: String,
    pub state: JobState,
    pub prompt: String,
    pub settings: Value,
    pub product_ids: Vec<String>,
    pub variants_per_product: i32,
    pub attempts: i32,
    pub error: Option<String>,
    pub result: Option<Value>,
    pub created_at: OffsetDateTime,
    pub started_at: Option<OffsetDateTime>,
    pub finished_at: Option<OffsetDateTime>,
}

/// Records a job, or refreshes its description when it is already recorded for the same
/// client. State, attempts and timestamps are never touched here, so re-recording a job that is
/// running or finished (a redelivery, a replayed enqueue) cannot rewind it. Returns false when
/// the id belongs to another client.
pub async fn upsert_job(db: impl PgExecutor<'_>, job: &NewJob<'_>) -> Result<bool, DbError> {
    let written = sqlx::query!(
        r#"
        INSERT INTO generation_job
            (job_id, client_id, session_id, type, priority, prompt, settings, product_ids,
             variants_per_product)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (job_id) DO UPDATE
            SET session_id = EXCLUDED.session_id,
                type = EXCLUDED.type,
                priority = EXCLUDED.priority,
                prompt = EXCLUDED.prompt,
                settings = EXCLUDED.settings,
                product_ids = EXCLUDED.product_ids,
                variants_per_product = EXCLUDED.variants_per_product
            WHERE generation_job.client_id = EXCLUDED.client_id
        "#,
        job.job_id,
        job.client_id,
        job.session_id,
        job.job_type,
        job.priority,
        job.prompt,
        job.settings,
        job.product_ids,
        job.variants_per_product,
    )
    .execute(db)
    .await?
    .rows_affected();
    Ok(written == 1)
}

/// Marks an attempt as started: state `active`, one more attempt, fresh `started_at`. A failed
/// job may be started again (a retry); a completed or cancelled one may not. Returns whether
/// the job moved.
pub async fn mark_job_started(db: impl PgExecutor<'_>, job_id: &str) -> Result<bool, DbError> {
    let moved = sqlx::query!(
        r#"
        UPDATE generation_job
        SET state = 'active', attempts = attempts + 1, started_at = now(),
            finished_at = NULL, error = NULL
        WHERE job_id = $1 AND state IN ('queued', 'active', 'failed')
        "#,
        job_id,
    )
    .execute(db)
    .await?
    .rows_affected();
    Ok(moved == 1)
}

/// Records how a job ended. Only a job that is not already finished moves, so a duplicate
/// report is a no-op and the first outcome stands. Returns whether the job moved.
pub async fn mark_job_finished(
    db: impl PgExecutor<'_>,
    job_id: &str,
    outcome: &JobOutcome<'_>,
) -> Result<bool, DbError> {
    let (error, result) = match *outcome {
        JobOutcome::Completed { result } => (None, Some(result)),
        JobOutcome::Failed { error, result } => (Some(error), result),
        JobOutcome::Cancelled { reason } => (reason, None),
    };
    let moved = sqlx::query!(
        r#"
        UPDATE generation_job
        SET state = $2, error = $3, result = $4, finished_at = now()
        WHERE job_id = $1 AND state IN ('queued', 'active')
        "#,
        job_id,
        outcome.state().as_str(),
        error,
        result,
    )
    .execute(db)
    .await?
    .rows_affected();
    Ok(moved == 1)
}

/// The recorded job, if any.
pub async fn job(db: impl PgExecutor<'_>, job_id: &str) -> Result<Option<JobRecord>, DbError> {
    let Some(row) = sqlx::query!(
        r#"
        SELECT job_id, client_id, session_id, type AS job_type, priority, state, prompt,
               settings, product_ids, variants_per_product, attempts, error, result,
               created_at, started_at, finished_at
        FROM generation_job
        WHERE job_id = $1
        "#,
        job_id,
    )
    .fetch_optional(db)
    .await?
    else {
        return Ok(None);
    };
    Ok(Some(JobRecord {
        state: row.state.parse()?,
        job_id: row.job_id,
        client_id: row.client_id,
        session_id: row.session_id,
        job_type: row.job_type,
        priority: row.priority,
        prompt: row.prompt,
        settings: row.settings,
        product_ids: row.product_ids,
        variants_per_product: row.variants_per_product,
        attempts: row.attempts,
        error: row.error,
        result: row.result,
        created_at: row.created_at,
        started_at: row.started_at,
        finished_at: row.finished_at,
    }))
}
