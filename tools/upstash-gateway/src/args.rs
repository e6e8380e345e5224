//! Request parsing: JSON command arrays, 2-D pipeline arrays and the path form.
//!
//! A command is a list of binary-safe arguments, the first being the command name. JSON elements
//! may be strings, numbers (their exact lexeme is kept) or booleans; anything else is refused.

use percent_encoding::percent_decode;
use serde_json::value::RawValue;

/// One command: name first, then its arguments, all as raw bytes.
pub(crate) type Command = Vec<Vec<u8>>;

/// Parses a `POST /` body: `["SET","k","v","EX",100]`.
pub(crate) fn json_command(body: &[u8]) -> Result<Command, String> {
    let items: Vec<&RawValue> = serde_json::from_slice(body)
        .map_err(|_| "ERR failed to parse command: expected a JSON array".to_owned())?;
    command_from_raw(&items)
}

/// Parses a `/pipeline` or `/multi-exec` body: `[["SET","k","v"],["GET","k"]]`.
pub(crate) fn json_batch(body: &[u8]) -> Result<Vec<Command>, String> {
    let batch: Vec<Vec<&RawValue>> = serde_json::from_slice(body).map_err(|_| {
        "ERR failed to parse pipeline request: expected an array of command arrays".to_owned()
    })?;
    if batch.is_empty() {
        return Err("ERR empty pipeline request".to_owned());
    }
    batch
        .iter()
        .enumerate()
        .map(|(i, items)| command_from_raw(items).map_err(|e| format!("{e} (command {})", i + 1)))
        .collect()
}

fn command_from_raw(items: &[&RawValue]) -> Result<Command, String> {
    if items.is_empty() {
        return Err("ERR empty command".to_owned());
    }
    items
        .iter()
        .enumerate()
        .map(|(i, raw)| arg_from_raw(raw).ok_or_else(|| invalid_arg(i)))
        .collect()
}

fn invalid_arg(index: usize) -> String {
    format!("ERR invalid argument at index {index}: expected a string, number or boolean")
}

/// A JSON scalar as Redis argument text; `None` for null, objects and arrays.
fn arg_from_raw(raw: &RawValue) -> Option<Vec<u8>> {
    let text = raw.get();
    match text.as_bytes().first()? {
        b'"' => serde_json::from_str::<String>(text)
            .ok()
            .map(String::into_bytes),
        b'-' | b'0'..=b'9' | b't' | b'f' => Some(text.as_bytes().to_vec()),
        _ => None,
    }
}

/// Builds a command from the path form: `/<cmd>/<a1>/…/<aN>`, then the body (if any), then the
/// query parameters in order (`k=v` gives two arguments, a bare `k` one; `_token` is dropped).
pub(crate) fn path_command(path: &str, query: Option<&str>, body: Option<&[u8]>) -> Command {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    let mut args: Command = trimmed
        .split('/')
        .map(|segment| percent_decode(segment.as_bytes()).collect())
        .collect();
    if let Some(body) = body {
        args.push(body.to_vec());
    }
    for (key, value) in query_pairs(query) {
        if key == b"_token" {
            continue;
        }
        args.push(key);
        if let Some(value) = value {
            args.push(value);
        }
    }
    args
}

/// Query string pairs, percent-decoded (`+` is a space); `None` value for a bare key.
pub(crate) fn query_pairs(query: Option<&str>) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    let Some(query) = query else {
        return Vec::new();
    };
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| match piece.split_once('=') {
            Some((k, v)) => (form_decode(k), Some(form_decode(v))),
            None => (form_decode(piece), None),
        })
        .collect()
}

fn form_decode(text: &str) -> Vec<u8> {
    let plus_as_space = text.replace('+', " ");
    percent_decode(plus_as_space.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(cmd: &Command) -> Vec<String> {
        cmd.iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect()
    }

    #[test]
    fn json_scalars_keep_their_lexeme() {
        let cmd = json_command(br#"["set","k",1.5,1e+21,-0,true,false,"\u00e9"]"#).unwrap();
        assert_eq!(
            strs(&cmd),
            ["set", "k", "1.5", "1e+21", "-0", "true", "false", "é"]
        );
    }

    #[test]
    fn json_non_scalars_and_empty_are_refused() {
        assert!(json_command(b"[]").unwrap_err().contains("empty command"));
        for bad in [r#"["set",null]"#, r#"["set",{"a":1}]"#, r#"["set",["x"]]"#] {
            assert!(
                json_command(bad.as_bytes())
                    .unwrap_err()
                    .starts_with("ERR invalid argument")
            );
        }
        assert!(json_command(b"{\"a\":1}").is_err());
        assert!(json_batch(b"[]").unwrap_err().contains("empty pipeline"));
        assert!(json_batch(br#"["get","k"]"#).is_err());
    }

    #[test]
    fn path_form_orders_segments_body_then_query() {
        let cmd = path_command(
            "/set/a%2Fb/",
            Some("EX=100&_token=t&NX&x=a+b%21"),
            Some(b"\x00\xff"),
        );
        assert_eq!(cmd[0], b"set");
        assert_eq!(cmd[1], b"a/b");
        assert_eq!(cmd[2], b"\x00\xff");
        assert_eq!(strs(&cmd)[3..], ["EX", "100", "NX", "x", "a b!"]);
    }
}
