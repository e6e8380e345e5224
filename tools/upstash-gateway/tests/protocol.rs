//! Protocol conformance against a real redis-server: spec Appendix B vectors, auth, encoding,
//! pipelines, transactions, refusals, sync tokens, path form, scripts, methods and limits.

mod support;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;
use serde_json::json;
use support::{Gateway, bounded};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

fn sha1_hex(text: &str) -> String {
    sha1_smol::Sha1::from(text).digest().to_string()
}

#[tokio::test]
async fn appendix_b_vectors() {
    bounded(async {
        let gw = Gateway::start().await;
        let (foo, n, k) = (gw.key("foo"), gw.key("n"), gw.key("k"));

        assert_eq!(
            gw.cmd(json!(["SET", foo, "bar"])).await.expect(200),
            json!({"result": "OK"})
        );
        assert_eq!(
            gw.cmd64(json!(["GET", foo])).await.expect(200),
            json!({"result": "YmFy"})
        );
        let missing = gw.cmd(json!(["GET", gw.key("missing")])).await;
        assert_eq!(missing.expect(200), json!({"result": null}));
        assert_eq!(missing.text, r#"{"result":null}"#, "null must be explicit");
        assert_eq!(
            gw.cmd(json!(["INCR", n])).await.expect(200),
            json!({"result": 1})
        );
        assert_eq!(
            gw.cmd64(json!(["PING"])).await.expect(200),
            json!({"result": "UE9ORw=="})
        );
        assert_eq!(
            gw.cmd(json!(["GET"])).await.error(400),
            "ERR wrong number of arguments for 'get' command"
        );
        assert_eq!(
            gw.cmd64(json!(["EVAL", "return {1,{'a',{2}},'b',false}", 0]))
                .await
                .expect(200),
            json!({"result": [1, ["YQ==", [2]], "Yg==", null]})
        );
        assert_eq!(
            gw.ok(json!(["EVAL", "return {1,nil,'x'}", 0])).await,
            json!([1])
        );
        assert_eq!(gw.ok(json!(["EVAL", "return 3.9", 0])).await, json!(3));
        assert_eq!(gw.ok(json!(["EVAL", "return true", 0])).await, json!(1));
        assert_eq!(gw.ok(json!(["EVAL", "return false", 0])).await, json!(null));
        let noscript = gw
            .cmd(json!(["EVALSHA", "0".repeat(40), 0]))
            .await
            .error(400);
        assert!(noscript.starts_with("NOSCRIPT"), "{noscript}");
        assert_eq!(
            gw.ok(json!([
                "EVAL",
                "#!lua flags=allow-key-locking\nreturn 1",
                0
            ]))
            .await,
            json!(1)
        );

        let batch = json!([["SET", k, "v"], ["INCR", k], ["GET", k]]);
        let piped = gw.post("/pipeline", &batch, false).await.expect(200);
        assert_eq!(piped[0], json!({"result": "OK"}));
        assert!(
            piped[1]["error"]
                .as_str()
                .unwrap()
                .starts_with("ERR value is not an integer")
        );
        assert_eq!(piped[2], json!({"result": "v"}));
        let tx = gw.post("/multi-exec", &batch, false).await.expect(200);
        assert_eq!(tx, piped);
        let aborted = gw
            .post("/multi-exec", &json!([["SET", k], ["INCR", k]]), false)
            .await;
        assert_eq!(
            aborted.error(400),
            "EXECABORT Transaction discarded because of previous errors."
        );

        let bad = gw.send(
            gw.http
                .post(format!("{}/", gw.base))
                .bearer_auth("wrong")
                .json(&json!(["PING"])),
        );
        assert_eq!(bad.await.expect(401), json!({"error": "Unauthorized"}));
        let delete = gw.send(gw.request(Method::DELETE, "/")).await;
        assert_eq!(delete.status.as_u16(), 405);
        gw.cleanup().await;
    })
    .await;
}

#[tokio::test]
async fn auth_accepts_bearer_or_query_token_only() {
    bounded(async {
        let gw = Gateway::start().await;
        let url = |q: &str| format!("{}/{q}", gw.base);
        let ping = json!(["PING"]);
        let ok = gw
            .send(gw.http.post(url("")).bearer_auth(&gw.token).json(&ping))
            .await;
        assert_eq!(ok.expect(200), json!({"result": "PONG"}));
        let lower = gw
            .http
            .post(url(""))
            .header("authorization", format!("bearer {}", gw.token));
        assert_eq!(
            gw.send(lower.json(&ping)).await.expect(200)["result"],
            "PONG"
        );
        let query = gw
            .send(
                gw.http
                    .post(url(&format!("?_token={}", gw.token)))
                    .json(&ping),
            )
            .await;
        assert_eq!(query.expect(200)["result"], "PONG");
        let path_form = gw
            .send(gw.http.get(url(&format!("ping?_token={}", gw.token))))
            .await;
        assert_eq!(path_form.expect(200)["result"], "PONG");
        for req in [
            gw.http.post(url("")).json(&ping),
            gw.http.post(url("")).bearer_auth("nope").json(&ping),
            gw.http.post(url("?_token=nope")).json(&ping),
            gw.http
                .post(url(""))
                .basic_auth("default", Some(&gw.token))
                .json(&ping),
            gw.http.post(url("pipeline")).json(&json!([["PING"]])),
        ] {
            let reply = gw.send(req).await;
            assert_eq!(reply.expect(401), json!({"error": "Unauthorized"}));
            reply.sync_token();
        }
    })
    .await;
}

#[tokio::test]
async fn arguments_are_strings_numbers_or_booleans() {
    bounded(async {
        let gw = Gateway::start().await;
        let k = gw.key("args");
        for (value, text) in [
            (json!(1.5), "1.5"),
            (json!(-7), "-7"),
            (json!(true), "true"),
        ] {
            assert_eq!(gw.ok(json!(["sEt", k, value])).await, "OK");
            assert_eq!(gw.ok(json!(["get", k])).await, text);
        }
        let raw = format!(r#"["SET","{k}",1e+21]"#);
        let req = gw
            .request(Method::POST, "/")
            .header("content-type", "text/plain")
            .body(raw);
        assert_eq!(gw.send(req).await.expect(200)["result"], "OK");
        assert_eq!(gw.ok(json!(["GET", k])).await, "1e+21");
        for bad in [
            json!(["SET", k, null]),
            json!(["SET", k, {"a": 1}]),
            json!(["SET", k, ["x"]]),
            json!([]),
        ] {
            gw.cmd(bad).await.error(400);
        }
        let not_json = gw.send(gw.request(Method::POST, "/").body("SET a b")).await;
        not_json.error(400);
        gw.post("/pipeline", &json!([]), false).await.error(400);
        gw.post("/pipeline", &json!([["GET", k], "GET"]), false)
            .await
            .error(400);
        gw.cleanup().await;
    })
    .await;
}

#[tokio::test]
async fn base64_encodes_strings_at_every_depth() {
    bounded(async {
        let gw = Gateway::start().await;
        let (h, z, l) = (gw.key("h"), gw.key("z"), gw.key("l"));
        gw.ok(json!(["HSET", h, "f", "v"])).await;
        assert_eq!(gw.cmd64(json!(["HGETALL", h])).await.expect(200)["result"], json!(["Zg==", "dg=="]));
        gw.ok(json!(["ZADD", z, 1.5, "m"])).await;
        assert_eq!(
            gw.cmd64(json!(["ZRANGE", z, 0, -1, "WITHSCORES"])).await.expect(200)["result"],
            json!(["bQ==", "MS41"])
        );
        assert_eq!(gw.cmd64(json!(["RPUSH", l, "a", "b"])).await.expect(200)["result"], 2);
        let script = "return {redis.call('SET', KEYS[1], 'x'), redis.status_reply('PONG'), {'a'}, 7}";
        assert_eq!(
            gw.cmd64(json!(["EVAL", script, 1, gw.key("s")])).await.expect(200)["result"],
            json!(["T0s=", "UE9ORw==", ["YQ=="], 7])
        );
        let batch = json!([["SET", gw.key("p"), "é"], ["GET", gw.key("p")], ["LRANGE", l, 0, -1], ["GET", gw.key("none")]]);
        let expected = json!([{"result": "OK"}, {"result": STANDARD.encode("é")}, {"result": ["YQ==", "Yg=="]}, {"result": null}]);
        assert_eq!(gw.post("/pipeline", &batch, true).await.expect(200), expected);
        assert_eq!(gw.post("/multi-exec", &batch, true).await.expect(200), expected);
        let err = gw.post("/pipeline", &json!([["INCR", h]]), true).await.expect(200);
        assert!(err[0]["error"].as_str().unwrap().starts_with("WRONGTYPE"), "errors stay plain");
        gw.cleanup().await;
    })
    .await;
}

#[tokio::test]
async fn pipeline_errors_are_inline_and_order_is_kept() {
    bounded(async {
        let gw = Gateway::start().await;
        let c = gw.key("c");
        let batch = json!([
            ["INCR", c],
            ["NOSUCHCOMMAND"],
            ["INCR", c],
            ["BLPOP", c, 0],
            ["EVALSHA", "0".repeat(40), 0],
            ["INCR", c]
        ]);
        let out = gw.post("/pipeline", &batch, false).await.expect(200);
        assert_eq!(out[0], json!({"result": 1}));
        assert!(
            out[1]["error"]
                .as_str()
                .unwrap()
                .starts_with("ERR unknown command")
        );
        assert_eq!(out[2], json!({"result": 2}));
        assert_eq!(
            out[3],
            json!({"error": "ERR Command is not available: 'BLPOP'"})
        );
        assert!(out[4]["error"].as_str().unwrap().starts_with("NOSCRIPT"));
        assert_eq!(out[5], json!({"result": 3}));
        gw.cleanup().await;
    })
    .await;
}

#[tokio::test]
async fn concurrent_multi_execs_are_atomic_and_never_nest() {
    bounded(async {
        let gw = Gateway::start().await;
        let c = gw.key("tx-counter");
        let batch = json!([["INCR", c], ["INCR", c], ["GET", c]]);
        let runs = (0..50).map(|_| gw.post("/multi-exec", &batch, false));
        let replies = futures::future::join_all(runs).await;
        let mut firsts = Vec::new();
        for reply in replies {
            let out = reply.expect(200);
            let a = out[0]["result"].as_i64().unwrap();
            assert_eq!(
                out[1]["result"].as_i64().unwrap(),
                a + 1,
                "interleaved: {out}"
            );
            assert_eq!(out[2]["result"].as_str().unwrap(), (a + 1).to_string());
            firsts.push(a);
        }
        firsts.sort_unstable();
        assert_eq!(firsts, (0..50).map(|i| 2 * i + 1).collect::<Vec<_>>());
        gw.cleanup().await;
    })
    .await;
}

#[tokio::test]
async fn refused_commands_never_reach_redis() {
    bounded(async {
        let gw = Gateway::start().await;
        let k = gw.key("r");
        gw.ok(json!(["SET", k, "kept"])).await;
        let refused = [
            json!(["MULTI"]),
            json!(["exec"]),
            json!(["DISCARD"]),
            json!(["WATCH", k]),
            json!(["UNWATCH"]),
            json!(["SELECT", 1]),
            json!(["AUTH", "x"]),
            json!(["HELLO", 3]),
            json!(["QUIT"]),
            json!(["RESET"]),
            json!(["CLIENT", "SETNAME", "x"]),
            json!(["MONITOR"]),
            json!(["SUBSCRIBE", "c"]),
            json!(["PSUBSCRIBE", "c*"]),
            json!(["SSUBSCRIBE", "c"]),
            json!(["UNSUBSCRIBE"]),
            json!(["PUNSUBSCRIBE"]),
            json!(["BLPOP", k, 0]),
            json!(["BRPOP", k, 0]),
            json!(["BRPOPLPUSH", k, k, 0]),
            json!(["BLMOVE", k, k, "LEFT", "LEFT", 0]),
            json!(["BLMPOP", 0, 1, k, "LEFT"]),
            json!(["BZPOPMIN", k, 0]),
            json!(["BZPOPMAX", k, 0]),
            json!(["BZMPOP", 0, 1, k, "MIN"]),
            json!(["WAIT", 1, 0]),
            json!(["WAITAOF", 1, 1, 0]),
            json!(["XREAD", "BLOCK", 0, "STREAMS", k, "$"]),
            json!([
                "XREADGROUP",
                "GROUP",
                "g",
                "c",
                "BLOCK",
                0,
                "STREAMS",
                k,
                ">"
            ]),
        ];
        for cmd in refused {
            let name = cmd[0].as_str().unwrap().to_owned();
            let expected = format!("ERR Command is not available: '{name}'");
            assert_eq!(gw.cmd(cmd.clone()).await.error(400), expected);
            let piped = gw
                .post("/pipeline", &json!([["PING"], cmd.clone()]), false)
                .await
                .expect(200);
            assert_eq!(piped, json!([{"result": "PONG"}, {"error": expected}]));
            let tx = gw
                .post("/multi-exec", &json!([["SET", k, "changed"], cmd]), false)
                .await;
            assert_eq!(tx.error(400), expected);
        }
        assert_eq!(gw.ok(json!(["SELECT", 0])).await, "OK");
        assert_eq!(
            gw.ok(json!(["GET", k])).await,
            "kept",
            "still on db 0, no tx leaked"
        );
        let path = gw.send(gw.request(Method::POST, "/subscribe/chan")).await;
        assert_eq!(path.error(400), "ERR Command is not available: 'subscribe'");
        gw.cleanup().await;
    })
    .await;
}

#[tokio::test]
async fn sync_token_increases_on_every_response() {
    bounded(async {
        let gw = Gateway::start().await;
        let mut last = 0;
        for _ in 0..5 {
            let req = gw
                .request(Method::POST, "/")
                .header("upstash-sync-token", "999999")
                .json(&json!(["PING"]));
            let token = gw.send(req).await.sync_token();
            assert!(token > last, "{token} after {last}");
            last = token;
        }
        let unauthorized = gw
            .send(gw.http.get(format!("{}/", gw.base)))
            .await
            .sync_token();
        let not_allowed = gw.send(gw.request(Method::PATCH, "/")).await.sync_token();
        assert!(unauthorized > last && not_allowed > unauthorized);
    })
    .await;
}

#[tokio::test]
async fn path_form_carries_binary_bodies_and_query_args() {
    bounded(async {
        let gw = Gateway::start().await;
        let key = gw.key("bin");
        let all_bytes: Vec<u8> = (0..=255u8).collect();
        let set = gw
            .request(Method::POST, &format!("/set/{key}"))
            .body(all_bytes.clone());
        assert_eq!(gw.send(set).await.expect(200), json!({"result": "OK"}));
        let got = gw.cmd64(json!(["GET", key])).await.expect(200);
        assert_eq!(
            STANDARD.decode(got["result"].as_str().unwrap()).unwrap(),
            all_bytes
        );
        let got = gw
            .send(
                gw.request(Method::GET, &format!("/get/{key}"))
                    .header("Upstash-Encoding", "base64"),
            )
            .await;
        assert_eq!(
            STANDARD
                .decode(got.expect(200)["result"].as_str().unwrap())
                .unwrap(),
            all_bytes
        );

        let ex = gw
            .request(
                Method::POST,
                &format!("/set/{key}?EX=100&_token={}", gw.token),
            )
            .body("v");
        assert_eq!(gw.send(ex).await.expect(200)["result"], "OK");
        let ttl = gw.ok(json!(["TTL", key])).await.as_i64().unwrap();
        assert!((1..=100).contains(&ttl), "ttl {ttl}");
        let empty = gw
            .request(Method::POST, &format!("/set/{key}"))
            .header("content-type", "application/octet-stream");
        assert_eq!(
            gw.send(empty.body(Vec::new())).await.expect(200)["result"],
            "OK"
        );
        assert_eq!(gw.ok(json!(["STRLEN", key])).await, 0);

        let slash = gw.key("a/b c");
        let encoded = slash.replace('/', "%2F").replace(' ', "%20");
        let set = gw
            .send(gw.request(Method::GET, &format!("/set/{encoded}/x%00y")))
            .await;
        assert_eq!(set.expect(200)["result"], "OK");
        assert_eq!(
            gw.cmd64(json!(["GET", slash])).await.expect(200)["result"],
            STANDARD.encode(b"x\0y")
        );
        assert_eq!(
            gw.send(gw.request(Method::GET, &format!("/get/{encoded}")))
                .await
                .expect(200)["result"],
            "x\u{0}y"
        );
        let welcome = gw.send(gw.request(Method::GET, "/")).await;
        assert_eq!(welcome.status.as_u16(), 200);
        let raw = gw
            .send(
                gw.request(Method::POST, "/")
                    .header("Upstash-Response-Format", "resp2")
                    .json(&json!(["GET", slash])),
            )
            .await;
        assert_eq!(
            (raw.status.as_u16(), raw.bytes.as_slice()),
            (200, &b"$3\r\nx\0y\r\n"[..])
        );
        gw.cleanup().await;
    })
    .await;
}

#[tokio::test]
async fn shebang_is_stripped_and_original_sha_keeps_working() {
    bounded(async {
        let gw = Gateway::start().await;
        let script = format!(
            "#!lua flags=allow-key-locking\nreturn ARGV[1] .. '{}'",
            gw.prefix
        );
        let sha = sha1_hex(&script);
        assert_eq!(
            gw.ok(json!(["EVAL", script, 0, "hi"])).await,
            format!("hi{}", gw.prefix)
        );
        assert_eq!(
            gw.ok(json!(["EVALSHA", sha, 0, "yo"])).await,
            format!("yo{}", gw.prefix)
        );
        assert_eq!(
            gw.ok(json!(["evalsha", sha.to_uppercase(), 0, "a"])).await,
            format!("a{}", gw.prefix)
        );

        let loaded = format!(
            "#!lua flags=no-writes,allow-key-locking\nreturn redis.call('GET', KEYS[1]) or '{}'",
            gw.prefix
        );
        let loaded_sha = sha1_hex(&loaded);
        assert_eq!(gw.ok(json!(["SCRIPT", "LOAD", loaded])).await, loaded_sha);
        assert_eq!(
            gw.ok(json!(["SCRIPT", "EXISTS", loaded_sha, "0".repeat(40)]))
                .await,
            json!([1, 0])
        );
        assert_eq!(
            gw.ok(json!(["EVALSHA", loaded_sha, 1, gw.key("none")]))
                .await,
            gw.prefix
        );
        let piped = gw
            .post(
                "/pipeline",
                &json!([["EVALSHA", loaded_sha, 1, gw.key("none")]]),
                false,
            )
            .await;
        assert_eq!(piped.expect(200), json!([{"result": gw.prefix}]));
        let plain = format!("return '{}'", gw.prefix);
        assert_eq!(
            gw.ok(json!(["SCRIPT", "LOAD", plain])).await,
            sha1_hex(&plain)
        );
    })
    .await;
}

#[tokio::test]
async fn methods_other_than_head_get_post_put_are_405() {
    bounded(async {
        let gw = Gateway::start().await;
        for method in [Method::DELETE, Method::PATCH, Method::OPTIONS] {
            for path in ["/", "/pipeline", "/get/x"] {
                let reply = gw.send(gw.request(method.clone(), path)).await;
                assert_eq!(reply.status.as_u16(), 405, "{method} {path}");
            }
        }
        let put = gw
            .send(gw.request(Method::PUT, "/").json(&json!(["PING"])))
            .await;
        assert_eq!(put.expect(200)["result"], "PONG");
        let head = gw.send(gw.request(Method::HEAD, "/")).await;
        assert_eq!(head.status.as_u16(), 200);
    })
    .await;
}

#[tokio::test]
async fn body_limit_is_enforced() {
    bounded(async {
        let gw = Gateway::start_with(|c| c.max_body_bytes = 1024).await;
        let big = json!(["SET", gw.key("big"), "x".repeat(2048)]);
        assert_eq!(
            gw.cmd(big).await.error(413),
            "ERR max request size exceeded"
        );
        let piped = gw
            .post(
                "/pipeline",
                &json!([["SET", gw.key("big"), "x".repeat(2048)]]),
                false,
            )
            .await;
        piped.error(413);
        // A chunked body has no Content-Length, so the limit must apply while reading.
        let addr = gw.base.trim_start_matches("http://").to_owned();
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST /set/{} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
             Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
            gw.key("big"),
            gw.token
        );
        tcp.write_all(head.as_bytes()).await.unwrap();
        for _ in 0..4 {
            let chunk = format!("200\r\n{}\r\n", "x".repeat(512));
            if tcp.write_all(chunk.as_bytes()).await.is_err() {
                break;
            }
        }
        let _ = tcp.write_all(b"0\r\n\r\n").await;
        let mut answer = Vec::new();
        let _ = tcp.read_to_end(&mut answer).await;
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains("ERR max request size exceeded"), "{answer}");
        assert_eq!(gw.ok(json!(["EXISTS", gw.key("big")])).await, 0);
    })
    .await;
}
