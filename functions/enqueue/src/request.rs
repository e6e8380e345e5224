//! The `POST /api/jobs` body and its validation.
//!
//! Every field is read loosely (optional, enums as strings) and checked afterwards, so one reply
//! lists EVERY invalid field with its path and reason, not just the first serde stumbles on.
//! Unknown fields and wrong JSON types are still refused by serde (`deny_unknown_fields`).

use std::collections::HashSet;

use scenergy_http::FieldError;
use scenergy_queue::Priority;
use serde::Deserialize;

pub const MAX_ID_CHARS: usize = 128;
pub const MAX_PRODUCTS: usize = 50;
pub const MAX_PROMPT_CHARS: usize = 4000;
pub const MAX_VARIANTS: i64 = 4;
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 200;
pub const ASPECT_RATIOS: [&str; 10] = [
    "1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9",
];
pub const IMAGE_QUALITIES: [&str; 3] = ["1k", "2k", "4k"];
/// The job type this function queues; `video_generation` is refused until the worker runs it.
pub use scenergy_jobs::IMAGE_GENERATION;
pub const VIDEO_GENERATION: &str = "video_generation";

/// The body as sent. Validate with [`JobRequest::validate`].
///
/// Every field is optional here so that a missing one is reported next to the others; an
/// explicit `null` is a type error, because the schema never allows it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct JobRequest {
    #[serde(rename = "type", default, deserialize_with = "non_null")]
    pub job_type: Option<String>,
    #[serde(default, deserialize_with = "non_null")]
    pub session_id: Option<String>,
    #[serde(default, deserialize_with = "non_null")]
    pub product_ids: Option<Vec<String>>,
    #[serde(default, deserialize_with = "non_null")]
    pub prompt: Option<String>,
    #[serde(default, deserialize_with = "non_null")]
    pub settings: Option<SettingsRequest>,
    #[serde(default, deserialize_with = "non_null")]
    pub priority: Option<String>,
    #[serde(default, deserialize_with = "non_null")]
    pub client_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SettingsRequest {
    #[serde(default, deserialize_with = "non_null")]
    pub aspect_ratio: Option<String>,
    #[serde(default, deserialize_with = "non_null")]
    pub image_quality: Option<String>,
    /// A JSON number: `2.0` is an integer to JSON Schema (and to JavaScript), so it counts.
    #[serde(default, deserialize_with = "non_null")]
    pub variants_per_product: Option<serde_json::Number>,
}

/// A present field must hold a value of its type; only absence means "not given".
fn non_null<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// The integer a JSON number denotes, if it denotes one (`4`, `4.0`, `4e0`).
fn as_integer(n: &serde_json::Number) -> Option<i64> {
    n.as_i64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            .map(|f| f as i64)
    })
}

/// A valid job: what goes into the queue's payload (camelCase JSON), plus its routing fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidJob {
    pub job_type: &'static str,
    pub priority: Priority,
    /// The body's `clientId`, which the handler compares with the token's.
    pub client_id: Option<String>,
    pub payload: JobPayload,
}

/// The queue payload of an `image_generation` job (defined with the worker's other documents).
pub use scenergy_jobs::{ImageJobPayload as JobPayload, ImageJobSettings as JobSettings};

