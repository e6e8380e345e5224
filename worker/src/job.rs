//! One claimed job from start to end: the `image_generation` job of issue #6.
//!
//! 1. Record the job in `generation_job` (the durable history; the status key is a cache).
//! 2. Skip the items already in `generated_asset` (a retried or recovered job resumes).
//! 3. Load the job's products for its client, and their reference images from storage.
//! 4. Run the items over the free generation slots ([`crate::item`]), writing progress after
//!    each one.
//! 5. End: cancelled if asked; released if the run wound down first; retried later if an item
//!    failed transiently and attempts remain; otherwise completed with every image (and the
//!    items that failed), or failed when no image could be made.

use std::collections::{BTreeMap, HashSet};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use scenergy_db::{DbError, JobOutcome, NewJob, Product};
use scenergy_gemini::{ImageQuality, InlineImage};
use scenergy_jobs::{
    AssetRef, FailedItem, IMAGE_GENERATION, ImageJobPayload, ImageJobResult, Progress,
};
use scenergy_queue::{ClaimedJob, FailOutcome, QueueError, now_ms};
use scenergy_storage::{ObjectKey, StorageError};
use serde_json::Value;

use crate::engine::{JobControl, JobEnd, JobReport, Waiting, Worker};
use crate::item::{ItemEnd, ItemFailure, ItemSpec};
use crate::retry::{self, Gave};

/// Runs `job` and reports how it ended. Never panics on bad input: a payload the worker cannot
/// read fails the job with the reason.
pub(crate) async fn run(
    worker: &Worker,
    job: ClaimedJob,
    control: &JobControl,
    loading: Waiting,
) -> JobReport {
    let mut run = JobRun {
        worker,
        job: &job,
        control,
        loading,
    };
    if job.job_type == IMAGE_GENERATION {
        run.image_generation().await
    } else {
        let reason = format!("unknown job type {:?}", job.job_type);
        run.fail(&reason, None, false).await
    }
}

struct JobRun<'a> {
    worker: &'a Worker,
    job: &'a ClaimedJob,
    control: &'a JobControl,
    /// Holds the claim loop back until the job knows its items (see [`Waiting`]).
    loading: Waiting,
}

/// A step that could not be done: permanent, or transient past the outage budget.
enum Step {
    Failed { reason: String, retryable: bool },
    Aborted,
}

fn db_step(what: &str, gave: Gave<DbError>) -> Step {
    match gave {
        Gave::Up(e) => Step::Failed {
            retryable: e.is_transient(),
            reason: format!("{what}: {e}"),
        },
        Gave::Aborted => Step::Aborted,
    }
}

