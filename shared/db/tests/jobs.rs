//! `generation_job`: the lifecycle queries and the CHECK constraints on its invariants.

use scenergy_db::{
    JobOutcome, JobState, MIGRATOR, NewJob, PgPool, job, mark_job_finished, mark_job_started,
    upsert_job,
};
use serde_json::json;

async fn record(pool: &PgPool, job_id: &str) {
    let products = vec!["a-sofa".to_owned(), "a-lamp".to_owned()];
    let settings = json!({"aspectRatio": "1:1"});
    let new = NewJob {
        job_id,
        client_id: "client-a",
        session_id: "session-9",
        job_type: "generate_scenes",
        priority: "urgent",
        prompt: "a quiet study",
        settings: &settings,
        product_ids: &products,
        variants_per_product: 2,
    };
    assert!(upsert_job(pool, &new).await.unwrap());
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn lifecycle_records_attempts_and_the_first_outcome(pool: PgPool) {
    record(&pool, "job-9").await;
    let queued = job(&pool, "job-9").await.unwrap().unwrap();
    assert_eq!(queued.state, JobState::Queued);
    assert_eq!(queued.attempts, 0);
    assert_eq!(queued.product_ids, ["a-sofa", "a-lamp"]);
    assert_eq!(queued.settings, json!({"aspectRatio": "1:1"}));
    assert_eq!(queued.priority, "urgent");
    assert!(queued.started_at.is_none() && queued.finished_at.is_none());

    assert!(mark_job_started(&pool, "job-9").await.unwrap());
    assert!(
        mark_job_finished(
            &pool,
            "job-9",
            &JobOutcome::Failed {
                error: "provider timed out",
                result: None
            }
        )
        .await
        .unwrap()
    );
    // A retry of the failed job: a second attempt, the error cleared while it runs.
    assert!(mark_job_started(&pool, "job-9").await.unwrap());
    let active = job(&pool, "job-9").await.unwrap().unwrap();
    assert_eq!((active.state, active.attempts), (JobState::Active, 2));
    assert_eq!(active.error, None);

    let result = json!({"assets": 4});
    let done = JobOutcome::Completed { result: &result };
    assert!(mark_job_finished(&pool, "job-9", &done).await.unwrap());
    // Duplicate reports and late cancels do not rewrite a finished job.
    assert!(!mark_job_finished(&pool, "job-9", &done).await.unwrap());
    let cancel = JobOutcome::Cancelled { reason: None };
    assert!(!mark_job_finished(&pool, "job-9", &cancel).await.unwrap());
    assert!(!mark_job_started(&pool, "job-9").await.unwrap());

    let finished = job(&pool, "job-9").await.unwrap().unwrap();
    assert_eq!(finished.state, JobState::Completed);
    assert_eq!(finished.result, Some(result));
    let (started, ended) = (finished.started_at.unwrap(), finished.finished_at.unwrap());
    assert!(ended >= started);

    // Re-recording a finished job (a replayed enqueue) cannot rewind it.
    record(&pool, "job-9").await;
    assert_eq!(
        job(&pool, "job-9").await.unwrap().unwrap().state,
        JobState::Completed
    );
    assert_eq!(job(&pool, "missing").await.unwrap(), None);
}

#[sqlx::test(migrator = "MIGRATOR", fixtures("job"))]
async fn another_client_cannot_take_over_a_job_id(pool: PgPool) {
    let products = vec!["b-vase".to_owned()];
    let settings = json!({});
    let theirs = NewJob {
        job_id: "job-1",
        client_id: "client-b",
        session_id: "s",
        job_type: "generate_scenes",
        priority: "normal",
        prompt: "mine now",
        settings: &settings,
        product_ids: &products,
        variants_per_product: 1,
    };
    assert!(!upsert_job(&pool, &theirs).await.unwrap());
    let kept = job(&pool, "job-1").await.unwrap().unwrap();
    assert_eq!(
        (kept.client_id.as_str(), kept.prompt.as_str()),
        ("client-a", "a sunny loft")
    );
}

/// Writes that bypass the typed queries, as a buggy writer elsewhere might.
#[sqlx::test(migrator = "MIGRATOR", fixtures("job"))]
async fn check_constraints_reject_invalid_states(pool: PgPool) {
    let cases = [
        (
            "UPDATE generation_job SET state = 'paused'",
            "generation_job_state_check",
        ),
        (
            // Terminal without finished_at.
            "UPDATE generation_job SET state = 'completed'",
            "generation_job_finished_iff_terminal",
        ),
        (
            // finished_at on a job that is still running.
            "UPDATE generation_job SET finished_at = now()",
            "generation_job_finished_iff_terminal",
        ),
        (
            "UPDATE generation_job SET state = 'failed', finished_at = now()",
            "generation_job_failed_has_error",
        ),
        (
            "UPDATE generation_job SET started_at = NULL",
            "generation_job_started_when_running",
        ),
        (
            "UPDATE generation_job SET finished_at = started_at - interval '1 second', \
             state = 'cancelled'",
            "generation_job_finish_after_start",
        ),
        (
            "UPDATE generation_job SET variants_per_product = 5",
            "generation_job_variants_per_product_check",
        ),
        (
            "UPDATE generation_job SET product_ids = '{}'",
            "generation_job_product_ids_check",
        ),
        (
            "UPDATE generation_job SET priority = 'asap'",
            "generation_job_priority_check",
        ),
    ];
    for (sql, constraint) in cases {
        let err = sqlx::query(sql).execute(&pool).await.unwrap_err();
        let err = scenergy_db::DbError::from(err);
        assert_eq!(err.constraint(), Some(constraint), "{sql}: {err}");
    }
    // And the row is still the valid one the fixture wrote.
    let kept = job(&pool, "job-1").await.unwrap().unwrap();
    assert_eq!(kept.state, JobState::Active);
}
