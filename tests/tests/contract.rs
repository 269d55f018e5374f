//! The files that must repeat a fact of the code say what the code says: every route of the
//! registry (`shared::routes::ALL`) is served by `cargo lambda watch`'s router in `Cargo.toml`,
//! deployed by `template.yaml` and described by `openapi.yaml`, with nothing more in any of them;
//! and `openapi.yaml` lists exactly the error codes of `shared::http::error::ErrorCode`.

use std::collections::BTreeSet;

use api_tests::template::{get, mapping, reference, resources_of_type, template};
use api_tests::workspace_root;
use serde_norway::Value;
use shared::http::error::ErrorCode;
use shared::routes::ALL as ROUTES;
use strum::IntoEnumIterator;

fn read(file: &str) -> String {
    let path = workspace_root().join(file);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

fn openapi() -> Value {
    serde_norway::from_str(&read("openapi.yaml")).expect("openapi.yaml is YAML")
}

/// `(path, function)` for every route.
fn registry() -> BTreeSet<(String, String)> {
    ROUTES
        .iter()
        .map(|route| (route.path.to_owned(), route.name.to_owned()))
        .collect()
}

#[test]
fn cargo_lambda_watch_serves_exactly_the_registry() {
    let manifest: toml::Table = read("Cargo.toml").parse().expect("Cargo.toml is TOML");
    let router = manifest["workspace"]["metadata"]["lambda"]["watch"]["router"]
        .as_table()
        .expect("[workspace.metadata.lambda.watch.router]");
    let served: BTreeSet<(String, String)> = router
        .iter()
        .map(|(path, function)| {
            let function = function
                .as_str()
                .unwrap_or_else(|| panic!("{path}: every method goes to one function"));
            (path.clone(), function.to_owned())
        })
        .collect();
    assert_eq!(served, registry());
}

#[test]
fn the_template_deploys_exactly_the_registry() {
    let template = template();
    let apis = resources_of_type(&template, "AWS::Serverless::HttpApi");
    assert_eq!(apis.len(), 1, "one HTTP API");
    let api_name = apis[0].0;
    let mut deployed = BTreeSet::new();
    for (name, function) in resources_of_type(&template, "AWS::Serverless::Function") {
        let binary = get(function, "Metadata")
            .and_then(|metadata| get(metadata, "BuildProperties"))
            .and_then(|properties| get(properties, "Binary"))
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{name} builds no Binary"));
        let events = get(function, "Properties")
            .and_then(|properties| get(properties, "Events"))
            .map(|events| mapping(events, "Events"))
            .unwrap_or_else(|| panic!("{name} has no Events"));
        for event in events.values() {
            assert_eq!(
                get(event, "Type").and_then(Value::as_str),
                Some("HttpApi"),
                "{name}"
            );
            let properties = get(event, "Properties").expect("event Properties");
            assert_eq!(
                get(properties, "ApiId").and_then(reference),
                Some(api_name),
                "{name}'s event is on {api_name}"
            );
            let field = |key| {
                get(properties, key)
                    .and_then(Value::as_str)
                    .unwrap_or_else(|| panic!("{name}'s event has no {key}"))
                    .to_owned()
            };
            deployed.insert((field("Method").to_ascii_uppercase(), field("Path"), binary));
        }
    }
    let expected: BTreeSet<(String, String, &str)> = ROUTES
        .iter()
        .map(|route| (route.method.to_string(), route.path.to_owned(), route.name))
        .collect();
    assert_eq!(deployed, expected);
}

#[test]
fn openapi_describes_exactly_the_registry() {
    let openapi = openapi();
    let paths = mapping(get(&openapi, "paths").expect("paths"), "paths");
    let described: BTreeSet<(String, String)> = paths
        .iter()
        .flat_map(|(path, operations)| {
            let path = path.as_str().expect("a path").to_owned();
            mapping(operations, "a path item")
                .keys()
                .filter_map(|method| method.as_str())
                .filter(|method| *method != "options" && *method != "parameters")
                .map(move |method| (method.to_ascii_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|route| (route.method.to_string(), route.path.to_owned()))
        .collect();
    assert_eq!(described, expected);
    for route in &ROUTES {
        let item = paths.get(route.path).expect("described above");
        assert_eq!(
            get(item, "options").is_some(),
            route.cors,
            "{}: a CORS preflight is described exactly for the routes browsers call",
            route.path
        );
    }
}

#[test]
fn openapi_lists_exactly_the_error_codes() {
    let openapi = openapi();
    let listed: BTreeSet<String> = get(&openapi, "components")
        .and_then(|components| get(components, "schemas"))
        .and_then(|schemas| get(schemas, "ErrorCode"))
        .and_then(|code| get(code, "enum"))
        .and_then(Value::as_sequence)
        .expect("components.schemas.ErrorCode.enum")
        .iter()
        .map(|code| code.as_str().expect("a code").to_owned())
        .collect();
    let codes: BTreeSet<String> = ErrorCode::iter()
        .map(|code| code.as_str().to_owned())
        .collect();
    assert_eq!(
        listed.difference(&codes).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "openapi.yaml lists codes the API never answers"
    );
    assert_eq!(
        codes.difference(&listed).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "openapi.yaml does not list these codes"
    );
}
