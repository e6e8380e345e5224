//! `POST /api/analyze`: admissions first, then the model calls, then one reply.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use scenergy_config::ExposeSecret;
use scenergy_gemini::{ErrorClass, GeminiError, ProductAnalysis};
use scenergy_http::{ClientId, FieldError, Problem, StrictJson};
use scenergy_keypool::{KeyOutcome, PoolError};
use scenergy_ratelimit::{Bucket, RateLimitError};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::AppState;
use crate::request::{AnalyzeRequest, ValidProduct};

/// Model calls in flight per request: 20 products one after another would take far too long
/// for a synchronous endpoint, and the key pool spreads the calls over the keys' budgets.
const CONCURRENCY: usize = 5;
/// Attempts per product when a key answers 429 or turns out to be bad; each retry is another
/// key (the pool steers away from the failed one) and takes another admission.
const MAX_ATTEMPTS: u32 = 3;
/// `retryAfter` when only a transient condition (Redis slow, model overloaded) is known.
const TRANSIENT_RETRY_SECS: u32 = 5;

/// The 200 body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyzeReply {
    /// In request order.
    pub results: Vec<ProductResult>,
    /// `gemini` or `offline`.
    pub provider: String,
}

/// One product's analysis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductResult {
    pub id: String,
    pub category: String,
    pub style: String,
    pub materials: Vec<String>,
    pub colours: Vec<String>,
    pub scene_suggestions: Vec<SceneSuggestionReply>,
    pub offline: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SceneSuggestionReply {
    pub title: String,
    pub prompt_hint: String,
}

impl ProductResult {
    fn new(id: &str, a: ProductAnalysis) -> Self {
        Self {
            id: id.to_owned(),
            category: a.category,
            style: a.style,
            materials: a.materials,
            colours: a.colours,
            scene_suggestions: a
                .scene_suggestions
                .into_iter()
                .map(|s| SceneSuggestionReply {
                    title: s.title,
                    prompt_hint: s.prompt_hint,
                })
                .collect(),
            offline: a.offline,
        }
    }
}

