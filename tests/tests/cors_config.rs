//! API Gateway's CORS configuration in `template.yaml` and the functions' own CORS headers say
//! the same thing: the same origins (one parameter feeds both), headers, methods and max age.
//!
//! API Gateway answers preflights itself when the HTTP API has a CORS configuration, and the
//! functions answer them under `cargo lambda watch` and on direct invocations; if the two
//! disagreed, a browser would see different rules deployed and locally.

use std::collections::BTreeSet;

use api_tests::Functions;
use api_tests::template::{
    get, intrinsic, mapping, reference, resources_of_type, strings, template, untag,
};
use lambda_http::http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_MAX_AGE,
};
use lambda_http::http::{Request as HttpRequest, StatusCode};
use lambda_http::{Body, Request};
use serde_norway::{Mapping, Value};
use shared::http::cors::{ALLOWED_HEADERS, CorsPolicy, PREFLIGHT_MAX_AGE_SECONDS};
use shared::http::route::Route;
use shared::routes::ALL as ROUTES;
use shared::settings::DEFAULT_ALLOWED_ORIGINS;

/// The HTTP API's CORS configuration, in one shape whichever way the template writes it: SAM's
/// `CorsConfiguration` (`AllowOrigins`, ...) or the OpenAPI body's `x-amazon-apigateway-cors`
/// (`allowOrigins`, ...). Keys are returned lowercased.
fn http_api_cors(template: &Value) -> (String, Mapping) {
    let apis = resources_of_type(template, "AWS::Serverless::HttpApi");
    assert_eq!(apis.len(), 1, "one AWS::Serverless::HttpApi: {apis:?}");
    let (name, api) = apis[0];
    let properties = get(api, "Properties").expect("the HttpApi has Properties");
    let sam = get(properties, "CorsConfiguration");
    let openapi =
        get(properties, "DefinitionBody").and_then(|body| get(body, "x-amazon-apigateway-cors"));
    let cors = match (sam, openapi) {
        (Some(cors), None) | (None, Some(cors)) => cors,
        (None, None) => panic!(
            "{name} has no CORS configuration (CorsConfiguration or DefinitionBody's \
             x-amazon-apigateway-cors): browsers could not call the deployed API"
        ),
        (Some(_), Some(_)) => panic!("{name} configures CORS twice"),
    };
    let lowercased = mapping(cors, "the CORS configuration")
        .iter()
        .map(|(key, value)| {
            let key = key
                .as_str()
                .expect("a CORS setting name")
                .to_ascii_lowercase();
            (Value::String(key), value.clone())
        })
        .collect();
    (name.to_owned(), lowercased)
}

/// The parameter the HTTP API's allowed origins come from: `!Split [",", !Ref Parameter]`.
fn origins_parameter(cors: &Mapping) -> String {
    let origins = cors.get("alloworigins").expect("AllowOrigins is set");
    let split = intrinsic(origins, "Fn::Split").unwrap_or_else(|| {
        panic!("AllowOrigins must be !Split [\",\", !Ref <parameter>], not {origins:?}")
    });
    let arguments = untag(split).as_sequence().expect("!Split takes a list");
    assert_eq!(arguments.len(), 2, "!Split [delimiter, value]");
    // The functions split ALLOWED_ORIGINS on commas too.
    assert_eq!(arguments[0].as_str(), Some(","), "split on commas");
    reference(&arguments[1])
        .unwrap_or_else(|| panic!("AllowOrigins splits {:?}, not a !Ref", arguments[1]))
        .to_owned()
}

/// The value of `ALLOWED_ORIGINS` each function gets (its own or the Globals'), by Binary.
fn functions_allowed_origins(template: &Value) -> Vec<(String, Value)> {
    let global = get(template, "Globals")
        .and_then(|globals| get(globals, "Function"))
        .and_then(|function| get(function, "Environment"))
        .and_then(|environment| get(environment, "Variables"))
        .and_then(|variables| get(variables, "ALLOWED_ORIGINS"));
    resources_of_type(template, "AWS::Serverless::Function")
        .into_iter()
        .map(|(name, function)| {
            let own = get(function, "Properties")
                .and_then(|properties| get(properties, "Environment"))
                .and_then(|environment| get(environment, "Variables"))
                .and_then(|variables| get(variables, "ALLOWED_ORIGINS"));
            let value = own
                .or(global)
                .unwrap_or_else(|| panic!("{name} gets no ALLOWED_ORIGINS"));
            (name.to_owned(), value.clone())
        })
        .collect()
}

