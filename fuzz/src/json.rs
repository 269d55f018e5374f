//! JSON of any type and shape, for fields that should hold something else.

use arbitrary::Arbitrary;
use serde_json::{Value, json};

/// A JSON value of any type, for fields that should hold something else.
#[derive(Arbitrary, Debug, Clone)]
pub enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Unsigned(u64),
    Float(f64),
    Text(String),
    List(Vec<String>),
    Object(Vec<(String, String)>),
}

impl Scalar {
    pub fn value(&self) -> Value {
        match self {
            Self::Null => Value::Null,
            Self::Bool(value) => json!(value),
            Self::Int(value) => json!(value),
            Self::Unsigned(value) => json!(value),
            // NaN and infinities become null, as serde_json writes them.
            Self::Float(value) => json!(value),
            Self::Text(value) => json!(value),
            Self::List(values) => json!(values),
            Self::Object(pairs) => Value::Object(
                pairs
                    .iter()
                    .map(|(key, value)| (key.clone(), json!(value)))
                    .collect(),
            ),
        }
    }
}

/// JSON of any shape for the registered claims jsonwebtoken reads (`sub`, `iss`, `aud`, ...):
/// scalars, arrays, objects, and arrays nested up to 255 deep, around serde_json's recursion
/// limit of 128.
#[derive(Arbitrary, Debug, Clone)]
pub enum Json {
    Scalar(Scalar),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
    Nested(u8, Box<Json>),
}

impl Json {
    pub fn text(&self) -> String {
        match self {
            Self::Scalar(scalar) => scalar.value().to_string(),
            Self::Array(items) => {
                let items: Vec<String> = items.iter().map(Json::text).collect();
                format!("[{}]", items.join(","))
            }
            Self::Object(members) => {
                let members: Vec<String> = members
                    .iter()
                    .map(|(key, value)| format!("{}:{}", json!(key), value.text()))
                    .collect();
                format!("{{{}}}", members.join(","))
            }
            Self::Nested(depth, inner) => format!(
                "{}{}{}",
                "[".repeat(usize::from(*depth)),
                inner.text(),
                "]".repeat(usize::from(*depth))
            ),
        }
    }
}
