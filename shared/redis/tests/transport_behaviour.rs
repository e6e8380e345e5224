//! What each transport does on its own: reconnecting, retrying, timing out, read-your-writes.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::routing::post;
use scenergy_redis::{
    Cmd, Redis, RedisError, RestConfig, RestTransport, TcpConfig, TcpTransport, Value,
};
use scenergy_testkit::{OwnRedis, free_port};
use tokio::net::TcpListener;

#[tokio::test]
async fn tcp_reconnects_by_itself_after_a_redis_restart() {
    let port = free_port();
    let server = OwnRedis::start(port).await;
    let redis = Redis::new(
        TcpTransport::connect(TcpConfig::new(format!("redis://127.0.0.1:{port}")))
            .await
            .unwrap(),
    );
    redis
        .query(&Cmd::new("SET").arg("k").arg("before"))
        .await
        .unwrap();

    server.kill().await;
    let down = redis.query(&Cmd::new("GET").arg("k")).await.unwrap_err();
    assert!(
        down.is_transient(),
        "a dead server is a transient error: {down:?}"
    );

    let _server = OwnRedis::start(port).await;
    // The same transport, not a new one, must come back within a few seconds.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match redis.query(&Cmd::new("SET").arg("k").arg("after")).await {
            Ok(_) => break,
            Err(e) => {
                assert!(
                    Instant::now() < deadline,
                    "no reconnect after restart: {e:?}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    let got = redis.query(&Cmd::new("GET").arg("k")).await.unwrap();
    assert_eq!(got, Value::from("after"));
}

#[tokio::test]
async fn rest_sends_auth_encoding_and_the_newest_sync_token() {
    // A receiver that checks what an Upstash endpoint would see, and hands out sync tokens.
    let seen = Arc::new(std::sync::Mutex::new(Vec::<(
        Option<String>,
        Option<String>,
        Option<String>,
    )>::new()));
    let counter = Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new().route(
        "/",
        post({
            let seen = seen.clone();
            let counter = counter.clone();
            move |headers: HeaderMap| async move {
                let get = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                };
                seen.lock().unwrap().push((
                    get("authorization"),
                    get("upstash-encoding"),
                    get("upstash-sync-token"),
                ));
                let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                (
                    [("upstash-sync-token", format!("tok-{n}"))],
                    axum::Json(serde_json::json!({"result": "T0s="})),
                )
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let rest =
        RestTransport::new(RestConfig::new(format!("http://{addr}"), "secret-token")).unwrap();
    let redis = Redis::new(rest);
    for _ in 0..3 {
        assert_eq!(
            redis
                .query(&Cmd::new("SET").arg("a").arg("b"))
                .await
                .unwrap(),
            Value::from("OK")
        );
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    for (auth, encoding, _) in &seen {
        assert_eq!(auth.as_deref(), Some("Bearer secret-token"));
        assert_eq!(encoding.as_deref(), Some("base64"));
    }
    let tokens: Vec<_> = seen.iter().map(|s| s.2.clone()).collect();
    assert_eq!(
        tokens,
        [None, Some("tok-1".to_owned()), Some("tok-2".to_owned())]
    );
}

#[tokio::test]
async fn rest_retries_a_refused_connection_until_the_gateway_is_up() {
    let port = free_port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let redis = common::rest_with_token(&format!("http://{addr}"), common::TOKEN);
    let late_start = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(120)).await;
        let listener = TcpListener::bind(addr).await.unwrap();
        let config = upstash_gateway::GatewayConfig::new(common::redis_url(), common::TOKEN);
        upstash_gateway::serve(listener, config, std::future::pending())
            .await
            .unwrap();
    });
    let pong = redis
        .query(&Cmd::new("PING"))
        .await
        .expect("retried until the gateway listened");
    assert_eq!(pong, Value::from("PONG"));
    late_start.abort();
}

#[tokio::test]
async fn rest_gives_up_on_a_dead_endpoint_with_a_connection_error() {
    let redis =
        common::rest_with_token(&format!("http://127.0.0.1:{}", free_port()), common::TOKEN);
    let started = Instant::now();
    let err = redis.query(&Cmd::new("PING")).await.unwrap_err();
    assert!(matches!(err, RedisError::Connection(_)), "{err:?}");
    assert!(err.is_transient());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "retries are bounded"
    );
}

#[tokio::test]
async fn rest_times_out_and_never_resends_a_request_that_may_have_run() {
    // Accepts connections and reads, but never answers.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            held.push(socket);
        }
    });
    let mut config = RestConfig::new(format!("http://{addr}"), "t");
    config.timeout = Duration::from_millis(300);
    let redis = Redis::new(RestTransport::new(config).unwrap());
    let err = redis.query(&Cmd::new("INCR").arg("k")).await.unwrap_err();
    assert!(
        matches!(err, RedisError::Timeout(d) if d == Duration::from_millis(300)),
        "{err:?}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "a timed-out INCR is not sent twice"
    );
}
