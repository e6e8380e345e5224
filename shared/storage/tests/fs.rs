//! The filesystem backend against a real temporary directory.

mod contract;

use scenergy_storage::{Bytes, FsStorage, ObjectKey, Storage};

#[tokio::test]
async fn filesystem_backend_meets_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let storage = FsStorage::open(dir.path().join("objects")).await.unwrap();
    let prefix = format!("file://{}/", storage.root().display());
    assert!(prefix.starts_with("file:///"), "{prefix}");
    contract::run(&storage, &prefix).await;
}

#[tokio::test]
async fn objects_are_plain_files_and_writes_leave_no_temporaries() {
    let dir = tempfile::tempdir().unwrap();
    let storage = FsStorage::open(dir.path()).await.unwrap();
    let key = ObjectKey::asset("c", "s", "j", "p", 0, "png").unwrap();
    storage
        .put(&key, Bytes::from_static(b"img"), "image/png")
        .await
        .unwrap();
    storage
        .put(&key, Bytes::from_static(b"img2"), "image/png")
        .await
        .unwrap();

    let path = dir.path().join("c/s/j/p-0.png");
    assert_eq!(std::fs::read(&path).unwrap(), b"img2");
    // The URL names the file itself, so a local reader can open it.
    assert_eq!(
        storage.public_url(&key),
        format!("file://{}", path.display())
    );
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["p-0.png"]);
}

#[tokio::test]
async fn ping_fails_permanently_when_the_directory_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let storage = FsStorage::open(dir.path().join("gone")).await.unwrap();
    std::fs::remove_dir(storage.root()).unwrap();
    let err = storage.ping().await.unwrap_err();
    assert!(!err.is_retryable(), "{err:?}");
}
