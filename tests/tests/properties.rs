//! Properties over arbitrary input, through the real handlers: whatever arrives as token, meeting
//! id, query, body or headers, the answer is never a panic, never a 5xx, and always either a
//! success or the JSON error shape. Arbitrary event JSON never panics the event conversion.

use std::sync::OnceLock;

use api_tests::Functions;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_http::http::Request;
use lambda_http::{Body, RequestExt, Response};
use proptest::prelude::*;

/// Every function's state, built once; the webhook function's bus is a local stand-in.
fn functions() -> &'static Functions {
    static FUNCTIONS: OnceLock<Functions> = OnceLock::new();
    FUNCTIONS.get_or_init(|| {
        runtime().block_on(Functions::development(&[(
            "ALLOWED_ORIGINS",
            "https://app.example.com",
        )]))
    })
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
    })
}

/// The invariant every answer keeps.
fn check(response: &Response<Body>) -> Result<(), TestCaseError> {
    let status = response.status().as_u16();
    prop_assert!(status < 500, "a 5xx: {status} {:?}", response.body());
    if status == 204 {
        return Ok(());
    }
    prop_assert_eq!(
        response.headers().get("content-type").map(|v| v.as_bytes()),
        Some(&b"application/json"[..])
    );
    let body: serde_json::Value = serde_json::from_slice(response.body().as_ref())
        .map_err(|error| TestCaseError::fail(format!("not JSON: {error}")))?;
    if status >= 400 {
        prop_assert!(body["error"]["code"].is_string(), "{body}");
        prop_assert!(body["error"]["message"].is_string(), "{body}");
    }
    Ok(())
}

fn any_method() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("GET".to_owned()),
        Just("POST".to_owned()),
        Just("OPTIONS".to_owned()),
        Just("PUT".to_owned()),
        "[A-Z]{1,8}",
    ]
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,64}",
        "[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}",
        "[A-Za-z0-9_.-]{0,300}",
        any::<Vec<u8>>().prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
    ]
}

fn any_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any::<Vec<u8>>(),
        any_text()
            .prop_map(|token| format!("{{\"token\":{}}}", serde_json::json!(token)).into_bytes()),
        Just(b"{\"token\":".to_vec()),
        (0usize..20_000).prop_map(|n| vec![b'{'; n]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn any_request_gets_a_json_answer_and_never_a_5xx(
        function in prop::sample::select(shared::routes::ALL.map(|route| route.name).to_vec()),
        method in any_method(),
        meeting_id in any_text(),
        authorization in prop::option::of(any_text()),
        signature in prop::option::of(any_text()),
        origin in prop::option::of(prop_oneof![Just("https://app.example.com".to_owned()), any_text()]),
        query in prop::collection::vec((prop_oneof![Just("permissions".to_owned()), Just("roomId".to_owned()), Just("peerId".to_owned()), Just("meetingId".to_owned()), any_text()], any_text()), 0..4),
        body in any_body(),
    ) {
        let mut builder = Request::builder()
            .method(method.as_str())
            .uri("https://api.example/validate-meeting/x");
        if let Some(authorization) = &authorization {
            builder = builder.header("authorization", authorization.as_str());
        }
        if let Some(origin) = &origin {
            builder = builder.header("origin", origin.as_str());
        }
        if let Some(signature) = &signature {
            builder = builder.header("videosdk-signature", signature.as_str());
        }
        // Inputs http itself refuses (a header with a newline, say) never reach a function.
        let Ok(request) = builder.body(Body::from(body)) else { return Ok(()); };
        let mut parameters = std::collections::HashMap::<String, Vec<String>>::new();
        for (name, value) in query {
            parameters.entry(name).or_default().push(value);
        }
        let mut path = std::collections::HashMap::new();
        path.insert("meetingId".to_owned(), meeting_id);
        let request = request
            .with_query_string_parameters(parameters)
            .with_path_parameters(path);
        let response = runtime().block_on(functions().invoke(function, request));
        check(&response)?;
    }

    #[test]
    fn any_event_json_parses_or_is_refused_without_a_panic(bytes in any::<Vec<u8>>()) {
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(event) = serde_json::from_str::<ApiGatewayV2httpRequest>(&text) {
            let _ = shared::aws::lambda::into_request(event);
        }
    }

    /// The path every event takes in the deployed functions (shared::aws::lambda): a request
    /// for the handler, or a 400 for an event lambda_http could not turn into one.
    #[test]
    fn mangled_real_events_never_break_a_handler(
        file_index in any::<prop::sample::Index>(),
        position in any::<prop::sample::Index>(),
        replacement in any::<char>(),
    ) {
        let files = events();
        let file = &files[file_index.index(files.len())];
        let mut chars: Vec<char> = file.1.chars().collect();
        let at = position.index(chars.len());
        chars[at] = replacement;
        let text: String = chars.into_iter().collect();
        let Ok(event) = serde_json::from_str::<ApiGatewayV2httpRequest>(&text) else {
            return Ok(());
        };
        let response = match shared::aws::lambda::into_request(event) {
            Ok(request) => runtime().block_on(functions().invoke(&file.0, request)),
            Err(error) => {
                prop_assert_eq!(error.status.as_u16(), 400);
                error.into_response()
            }
        };
        check(&response)?;
    }
}

fn events() -> &'static Vec<(String, String)> {
    static EVENTS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    EVENTS.get_or_init(|| {
        api_tests::events::all()
            .into_iter()
            .map(|file| {
                let text = std::fs::read_to_string(&file.path).expect("readable event");
                (file.function, text)
            })
            .collect()
    })
}
