//! One item: one product × variant. Wait for a generation slot, call the image model through
//! the key pool, check the image, upload it under its deterministic key and record the
//! `generated_asset` row. A retried item overwrites the same object and its row insert is a
//! no-op, so an item is stored and recorded once however often it runs.

use std::time::Instant;

use bytes::Bytes;
use scenergy_config::ExposeSecret;
use scenergy_db::{DbError, NewAsset, Product};
use scenergy_gemini::{
    ErrorClass, GeminiError, GeneratedImage, ImageFormat, ImageQuality, ImageRequest, InlineImage,
    dimensions,
};
use scenergy_keypool::{KeyOutcome, PoolError};
use scenergy_queue::ClaimedJob;
use scenergy_storage::{ObjectKey, StorageError};

use crate::engine::{JobControl, Waiting, Worker};
use crate::retry::{self, Gave};

/// Attempts of one item on transient model errors (5xx, timeouts, broken images). Quota
/// answers (429) do not count: they switch keys, and the pool waits for a free one.
pub const ITEM_ATTEMPTS: u32 = 3;
/// Quota answers one item tolerates before it gives up for this attempt of the job.
const MAX_QUOTA_ANSWERS: u32 = 50;
/// The largest image accepted from the model.
pub const MAX_IMAGE_BYTES: usize = 30 * 1024 * 1024;
/// The largest side accepted from the model (4K images are 4096 px; some ratios go wider).
pub const MAX_IMAGE_SIDE: u32 = 8192;

/// What to generate.
#[derive(Debug, Clone)]
pub(crate) struct ItemSpec {
    pub(crate) product: Product,
    pub(crate) reference: Option<InlineImage>,
    /// 0-based.
    pub(crate) variant: u8,
    pub(crate) variants: u8,
    pub(crate) quality: ImageQuality,
}

/// Why an item produced no image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ItemFailure {
    pub(crate) reason: String,
    /// Another attempt of the job may succeed (an outage, a quota, a 5xx).
    pub(crate) retryable: bool,
}

impl ItemFailure {
    fn permanent(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            retryable: false,
        }
    }

    fn retryable(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            retryable: true,
        }
    }
}

#[derive(Debug)]
pub(crate) enum ItemEnd {
    Stored,
    Failed(ItemFailure),
    /// Never got a slot: the run wound down, or the job was cancelled.
    NotStarted,
    /// Dropped in flight: the grace ran out, or the lease was lost.
    Aborted,
}

/// What every item of one job shares.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ItemContext<'a> {
    pub(crate) worker: &'a Worker,
    pub(crate) job: &'a ClaimedJob,
    pub(crate) session_id: &'a str,
    pub(crate) prompt: &'a str,
    pub(crate) aspect_ratio: &'a str,
    pub(crate) control: &'a JobControl,
}

/// The prompt for one item: the job's scene, the product, and what makes variants differ.
pub(crate) fn compose_prompt(scene: &str, spec: &ItemSpec) -> String {
    let product = &spec.product;
    let mut prompt = format!("{scene}\n\nProduct: {}", product.name);
    if let Some(description) = product
        .description
        .as_deref()
        .filter(|d| !d.trim().is_empty())
    {
        prompt.push_str(&format!(" ({})", description.trim()));
    }
    prompt.push('.');
    if spec.reference.is_some() {
        prompt.push_str(
            "\nThe attached photo shows the exact product: keep its shape, colours, materials \
             and branding unchanged.",
        );
    }
    if spec.variants > 1 {
        prompt.push_str(&format!(
            "\nVariant {} of {}: vary the composition and camera angle.",
            spec.variant + 1,
            spec.variants
        ));
    }
    prompt
}

/// The checks an image passes before it is stored: the bytes are a PNG, JPEG or WebP whose
/// header dimensions are sane and match what the response said, within the size limit.
pub(crate) fn check_image(image: &GeneratedImage) -> Result<ImageFormat, String> {
    let format = ImageFormat::sniff(&image.bytes).ok_or("the image is not a PNG, JPEG or WebP")?;
    if format.mime_type() != image.mime_type {
        return Err(format!(
            "the image bytes are {} but were taken for {}",
            format.mime_type(),
            image.mime_type
        ));
    }
    if image.bytes.len() > MAX_IMAGE_BYTES {
        return Err(format!(
            "the image is {} bytes, over the limit",
            image.bytes.len()
        ));
    }
    let (w, h) = dimensions(&image.bytes).ok_or("the image header has no dimensions")?;
    if w == 0 || h == 0 || w > MAX_IMAGE_SIDE || h > MAX_IMAGE_SIDE {
        return Err(format!(
            "the image is {w}x{h}, outside 1-{MAX_IMAGE_SIDE} px"
        ));
    }
    Ok(format)
}

