//! Deterministic YAML: every mapping's keys sorted, whatever serde_json's map type, so that the output depends on
//! the inputs only.
use serde_json::{Map, Value};

/// `value` with the keys of every mapping in sorted order.
pub fn canonical(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, canonical(v)))
                    .collect::<Map<String, Value>>(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

/// One YAML document of `value`, keys sorted.
pub fn document(value: &Value) -> Result<String, serde_yaml::Error> {
    serde_yaml::to_string(&canonical(value.clone()))
}

/// A multi-document YAML stream, each document introduced by `---`.
pub fn stream(values: &[Value]) -> Result<String, serde_yaml::Error> {
    let mut out = String::new();
    for value in values {
        out.push_str("---\n");
        out.push_str(&document(value)?);
    }
    Ok(out)
}

/// Every document of a YAML stream, empty documents left out.
pub fn parse_stream(text: &str) -> Result<Vec<Value>, serde_yaml::Error> {
    let mut docs = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let value: Value = serde::Deserialize::deserialize(doc)?;
        if !value.is_null() {
            docs.push(value);
        }
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_come_out_sorted_at_every_depth() {
        let text = document(&json!({"b": 1, "a": {"z": [{"y": 1, "x": 2}], "c": 3}})).unwrap();
        assert_eq!(text, "a:\n  c: 3\n  z:\n  - x: 2\n    y: 1\nb: 1\n");
    }

    #[test]
    fn a_stream_round_trips_and_skips_empty_documents() {
        let docs = vec![json!({"kind": "A"}), json!({"kind": "B"})];
        let text = stream(&docs).unwrap();
        assert_eq!(parse_stream(&format!("---\n{text}---\n")).unwrap(), docs);
    }
}