impl JobRun<'_> {
    async fn image_generation(&mut self) -> JobReport {
        let payload: ImageJobPayload = match serde_json::from_value(self.job.payload.clone()) {
            Ok(p) => p,
            Err(e) => {
                return self
                    .fail(&format!("invalid payload: {e}"), None, false)
                    .await;
            }
        };
        match self.prepare(&payload).await {
            Ok((items, failed, persisted)) => {
                self.generate(&payload, items, failed, persisted).await
            }
            Err(Step::Aborted) => self.released().await,
            Err(Step::Failed { reason, retryable }) => self.fail(&reason, None, retryable).await,
        }
    }

    async fn db_retry<T, F, Fut>(&self, what: &str, op: F) -> Result<T, Step>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, DbError>>,
    {
        retry::transient(
            what,
            self.worker.settings().outage_retry,
            &self.control.abort,
            DbError::is_transient,
            op,
        )
        .await
        .map_err(|g| db_step(what, g))
    }

    /// Records the job, works out which items are left, and loads what they need.
    async fn prepare(
        &mut self,
        payload: &ImageJobPayload,
    ) -> Result<(Vec<ItemSpec>, Vec<FailedItem>, u32), Step> {
        let db = self.worker.db();
        let job_id = self.job.id.as_str();
        let settings = serde_json::to_value(&payload.settings).unwrap_or(Value::Null);
        let record = NewJob {
            job_id,
            client_id: &self.job.client_id,
            session_id: &payload.session_id,
            job_type: &self.job.job_type,
            priority: self.job.priority.as_str(),
            prompt: &payload.prompt,
            settings: &settings,
            product_ids: &payload.product_ids,
            variants_per_product: i32::from(payload.settings.variants_per_product),
        };
        let ours = self
            .db_retry("record the job", || scenergy_db::upsert_job(db, &record))
            .await?;
        if !ours {
            return Err(Step::Failed {
                reason: "the job id is recorded for another client".to_owned(),
                retryable: false,
            });
        }
        self.db_retry("mark the job started", || {
            scenergy_db::mark_job_started(db, job_id)
        })
        .await?;
        let persisted: HashSet<(String, i32)> = self
            .db_retry("list stored items", || {
                scenergy_db::persisted_items(db, job_id)
            })
            .await?
            .into_iter()
            .collect();
        let products: BTreeMap<String, Product> = self
            .db_retry("load the products", || {
                scenergy_db::products_for_client(db, &self.job.client_id, &payload.product_ids)
            })
            .await?
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
        let quality: ImageQuality =
            payload
                .settings
                .image_quality
                .parse()
                .map_err(|e| Step::Failed {
                    reason: format!("settings.imageQuality: {e}"),
                    retryable: false,
                })?;

        let mut items = Vec::new();
        let mut failed = Vec::new();
        let mut seen = HashSet::new();
        for product_id in &payload.product_ids {
            if !seen.insert(product_id) {
                continue;
            }
            let pending: Vec<u8> = (0..payload.settings.variants_per_product)
                .filter(|v| !persisted.contains(&(product_id.clone(), i32::from(*v))))
                .collect();
            if pending.is_empty() {
                continue;
            }
            let fail_all = |reason: String| {
                pending.iter().map(move |&variant| FailedItem {
                    product_id: product_id.clone(),
                    variant,
                    reason: reason.clone(),
                })
            };
            let Some(product) = products.get(product_id) else {
                failed.extend(fail_all(format!(
                    "product {product_id} not found in this client's catalogue"
                )));
                continue;
            };
            let reference = match self.reference_image(product).await {
                Ok(r) => r,
                Err(Step::Failed {
                    reason,
                    retryable: false,
                }) => {
                    failed.extend(fail_all(reason));
                    continue;
                }
                Err(other) => return Err(other),
            };
            for variant in pending {
                items.push(ItemSpec {
                    product: product.clone(),
                    reference: reference.clone(),
                    variant,
                    variants: payload.settings.variants_per_product,
                    quality,
                });
            }
        }
        let persisted = u32::try_from(persisted.len()).unwrap_or(u32::MAX);
        Ok((items, failed, persisted))
    }

    /// The product's reference photo, if it has one.
    async fn reference_image(&self, product: &Product) -> Result<Option<InlineImage>, Step> {
        let Some(raw_key) = &product.reference_image_key else {
            return Ok(None);
        };
        let key = ObjectKey::parse(raw_key.clone()).map_err(|e| Step::Failed {
            reason: format!("product {}: reference image key: {e}", product.id),
            retryable: false,
        })?;
        let storage = self.worker.storage();
        let bytes = retry::transient(
            "fetch a reference image",
            self.worker.settings().outage_retry,
            &self.control.abort,
            StorageError::is_retryable,
            || storage.fetch(&key),
        )
        .await
        .map_err(|gave| match gave {
            Gave::Up(e) => Step::Failed {
                retryable: e.is_retryable(),
                reason: format!("product {}: reference image: {e}", product.id),
            },
            Gave::Aborted => Step::Aborted,
        })?;
        let image = InlineImage::new(bytes.to_vec());
        if image.mime_type == "application/octet-stream" {
            return Err(Step::Failed {
                reason: format!(
                    "product {}: reference image {raw_key} is not a PNG, JPEG or WebP",
                    product.id
                ),
                retryable: false,
            });
        }
        Ok(Some(image))
    }

    async fn generate(
        &mut self,
        payload: &ImageJobPayload,
        items: Vec<ItemSpec>,
        mut failed: Vec<FailedItem>,
        persisted: u32,
    ) -> JobReport {
        let total = u32::try_from(payload.item_count()).unwrap_or(u32::MAX);
        let mut stored = 0_u32;
        let mut not_finished = 0_u32;
        let mut retryable = Vec::new();
        // One waiting ticket per item replaces the job's "loading" one; taken before that one is
        // handed back, so the loop never sees a moment with nothing waiting.
        let tickets: Vec<Waiting> = items.iter().map(|_| self.worker.waiting_ticket()).collect();
        self.loading.done();
        self.progress(Progress::new(total, persisted, count(&failed)))
            .await;

        let ctx = crate::item::ItemContext {
            worker: self.worker,
            job: self.job,
            session_id: &payload.session_id,
            prompt: &payload.prompt,
            aspect_ratio: &payload.settings.aspect_ratio,
            control: self.control,
        };
        let mut running: FuturesUnordered<_> = items
            .iter()
            .zip(tickets)
            .map(|(spec, ticket)| ctx.run(spec, ticket))
            .collect();
        while let Some((spec, end)) = running.next().await {
            let started = !matches!(end, ItemEnd::NotStarted);
            match end {
                ItemEnd::Stored => stored += 1,
                ItemEnd::Failed(ItemFailure {
                    reason,
                    retryable: r,
                }) => {
                    let item = FailedItem {
                        product_id: spec.product.id.clone(),
                        variant: spec.variant,
                        reason,
                    };
                    if r {
                        retryable.push(item);
                    } else {
                        failed.push(item);
                    }
                }
                ItemEnd::NotStarted | ItemEnd::Aborted => not_finished += 1,
            }
            if !started {
                continue;
            }
            self.progress(Progress::new(
                total,
                persisted + stored,
                count(&failed) + count(&retryable),
            ))
            .await;
        }
        drop(running);
        let images = stored;
        let report = |end| JobReport { end, images };

        if self.control.is_lost() {
            return report(JobEnd::Lost);
        }
        if self.control.cancel.is_cancelled() {
            return JobReport {
                images,
                ..self.cancelled().await
            };
        }
        if not_finished > 0 {
            return JobReport {
                images,
                ..self.released().await
            };
        }
        if !retryable.is_empty() && self.job.can_retry() {
            let reason = format!(
                "{} of {total} items failed transiently and will be retried (first: product {} variant {}: {})",
                retryable.len(),
                retryable[0].product_id,
                retryable[0].variant,
                retryable[0].reason
            );
            return JobReport {
                images,
                ..self.fail(&reason, None, true).await
            };
        }
        failed.extend(retryable);
        let assets = match self.assets().await {
            Ok(a) => a,
            Err(Step::Aborted) => return report(JobEnd::Lost),
            Err(Step::Failed { reason, retryable }) => {
                return JobReport {
                    images,
                    ..self.fail(&reason, None, retryable).await
                };
            }
        };
        let result = ImageJobResult {
            image_ids: assets.iter().map(|a| a.id.clone()).collect(),
            assets,
            failed,
            provider: self.worker.generator().provider.name().to_owned(),
        };
        let result_json = serde_json::to_value(&result).unwrap_or(Value::Null);
        if result.assets.is_empty() {
            let reason = failure_summary(&result.failed);
            return JobReport {
                images,
                ..self.fail(&reason, Some(&result_json), false).await
            };
        }
        report(self.complete(&result_json).await)
    }

    async fn assets(&self) -> Result<Vec<AssetRef>, Step> {
        let db = self.worker.db();
        let job_id = self.job.id.as_str();
        let rows = self
            .db_retry("list the job's assets", || {
                scenergy_db::assets_for_job(db, job_id)
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(|a| AssetRef {
                id: a.id,
                url: a.url,
                product_id: a.product_id,
                variant: u8::try_from(a.variant_index).unwrap_or(u8::MAX),
            })
            .collect())
    }

    /// Writes progress; a cancel request seen here stops the job between items.
    async fn progress(&self, progress: Progress) {
        let value = serde_json::to_value(progress).unwrap_or(Value::Null);
        match self
            .worker
            .queue()
            .progress(
                &self.job.id,
                &self.worker.inner.lease_token,
                &value,
                now_ms(),
            )
            .await
        {
            Ok(true) => self.control.cancel.cancel(),
            Ok(false) => {}
            Err(QueueError::LeaseLost { state, .. }) => {
                tracing::warn!(%state, "lease lost while writing progress");
                self.control.lose();
            }
            // Progress is informative; the next write or the heartbeat catches up.
            Err(error) => tracing::warn!(%error, "progress write failed"),
        }
    }

    /// A queue write at the end of the job, retried through a Redis outage.
    async fn queue_write<T, F, Fut>(&self, what: &str, op: F) -> Option<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, QueueError>>,
    {
        let never = tokio_util::sync::CancellationToken::new();
        match retry::transient(
            what,
            self.worker.settings().outage_retry,
            &never,
            |e: &QueueError| matches!(e, QueueError::Redis(r) if r.is_transient()),
            op,
        )
        .await
        {
            Ok(v) => Some(v),
            Err(Gave::Up(QueueError::LeaseLost { state, .. })) => {
                tracing::warn!(%state, step = what, "lease lost before the job could end here");
                None
            }
            Err(Gave::Up(error)) => {
                tracing::error!(%error, step = what, "could not record the job's end; its lease will run out and it resumes elsewhere");
                None
            }
            Err(Gave::Aborted) => None,
        }
    }

    /// The history row follows the queue; an outage here only delays it.
    async fn record_end(&self, outcome: JobOutcome<'_>) {
        let db = self.worker.db();
        let job_id = self.job.id.as_str();
        let never = tokio_util::sync::CancellationToken::new();
        if let Err(Gave::Up(error)) = retry::transient(
            "record the job's end",
            self.worker.settings().outage_retry,
            &never,
            DbError::is_transient,
            || scenergy_db::mark_job_finished(db, job_id, &outcome),
        )
        .await
        {
            tracing::error!(%error, "could not record the job's end in generation_job");
        }
    }

    async fn complete(&self, result: &Value) -> JobEnd {
        let token = &self.worker.inner.lease_token;
        let results = [(self.job.id.clone(), result.clone())];
        let Some(done) = self
            .queue_write("complete", || {
                self.worker.queue().complete(token, &results, now_ms())
            })
            .await
        else {
            return JobEnd::Lost;
        };
        if done.completed.is_empty() {
            return JobEnd::Lost;
        }
        self.record_end(JobOutcome::Completed { result }).await;
        JobEnd::Completed
    }

    async fn fail(&self, reason: &str, result: Option<&Value>, retryable: bool) -> JobReport {
        let token = &self.worker.inner.lease_token;
        let delay = self.job.retry_delay_ms();
        let outcome = self
            .queue_write("fail", || {
                self.worker
                    .queue()
                    .fail(token, &self.job.id, reason, retryable, delay, now_ms())
            })
            .await;
        let end = match outcome {
            None => JobEnd::Lost,
            Some(FailOutcome::Retrying { .. }) => {
                tracing::warn!(reason, "attempt failed; the queue retries the job");
                JobEnd::Retrying
            }
            Some(FailOutcome::Failed) => {
                tracing::warn!(reason, "job failed");
                self.record_end(JobOutcome::Failed {
                    error: reason,
                    result,
                })
                .await;
                JobEnd::Failed
            }
            Some(FailOutcome::Cancelled) => {
                self.record_end(JobOutcome::Cancelled {
                    reason: Some("cancelled by request"),
                })
                .await;
                JobEnd::Cancelled
            }
        };
        JobReport { end, images: 0 }
    }

    async fn cancelled(&self) -> JobReport {
        let token = &self.worker.inner.lease_token;
        let end = match self
            .queue_write("finish cancelled", || {
                self.worker
                    .queue()
                    .finish_cancelled(token, &self.job.id, now_ms())
            })
            .await
        {
            Some(()) => {
                self.record_end(JobOutcome::Cancelled {
                    reason: Some("cancelled by request"),
                })
                .await;
                JobEnd::Cancelled
            }
            None => JobEnd::Lost,
        };
        JobReport { end, images: 0 }
    }

    async fn released(&self) -> JobReport {
        let token = &self.worker.inner.lease_token;
        let ids = [self.job.id.clone()];
        let end = match self
            .queue_write("release", || {
                self.worker.queue().release(token, &ids, now_ms())
            })
            .await
        {
            Some(lost) if lost.is_empty() => JobEnd::Released,
            _ => JobEnd::Lost,
        };
        JobReport { end, images: 0 }
    }
}

fn count(items: &[FailedItem]) -> u32 {
    u32::try_from(items.len()).unwrap_or(u32::MAX)
}

/// The job-level error when no image could be made: every distinct reason, once.
fn failure_summary(failed: &[FailedItem]) -> String {
    let mut reasons: Vec<&str> = Vec::new();
    for item in failed {
        if !reasons.contains(&item.reason.as_str()) {
            reasons.push(&item.reason);
        }
    }
    if reasons.is_empty() {
        return "the job has no items".to_owned();
    }
    format!("no image could be generated: {}", reasons.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_failure_summary_lists_each_reason_once() {
        let item = |p: &str, v, r: &str| FailedItem {
            product_id: p.to_owned(),
            variant: v,
            reason: r.to_owned(),
        };
        let failed = [
            item("a", 0, "product a not found in this client's catalogue"),
            item("a", 1, "product a not found in this client's catalogue"),
            item("b", 0, "output blocked: SAFETY"),
        ];
        assert_eq!(
            failure_summary(&failed),
            "no image could be generated: product a not found in this client's catalogue; output blocked: SAFETY"
        );
        assert_eq!(failure_summary(&[]), "the job has no items");
    }
}
