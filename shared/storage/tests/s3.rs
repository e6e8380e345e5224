//! The S3 backend against a real S3-compatible server (`scenergy_testkit::S3Server`).

mod contract;

use std::time::Duration;

use scenergy_config::SecretString;
use scenergy_storage::{Bytes, ObjectKey, S3Config, S3Storage, Storage};
use scenergy_testkit::S3Server;

const PUBLIC_URL: &str = "https://assets.example.test/";

fn config(server: &S3Server, bucket: &str) -> S3Config {
    S3Config::new(
        &server.endpoint,
        bucket,
        &server.access_key,
        SecretString::from(server.secret_key.clone()),
        PUBLIC_URL,
    )
}

fn unique_bucket() -> String {
    format!("scenergy-test-{:016x}", rand_suffix())
}

fn rand_suffix() -> u64 {
    // Unique enough per test in one run, and across runs sharing S3_TEST_ENDPOINT.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
}

#[tokio::test]
async fn s3_backend_meets_the_contract() {
    let server = S3Server::start().await;
    let storage = S3Storage::new(&config(&server, &unique_bucket()));
    storage.create_bucket_if_missing().await.unwrap();
    // The trailing '/' of R2_PUBLIC_URL is trimmed, so URLs never have '//'.
    contract::run(&storage, PUBLIC_URL).await;
}

#[tokio::test]
async fn server_down_is_a_transient_error() {
    let server = S3Server::start().await;
    let mut config = config(&server, "scenergy-down");
    config.endpoint = format!("http://127.0.0.1:{}", scenergy_testkit::free_port());
    config.max_attempts = 2;
    config.operation_timeout = Duration::from_secs(10);
    let storage = S3Storage::new(&config);
    let key = ObjectKey::parse("c/s/j/p-0.png").unwrap();

    let err = storage
        .put(&key, Bytes::from_static(b"x"), "image/png")
        .await
        .unwrap_err();
    assert!(
        err.is_retryable(),
        "connection refused must be retryable: {err:?}"
    );
    let err = storage.get(&key).await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert!(storage.ping().await.unwrap_err().is_retryable());
}

#[tokio::test]
async fn a_server_killed_mid_run_is_transient() {
    let server = S3Server::start().await;
    if !server.is_own() {
        // A shared server from S3_TEST_ENDPOINT is not ours to kill.
        return;
    }
    let storage = S3Storage::new(&config(&server, &unique_bucket()));
    storage.create_bucket_if_missing().await.unwrap();
    storage.ping().await.unwrap();
    drop(server);

    // The client may hold a pooled connection to the dead server; either way it is retryable.
    let err = storage.ping().await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
}

#[tokio::test]
async fn wrong_credentials_and_missing_bucket_are_permanent() {
    let server = S3Server::start().await;
    let bucket = unique_bucket();
    let good = S3Storage::new(&config(&server, &bucket));
    good.create_bucket_if_missing().await.unwrap();

    let missing = S3Storage::new(&config(&server, "scenergy-no-such-bucket"));
    let err = missing.ping().await.unwrap_err();
    assert!(!err.is_retryable(), "{err:?}");

    let mut bad = config(&server, &bucket);
    bad.secret_access_key = SecretString::from("wrong-secret");
    let bad = S3Storage::new(&bad);
    let key = ObjectKey::parse("c/x.png").unwrap();
    let put = bad.put(&key, Bytes::from_static(b"x"), "image/png").await;
    // moto accepts any credentials; only a server that checks them can show this.
    if server.checks_credentials {
        let err = put.unwrap_err();
        assert!(
            !err.is_retryable(),
            "a bad secret must not be retried: {err:?}"
        );
    }
}
