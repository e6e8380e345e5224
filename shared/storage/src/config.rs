//! Which backend to use, read from the environment.

use std::path::PathBuf;
use std::sync::Arc;

use scenergy_config::{ConfigError, Env};

use crate::{FsStorage, S3Config, S3Storage, Storage, StorageError};

/// Where [`FsStorage`] keeps objects when neither `R2_ENDPOINT` nor `LOCAL_STORAGE_DIR` is set.
pub const DEFAULT_LOCAL_STORAGE_DIR: &str = "./data/storage";

/// The chosen backend and its settings.
#[derive(Debug, Clone)]
pub enum StorageConfig {
    /// `R2_ENDPOINT` is set: S3/R2, with every other `R2_*` variable required.
    S3(S3Config),
    /// `R2_ENDPOINT` is unset: a local directory (`LOCAL_STORAGE_DIR`).
    Filesystem { root: PathBuf },
}

impl StorageConfig {
    /// Reads `R2_ENDPOINT`, `R2_ACCESS_KEY_ID`, `R2_SECRET_ACCESS_KEY`, `R2_BUCKET_NAME` and
    /// `R2_PUBLIC_URL`, or `LOCAL_STORAGE_DIR` when `R2_ENDPOINT` is unset. A missing or
    /// malformed value is an error naming the variable.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let Some(endpoint) = env.url("R2_ENDPOINT", &["http", "https"])? else {
            let root = env.raw("LOCAL_STORAGE_DIR").map_or_else(
                || DEFAULT_LOCAL_STORAGE_DIR.to_owned(),
                |v| v.trim().to_owned(),
            );
            return Ok(Self::Filesystem { root: root.into() });
        };
        let access_key_id: String = env.required("R2_ACCESS_KEY_ID")?;
        let secret = env.secret("R2_SECRET_ACCESS_KEY")?;
        let bucket: String = env.required("R2_BUCKET_NAME")?;
        check_bucket_name(&bucket)
            .map_err(|reason| ConfigError::invalid("R2_BUCKET_NAME", reason))?;
        let public_url = env
            .url("R2_PUBLIC_URL", &["http", "https"])?
            .ok_or_else(|| ConfigError::Missing {
                var: "R2_PUBLIC_URL".to_owned(),
            })?;
        Ok(Self::S3(S3Config::new(
            endpoint,
            bucket,
            access_key_id,
            secret,
            public_url,
        )))
    }

    /// Opens the backend: creates the local directory, or builds the S3 client (no request is
    /// made; call [`Storage::ping`] for readiness).
    pub async fn open(&self) -> Result<Arc<dyn Storage>, StorageError> {
        Ok(match self {
            Self::S3(config) => Arc::new(S3Storage::new(config)),
            Self::Filesystem { root } => Arc::new(FsStorage::open(root).await?),
        })
    }
}

/// S3's bucket naming rules, which R2 shares: 3 to 63 lowercase letters, digits, `-` and `.`,
/// starting and ending with a letter or digit.
fn check_bucket_name(name: &str) -> Result<(), &'static str> {
    let edges_ok =
        |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !(3..=63).contains(&name.len()) {
        return Err("must be 3 to 63 characters");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
    {
        return Err("only lowercase letters, digits, '-' and '.' are allowed");
    }
    if !edges_ok(name.chars().next()) || !edges_ok(name.chars().last()) {
        return Err("must start and end with a letter or digit");
    }
    Ok(())
}