fn extension(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Png => "png",
        ImageFormat::Jpeg => "jpg",
        ImageFormat::Webp => "webp",
    }
}

impl<'a> ItemContext<'a> {
    /// Runs one item; returns it with how it ended. `waiting` counts it as waiting for a slot
    /// until it has one (or will never start).
    pub(crate) async fn run(
        self,
        spec: &'a ItemSpec,
        mut waiting: Waiting,
    ) -> (&'a ItemSpec, ItemEnd) {
        let control = self.control;
        let slot = tokio::select! {
            slot = self.worker.slot() => slot,
            () = control.wind_down.cancelled() => return (spec, ItemEnd::NotStarted),
            () = control.cancel.cancelled() => return (spec, ItemEnd::NotStarted),
            () = control.abort.cancelled() => return (spec, ItemEnd::NotStarted),
        };
        waiting.done();
        if !control.may_start() {
            return (spec, ItemEnd::NotStarted);
        }
        let started = Instant::now();
        let end = tokio::select! {
            result = self.generate_and_store(spec) => match result {
                Ok(()) => ItemEnd::Stored,
                Err(failure) => ItemEnd::Failed(failure),
            },
            () = control.abort.cancelled() => ItemEnd::Aborted,
        };
        drop(slot);
        let outcome = match &end {
            ItemEnd::Stored => "stored",
            ItemEnd::Failed(f) if f.retryable => "failed-retryable",
            ItemEnd::Failed(_) => "failed",
            ItemEnd::NotStarted => "not-started",
            ItemEnd::Aborted => "aborted",
        };
        crate::metrics::Metrics::global().item_finished(outcome, started.elapsed());
        tracing::info!(
            product_id = %spec.product.id,
            variant = spec.variant,
            outcome,
            reason = match &end {
                ItemEnd::Failed(f) => f.reason.as_str(),
                _ => "",
            },
            duration = started.elapsed().as_millis() as u64,
            "item ended"
        );
        (spec, end)
    }

    async fn generate_and_store(&self, spec: &ItemSpec) -> Result<(), ItemFailure> {
        let mut request = ImageRequest::new(
            compose_prompt(self.prompt, spec),
            self.aspect_ratio,
            spec.quality,
        );
        request.product_name = Some(spec.product.name.clone());
        request.reference_images = spec.reference.iter().cloned().collect();
        let (image, format) = self.generate(&request).await?;

        let key = ObjectKey::asset(
            &self.job.client_id,
            self.session_id,
            self.job.id.as_str(),
            &spec.product.id,
            u32::from(spec.variant),
            extension(format),
        )
        .map_err(|e| ItemFailure::permanent(format!("cannot name the object: {e}")))?;
        let storage = self.worker.storage();
        let budget = self.worker.settings().outage_retry;
        let abort = &self.control.abort;
        let size = image.bytes.len();
        let bytes = Bytes::from(image.bytes);
        retry::transient(
            "upload the image",
            budget,
            abort,
            StorageError::is_retryable,
            || storage.put(&key, bytes.clone(), format.mime_type()),
        )
        .await
        .map_err(|gave| match gave {
            Gave::Up(e) => ItemFailure {
                retryable: e.is_retryable(),
                reason: format!("upload: {e}"),
            },
            Gave::Aborted => ItemFailure::retryable("aborted"),
        })?;

        let url = storage.public_url(&key);
        let asset = NewAsset {
            job_id: self.job.id.as_str(),
            client_id: &self.job.client_id,
            product_id: &spec.product.id,
            variant_index: i32::from(spec.variant),
            object_key: key.as_str(),
            url: &url,
            content_type: format.mime_type(),
            width: i32::try_from(image.width).ok(),
            height: i32::try_from(image.height).ok(),
            bytes: i64::try_from(size).unwrap_or(i64::MAX),
            provider: image.provider,
        };
        let db = self.worker.db();
        retry::transient(
            "record the asset",
            budget,
            abort,
            DbError::is_transient,
            || scenergy_db::insert_asset(db, &asset),
        )
        .await
        .map_err(|gave| match gave {
            Gave::Up(e) => ItemFailure {
                retryable: e.is_transient(),
                reason: format!("record: {e}"),
            },
            Gave::Aborted => ItemFailure::retryable("aborted"),
        })?;
        Ok(())
    }

