//! Object storage for generated images and reference photos.
//!
//! This crate owns where image bytes live and how they are named. [`Storage`] is the one
//! interface the worker uses, with two backends:
//!
//! - [`S3Storage`], on aws-sdk-s3 configured the way Cloudflare R2 wants it (custom endpoint,
//!   region `auto`, path-style addressing, checksums only when required) and working against
//!   any S3-compatible server;
//! - [`FsStorage`], a local directory, the embedded default when `R2_ENDPOINT` is unset.
//!
//! Keys are [`ObjectKey`]s, validated so they are safe on both backends; the key of a
//! generated image is deterministic from (client, session, job, product, variant), so a retry
//! overwrites the same object instead of adding one. Errors are [`StorageError`]s that say
//! whether retrying can help.
//!
//! # Layout
//!
//! - `key`: [`ObjectKey`];
//! - `config`: [`StorageConfig`] from the environment and [`StorageConfig::open`];
//! - `fs`: [`FsStorage`];
//! - `s3`: [`S3Storage`] and [`S3Config`];
//! - `error`: [`StorageError`], [`KeyError`].

mod config;
mod error;
mod fs;
mod key;
mod s3;

use std::fmt::Debug;

use async_trait::async_trait;
pub use bytes::Bytes;

pub use config::{DEFAULT_LOCAL_STORAGE_DIR, StorageConfig};
pub use error::{KeyError, StorageError};
pub use fs::FsStorage;
pub use key::ObjectKey;
pub use s3::{S3Config, S3Storage};

/// What `head` knows about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    pub size: u64,
    pub content_type: Option<String>,
}

/// A place to keep objects. Writes to one key replace the object whole.
#[async_trait]
pub trait Storage: Send + Sync + Debug {
    /// `"s3"` or `"filesystem"`, for logs and readiness output.
    fn name(&self) -> &'static str;

    /// Stores `bytes` under `key`, replacing any object already there.
    async fn put(
        &self,
        key: &ObjectKey,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<(), StorageError>;

    /// The object's bytes, or `None` if there is no such object.
    async fn get(&self, key: &ObjectKey) -> Result<Option<Bytes>, StorageError>;

    /// The object's size and content type, or `None` if there is no such object.
    async fn head(&self, key: &ObjectKey) -> Result<Option<ObjectMeta>, StorageError>;

    /// Whether an object exists under `key`.
    async fn exists(&self, key: &ObjectKey) -> Result<bool, StorageError> {
        Ok(self.head(key).await?.is_some())
    }

    /// Like [`Storage::get`], for objects that must exist (a product's reference image):
    /// a missing object is [`StorageError::NotFound`].
    async fn fetch(&self, key: &ObjectKey) -> Result<Bytes, StorageError> {
        self.get(key).await?.ok_or_else(|| StorageError::NotFound {
            key: key.to_string(),
        })
    }

    /// Where a reader finds the object: `R2_PUBLIC_URL` + key for S3, a `file://` URL for the
    /// filesystem. Computed, never checked, so it is valid before the object is written.
    fn public_url(&self, key: &ObjectKey) -> String;

    /// Readiness: the bucket or directory is reachable with our credentials.
    async fn ping(&self) -> Result<(), StorageError>;
}
