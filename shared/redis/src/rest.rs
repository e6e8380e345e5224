//! Upstash's REST protocol (specs/upstash.md §1–§3), client side.
//!
//! - Commands go as JSON arrays to `POST /`, `/pipeline` and `/multi-exec`, with a bearer token.
//! - We always ask for `Upstash-Encoding: base64` and decode every string to bytes, which makes
//!   replies binary-safe. Requests have no encoding of their own: JSON strings carry only text,
//!   so a single command whose *last* argument is binary is sent in path form with the raw bytes
//!   as the body (`POST /set/key` + body); other binary arguments are refused as unencodable.
//! - Each response's `upstash-sync-token` is sent on the next request (read-your-writes across
//!   replicas). We send the newest token, not the one before it as the JS client does.
//! - Only connection failures are retried: a request that reached the server may have run, and
//!   a timed-out `INCR` must not run twice.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::StatusCode;
use scenergy_config::{ExposeSecret, SecretString};
use serde_json::Value as Json;

use crate::{Cmd, RedisError, RedisTransport, Reply, ServerError, TransportKind, Value};

const SYNC_TOKEN: &str = "upstash-sync-token";

/// Where and how to reach an Upstash REST endpoint.
#[derive(Debug, Clone)]
pub struct RestConfig {
    /// Base URL, e.g. `https://eu1-x.upstash.io`, without a trailing slash.
    pub url: String,
    pub token: SecretString,
    /// Whole-request timeout, connect included.
    pub timeout: Duration,
    /// How many times a request that never connected is tried again.
    pub connect_retries: u32,
}

impl RestConfig {
    pub fn new(url: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            url: url.into().trim_end_matches('/').to_owned(),
            token: SecretString::from(token.into()),
            timeout: Duration::from_secs(5),
            connect_retries: 3,
        }
    }
}

/// The Upstash REST transport.
#[derive(Debug)]
pub struct RestTransport {
    http: reqwest::Client,
    config: RestConfig,
    sync_token: Mutex<Option<String>>,
}

enum Body {
    Json(Json),
    Raw(Vec<u8>),
}

impl RestTransport {
    pub fn new(config: RestConfig) -> Result<Self, RedisError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(2)))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| RedisError::Connection(Box::new(e)))?;
        Ok(Self {
            http,
            config,
            sync_token: Mutex::new(None),
        })
    }

    /// The newest sync token seen, for handing read-your-writes to another process.
    pub fn sync_token(&self) -> Option<String> {
        self.sync_token.lock().expect("sync token lock").clone()
    }

    async fn send(&self, path: &str, body: Body) -> Result<(StatusCode, Json), RedisError> {
        let url = format!("{}{path}", self.config.url);
        let mut attempt = 0;
        loop {
            let mut request = self
                .http
                .post(&url)
                .bearer_auth(self.config.token.expose_secret())
                .header("Upstash-Encoding", "base64");
            if let Some(token) = self.sync_token() {
                request = request.header(SYNC_TOKEN, token);
            }
            request = match &body {
                Body::Json(json) => request.json(json),
                Body::Raw(bytes) => request.body(bytes.clone()),
            };
            match request.send().await {
                Ok(response) => return self.read(response).await,
                Err(e) if e.is_connect() && attempt < self.config.connect_retries => {
                    attempt += 1;
                    // 50 ms, 150 ms, 450 ms: enough to ride out a gateway restart.
                    let backoff = Duration::from_millis(50 * 3_u64.pow(attempt - 1));
                    tracing::debug!(attempt, ?backoff, "Upstash REST connect failed; retrying");
                    tokio::time::sleep(backoff).await;
                }
                Err(e) => return Err(self.map_send_error(e)),
            }
        }
    }

    fn map_send_error(&self, e: reqwest::Error) -> RedisError {
        if e.is_timeout() {
            RedisError::Timeout(self.config.timeout)
        } else {
            RedisError::Connection(Box::new(e))
        }
    }

    async fn read(&self, response: reqwest::Response) -> Result<(StatusCode, Json), RedisError> {
        if let Some(token) = response
            .headers()
            .get(SYNC_TOKEN)
            .and_then(|v| v.to_str().ok())
            .filter(|t| !t.is_empty())
        {
            *self.sync_token.lock().expect("sync token lock") = Some(token.to_owned());
        }
        let status = response.status();
        let text = response.text().await.map_err(|e| self.map_send_error(e))?;
        let json: Json = serde_json::from_str(&text).map_err(|_| {
            let head: String = text.chars().take(200).collect();
            if status.is_success() {
                RedisError::Protocol(format!("body is not JSON: {head}"))
            } else {
                RedisError::Http {
                    status: status.as_u16(),
                    message: head,
                }
            }
        })?;
        if status.is_success() {
            return Ok((status, json));
        }
        let message = json
            .get("error")
            .and_then(Json::as_str)
            .unwrap_or("no error message")
            .to_owned();
        Err(match status {
            StatusCode::BAD_REQUEST => RedisError::Server(ServerError(message)),
            StatusCode::UNAUTHORIZED => RedisError::Unauthorized(message),
            _ => RedisError::Http {
                status: status.as_u16(),
                message,
            },
        })
    }

    async fn batch(&self, path: &str, cmds: &[Cmd]) -> Result<Vec<Reply>, RedisError> {
        let body = Json::Array(cmds.iter().map(json_command).collect::<Result<_, _>>()?);
        let (_, json) = self.send(path, Body::Json(body)).await?;
        // A discarded transaction answers with one error object instead of an array.
        if let Some(message) = json.get("error").and_then(Json::as_str) {
            return Err(RedisError::Server(ServerError(message.to_owned())));
        }
        let Json::Array(items) = json else {
            return Err(RedisError::Protocol(format!(
                "{path} did not return an array"
            )));
        };
        if items.len() != cmds.len() {
            return Err(RedisError::Protocol(format!(
                "{path} returned {} replies for {} commands",
                items.len(),
                cmds.len()
            )));
        }
        items.iter().map(envelope).collect()
    }
}

