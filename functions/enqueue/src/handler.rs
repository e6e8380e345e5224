//! `POST /api/jobs`.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use scenergy_http::{ClientId, Problem, StrictJson};
use scenergy_queue::{NewJob, now_ms};
use serde::Serialize;

use crate::AppState;
use crate::ratelimit::Decision;
use crate::request::{JobRequest, validate_idempotency_key};

/// `true` when an `Idempotency-Key` matched an earlier job and nothing was created, `false` when
/// this request created the job. The body is the same either way, so a retry is transparent.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// The 202 body.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EnqueueReply {
    pub job_id: String,
    pub status: String,
    pub status_url: String,
}

pub(crate) async fn enqueue(
    State(state): State<AppState>,
    client: ClientId,
    headers: HeaderMap,
    StrictJson(body): StrictJson<JobRequest>,
) -> Result<Response, Problem> {
    let idempotency_key = headers
        .get("idempotency-key")
        .map(|v| validate_idempotency_key(v.as_bytes()));
    let mut errors = match body.validate() {
        Ok(job) => {
            if let Some(Err(e)) = idempotency_key {
                return Err(Problem::invalid(vec![e]));
            }
            return submit(&state, &client, job, idempotency_key.and_then(Result::ok)).await;
        }
        Err(errors) => errors,
    };
    if let Some(Err(e)) = idempotency_key {
        errors.push(e);
    }
    Err(Problem::invalid(errors))
}

async fn submit(
    state: &AppState,
    client: &ClientId,
    job: crate::request::ValidJob,
    idempotency_key: Option<String>,
) -> Result<Response, Problem> {
    if job
        .client_id
        .as_deref()
        .is_some_and(|id| id != client.as_str())
    {
        return Err(Problem::forbidden(
            "clientId in the body does not match the token's client",
        ));
    }
    match state.rate_limit.check_at(client, now_ms()).await {
        Ok(Decision::Admitted) => {}
        Ok(Decision::Limited { retry_after_secs }) => {
            return Err(Problem::too_many_requests(retry_after_secs).detail(format!(
                "at most {} jobs per minute per client; retry after {retry_after_secs} s",
                state.rate_limit.per_minute()
            )));
        }
        Err(e) => {
            return Err(Problem::internal(
                &anyhow::Error::new(e).context("Failed to check the enqueue rate limit"),
            ));
        }
    }
    let payload = serde_json::to_value(&job.payload)
        .map_err(|e| Problem::internal(&anyhow::Error::new(e).context("Failed to encode")))?;
    let mut new_job = NewJob::new(job.job_type, client.as_str(), payload).priority(job.priority);
    if let Some(key) = idempotency_key {
        new_job = new_job.idempotency_key(key);
    }
    let enqueued = state.queue.enqueue(new_job).await.map_err(|e| {
        Problem::internal(&anyhow::Error::new(e).context("Failed to enqueue the job"))
    })?;
    let job_id = enqueued.job_id.as_str().to_owned();
    if enqueued.created {
        let outcome = state.waker.wake().await;
        tracing::info!(job_id, ?outcome, "job enqueued");
    } else {
        tracing::info!(job_id, "idempotent replay; nothing enqueued");
    }
    let status_url = format!("/api/jobs/{job_id}");
    let mut response = (
        StatusCode::ACCEPTED,
        axum::Json(EnqueueReply {
            job_id,
            status: "queued".to_owned(),
            status_url: status_url.clone(),
        }),
    )
        .into_response();
    let headers = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(&status_url) {
        headers.insert(header::LOCATION, location);
    }
    headers.insert(
        REPLAYED_HEADER,
        HeaderValue::from_static(if enqueued.created { "false" } else { "true" }),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

pub(crate) async fn method_not_allowed() -> Response {
    scenergy_http::problem::method_not_allowed("POST")
}
