//! The filesystem backend: objects as files under one directory, the embedded default.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use bytes::Bytes;

use crate::{ObjectKey, ObjectMeta, Storage, StorageError};

/// Content types live beside the objects in this hidden directory. Keys cannot start a segment
/// with '.', so no key can reach it.
const META_DIR: &str = ".meta";

/// Objects stored as `{root}/{key}`, with each object's content type in
/// `{root}/.meta/{key}`. Writes go to a temporary file and are renamed into place, so a reader
/// never sees half an image and a retried write replaces the object whole.
#[derive(Debug)]
pub struct FsStorage {
    root: PathBuf,
    tmp_counter: AtomicU64,
}

impl FsStorage {
    /// Creates `root` if needed. The path is made absolute so public URLs stay valid whatever
    /// the reader's working directory.
    pub async fn open(root: impl AsRef<Path>) -> Result<Self, StorageError> {
        let root =
            std::path::absolute(root.as_ref()).map_err(|e| StorageError::from_io("open", &e))?;
        tokio::fs::create_dir_all(&root)
            .await
            .map_err(|e| StorageError::from_io("open", &e))?;
        Ok(Self {
            root,
            tmp_counter: AtomicU64::new(0),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where an object's bytes live.
    pub fn path_of(&self, key: &ObjectKey) -> PathBuf {
        self.root.join(key.as_str())
    }

    fn meta_path(&self, key: &ObjectKey) -> PathBuf {
        self.root.join(META_DIR).join(key.as_str())
    }

    /// Writes `bytes` to `path` through a temporary sibling and a rename.
    async fn write_atomic(&self, path: &Path, bytes: &[u8]) -> Result<(), StorageError> {
        let io = |e: std::io::Error| StorageError::from_io("put", &e);
        let dir = path.parent().unwrap_or(&self.root);
        tokio::fs::create_dir_all(dir).await.map_err(io)?;
        let n = self.tmp_counter.fetch_add(1, Ordering::Relaxed);
        // Hidden, so it can never collide with a key, and unique per process and write.
        let tmp = dir.join(format!(".tmp-{}-{n}", std::process::id()));
        if let Err(e) = tokio::fs::write(&tmp, bytes).await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(io(e));
        }
        tokio::fs::rename(&tmp, path).await.map_err(io)
    }
}

#[async_trait]
impl Storage for FsStorage {
    fn name(&self) -> &'static str {
        "filesystem"
    }

    async fn put(
        &self,
        key: &ObjectKey,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<(), StorageError> {
        // Metadata first: if we crash between the two writes, the old bytes keep a valid
        // (possibly newer) content type, which a retry then completes.
        self.write_atomic(&self.meta_path(key), content_type.as_bytes())
            .await?;
        self.write_atomic(&self.path_of(key), &bytes).await
    }

    async fn get(&self, key: &ObjectKey) -> Result<Option<Bytes>, StorageError> {
        match tokio::fs::read(self.path_of(key)).await {
            Ok(bytes) => Ok(Some(Bytes::from(bytes))),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StorageError::from_io("get", &e)),
        }
    }

    async fn head(&self, key: &ObjectKey) -> Result<Option<ObjectMeta>, StorageError> {
        let meta = match tokio::fs::metadata(self.path_of(key)).await {
            Ok(meta) if meta.is_file() => meta,
            Ok(_) => return Ok(None),
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StorageError::from_io("head", &e)),
        };
        let content_type = match tokio::fs::read_to_string(self.meta_path(key)).await {
            Ok(ct) => Some(ct),
            Err(e) if e.kind() == ErrorKind::NotFound => None,
            Err(e) => return Err(StorageError::from_io("head", &e)),
        };
        Ok(Some(ObjectMeta {
            size: meta.len(),
            content_type,
        }))
    }

    fn public_url(&self, key: &ObjectKey) -> String {
        // Keys need no escaping (see ObjectKey); the root is absolute.
        format!("file://{}", self.path_of(key).display())
    }

    async fn ping(&self) -> Result<(), StorageError> {
        match tokio::fs::metadata(&self.root).await {
            Ok(meta) if meta.is_dir() => Ok(()),
            Ok(_) => Err(StorageError::Permanent {
                op: "ping",
                message: format!("{} is not a directory", self.root.display()),
            }),
            Err(e) => Err(StorageError::from_io("ping", &e)),
        }
    }
}