#[async_trait]
impl RedisTransport for RestTransport {
    fn kind(&self) -> TransportKind {
        TransportKind::Rest
    }

    async fn query(&self, cmd: &Cmd) -> Result<Value, RedisError> {
        let (path, body) = match json_command(cmd) {
            Ok(json) => ("/".to_owned(), Body::Json(json)),
            Err(e) => path_form(cmd).ok_or(e)?,
        };
        let (_, json) = self.send(&path, body).await?;
        envelope(&json)?.map_err(RedisError::Server)
    }

    async fn pipeline(&self, cmds: &[Cmd]) -> Result<Vec<Reply>, RedisError> {
        self.batch("/pipeline", cmds).await
    }

    async fn transaction(&self, cmds: &[Cmd]) -> Result<Vec<Reply>, RedisError> {
        self.batch("/multi-exec", cmds).await
    }
}

/// `["SET","k","v"]`; fails if any argument is not UTF-8.
fn json_command(cmd: &Cmd) -> Result<Json, RedisError> {
    cmd.parts()
        .iter()
        .map(|part| {
            std::str::from_utf8(part)
                .map(|s| Json::String(s.to_owned()))
                .map_err(|_| {
                    RedisError::Unencodable(format!(
                        "{} has a binary argument; over REST only the last argument of a single command may be binary",
                        cmd.name()
                    ))
                })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Json::Array)
}

/// `POST /<cmd>/<a1>/…` with the last argument as the raw body, when every other part is text.
fn path_form(cmd: &Cmd) -> Option<(String, Body)> {
    let (last, head) = cmd.parts().split_last()?;
    if head.is_empty() {
        return None;
    }
    let mut path = String::new();
    for part in head {
        path.push('/');
        path.extend(utf8_percent_encode(
            std::str::from_utf8(part).ok()?,
            NON_ALPHANUMERIC,
        ));
    }
    Some((path, Body::Raw(last.clone())))
}

/// `{"result": v}` or `{"error": "…"}`.
fn envelope(json: &Json) -> Result<Reply, RedisError> {
    if let Some(message) = json.get("error").and_then(Json::as_str) {
        return Ok(Err(ServerError(message.to_owned())));
    }
    match json.get("result") {
        Some(result) => decode(result, true).map(Ok),
        None => Err(RedisError::Protocol(
            "reply has neither result nor error".to_owned(),
        )),
    }
}

/// Base64 strings become bytes; Upstash leaves a top-level `OK` unencoded.
fn decode(json: &Json, top: bool) -> Result<Value, RedisError> {
    match json {
        Json::Null => Ok(Value::Nil),
        Json::Number(n) => n
            .as_i64()
            .map(Value::Int)
            .ok_or_else(|| RedisError::Protocol(format!("non-integer number {n}"))),
        Json::String(s) if top && s == "OK" => Ok(Value::Bytes(b"OK".to_vec())),
        Json::String(s) => STANDARD
            .decode(s)
            .map(Value::Bytes)
            .map_err(|_| RedisError::Protocol(format!("string is not base64: {s:.40}"))),
        Json::Array(items) => items
            .iter()
            .map(|item| decode(item, false))
            .collect::<Result<_, _>>()
            .map(Value::Array),
        other => Err(RedisError::Protocol(format!(
            "unexpected JSON value {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_nested_base64_and_keeps_top_level_ok() {
        let json: Json = serde_json::json!([1, ["YQ==", [2]], "Yg==", null]);
        assert_eq!(
            decode(&json, true).unwrap(),
            Value::Array(vec![
                Value::Int(1),
                Value::Array(vec![Value::from("a"), Value::Array(vec![Value::Int(2)])]),
                Value::from("b"),
                Value::Nil,
            ])
        );
        assert_eq!(decode(&Json::from("OK"), true).unwrap(), Value::from("OK"));
        assert!(decode(&Json::from("not base64!"), true).is_err());
    }

    #[test]
    fn binary_last_argument_uses_path_form() {
        let cmd = Cmd::new("SET").arg("a key/with slash").arg(vec![0u8, 0xff]);
        assert!(matches!(
            json_command(&cmd),
            Err(RedisError::Unencodable(_))
        ));
        let (path, body) = path_form(&cmd).unwrap();
        assert_eq!(path, "/SET/a%20key%2Fwith%20slash");
        assert!(matches!(body, Body::Raw(b) if b == [0, 0xff]));
        let middle = Cmd::new("SET").arg(vec![0xffu8]).arg("v");
        assert!(path_form(&middle).is_none());
    }
}