/// Ids become parts of Redis keys and object paths, so they use the same alphabet as clientIds.
fn key_safe(s: &str) -> Result<(), String> {
    let chars = s.chars().count();
    if chars == 0 || chars > MAX_ID_CHARS {
        return Err(format!("must be 1-{MAX_ID_CHARS} characters"));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._-@:".contains(&b))
    {
        return Err("may only hold letters, digits and . _ - @ :".to_owned());
    }
    Ok(())
}

impl JobRequest {
    /// The valid job, or every invalid field.
    pub fn validate(self) -> Result<ValidJob, Vec<FieldError>> {
        let mut errors = Errors::default();

        let job_type = match self.job_type.as_deref() {
            Some(IMAGE_GENERATION) => Some(IMAGE_GENERATION),
            Some(VIDEO_GENERATION) => {
                errors.add("type", "video_generation is not supported yet");
                None
            }
            Some(other) => {
                errors.add(
                    "type",
                    format!("unknown job type {other:?} (expected image_generation)"),
                );
                None
            }
            None => {
                errors.add("type", "is required");
                None
            }
        };
        let session_id = match self.session_id {
            Some(s) => key_safe(&s)
                .map_err(|why| errors.add("sessionId", why))
                .ok()
                .map(|()| s),
            None => {
                errors.add("sessionId", "is required");
                None
            }
        };
        let product_ids = match self.product_ids {
            Some(ids) => {
                let before = errors.0.len();
                if ids.is_empty() || ids.len() > MAX_PRODUCTS {
                    errors.add(
                        "productIds",
                        format!("must hold 1-{MAX_PRODUCTS} ids (got {})", ids.len()),
                    );
                }
                let mut seen = HashSet::new();
                for (i, id) in ids.iter().enumerate() {
                    if let Err(why) = key_safe(id) {
                        errors.add(&format!("productIds[{i}]"), why);
                    } else if !seen.insert(id.as_str()) {
                        errors.add(&format!("productIds[{i}]"), format!("duplicate id {id:?}"));
                    }
                }
                (errors.0.len() == before).then_some(ids)
            }
            None => {
                errors.add("productIds", "is required");
                None
            }
        };
        let prompt = match self.prompt {
            Some(p) => {
                let chars = p.chars().count();
                if chars == 0 || chars > MAX_PROMPT_CHARS {
                    errors.add(
                        "prompt",
                        format!("must be 1-{MAX_PROMPT_CHARS} characters (got {chars})"),
                    );
                    None
                } else {
                    Some(p)
                }
            }
            None => {
                errors.add("prompt", "is required");
                None
            }
        };
        let settings = match self.settings {
            Some(s) => s.validate(&mut errors),
            None => {
                errors.add("settings", "is required");
                None
            }
        };
        let priority = match self.priority.as_deref() {
            None => Some(Priority::Normal),
            Some(p) => p
                .parse::<Priority>()
                .map_err(|why| errors.add("priority", why))
                .ok(),
        };
        if let Some(id) = &self.client_id
            && let Err(why) = key_safe(id)
        {
            errors.add("clientId", why);
        }

        match (
            job_type,
            session_id,
            product_ids,
            prompt,
            settings,
            priority,
        ) {
            (
                Some(job_type),
                Some(session_id),
                Some(product_ids),
                Some(prompt),
                Some(settings),
                Some(priority),
            ) if errors.0.is_empty() => Ok(ValidJob {
                job_type,
                priority,
                client_id: self.client_id,
                payload: JobPayload {
                    session_id,
                    product_ids,
                    prompt,
                    settings,
                },
            }),
            _ => Err(errors.0),
        }
    }
}

/// The field errors found so far.
#[derive(Debug, Default)]
struct Errors(Vec<FieldError>);

impl Errors {
    fn add(&mut self, field: &str, reason: impl Into<String>) {
        self.0.push(FieldError::new(field, reason));
    }
}

impl SettingsRequest {
    fn validate(self, errors: &mut Errors) -> Option<JobSettings> {
        let aspect_ratio = match self.aspect_ratio {
            Some(r) if ASPECT_RATIOS.contains(&r.as_str()) => Some(r),
            Some(r) => {
                errors.add(
                    "settings.aspectRatio",
                    format!("{r:?} is not one of {}", ASPECT_RATIOS.join(", ")),
                );
                None
            }
            None => {
                errors.add("settings.aspectRatio", "is required");
                None
            }
        };
        let image_quality = match self.image_quality {
            None => Some("1k".to_owned()),
            Some(q) if IMAGE_QUALITIES.contains(&q.as_str()) => Some(q),
            Some(q) => {
                errors.add(
                    "settings.imageQuality",
                    format!("{q:?} is not one of 1k, 2k, 4k"),
                );
                None
            }
        };
        let variants = match self
            .variants_per_product
            .as_ref()
            .map(|n| (n, as_integer(n)))
        {
            None => Some(1),
            Some((_, Some(n))) if (1..=MAX_VARIANTS).contains(&n) => u8::try_from(n).ok(),
            Some((n, _)) => {
                errors.add(
                    "settings.variantsPerProduct",
                    format!("must be an integer from 1 to {MAX_VARIANTS} (got {n})"),
                );
                None
            }
        };
        Some(JobSettings {
            aspect_ratio: aspect_ratio?,
            image_quality: image_quality?,
            variants_per_product: variants?,
        })
    }
}

/// Checks an `Idempotency-Key` header value: 1-200 printable ASCII characters.
pub fn validate_idempotency_key(raw: &[u8]) -> Result<String, FieldError> {
    let field = || "Idempotency-Key";
    if raw.is_empty() || raw.len() > MAX_IDEMPOTENCY_KEY_CHARS {
        return Err(FieldError::new(
            field(),
            format!("must be 1-{MAX_IDEMPOTENCY_KEY_CHARS} characters"),
        ));
    }
    if !raw.iter().all(|b| (0x21..=0x7e).contains(b)) {
        return Err(FieldError::new(
            field(),
            "may only hold printable ASCII characters without spaces",
        ));
    }
    Ok(String::from_utf8_lossy(raw).into_owned())
}
