//! The job documents that the enqueue function writes and the worker reads, and the progress
//! and result documents that the worker writes and the status function (and the frontend)
//! reads. One definition of each, so the two sides cannot drift apart. Serde only: no I/O.
//!
//! All documents are camelCase JSON.

use serde::{Deserialize, Serialize};

/// The job type of an image generation job.
pub const IMAGE_GENERATION: &str = "image_generation";

/// The queue payload of an `image_generation` job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageJobPayload {
    pub session_id: String,
    pub product_ids: Vec<String>,
    pub prompt: String,
    pub settings: ImageJobSettings,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageJobSettings {
    pub aspect_ratio: String,
    pub image_quality: String,
    pub variants_per_product: u8,
}

impl ImageJobPayload {
    /// Products × variants: the items the job generates.
    pub fn item_count(&self) -> usize {
        self.product_ids.len() * usize::from(self.settings.variants_per_product)
    }
}

/// The progress of a running job, in items (one item = one product × variant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub total: u32,
    /// Items stored and recorded, including those of earlier attempts.
    pub completed: u32,
    /// Items that failed for good.
    pub failed: u32,
    /// `(completed + failed) * 100 / total`, rounded down.
    pub percent: u8,
}

impl Progress {
    pub fn new(total: u32, completed: u32, failed: u32) -> Self {
        let done = u64::from(completed) + u64::from(failed);
        let percent = if total == 0 {
            100
        } else {
            u8::try_from((done * 100 / u64::from(total)).min(100)).unwrap_or(100)
        };
        Self {
            total,
            completed,
            failed,
            percent,
        }
    }
}

/// One stored image in a job's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetRef {
    /// The `generated_asset` row's id.
    pub id: String,
    pub url: String,
    pub product_id: String,
    /// 0-based.
    pub variant: u8,
}

/// One item that produced no image, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedItem {
    pub product_id: String,
    pub variant: u8,
    pub reason: String,
}

/// The result of a finished `image_generation` job: every stored image (also those of earlier
/// attempts), the items that failed, and which provider made the images.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageJobResult {
    pub image_ids: Vec<String>,
    pub assets: Vec<AssetRef>,
    pub failed: Vec<FailedItem>,
    /// `gemini` or `offline`.
    pub provider: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_is_camel_case_and_strict() {
        let json = serde_json::json!({
            "sessionId": "s1",
            "productIds": ["p1", "p2"],
            "prompt": "on a beach",
            "settings": {"aspectRatio": "1:1", "imageQuality": "1K", "variantsPerProduct": 2}
        });
        let payload: ImageJobPayload = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(payload.item_count(), 4);
        assert_eq!(serde_json::to_value(&payload).unwrap(), json);
        let mut extra = json;
        extra["surprise"] = serde_json::json!(1);
        assert!(serde_json::from_value::<ImageJobPayload>(extra).is_err());
    }

    #[test]
    fn percent_counts_finished_items_and_never_overflows() {
        assert_eq!(Progress::new(4, 1, 1).percent, 50);
        assert_eq!(Progress::new(3, 1, 0).percent, 33);
        assert_eq!(Progress::new(0, 0, 0).percent, 100);
        assert_eq!(Progress::new(2, 5, 0).percent, 100);
        let json = serde_json::to_value(Progress::new(4, 2, 0)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"total": 4, "completed": 2, "failed": 0, "percent": 50})
        );
    }
}
