//! The contract every backend meets, run by `fs.rs` and `s3.rs` against a real backend.

use scenergy_storage::{Bytes, ObjectKey, Storage};

/// A PNG-looking payload with bytes that are not valid UTF-8, to catch text mangling.
fn payload(tag: u8) -> Bytes {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend((0..=255u8).map(|b| b ^ tag));
    Bytes::from(bytes)
}

/// Runs the whole contract; `url_prefix` is what `public_url` must put before the key.
pub(crate) async fn run(storage: &dyn Storage, url_prefix: &str) {
    storage.ping().await.expect("ping a healthy backend");
    round_trip_keeps_bytes_and_content_type(storage).await;
    same_key_overwrites(storage).await;
    missing_key_is_absent(storage).await;
    public_url_is_base_plus_key(storage, url_prefix);
}

async fn round_trip_keeps_bytes_and_content_type(storage: &dyn Storage) {
    let key = ObjectKey::asset("client-a", "s1", "job-1", "sofa", 0, "png").unwrap();
    let bytes = payload(0);
    storage.put(&key, bytes.clone(), "image/png").await.unwrap();

    assert_eq!(storage.get(&key).await.unwrap(), Some(bytes.clone()));
    assert_eq!(storage.fetch(&key).await.unwrap(), bytes);
    let meta = storage.head(&key).await.unwrap().expect("head after put");
    assert_eq!(meta.size, bytes.len() as u64);
    assert_eq!(meta.content_type.as_deref(), Some("image/png"));
    assert!(storage.exists(&key).await.unwrap());

    let empty = ObjectKey::parse("client-a/empty.bin").unwrap();
    storage
        .put(&empty, Bytes::new(), "application/octet-stream")
        .await
        .unwrap();
    assert_eq!(storage.get(&empty).await.unwrap(), Some(Bytes::new()));
}

async fn same_key_overwrites(storage: &dyn Storage) {
    // A retried item computes the same key and replaces the object, never adds one.
    let key = ObjectKey::asset("client-a", "s1", "job-2", "lamp", 1, "png").unwrap();
    storage.put(&key, payload(1), "image/png").await.unwrap();
    let retry = ObjectKey::asset("client-a", "s1", "job-2", "lamp", 1, "png").unwrap();
    storage.put(&retry, payload(2), "image/webp").await.unwrap();

    assert_eq!(storage.get(&key).await.unwrap(), Some(payload(2)));
    let meta = storage.head(&key).await.unwrap().unwrap();
    assert_eq!(meta.content_type.as_deref(), Some("image/webp"));
}

async fn missing_key_is_absent(storage: &dyn Storage) {
    let key = ObjectKey::parse("client-a/never/written.png").unwrap();
    assert_eq!(storage.get(&key).await.unwrap(), None);
    assert_eq!(storage.head(&key).await.unwrap(), None);
    assert!(!storage.exists(&key).await.unwrap());
    let err = storage.fetch(&key).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert!(!err.is_retryable());
    assert!(
        err.to_string().contains("client-a/never/written.png"),
        "{err}"
    );
}

fn public_url_is_base_plus_key(storage: &dyn Storage, url_prefix: &str) {
    let key = ObjectKey::asset("c", "s", "j", "p", 3, "png").unwrap();
    assert_eq!(
        storage.public_url(&key),
        format!("{url_prefix}c/s/j/p-3.png")
    );
}
