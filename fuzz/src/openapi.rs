//! The error codes openapi.yaml documents for a route, by status: what `join_request` and the
//! moderation routes hold every error answer to.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, OnceLock, PoisonError};

use lambda_http::http::StatusCode;
use serde_json::Value;

/// The codes by status.
pub type DocumentedErrors = BTreeMap<u16, BTreeSet<String>>;

fn openapi() -> &'static Value {
    static OPENAPI: OnceLock<Value> = OnceLock::new();
    OPENAPI.get_or_init(|| {
        serde_norway::from_str(include_str!("../../openapi.yaml")).expect("openapi.yaml is YAML")
    })
}

/// The codes openapi.yaml documents for `method` (lowercase, as openapi.yaml writes it) on
/// `path`'s 4xx answers, by status: its operation's responses, and the 405 of
/// `components.responses.MethodNotAllowed` that every route answers a method it does not take;
/// without `upstream_only`, the codes only VideoSDK's backend gives (the fuzz targets run on the
/// local one). Read once per route.
pub fn documented_errors(
    path: &'static str,
    method: &'static str,
    upstream_only: &'static [&'static str],
) -> &'static DocumentedErrors {
    type Cache = Mutex<HashMap<(&'static str, &'static str), &'static DocumentedErrors>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    cache
        .entry((path, method))
        .or_insert_with(|| Box::leak(Box::new(read_documented(path, method, upstream_only))))
}

fn read_documented(path: &str, method: &str, upstream_only: &[&str]) -> DocumentedErrors {
    let openapi = openapi();
    let mut responses: Vec<(u16, &Value)> = openapi["paths"][path][method]["responses"]
        .as_object()
        .unwrap_or_else(|| panic!("openapi.yaml describes {method} {path}'s responses"))
        .iter()
        .filter_map(|(status, response)| Some((status.parse().ok()?, response)))
        // A client's errors only: no input may get a 5xx, documented or not.
        .filter(|(status, _)| (400..500).contains(status))
        .collect();
    responses.push((405, &openapi["components"]["responses"]["MethodNotAllowed"]));
    let mut documented = DocumentedErrors::new();
    for (status, response) in responses {
        let codes = documented.entry(status).or_default();
        collect_codes(openapi, response, codes);
        codes.retain(|code| !upstream_only.contains(&code.as_str()));
    }
    documented
}

/// Whether `documented` has `code` at `status`.
pub fn is_documented(
    documented: &DocumentedErrors,
    status: StatusCode,
    code: Option<&str>,
) -> bool {
    documented
        .get(&status.as_u16())
        .is_some_and(|codes| code.is_some_and(|code| codes.contains(code)))
}

/// The codes an error answer's schema under `node` names (`code`'s `enum` or `const`), following
/// `$ref`s within openapi.yaml; not the `$ref` of `code` itself, which `Error` points at the list
/// of every code.
fn collect_codes(openapi: &Value, node: &Value, codes: &mut BTreeSet<String>) {
    match node {
        Value::Object(members) => {
            for (key, value) in members {
                match (key.as_str(), value) {
                    ("$ref", Value::String(reference)) => {
                        let target = reference
                            .strip_prefix('#')
                            .and_then(|pointer| openapi.pointer(pointer))
                            .unwrap_or_else(|| panic!("{reference} is not in openapi.yaml"));
                        collect_codes(openapi, target, codes);
                    }
                    ("code", code) => codes.extend(
                        code["enum"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .chain([&code["const"]])
                            .filter_map(Value::as_str)
                            .map(str::to_owned),
                    ),
                    _ => collect_codes(openapi, value, codes),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                collect_codes(openapi, item, codes);
            }
        }
        _ => {}
    }
}
