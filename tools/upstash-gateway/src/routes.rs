//! HTTP side: method check, auth, body limit, routing to single command / pipeline /
//! multi-exec / path form, status codes and the `upstash-sync-token` header.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use futures::StreamExt as _;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use redis::Value;
use serde_json::Value as Json;
use subtle::ConstantTimeEq as _;

use crate::GatewayConfig;
use crate::args::{self, Command};
use crate::backend::{Backend, BackendError, TxOutcome};
use crate::encode::{Encoding, envelope, error_envelope, to_resp2};
use crate::prepare::{Prepared, prepare};
use crate::scripts::ShaMap;

const SYNC_TOKEN: &str = "upstash-sync-token";
const WELCOME: &str = "Welcome to the Scenergy local Upstash REST gateway.\n";

#[derive(Debug)]
struct AppState {
    backend: Backend,
    shas: ShaMap,
    token: Vec<u8>,
    max_body_bytes: usize,
    sync_counter: AtomicU64,
}

/// Every request goes through one handler so that every response gets the sync token.
pub(crate) fn router(backend: Backend, config: &GatewayConfig) -> Router {
    let state = AppState {
        backend,
        shas: ShaMap::default(),
        token: config.token.as_bytes().to_vec(),
        max_body_bytes: config.max_body_bytes,
        sync_counter: AtomicU64::new(0),
    };
    Router::new().fallback(handle).with_state(Arc::new(state))
}

async fn handle(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let mut response = dispatch(&state, request).await;
    let token = state.sync_counter.fetch_add(1, Ordering::Relaxed) + 1;
    response
        .headers_mut()
        .insert(SYNC_TOKEN, HeaderValue::from(token));
    response
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Resp2,
}

async fn dispatch(state: &AppState, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let method = parts.method;
    let has_body_method = method == Method::POST || method == Method::PUT;
    if !(has_body_method || method == Method::GET || method == Method::HEAD) {
        let mut response = error(StatusCode::METHOD_NOT_ALLOWED, "ERR method not allowed");
        response.headers_mut().insert(
            header::ALLOW,
            HeaderValue::from_static("GET, HEAD, POST, PUT"),
        );
        return response;
    }
    let query = parts.uri.query();
    if !authorized(&state.token, &parts.headers, query) {
        return error(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let encoding = match parts.headers.get("upstash-encoding") {
        Some(v) if v.as_bytes().eq_ignore_ascii_case(b"base64") => Encoding::Base64,
        _ => Encoding::Utf8,
    };
    let format = match parts.headers.get("upstash-response-format") {
        None => Format::Json,
        Some(v) if v.as_bytes().eq_ignore_ascii_case(b"json") => Format::Json,
        Some(v) if v.as_bytes().eq_ignore_ascii_case(b"resp2") => Format::Resp2,
        Some(_) => {
            return bad_request("ERR invalid Upstash-Response-Format, expected json or resp2");
        }
    };
    if format == Format::Resp2 && encoding == Encoding::Base64 {
        return bad_request(
            "ERR Upstash-Response-Format resp2 cannot be combined with base64 encoding",
        );
    }
    let body = match read_body(body, state.max_body_bytes, &parts.headers).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let path = parts.uri.path();
    match path.trim_end_matches('/') {
        "" if body.is_empty() && !has_body_method => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            WELCOME,
        )
            .into_response(),
        "" => match args::json_command(&body) {
            Ok(cmd) => single(state, cmd, encoding, format).await,
            Err(text) => bad_request(&text),
        },
        route @ ("/pipeline" | "/multi-exec") => {
            if !has_body_method {
                return error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "ERR use POST for this endpoint",
                );
            }
            if format == Format::Resp2 {
                return bad_request(
                    "ERR Upstash-Response-Format resp2 is only supported for single commands",
                );
            }
            let commands = match args::json_batch(&body) {
                Ok(commands) => commands,
                Err(text) => return bad_request(&text),
            };
            if route == "/pipeline" {
                pipeline(state, commands, encoding).await
            } else {
                multi_exec(state, commands, encoding).await
            }
        }
        _ => {
            // An empty body is an argument only if the client typed it (sent a Content-Type).
            let body_arg = (has_body_method
                && (!body.is_empty() || parts.headers.contains_key(header::CONTENT_TYPE)))
            .then_some(&body[..]);
            let cmd = args::path_command(path, query, body_arg);
            single(state, cmd, encoding, format).await
        }
    }
}

