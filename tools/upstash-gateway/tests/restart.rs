//! The gateway answers 5xx JSON while Redis is down and recovers after redis-server restarts.
//! Uses a private redis-server on a free port (the shared one is never stopped).

mod support;

use std::time::Duration;

use scenergy_testkit::{OwnRedis, free_port};
use serde_json::json;
use support::{Gateway, bounded};

#[tokio::test]
async fn survives_redis_restart_and_reports_outage_as_5xx_json() {
    bounded(async {
        let port = free_port();
        let redis = OwnRedis::start(port).await;
        let gw = Gateway::start_on(&redis.url(), |_| {}).await;
        assert_eq!(gw.ok(json!(["SET", "k", "v"])).await, "OK");

        redis.kill().await;
        let down = gw.cmd(json!(["GET", "k"])).await;
        assert!(down.status.is_server_error(), "status {}", down.status);
        assert_eq!(
            down.expect(down.status.as_u16()),
            json!({"error": "ERR Redis is unavailable"})
        );
        let piped = gw.post("/pipeline", &json!([["PING"]]), false).await;
        assert!(piped.status.is_server_error());

        let _redis = OwnRedis::start(port).await;
        let mut recovered = false;
        for _ in 0..40 {
            let reply = gw.cmd(json!(["PING"])).await;
            if reply.status.as_u16() == 200 {
                recovered = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        assert!(recovered, "gateway did not reconnect");
        assert_eq!(gw.ok(json!(["SET", "k", "again"])).await, "OK");
        let tx = gw.post("/multi-exec", &json!([["GET", "k"]]), false).await;
        assert_eq!(tx.expect(200), json!([{"result": "again"}]));
    })
    .await;
}
