//! One suite, two transports: every test here runs over TCP and over Upstash REST (through the
//! local gateway) against the same real redis-server, and must see the same answers.
//!
//! Needs a redis-server at `REDIS_URL` (default `redis://127.0.0.1:6379`); `infra/local/services.sh`
//! starts one. Each test works under its own random key prefix, so tests can share the server.

mod common;

use common::Harness;
use scenergy_redis::{Cmd, Redis, RedisError, Script, Value, run_all};

macro_rules! on_both_transports {
    ($($name:ident),* $(,)?) => {
        mod tcp {
            $(#[tokio::test] async fn $name() { let h = super::Harness::tcp().await; super::$name(&h.redis, &h.prefix).await; })*
        }
        mod rest {
            $(#[tokio::test] async fn $name() { let h = super::Harness::rest().await; super::$name(&h.redis, &h.prefix).await; })*
        }
    };
}

on_both_transports!(
    strings_round_trip,
    binary_values_are_byte_exact,
    missing_keys_are_nil,
    integers_are_integers,
    lua_nested_arrays_keep_their_shape,
    pipeline_replies_per_command_with_inline_errors,
    transaction_is_atomic_and_reports_runtime_errors,
    transaction_with_a_queueing_error_is_discarded,
    error_replies_carry_the_redis_message,
    unknown_sha_is_noscript,
    scripts_fall_back_to_eval_then_run_by_sha,
    batched_script_calls_survive_noscript,
    hashes_and_sorted_sets_use_flat_arrays,
);

async fn strings_round_trip(redis: &Redis, p: &str) {
    let key = format!("{p}:s");
    let ok = redis
        .query(&Cmd::new("SET").arg(&key).arg("héllo wörld"))
        .await
        .unwrap();
    assert_eq!(ok, Value::from("OK"));
    let got = redis.query(&Cmd::new("GET").arg(&key)).await.unwrap();
    assert_eq!(got.as_str().unwrap(), "héllo wörld");
    let pong = redis.query(&Cmd::new("PING")).await.unwrap();
    assert_eq!(pong, Value::from("PONG"));
}

async fn binary_values_are_byte_exact(redis: &Redis, p: &str) {
    let key = format!("{p}:bin");
    let every_byte: Vec<u8> = (0..=255u8).rev().collect();
    redis
        .query(&Cmd::new("SET").arg(&key).arg(every_byte.clone()))
        .await
        .unwrap();
    let got = redis.query(&Cmd::new("GET").arg(&key)).await.unwrap();
    assert_eq!(got.as_bytes().unwrap(), every_byte.as_slice());
    // Binary also survives inside a Lua reply.
    let script = Script::new("return {redis.call('GET', KEYS[1])}");
    let reply = script.call().key(&key).run(redis).await.unwrap();
    assert_eq!(reply, Value::Array(vec![Value::Bytes(every_byte)]));
}

async fn missing_keys_are_nil(redis: &Redis, p: &str) {
    let got = redis
        .query(&Cmd::new("GET").arg(format!("{p}:none")))
        .await
        .unwrap();
    assert_eq!(got, Value::Nil);
    let many = redis
        .query(&Cmd::new("MGET").arg(format!("{p}:a")).arg(format!("{p}:b")))
        .await
        .unwrap();
    assert_eq!(many, Value::Array(vec![Value::Nil, Value::Nil]));
}

async fn integers_are_integers(redis: &Redis, p: &str) {
    let key = format!("{p}:n");
    assert_eq!(
        redis.query(&Cmd::new("INCR").arg(&key)).await.unwrap(),
        Value::Int(1)
    );
    let big = redis
        .query(&Cmd::new("INCRBY").arg(&key).arg(i64::MAX - 1))
        .await
        .unwrap();
    assert_eq!(big, Value::Int(i64::MAX));
    let neg = redis
        .query(&Cmd::new("DECRBY").arg(format!("{p}:m")).arg(7))
        .await
        .unwrap();
    assert_eq!(neg.as_int().unwrap(), -7);
}

async fn lua_nested_arrays_keep_their_shape(redis: &Redis, _p: &str) {
    let nested = redis
        .query(
            &Cmd::new("EVAL")
                .arg("return {1,{'a',{2}},'b',false}")
                .arg(0),
        )
        .await
        .unwrap();
    assert_eq!(
        nested,
        Value::Array(vec![
            Value::Int(1),
            Value::Array(vec![Value::from("a"), Value::Array(vec![Value::Int(2)])]),
            Value::from("b"),
            Value::Nil,
        ])
    );
    // A nil ends a Lua table; numbers are truncated to integers; status tables are strings.
    let cut = redis
        .query(&Cmd::new("EVAL").arg("return {1,nil,'x'}").arg(0))
        .await
        .unwrap();
    assert_eq!(cut, Value::Array(vec![Value::Int(1)]));
    let float = redis
        .query(&Cmd::new("EVAL").arg("return 3.9").arg(0))
        .await
        .unwrap();
    assert_eq!(float, Value::Int(3));
    let status = redis
        .query(&Cmd::new("EVAL").arg("return {ok='DONE'}").arg(0))
        .await
        .unwrap();
    assert_eq!(status, Value::from("DONE"));
}

async fn pipeline_replies_per_command_with_inline_errors(redis: &Redis, p: &str) {
    let key = format!("{p}:k");
    let replies = redis
        .pipeline(&[
            Cmd::new("SET").arg(&key).arg("v"),
            Cmd::new("INCR").arg(&key),
            Cmd::new("GET").arg(&key),
            Cmd::new("RPUSH").arg(format!("{p}:l")).args(["a", "b"]),
        ])
        .await
        .unwrap();
    assert_eq!(replies.len(), 4);
    assert_eq!(replies[0], Ok(Value::from("OK")));
    let err = replies[1].as_ref().unwrap_err();
    assert_eq!(err.code(), "ERR");
    assert!(err.0.contains("not an integer"), "{err}");
    assert_eq!(
        replies[2],
        Ok(Value::from("v")),
        "a failing command does not stop later ones"
    );
    assert_eq!(replies[3], Ok(Value::Int(2)));
}

async fn transaction_is_atomic_and_reports_runtime_errors(redis: &Redis, p: &str) {
    let key = format!("{p}:t");
    let replies = redis
        .transaction(&[
            Cmd::new("SET").arg(&key).arg("v"),
            Cmd::new("INCR").arg(&key),
            Cmd::new("GET").arg(&key),
        ])
        .await
        .unwrap();
    assert_eq!(replies[0], Ok(Value::from("OK")));
    assert_eq!(replies[1].as_ref().unwrap_err().code(), "ERR");
    assert_eq!(replies[2], Ok(Value::from("v")));
}

async fn transaction_with_a_queueing_error_is_discarded(redis: &Redis, p: &str) {
    let key = format!("{p}:d");
    let err = redis
        .transaction(&[Cmd::new("SET").arg(&key), Cmd::new("INCR").arg(&key)])
        .await
        .unwrap_err();
    assert_eq!(err.server().map(|e| e.code()), Some("EXECABORT"), "{err}");
    let after = redis.query(&Cmd::new("GET").arg(&key)).await.unwrap();
    assert_eq!(after, Value::Nil, "nothing of a discarded transaction ran");
}

async fn error_replies_carry_the_redis_message(redis: &Redis, p: &str) {
    let err = redis.query(&Cmd::new("GET")).await.unwrap_err();
    let server = err.server().expect("a Redis error reply");
    assert_eq!(server.0, "ERR wrong number of arguments for 'get' command");
    let list = format!("{p}:list");
    redis
        .query(&Cmd::new("RPUSH").arg(&list).arg("x"))
        .await
        .unwrap();
    let wrong = redis.query(&Cmd::new("GET").arg(&list)).await.unwrap_err();
    assert_eq!(wrong.server().unwrap().code(), "WRONGTYPE");
    let lua = redis
        .query(
            &Cmd::new("EVAL")
                .arg("return redis.error_reply('QUEUE_PAUSED q')")
                .arg(0),
        )
        .await
        .unwrap_err();
    assert_eq!(
        lua.server().unwrap().0,
        "QUEUE_PAUSED q",
        "script errors keep their text"
    );
    assert!(!err.is_transient());
}

async fn unknown_sha_is_noscript(redis: &Redis, _p: &str) {
    let err = redis
        .query(
            &Cmd::new("EVALSHA")
                .arg("0000000000000000000000000000000000000000")
                .arg(0),
        )
        .await
        .unwrap_err();
    assert!(err.server().unwrap().is_noscript(), "{err}");
}

async fn scripts_fall_back_to_eval_then_run_by_sha(redis: &Redis, p: &str) {
    // A source no server has seen, so the first EVALSHA must miss.
    let source: &'static str = Box::leak(
        format!("-- {p}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])").into_boxed_str(),
    );
    let script = Script::new(source);
    let exists = |redis: Redis, sha: String| async move {
        redis
            .query(&Cmd::new("SCRIPT").arg("EXISTS").arg(sha))
            .await
            .unwrap()
    };
    assert_eq!(
        exists(redis.clone(), script.sha().to_owned()).await,
        Value::Array(vec![Value::Int(0)])
    );
    let key = format!("{p}:counter");
    assert_eq!(
        script.call().key(&key).arg(5).run(redis).await.unwrap(),
        Value::Int(5)
    );
    assert_eq!(
        exists(redis.clone(), script.sha().to_owned()).await,
        Value::Array(vec![Value::Int(1)])
    );
    assert_eq!(
        script.call().key(&key).arg(2).run(redis).await.unwrap(),
        Value::Int(7)
    );
}

async fn batched_script_calls_survive_noscript(redis: &Redis, p: &str) {
    let source: &'static str = Box::leak(
        format!("-- batch {p}\nreturn redis.call('RPUSH', KEYS[1], ARGV[1])").into_boxed_str(),
    );
    let script = Script::new(source);
    let failing = Script::new("return redis.error_reply('NOPE on purpose')");
    let key = format!("{p}:batch");
    let calls = vec![
        script.call().key(&key).arg("a"),
        failing.call(),
        script.call().key(&key).arg("b"),
    ];
    let replies = run_all(redis, &calls).await.unwrap();
    assert_eq!(replies[0], Ok(Value::Int(1)));
    assert_eq!(replies[1].as_ref().unwrap_err().0, "NOPE on purpose");
    assert_eq!(replies[2], Ok(Value::Int(2)));
    let list = redis
        .query(&Cmd::new("LRANGE").arg(&key).arg(0).arg(-1))
        .await
        .unwrap();
    assert_eq!(
        list,
        Value::Array(vec![Value::from("a"), Value::from("b")]),
        "each call ran once, in order"
    );
}

