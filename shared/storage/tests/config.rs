//! `StorageConfig::from_env`: the backend choice and errors that name the variable.

use scenergy_config::{Env, ExposeSecret};
use scenergy_storage::{DEFAULT_LOCAL_STORAGE_DIR, StorageConfig};

const R2: [(&str, &str); 5] = [
    ("R2_ENDPOINT", "https://acct.r2.cloudflarestorage.com"),
    ("R2_ACCESS_KEY_ID", "AKID"),
    ("R2_SECRET_ACCESS_KEY", "s3cr3t"),
    ("R2_BUCKET_NAME", "scenergy-assets"),
    ("R2_PUBLIC_URL", "https://assets.example.test/"),
];

#[test]
fn filesystem_is_the_default_without_r2_endpoint() {
    let StorageConfig::Filesystem { root } =
        StorageConfig::from_env(&Env::from_pairs([("X", "1")])).unwrap()
    else {
        panic!("expected the filesystem backend");
    };
    assert_eq!(root.to_str(), Some(DEFAULT_LOCAL_STORAGE_DIR));

    let env = Env::from_pairs([("LOCAL_STORAGE_DIR", "/srv/images")]);
    let StorageConfig::Filesystem { root } = StorageConfig::from_env(&env).unwrap() else {
        panic!("expected the filesystem backend");
    };
    assert_eq!(root.to_str(), Some("/srv/images"));
}

#[test]
fn r2_endpoint_selects_s3_configured_for_r2() {
    let StorageConfig::S3(config) = StorageConfig::from_env(&Env::from_pairs(R2)).unwrap() else {
        panic!("expected the S3 backend");
    };
    assert_eq!(config.endpoint, "https://acct.r2.cloudflarestorage.com");
    assert_eq!(config.region, "auto");
    assert_eq!(config.bucket, "scenergy-assets");
    assert_eq!(config.access_key_id, "AKID");
    assert_eq!(config.secret_access_key.expose_secret(), "s3cr3t");
    assert_eq!(config.public_url, "https://assets.example.test");
    assert!(!format!("{config:?}").contains("s3cr3t"));
}

#[test]
fn with_r2_endpoint_every_other_r2_variable_is_required() {
    for (missing, _) in &R2[1..] {
        let env = Env::from_pairs(R2.iter().filter(|(k, _)| k != missing).copied());
        let err = StorageConfig::from_env(&env).unwrap_err();
        assert_eq!(err.var(), *missing, "{err}");
    }
}

#[test]
fn malformed_values_name_the_variable() {
    for (var, bad) in [
        ("R2_ENDPOINT", "acct.r2.cloudflarestorage.com"),
        ("R2_PUBLIC_URL", "assets.example.test"),
        ("R2_BUCKET_NAME", "Scenergy_Assets"),
        ("R2_BUCKET_NAME", "ab"),
        ("R2_BUCKET_NAME", "-assets"),
    ] {
        let env = Env::from_pairs(R2.iter().map(|&(k, v)| (k, if k == var { bad } else { v })));
        let err = StorageConfig::from_env(&env).unwrap_err();
        assert_eq!(err.var(), var, "{bad:?}: {err}");
    }
}

#[tokio::test]
async fn open_builds_the_chosen_backend() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let env = Env::from_pairs([("LOCAL_STORAGE_DIR", root.to_str().unwrap())]);
    let storage = StorageConfig::from_env(&env).unwrap().open().await.unwrap();
    assert_eq!(storage.name(), "filesystem");
    storage.ping().await.unwrap();
    assert!(root.is_dir());

    let s3 = StorageConfig::from_env(&Env::from_pairs(R2))
        .unwrap()
        .open()
        .await
        .unwrap();
    assert_eq!(s3.name(), "s3");
}
