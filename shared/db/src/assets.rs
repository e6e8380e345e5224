//! `generated_asset`: one row per stored image, the record that makes retries free.

use std::collections::BTreeSet;

use sqlx::PgExecutor;
use time::OffsetDateTime;

use crate::DbError;

/// An image that has been stored and is to be recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewAsset<'a> {
    pub job_id: &'a str,
    pub client_id: &'a str,
    pub product_id: &'a str,
    /// 0 to 3.
    pub variant_index: i32,
    pub object_key: &'a str,
    pub url: &'a str,
    pub content_type: &'a str,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub bytes: i64,
    /// `gemini` or `offline`.
    pub provider: &'a str,
}

/// A row of `generated_asset`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    pub id: String,
    pub job_id: String,
    pub client_id: String,
    pub product_id: String,
    pub variant_index: i32,
    pub object_key: String,
    pub url: String,
    pub content_type: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub bytes: i64,
    pub provider: String,
    pub created_at: OffsetDateTime,
}

/// Records a stored image. Returns true when a row was inserted and false when the item
/// (job, product, variant) was already recorded, in which case the first row stands: the
/// object key is the same, so the retry overwrote the same object. The job must already be
/// recorded with [`crate::upsert_job`] for the same client (a foreign key enforces it).
pub async fn insert_asset(db: impl PgExecutor<'_>, asset: &NewAsset<'_>) -> Result<bool, DbError> {
    let inserted = sqlx::query!(
        r#"
        INSERT INTO generated_asset
            (job_id, client_id, product_id, variant_index, object_key, url, content_type,
             width, height, bytes, provider)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        ON CONFLICT (job_id, product_id, variant_index) DO NOTHING
        "#,
        asset.job_id,
        asset.client_id,
        asset.product_id,
        asset.variant_index,
        asset.object_key,
        asset.url,
        asset.content_type,
        asset.width,
        asset.height,
        asset.bytes,
        asset.provider,
    )
    .execute(db)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Every asset of a job, ordered by product and variant.
pub async fn assets_for_job(db: impl PgExecutor<'_>, job_id: &str) -> Result<Vec<Asset>, DbError> {
    let rows = sqlx::query_as!(
        Asset,
        r#"
        SELECT id, job_id, client_id, product_id, variant_index, object_key, url, content_type,
               width, height, bytes, provider, created_at
        FROM generated_asset
        WHERE job_id = $1
        ORDER BY product_id, variant_index
        "#,
        job_id,
    )
    .fetch_all(db)
    .await?;
    Ok(rows)
}

/// The items of a job that are already persisted, as (product_id, variant_index). A resumed
/// job generates only the items not in this set, so no image is paid for twice.
pub async fn persisted_items(
    db: impl PgExecutor<'_>,
    job_id: &str,
) -> Result<BTreeSet<(String, i32)>, DbError> {
    let rows = sqlx::query!(
        r#"SELECT product_id, variant_index FROM generated_asset WHERE job_id = $1"#,
        job_id,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.product_id, r.variant_index))
        .collect())
}