    /// Calls the model until it gives a usable image, switching keys on quota answers and
    /// backing off on transient errors.
    async fn generate(
        &self,
        request: &ImageRequest,
    ) -> Result<(GeneratedImage, ImageFormat), ItemFailure> {
        let generator = self.worker.generator();
        let key_wait = self.worker.settings().key_wait;
        let mut attempts = 0;
        let mut quota_answers = 0;
        loop {
            let lease = match &generator.pool {
                Some(pool) => Some(
                    pool.acquire(tokio::time::Instant::now() + key_wait)
                        .await
                        .map_err(|e| match e {
                            PoolError::Exhausted { .. } => {
                                crate::metrics::Metrics::global().rate_limited("gemini_keys");
                                ItemFailure::retryable(e.to_string())
                            }
                            PoolError::AllDisabled | PoolError::NoKeys => {
                                ItemFailure::permanent(e.to_string())
                            }
                            _ => ItemFailure::retryable(e.to_string()),
                        })?,
                ),
                None => None,
            };
            let key = lease.as_ref().map(|l| l.key().secret().expose_secret());
            let result = generator.provider.generate(key, request).await;
            let outcome = match &result {
                Ok(_) => KeyOutcome::Success,
                Err(e) => match e.class() {
                    ErrorClass::CoolKey { per_day: true, .. } => KeyOutcome::DailyQuota,
                    ErrorClass::CoolKey { retry_after, .. } => {
                        KeyOutcome::RateLimited { retry_after }
                    }
                    ErrorClass::DisableKey => KeyOutcome::InvalidKey,
                    ErrorClass::Retryable | ErrorClass::Fatal => KeyOutcome::Success,
                },
            };
            if let Some(lease) = &lease {
                crate::metrics::Metrics::global().gemini_call(lease.id(), outcome);
            }
            if let (Some(pool), Some(lease)) = (&generator.pool, &lease)
                && let Err(error) = pool.report(lease, outcome).await
            {
                tracing::warn!(%error, key = lease.id(), "could not report the key's outcome");
            }
            let error = match result {
                Ok(image) => match check_image(&image) {
                    Ok(format) => return Ok((image, format)),
                    Err(reason) => GeminiError::MalformedResponse(reason),
                },
                Err(error) => error,
            };
            match error.class() {
                ErrorClass::CoolKey { .. } | ErrorClass::DisableKey => {
                    quota_answers += 1;
                    tracing::info!(%error, key = lease.as_ref().map(|l| l.id()), "key refused the call; trying another");
                    if quota_answers >= MAX_QUOTA_ANSWERS {
                        return Err(ItemFailure::retryable(error.to_string()));
                    }
                }
                ErrorClass::Retryable => {
                    attempts += 1;
                    if attempts >= ITEM_ATTEMPTS {
                        return Err(ItemFailure::retryable(error.to_string()));
                    }
                    tracing::warn!(%error, attempt = attempts, "image call failed; retrying");
                    tokio::time::sleep(retry::delay(attempts)).await;
                }
                ErrorClass::Fatal => return Err(ItemFailure::permanent(error.to_string())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scenergy_gemini::{ImageProvider, OfflineProvider};

    fn spec(reference: bool, variants: u8) -> ItemSpec {
        ItemSpec {
            product: Product {
                id: "p1".to_owned(),
                client_id: "c".to_owned(),
                name: "Oak chair".to_owned(),
                description: Some("solid oak, linen seat".to_owned()),
                reference_image_key: None,
                created_at: time::OffsetDateTime::UNIX_EPOCH,
            },
            reference: reference.then(|| InlineImage::new(b"\x89PNG\r\n\x1a\nrest".to_vec())),
            variant: 1,
            variants,
            quality: ImageQuality::K1,
        }
    }

    #[test]
    fn the_prompt_carries_the_product_and_the_variant() {
        let p = compose_prompt("A sunlit loft", &spec(true, 2));
        assert!(p.starts_with("A sunlit loft\n\nProduct: Oak chair (solid oak, linen seat)."));
        assert!(p.contains("attached photo"));
        assert!(p.contains("Variant 2 of 2"));
        let single = compose_prompt("A sunlit loft", &spec(false, 1));
        assert!(!single.contains("Variant") && !single.contains("photo"));
    }

    #[tokio::test]
    async fn real_images_pass_the_checks_and_broken_ones_do_not() {
        let request = ImageRequest::new("a lamp", "16:9", ImageQuality::K1);
        let image = OfflineProvider::new()
            .generate(None, &request)
            .await
            .unwrap();
        assert_eq!(check_image(&image), Ok(ImageFormat::Png));

        let mut truncated = image.clone();
        truncated.bytes.truncate(12);
        assert!(check_image(&truncated).unwrap_err().contains("dimensions"));
        let mut mislabelled = image.clone();
        mislabelled.mime_type = "image/jpeg";
        assert!(check_image(&mislabelled).unwrap_err().contains("taken for"));
        let mut garbage = image;
        garbage.bytes = b"<html>not an image</html>".to_vec();
        assert!(check_image(&garbage).unwrap_err().contains("not a PNG"));
    }
}