/// A preflight for `route`, as a browser on `origin` sends it, answered by the handler.
async fn preflight(
    functions: &Functions,
    route: &Route,
    origin: &str,
) -> lambda_http::Response<Body> {
    let path = route.path.replace("{meetingId}", "aaaa-bbbb-cccc");
    let request: Request = HttpRequest::builder()
        .method("OPTIONS")
        .uri(format!(
            "https://abc.execute-api.us-east-1.amazonaws.com{path}"
        ))
        .header("origin", origin)
        .header("access-control-request-method", route.method.as_str())
        .header("access-control-request-headers", ALLOWED_HEADERS)
        .body(Body::Empty)
        .expect("request builds");
    functions.invoke(route.name, request).await
}

#[tokio::test]
async fn the_http_api_and_the_functions_allow_the_same_origins_headers_methods_and_max_age() {
    let template = template();
    let (api_name, cors) = http_api_cors(&template);

    // Origins: one parameter, whose default is the functions' default, feeds both.
    let parameter = origins_parameter(&cors);
    let default = get(&template, "Parameters")
        .and_then(|parameters| get(parameters, &parameter))
        .and_then(|parameter| get(parameter, "Default"))
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("parameter {parameter} has no string Default"));
    assert_eq!(default, DEFAULT_ALLOWED_ORIGINS, "default of {parameter}");
    let policy = CorsPolicy::parse(default).expect("the default is a valid ALLOWED_ORIGINS");
    for origin in default.split(',') {
        assert!(
            (origin == "*" && policy == CorsPolicy::AnyOrigin) || policy.allows(origin),
            "API Gateway and the functions read {default:?} alike"
        );
    }

    let functions = functions_allowed_origins(&template);
    // One function per route, and the fallback queue's consumer, which no browser calls (it
    // reads no ALLOWED_ORIGINS, but takes the functions' common environment).
    assert_eq!(
        functions.len(),
        api_tests::functions().len() + 1,
        "one function per function of the routes, and the queue's consumer: {functions:?}"
    );
    for (name, value) in &functions {
        assert_eq!(
            reference(value),
            Some(parameter.as_str()),
            "{name}'s ALLOWED_ORIGINS must be !Ref {parameter}, as {api_name}'s AllowOrigins, not {value:?}"
        );
    }

    // Headers, max age, methods: the constants the functions answer preflights with.
    let headers: BTreeSet<String> = strings(&cors["allowheaders"], "AllowHeaders")
        .iter()
        .map(|header| header.to_ascii_lowercase())
        .collect();
    let ours: BTreeSet<String> = ALLOWED_HEADERS.split(',').map(str::to_owned).collect();
    assert_eq!(headers, ours, "AllowHeaders");
    let max_age = untag(&cors["maxage"]).as_u64();
    assert_eq!(
        max_age,
        Some(u64::from(PREFLIGHT_MAX_AGE_SECONDS)),
        "MaxAge"
    );
    let methods: BTreeSet<String> = strings(&cors["allowmethods"], "AllowMethods")
        .into_iter()
        .collect();
    let mut expected: BTreeSet<String> = ROUTES
        .iter()
        .map(|route| route.method.to_string())
        .collect();
    let without_options = expected.clone();
    expected.insert("OPTIONS".to_owned());
    assert!(
        methods == expected || methods == without_options,
        "AllowMethods {methods:?}: the routes take {without_options:?} (and OPTIONS)"
    );
    // The functions never allow credentials; neither may API Gateway.
    if let Some(credentials) = cors.get("allowcredentials") {
        assert_eq!(
            untag(credentials).as_bool(),
            Some(false),
            "AllowCredentials"
        );
    }

    // And what the handlers really answer a preflight with, under the default origins.
    let functions = Functions::development(&[]).await;
    for route in &ROUTES {
        let binary = route.name;
        let response = preflight(&functions, route, "https://app.example.com").await;
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        if !route.cors {
            // A route browsers do not call (VideoSDK's webhooks) answers no preflight and no
            // CORS header, whatever the HTTP API's shared configuration allows.
            assert_eq!(
                response.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "{binary}"
            );
            let cors_headers: Vec<_> = response
                .headers()
                .keys()
                .filter(|name| name.as_str().starts_with("access-control-"))
                .collect();
            assert!(cors_headers.is_empty(), "{binary}: {cors_headers:?}");
            assert_eq!(
                header(lambda_http::http::header::ALLOW),
                route.method.as_str()
            );
            continue;
        }
        assert_eq!(response.status(), StatusCode::NO_CONTENT, "{binary}");
        assert_eq!(header(ACCESS_CONTROL_ALLOW_ORIGIN), default, "{binary}");
        let answered: BTreeSet<String> = header(ACCESS_CONTROL_ALLOW_HEADERS)
            .split(',')
            .map(|header| header.trim().to_ascii_lowercase())
            .collect();
        assert_eq!(answered, headers, "{binary}: allowed headers");
        assert_eq!(
            header(ACCESS_CONTROL_MAX_AGE),
            PREFLIGHT_MAX_AGE_SECONDS.to_string(),
            "{binary}"
        );
        for method in header(ACCESS_CONTROL_ALLOW_METHODS).split(',') {
            assert!(
                methods.contains(method.trim()) || method.trim() == "OPTIONS",
                "{binary} allows {method}, which {api_name}'s AllowMethods {methods:?} does not"
            );
        }
        assert!(
            header(ACCESS_CONTROL_ALLOW_CREDENTIALS).is_empty(),
            "{binary}"
        );
    }
}