async fn single(state: &AppState, cmd: Command, encoding: Encoding, format: Format) -> Response {
    let prepared = match prepare(cmd, state.backend.db(), &state.shas) {
        Ok(prepared) => prepared,
        Err(refusal) => return bad_request(&refusal),
    };
    let mut replies = match state.backend.pipeline(&[&prepared.args]).await {
        Ok(replies) => replies,
        Err(e) => return backend_error(&e),
    };
    let reply = prepared.fix_reply(replies.pop().unwrap_or(Value::Nil));
    if let Value::ServerError(_) = reply {
        return json(StatusCode::BAD_REQUEST, envelope(&reply, encoding));
    }
    match format {
        Format::Json => json(StatusCode::OK, envelope(&reply, encoding)),
        Format::Resp2 => {
            let mut out = Vec::new();
            to_resp2(&reply, &mut out);
            ([(header::CONTENT_TYPE, "application/octet-stream")], out).into_response()
        }
    }
}

async fn pipeline(state: &AppState, commands: Vec<Command>, encoding: Encoding) -> Response {
    let db = state.backend.db();
    let prepared: Vec<Result<Prepared, String>> = commands
        .into_iter()
        .map(|cmd| prepare(cmd, db, &state.shas))
        .collect();
    let to_send: Vec<&Command> = prepared
        .iter()
        .filter_map(|p| p.as_ref().ok().map(|p| &p.args))
        .collect();
    let mut replies = match state.backend.pipeline(&to_send).await {
        Ok(replies) => replies.into_iter(),
        Err(e) => return backend_error(&e),
    };
    let out = prepared
        .iter()
        .map(|p| match p {
            Ok(p) => envelope(&p.fix_reply(replies.next().unwrap_or(Value::Nil)), encoding),
            Err(refusal) => error_envelope(refusal.clone()),
        })
        .collect();
    json(StatusCode::OK, Json::Array(out))
}

async fn multi_exec(state: &AppState, commands: Vec<Command>, encoding: Encoding) -> Response {
    let db = state.backend.db();
    let prepared = match commands
        .into_iter()
        .map(|cmd| prepare(cmd, db, &state.shas))
        .collect::<Result<Vec<Prepared>, String>>()
    {
        Ok(prepared) => prepared,
        Err(refusal) => return bad_request(&refusal),
    };
    let to_send: Vec<&Command> = prepared.iter().map(|p| &p.args).collect();
    match state.backend.transaction(&to_send).await {
        Ok(TxOutcome::Executed(items)) => {
            let mut items = items.into_iter();
            let out = prepared
                .iter()
                .map(|p| envelope(&p.fix_reply(items.next().unwrap_or(Value::Nil)), encoding))
                .collect();
            json(StatusCode::OK, Json::Array(out))
        }
        Ok(TxOutcome::Aborted(text)) => bad_request(&text),
        Err(e) => backend_error(&e),
    }
}

/// `Authorization: Bearer <token>` or `?_token=<token>`, compared in constant time.
fn authorized(expected: &[u8], headers: &HeaderMap, query: Option<&str>) -> bool {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().as_bytes().to_vec())
        });
    let from_query = args::query_pairs(query)
        .into_iter()
        .find(|(k, _)| k == b"_token")
        .and_then(|(_, v)| v);
    [from_header, from_query]
        .into_iter()
        .flatten()
        .any(|token| bool::from(token.as_slice().ct_eq(expected)))
}

/// Reads the body, refusing (413) anything over `limit` without buffering it.
async fn read_body(body: Body, limit: usize, headers: &HeaderMap) -> Result<Bytes, Response> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(too_large());
    }
    let mut stream = body.into_data_stream();
    let mut buf = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            return Err(bad_request("ERR failed to read the request body"));
        };
        if buf.len() + chunk.len() > limit {
            return Err(too_large());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

fn backend_error(e: &BackendError) -> Response {
    match e {
        BackendError::Timeout => {
            tracing::warn!("Redis did not answer within the command timeout");
            error(
                StatusCode::GATEWAY_TIMEOUT,
                "ERR Redis did not answer in time",
            )
        }
        BackendError::Unavailable(e) => {
            tracing::warn!(error = %e, "Redis request failed");
            error(StatusCode::SERVICE_UNAVAILABLE, "ERR Redis is unavailable")
        }
    }
}

fn too_large() -> Response {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "ERR max request size exceeded",
    )
}

fn bad_request(text: &str) -> Response {
    error(StatusCode::BAD_REQUEST, text)
}

fn error(status: StatusCode, text: &str) -> Response {
    json(status, error_envelope(text.to_owned()))
}

fn json(status: StatusCode, body: Json) -> Response {
    (status, axum::Json(body)).into_response()
}
