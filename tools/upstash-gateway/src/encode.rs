//! Response encoding: Redis values to Upstash JSON (`{"result"}` / `{"error"}`), with every string
//! base64-encoded when the client asks for it, and to raw RESP2 for `Upstash-Response-Format`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use redis::{ServerError, Value};
use serde_json::{Map, Value as Json};

/// How strings in a response are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// UTF-8 with invalid sequences replaced by U+FFFD.
    Utf8,
    /// Standard padded base64 of the raw bytes (`Upstash-Encoding: base64`).
    Base64,
}

/// The exact error line Redis sent (`ERR wrong number of arguments for 'get' command`).
pub(crate) fn error_text(error: &ServerError) -> String {
    match error.details() {
        Some(detail) => format!("{} {detail}", error.code()),
        None => error.code().to_owned(),
    }
}

/// `{"result": v}` for a reply or `{"error": "..."}` for an error reply.
pub(crate) fn envelope(reply: &Value, encoding: Encoding) -> Json {
    match reply {
        Value::ServerError(error) => error_envelope(error_text(error)),
        other => {
            let mut map = Map::new();
            map.insert("result".to_owned(), to_json(other, encoding, true));
            Json::Object(map)
        }
    }
}

/// `{"error": text}`.
pub(crate) fn error_envelope(text: String) -> Json {
    let mut map = Map::new();
    map.insert("error".to_owned(), Json::String(text));
    Json::Object(map)
}

fn string(bytes: &[u8], encoding: Encoding) -> Json {
    Json::String(match encoding {
        Encoding::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
        Encoding::Base64 => STANDARD.encode(bytes),
    })
}

/// A Redis value as JSON. Only a top-level status `OK` stays unencoded under base64 (as Upstash
/// does); integers and nil are never encoded. An error nested in an array (possible in Lua
/// replies) becomes its text, encoded like any other string.
fn to_json(value: &Value, encoding: Encoding, top: bool) -> Json {
    let array =
        |items: &[Value]| Json::Array(items.iter().map(|v| to_json(v, encoding, false)).collect());
    match value {
        Value::Nil => Json::Null,
        Value::Int(n) => Json::from(*n),
        Value::BulkString(bytes) => string(bytes, encoding),
        Value::SimpleString(text) => string(text.as_bytes(), encoding),
        Value::Okay if top => Json::String("OK".to_owned()),
        Value::Okay => string(b"OK", encoding),
        Value::Array(items) | Value::Set(items) => array(items),
        Value::Push { data, .. } => array(data),
        Value::Map(pairs) => Json::Array(
            pairs
                .iter()
                .flat_map(|(k, v)| [to_json(k, encoding, false), to_json(v, encoding, false)])
                .collect(),
        ),
        Value::Attribute { data, .. } => to_json(data, encoding, top),
        Value::Double(d) => string(d.to_string().as_bytes(), encoding),
        Value::Boolean(b) => Json::from(i64::from(*b)),
        Value::VerbatimString { text, .. } => string(text.as_bytes(), encoding),
        Value::BigNumber(n) => string(n, encoding),
        Value::ServerError(error) => string(error_text(error).as_bytes(), encoding),
        // Variants added in later redis versions; RESP2 replies never produce them.
        other => string(format!("{other:?}").as_bytes(), encoding),
    }
}

/// Appends `value` in RESP2 wire form.
pub(crate) fn to_resp2(value: &Value, out: &mut Vec<u8>) {
    let line = |out: &mut Vec<u8>, prefix: u8, text: &[u8]| {
        out.push(prefix);
        out.extend_from_slice(text);
        out.extend_from_slice(b"\r\n");
    };
    let bulk = |out: &mut Vec<u8>, bytes: &[u8]| {
        line(out, b'$', bytes.len().to_string().as_bytes());
        out.extend_from_slice(bytes);
        out.extend_from_slice(b"\r\n");
    };
    let array = |out: &mut Vec<u8>, items: &[Value]| {
        line(out, b'*', items.len().to_string().as_bytes());
        for item in items {
            to_resp2(item, out);
        }
    };
    match value {
        Value::Nil => out.extend_from_slice(b"$-1\r\n"),
        Value::Int(n) => line(out, b':', n.to_string().as_bytes()),
        Value::BulkString(bytes) => bulk(out, bytes),
        Value::SimpleString(text) => line(out, b'+', text.as_bytes()),
        Value::Okay => out.extend_from_slice(b"+OK\r\n"),
        Value::Array(items) | Value::Set(items) => array(out, items),
        Value::Push { data, .. } => array(out, data),
        Value::Map(pairs) => {
            line(out, b'*', (pairs.len() * 2).to_string().as_bytes());
            for (k, v) in pairs {
                to_resp2(k, out);
                to_resp2(v, out);
            }
        }
        Value::Attribute { data, .. } => to_resp2(data, out),
        Value::Double(d) => bulk(out, d.to_string().as_bytes()),
        Value::Boolean(b) => line(out, b':', if *b { b"1" } else { b"0" }),
        Value::VerbatimString { text, .. } => bulk(out, text.as_bytes()),
        Value::BigNumber(n) => bulk(out, n),
        Value::ServerError(error) => line(out, b'-', error_text(error).as_bytes()),
        other => bulk(out, format!("{other:?}").as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn base64_reaches_every_depth_but_not_ints_nil_or_top_ok() {
        let v = Value::Array(vec![
            Value::Int(1),
            Value::Array(vec![
                Value::BulkString(b"a".to_vec()),
                Value::Array(vec![Value::Int(2)]),
            ]),
            Value::BulkString(b"b".to_vec()),
            Value::Nil,
            Value::Okay,
            Value::SimpleString("PONG".to_owned()),
        ]);
        assert_eq!(
            envelope(&v, Encoding::Base64),
            json!({"result": [1, ["YQ==", [2]], "Yg==", null, "T0s=", "UE9ORw=="]})
        );
        assert_eq!(
            envelope(&Value::Okay, Encoding::Base64),
            json!({"result": "OK"})
        );
        assert_eq!(
            envelope(&Value::Nil, Encoding::Utf8),
            json!({"result": null})
        );
    }

    #[test]
    fn utf8_is_lossy() {
        let v = Value::BulkString(vec![b'm', 0xff]);
        assert_eq!(envelope(&v, Encoding::Utf8), json!({"result": "m\u{fffd}"}));
    }

    #[test]
    fn resp2_round_trip_shapes() {
        let mut out = Vec::new();
        to_resp2(
            &Value::Array(vec![
                Value::Okay,
                Value::Nil,
                Value::Int(-3),
                Value::BulkString(b"x".to_vec()),
            ]),
            &mut out,
        );
        assert_eq!(out, b"*4\r\n+OK\r\n$-1\r\n:-3\r\n$1\r\nx\r\n");
    }
}