/// `template.yaml` with `parameter`'s default replaced by `value`, as text: CloudFormation then
/// resolves the parameter to `value` where a deploy would pass it.
fn with_default(parameter: &str, value: &str) -> String {
    let text = std::fs::read_to_string(api_tests::workspace_root().join("template.yaml"))
        .expect("template.yaml is readable");
    let start = text
        .find(&format!("\n  {parameter}:\n"))
        .unwrap_or_else(|| panic!("no parameter {parameter}"));
    let default = start
        + text[start..]
            .find("\n    Default: ")
            .expect("the parameter has a Default");
    let end = default + 1 + text[default + 1..].find('\n').expect("a line");
    format!(
        "{}\n    Default: {}{}",
        &text[..default],
        serde_json::to_string(value).expect("a JSON string is a YAML string"),
        &text[end..]
    )
}

/// What API Gateway is given, after SAM's transform, for several `AllowedOrigins`: the HTTP
/// API's CORS configuration (the OpenAPI body's `x-amazon-apigateway-cors`, and no
/// `CorsConfiguration` beside it) resolved with that value allows exactly the origins the
/// functions' own `CorsPolicy` allows, with their methods, headers and max age, and no
/// credentials. API Gateway answers preflights with it when deployed; the functions, locally.
#[test]
#[ignore = "needs the test tools; scripts/test runs it"]
fn the_deployed_cors_configuration_allows_what_the_functions_allow() {
    let probes = [
        "https://app.example.com",
        "https://a.example",
        "http://localhost:3000",
        "https://evil.example",
        "http://app.example.com",
    ];
    for origins in [
        "*",
        "https://app.example.com",
        "https://a.example,http://localhost:3000",
    ] {
        let transformed =
            api_tests::template::transformed(&with_default("AllowedOrigins", origins));
        let as_yaml: Value = serde_norway::to_value(&transformed).expect("JSON is YAML");
        let apis = resources_of_type(&as_yaml, "AWS::ApiGatewayV2::Api");
        assert_eq!(apis.len(), 1, "one HTTP API: {apis:?}");
        let properties = get(apis[0].1, "Properties").expect("the API's Properties");
        assert!(
            get(properties, "CorsConfiguration").is_none(),
            "a CorsConfiguration beside the body's would take its place"
        );
        let cors = get(properties, "Body")
            .and_then(|body| get(body, "x-amazon-apigateway-cors"))
            .expect("the deployed body's x-amazon-apigateway-cors");
        let deployment = api_tests::cloudformation::Deployment::new(&as_yaml, &[]);
        let allowed = deployment.strings(get(cors, "allowOrigins").expect("allowOrigins"));
        let policy = CorsPolicy::parse(origins).expect("a valid ALLOWED_ORIGINS");
        for probe in probes {
            let gateway = allowed
                .iter()
                .any(|origin| origin == "*" || origin == probe);
            assert_eq!(
                gateway,
                policy.allows(probe),
                "AllowedOrigins={origins}: API Gateway's {allowed:?} and the functions disagree on {probe}"
            );
        }
        let headers: BTreeSet<String> = deployment
            .strings(get(cors, "allowHeaders").expect("allowHeaders"))
            .iter()
            .map(|header| header.to_ascii_lowercase())
            .collect();
        let ours: BTreeSet<String> = ALLOWED_HEADERS.split(',').map(str::to_owned).collect();
        assert_eq!(headers, ours, "allowHeaders");
        let methods: BTreeSet<String> = deployment
            .strings(get(cors, "allowMethods").expect("allowMethods"))
            .into_iter()
            .collect();
        for route in ROUTES.iter().filter(|route| route.cors) {
            assert!(
                methods.contains(route.method.as_str()) && methods.contains("OPTIONS"),
                "{}: {methods:?}",
                route.name
            );
        }
        assert_eq!(
            get(cors, "maxAge").and_then(|age| untag(age).as_u64()),
            Some(u64::from(PREFLIGHT_MAX_AGE_SECONDS)),
            "maxAge"
        );
        assert!(
            get(cors, "allowCredentials")
                .is_none_or(|credentials| untag(credentials).as_bool() == Some(false)),
            "allowCredentials"
        );
    }
}
