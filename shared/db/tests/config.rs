//! `DbConfig::from_env`: errors name the variable and never show the URL.

use scenergy_config::{Env, ExposeSecret};
use scenergy_db::{DEFAULT_MAX_CONNECTIONS, DbConfig};

#[test]
fn reads_url_and_pool_size() {
    let env = Env::from_pairs([
        ("DATABASE_URL", "postgres://u:pw@db:5432/app"),
        ("DATABASE_MAX_CONNECTIONS", "12"),
    ]);
    let config = DbConfig::from_env(&env).unwrap();
    assert_eq!(config.url.expose_secret(), "postgres://u:pw@db:5432/app");
    assert_eq!(config.max_connections, 12);
    assert!(!format!("{config:?}").contains("pw"));

    let env = Env::from_pairs([("DATABASE_URL", "postgresql://db/app")]);
    let config = DbConfig::from_env(&env).unwrap();
    assert_eq!(config.max_connections, DEFAULT_MAX_CONNECTIONS);
}

#[test]
fn missing_or_malformed_values_name_the_variable() {
    let err = DbConfig::from_env(&Env::from_pairs([("OTHER", "x")])).unwrap_err();
    assert_eq!(err.var(), "DATABASE_URL");

    let err = DbConfig::from_env(&Env::from_pairs([("DATABASE_URL", "mysql://u:pw@db/app")]))
        .unwrap_err();
    assert_eq!(err.var(), "DATABASE_URL");
    assert!(!err.to_string().contains("pw"), "{err}");

    for bad in ["0", "many"] {
        let env = Env::from_pairs([
            ("DATABASE_URL", "postgres://db/app"),
            ("DATABASE_MAX_CONNECTIONS", bad),
        ]);
        assert_eq!(
            DbConfig::from_env(&env).unwrap_err().var(),
            "DATABASE_MAX_CONNECTIONS"
        );
    }
}

#[tokio::test]
async fn unreachable_server_is_a_transient_connect_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let env = Env::from_pairs([(
        "DATABASE_URL",
        format!("postgres://postgres@127.0.0.1:{port}/none"),
    )]);
    let mut config = DbConfig::from_env(&env).unwrap();
    // Refused connections are retried until the acquire timeout; keep the test short.
    config.acquire_timeout = std::time::Duration::from_millis(500);
    let err = config.connect().await.unwrap_err();
    assert!(matches!(err, scenergy_db::DbError::Connect(_)), "{err:?}");
    assert!(err.is_transient(), "{err:?}");
}

/// The `#[sqlx::test]`s need a server to create their throwaway databases in; without one
/// they all fail with sqlx's terse message, so this says what to do.
#[test]
fn database_url_is_set_for_the_sqlx_tests() {
    assert!(
        std::env::var("DATABASE_URL").is_ok_and(|u| !u.trim().is_empty()),
        "DATABASE_URL is not set: the scenergy-db tests need a PostgreSQL server they may \
         create databases on, e.g. `bash infra/local/services.sh` and then \
         DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/postgres (build with \
         SQLX_OFFLINE=true so the query macros use the committed .sqlx/ data)"
    );
}
