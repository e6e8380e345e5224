//! A strict JSON body: the wrong content type, malformed JSON, unknown fields (types use
//! `#[serde(deny_unknown_fields)]`), wrong types and oversized bodies all become problem JSON
//! with the field path serde reports, never a 5xx or a plain-text rejection.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::{FieldError, Problem};

/// Body extractor; put `DefaultBodyLimit::max(..)` on the route to set its size limit.
#[derive(Debug, Clone)]
pub struct StrictJson<T>(pub T);

impl<S, T> FromRequest<S> for StrictJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            });
        if !is_json {
            return Err(Problem::unsupported_media_type());
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Problem::payload_too_large()
            } else {
                Problem::bad_request("the body could not be read")
            }
        })?;
        parse(&bytes).map(StrictJson)
    }
}

/// Deserializes `bytes`, reporting where in the document it went wrong.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "$".to_owned() } else { path };
        let inner = e.into_inner();
        let reason = if inner.is_syntax() || inner.is_eof() {
            format!("malformed JSON: {inner}")
        } else {
            strip_position(&inner.to_string())
        };
        Problem::invalid(vec![FieldError::new(field, reason)])
    })?;
    de.end().map_err(|_| {
        Problem::invalid(vec![FieldError::new(
            "$",
            "trailing characters after the JSON document",
        )])
    })?;
    Ok(value)
}

/// serde_json appends " at line 1 column 42"; the field path already says where.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Body {
        settings: Settings,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Settings {
        variants_per_product: u8,
    }

    fn error_of(json: &str) -> FieldError {
        parse::<Body>(json.as_bytes()).unwrap_err().errors.remove(0)
    }

    #[test]
    fn wrong_types_name_the_nested_field() {
        let e = error_of(r#"{"settings":{"variantsPerProduct":"two"}}"#);
        assert_eq!(e.field, "settings.variantsPerProduct");
        assert!(e.reason.starts_with("invalid type"), "{}", e.reason);
    }

    #[test]
    fn unknown_fields_and_malformed_json_are_field_errors() {
        let e = error_of(r#"{"settings":{"variantsPerProduct":1,"colour":"red"}}"#);
        assert_eq!(e.field, "settings.colour");
        assert!(e.reason.contains("unknown field `colour`"), "{}", e.reason);
        let e = error_of(r#"{"settings":"#);
        assert!(e.reason.starts_with("malformed JSON"), "{}", e.reason);
        let e = error_of(r#"{"settings":{"variantsPerProduct":1}} x"#);
        assert_eq!(e.field, "$");
    }
}
