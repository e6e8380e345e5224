//! Deterministic JSON documents that satisfy a `responseSchema` (OpenAPI subset, uppercase
//! types) or a `responseJsonSchema` (JSON Schema subset, with `$ref` into `$defs`).
//! Rules: objects get every declared property (so `required` always holds), arrays get
//! 1–3 items within minItems/maxItems, enums and anyOf/oneOf pick the first choice.

use serde_json::{Map, Value, json};

/// Builds a value for `schema`; `root` resolves `$ref`s.
pub(crate) fn sample(schema: &Value) -> Value {
    generate(schema, schema, "value", 0)
}

fn generate(schema: &Value, root: &Value, name: &str, depth: usize) -> Value {
    // Recursive schemas through $ref must end somewhere.
    if depth > 12 {
        return Value::Null;
    }
    let Some(obj) = schema.as_object() else {
        return json!(format!("sample {name}"));
    };
    if let Some(target) = obj.get("$ref").and_then(Value::as_str) {
        return match resolve(root, target) {
            Some(s) => generate(s, root, name, depth + 1),
            None => Value::Null,
        };
    }
    if let Some(first) = obj
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    {
        return first.clone();
    }
    if let Some(c) = obj.get("const") {
        return c.clone();
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(first) = obj
            .get(key)
            .and_then(Value::as_array)
            .and_then(|a| a.first())
        {
            return generate(first, root, name, depth + 1);
        }
    }
    match type_of(obj).as_deref() {
        Some("object") => object(obj, root, depth),
        Some("array") => array(obj, root, name, depth),
        Some("string") => string(obj, name),
        Some("integer") => json!(number(obj).round() as i64),
        Some("number") => json!(number(obj)),
        Some("boolean") => json!(true),
        Some("null") => Value::Null,
        _ if obj.contains_key("properties") => object(obj, root, depth),
        _ if obj.contains_key("items") => array(obj, root, name, depth),
        _ => json!(format!("sample {name}")),
    }
}

/// `type` may be `"OBJECT"`, `"object"` or `["string","null"]`; the first non-null wins.
fn type_of(obj: &Map<String, Value>) -> Option<String> {
    match obj.get("type")? {
        Value::String(s) => Some(s.to_ascii_lowercase()),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_ascii_lowercase)
            .find(|t| t != "null")
            .or_else(|| Some("null".to_owned())),
        _ => None,
    }
}

fn resolve<'a>(root: &'a Value, target: &str) -> Option<&'a Value> {
    let pointer = target.strip_prefix('#')?;
    root.pointer(pointer)
}

fn object(obj: &Map<String, Value>, root: &Value, depth: usize) -> Value {
    let mut out = Map::new();
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (key, prop) in props {
            out.insert(key.clone(), generate(prop, root, key, depth + 1));
        }
    }
    Value::Object(out)
}

fn array(obj: &Map<String, Value>, root: &Value, name: &str, depth: usize) -> Value {
    let get = |k: &str| {
        obj.get(k).and_then(|v| {
            // responseSchema sends int64 counts as strings ("minItems": "1").
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
    };
    let min = get("minItems").unwrap_or(1).max(1);
    let max = get("maxItems").unwrap_or(3).max(min);
    let n = 2.clamp(min, max.min(3).max(min));
    let items = obj
        .get("items")
        .cloned()
        .unwrap_or(json!({"type": "string"}));
    let item_name = name.trim_end_matches('s');
    (0..n)
        .map(|i| {
            let v = generate(&items, root, item_name, depth + 1);
            match v {
                Value::String(s) => Value::String(format!("{s} {}", i + 1)),
                other => other,
            }
        })
        .collect()
}

fn string(obj: &Map<String, Value>, name: &str) -> Value {
    let mut s = match obj.get("format").and_then(Value::as_str) {
        Some("date-time") => "2026-01-01T00:00:00Z".to_owned(),
        Some("date") => "2026-01-01".to_owned(),
        _ => format!("sample {name}"),
    };
    let min_len = obj.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
    while s.len() < min_len {
        s.push('x');
    }
    if let Some(max_len) = obj.get("maxLength").and_then(Value::as_u64) {
        s.truncate(max_len as usize);
    }
    json!(s)
}

fn number(obj: &Map<String, Value>) -> f64 {
    let min = obj.get("minimum").and_then(Value::as_f64);
    let max = obj.get("maximum").and_then(Value::as_f64);
    match (min, max) {
        (Some(a), Some(b)) => (a + b) / 2.0,
        (Some(a), None) => a,
        (None, Some(b)) => b.min(1.0),
        (None, None) => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_schema_with_refs_enums_and_arrays() {
        let schema = json!({
            "type": "object",
            "properties": {
                "category": {"type": "string", "enum": ["chair", "table"]},
                "colours": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
                "score": {"type": "integer", "minimum": 3, "maximum": 9},
                "ideas": {"type": "array", "items": {"$ref": "#/$defs/idea"}}
            },
            "required": ["category", "colours", "score", "ideas"],
            "$defs": {"idea": {"type": "object", "properties": {"title": {"type": ["string", "null"]}}}}
        });
        let v = sample(&schema);
        assert_eq!(v["category"], "chair");
        assert_eq!(v["colours"].as_array().unwrap().len(), 2);
        assert_eq!(v["score"], 6);
        assert!(v["ideas"][0]["title"].is_string());
    }

    #[test]
    fn openapi_schema_uppercase_types() {
        let schema = json!({"type": "OBJECT", "properties": {"ok": {"type": "BOOLEAN"},
            "tags": {"type": "ARRAY", "items": {"type": "STRING"}, "minItems": "3"}}});
        let v = sample(&schema);
        assert_eq!(v["ok"], true);
        assert_eq!(v["tags"].as_array().unwrap().len(), 3);
    }
}
