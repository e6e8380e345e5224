//! `GET` and `DELETE /api/jobs/{id}`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use scenergy_http::{ClientId, Problem};
use scenergy_queue::{CancelOutcome, JobId, Queue, QueueError, QueueOptions, now_ms};

use crate::AppState;

/// One wording for every "not yours or not there", so a 404 reveals nothing about other clients.
fn not_found() -> Problem {
    Problem::not_found("no job with this id")
}

fn internal(e: QueueError, what: &'static str) -> Problem {
    Problem::internal(&anyhow::Error::new(e).context(what))
}

/// The job's queue handle and status document, if it exists and belongs to `client`.
async fn owned(
    state: &AppState,
    client: &ClientId,
    raw_id: &str,
) -> Result<(Queue, JobId, serde_json::Value), Problem> {
    let id = JobId::parse(raw_id).map_err(|_| not_found())?;
    // The id names its queue (validated by `parse`), so one function serves every queue.
    let queue = Queue::new(state.redis.clone(), id.queue(), QueueOptions::default())
        .map_err(|_| not_found())?;
    let doc = queue
        .status(&id)
        .await
        .map_err(|e| internal(e, "Failed to read the job status"))?
        .ok_or_else(not_found)?;
    if doc.get("clientId").and_then(|c| c.as_str()) != Some(client.as_str()) {
        return Err(not_found());
    }
    Ok((queue, id, doc))
}

fn reply(status: StatusCode, doc: serde_json::Value) -> Response {
    let mut response = (status, Json(doc)).into_response();
    // The document changes as the job runs; a cached copy would freeze the frontend's poll.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub(crate) async fn status(
    State(state): State<AppState>,
    client: ClientId,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let (_, _, doc) = owned(&state, &client, &id).await?;
    Ok(reply(StatusCode::OK, doc))
}

/// 200 when the job is now cancelled (or had already finished: nothing changes), 202 when it is
/// running and the worker will stop it between items. The body is the resulting status.
pub(crate) async fn cancel(
    State(state): State<AppState>,
    client: ClientId,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let (queue, id, before) = owned(&state, &client, &id).await?;
    let code = match queue.cancel(&id, now_ms()).await {
        Ok(CancelOutcome::Cancelled | CancelOutcome::AlreadyFinished(_)) => StatusCode::OK,
        Ok(CancelOutcome::Requested) => StatusCode::ACCEPTED,
        // The status outlived the record (trimmed): there is nothing left to cancel.
        Err(QueueError::NotFound(_)) => return Err(not_found()),
        Err(e) => return Err(internal(e, "Failed to cancel the job")),
    };
    let after = queue
        .status(&id)
        .await
        .map_err(|e| internal(e, "Failed to read the job status"))?
        .unwrap_or(before);
    Ok(reply(code, after))
}

pub(crate) async fn method_not_allowed() -> Response {
    scenergy_http::problem::method_not_allowed("GET, DELETE")
}