pub(crate) async fn analyze(
    State(state): State<AppState>,
    client: ClientId,
    StrictJson(body): StrictJson<AnalyzeRequest>,
) -> Result<Response, Problem> {
    let products = body.validate().map_err(Problem::invalid)?;
    // One after another, so the first refusal stops the rest from using up admissions.
    for product in &products {
        admit(&state, bucket(product)).await?;
    }
    // Every call runs to its end (its key gets its report) before the first failure, in
    // request order, is answered: which error a client sees does not depend on timing.
    // Collected first: a lazy `map` over borrowed products trips the handler's `Send` proof.
    let calls: Vec<_> = products
        .iter()
        .enumerate()
        .map(|(i, p)| analyze_one(&state, i, p))
        .collect();
    let outcomes: Vec<Result<ProductResult, Problem>> = futures::stream::iter(calls)
        .buffered(CONCURRENCY)
        .collect()
        .await;
    let results = outcomes.into_iter().collect::<Result<Vec<_>, _>>()?;
    tracing::info!(
        client = %client,
        products = results.len(),
        provider = state.provider.name(),
        "products analysed"
    );
    let mut response = Json(AnalyzeReply {
        results,
        provider: state.provider.name().to_owned(),
    })
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

fn bucket(product: &ValidProduct) -> Bucket {
    if product.has_image() {
        Bucket::Vision
    } else {
        Bucket::Text
    }
}

/// Takes one admission from `bucket`, or the 503 to answer.
async fn admit(state: &AppState, bucket: Bucket) -> Result<(), Problem> {
    match state.limiter.check(bucket).await {
        Ok(_) => Ok(()),
        Err(RateLimitError::Limited(limited)) => {
            let secs = u32::try_from(limited.retry_after_secs).unwrap_or(u32::MAX);
            Err(
                Problem::service_unavailable(secs, "rate_limited").detail(format!(
                    "the {bucket} limit is reached; no product was analysed; retry the whole \
                 request after {secs} s"
                )),
            )
        }
        Err(RateLimitError::Redis(e)) => {
            // Fail closed: an unguarded burst is what the Gemini quota punishes.
            tracing::error!(error = %e, %bucket, "rate limiter unreachable; refusing the call");
            Err(
                Problem::service_unavailable(TRANSIENT_RETRY_SECS, "unavailable")
                    .detail("the service is temporarily unavailable; retry later"),
            )
        }
    }
}

/// One product through the provider: with a key from the pool, retrying on another key when
/// one is rate limited or bad.
async fn analyze_one(
    state: &AppState,
    index: usize,
    product: &ValidProduct,
) -> Result<ProductResult, Problem> {
    let Some(pool) = &state.pool else {
        return match state.provider.analyze(None, &product.input).await {
            Ok(a) => Ok(ProductResult::new(&product.id, a)),
            Err(e) => Err(model_problem(index, &product.id, &e)),
        };
    };
    let deadline = Instant::now() + state.key_wait;
    let mut last_retry_after = None;
    for attempt in 1..=MAX_ATTEMPTS {
        if attempt > 1 {
            admit(state, bucket(product)).await?;
        }
        let lease = pool.acquire(deadline).await.map_err(pool_problem)?;
        let result = state
            .provider
            .analyze(Some(lease.key().secret().expose_secret()), &product.input)
            .await;
        let class = result.as_ref().err().map(GeminiError::class);
        let outcome = match class {
            Some(ErrorClass::CoolKey {
                per_day: true,
                retry_after: _,
            }) => KeyOutcome::DailyQuota,
            Some(ErrorClass::CoolKey { retry_after, .. }) => {
                KeyOutcome::RateLimited { retry_after }
            }
            Some(ErrorClass::DisableKey) => KeyOutcome::InvalidKey,
            // The key was fine: the call went through, whatever the model made of it.
            None | Some(ErrorClass::Retryable | ErrorClass::Fatal) => KeyOutcome::Success,
        };
        if let Err(e) = pool.report(&lease, outcome).await {
            // The answer is still good; the pool's state heals with the next report.
            tracing::warn!(error = %e, key = lease.id(), "could not report the key outcome");
        }
        match result {
            Ok(a) => return Ok(ProductResult::new(&product.id, a)),
            Err(e) => match e.class() {
                ErrorClass::CoolKey { retry_after, .. } => {
                    tracing::warn!(product = %product.id, key = lease.id(), attempt, "Gemini key rate limited");
                    last_retry_after = retry_after;
                }
                ErrorClass::DisableKey => {
                    tracing::error!(product = %product.id, key = lease.id(), "Gemini key rejected");
                }
                ErrorClass::Retryable | ErrorClass::Fatal => {
                    return Err(model_problem(index, &product.id, &e));
                }
            },
        }
    }
    let secs = last_retry_after.map_or(1, |d| d.as_millis().div_ceil(1000));
    Err(Problem::service_unavailable(
        u32::try_from(secs).unwrap_or(u32::MAX),
        "rate_limited",
    ))
}

/// A pool failure: every key cooling past the deadline is a rate limit; the rest are ours.
fn pool_problem(e: PoolError) -> Problem {
    match e {
        PoolError::Exhausted { next_available_in } => {
            let secs = next_available_in.as_millis().div_ceil(1000);
            Problem::service_unavailable(u32::try_from(secs).unwrap_or(u32::MAX), "rate_limited")
        }
        other => {
            tracing::error!(error = %other, "no Gemini key available");
            Problem::service_unavailable(TRANSIENT_RETRY_SECS, "unavailable")
                .detail("the service is temporarily unavailable; retry later")
        }
    }
}

/// A model failure for `products[index]`, without the provider's internals.
fn model_problem(index: usize, id: &str, e: &GeminiError) -> Problem {
    tracing::warn!(product = id, error = %e, "product analysis failed");
    let field = format!("products[{index}]");
    let unprocessable = |reason: String| {
        let mut p = Problem::invalid(vec![FieldError::new(field.clone(), reason)])
            .detail(format!("product {id:?} could not be analysed"));
        p.status = StatusCode::UNPROCESSABLE_ENTITY;
        p.title = "Unprocessable content";
        p
    };
    match e {
        GeminiError::PromptBlocked { reason } | GeminiError::Blocked { reason } => unprocessable(
            format!("the model refused this product's content ({reason})"),
        ),
        // 400s from Gemini on a valid request of ours are about the content (an image it cannot
        // read); truncated or stopped output is a property of this product's input too.
        GeminiError::BadRequest { .. }
        | GeminiError::MaxTokens
        | GeminiError::NoImage { .. }
        | GeminiError::FinishedEarly { .. }
            if e.class() == ErrorClass::Fatal =>
        {
            unprocessable("the model could not analyse this product".to_owned())
        }
        GeminiError::Unavailable { .. } => {
            Problem::service_unavailable(TRANSIENT_RETRY_SECS, "model_unavailable")
                .detail("the model is overloaded; retry later")
        }
        _ if e.class() == ErrorClass::Retryable => {
            let mut p = Problem::bad_request("the model provider failed to answer; retry later");
            p.status = StatusCode::BAD_GATEWAY;
            p.title = "Bad gateway";
            p
        }
        // A retired model id, a missing key, a bad client configuration: ours to fix.
        other => Problem::internal(&anyhow::anyhow!("analysis of {id:?} failed: {other}")),
    }
}

pub(crate) async fn method_not_allowed() -> Response {
    scenergy_http::problem::method_not_allowed("POST")
}