async fn hashes_and_sorted_sets_use_flat_arrays(redis: &Redis, p: &str) {
    let hash = format!("{p}:h");
    redis
        .query(&Cmd::new("HSET").arg(&hash).args(["f", "1"]))
        .await
        .unwrap();
    let all = redis.query(&Cmd::new("HGETALL").arg(&hash)).await.unwrap();
    assert_eq!(all, Value::Array(vec![Value::from("f"), Value::from("1")]));
    let zset = format!("{p}:z");
    redis
        .query(&Cmd::new("ZADD").arg(&zset).args(["2", "b", "1", "a"]))
        .await
        .unwrap();
    let range = redis
        .query(
            &Cmd::new("ZRANGE")
                .arg(&zset)
                .arg(0)
                .arg(-1)
                .arg("WITHSCORES"),
        )
        .await
        .unwrap();
    assert_eq!(
        range,
        Value::Array(vec![
            Value::from("a"),
            Value::from("1"),
            Value::from("b"),
            Value::from("2")
        ])
    );
}

/// What one transport writes, the other reads: they are two views of one server.
#[tokio::test]
async fn transports_see_each_others_writes() {
    let rest = Harness::rest().await;
    let tcp = Harness::tcp().await;
    let key = format!("{}:shared", rest.prefix);
    rest.redis
        .query(&Cmd::new("SET").arg(&key).arg("from rest"))
        .await
        .unwrap();
    let got = tcp.redis.query(&Cmd::new("GET").arg(&key)).await.unwrap();
    assert_eq!(got.as_str().unwrap(), "from rest");
    tcp.redis
        .query(&Cmd::new("SET").arg(&key).arg(vec![0u8, 1, 2]))
        .await
        .unwrap();
    let back = rest.redis.query(&Cmd::new("GET").arg(&key)).await.unwrap();
    assert_eq!(back.as_bytes().unwrap(), [0, 1, 2]);
}

/// Errors of the REST layer itself are told apart from Redis errors.
#[tokio::test]
async fn rest_errors_are_typed() {
    let h = Harness::rest().await;
    let wrong = common::rest_with_token(&h.gateway_url, "not-the-token");
    let err = wrong.query(&Cmd::new("PING")).await.unwrap_err();
    assert!(
        matches!(err, RedisError::Unauthorized(ref m) if m == "Unauthorized"),
        "{err:?}"
    );
    let multi = h.redis.query(&Cmd::new("MULTI")).await.unwrap_err();
    assert!(
        multi.server().unwrap().0.contains("not available"),
        "{multi}"
    );
}
