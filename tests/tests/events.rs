//! Every file in `events/` goes through the functions' event conversion (`shared::aws::lambda`,
//! checked against `lambda_http::request::from_str`) and its function's handler, and gets the
//! status its name promises: no event can rot.

use api_tests::{Functions, events, json};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_http::http::header::CONTENT_TYPE;

#[tokio::test]
async fn every_event_gets_its_expected_status() {
    let functions = Functions::development(&api_tests::as_pairs(&events::settings())).await;
    let fresh = events::fresh();
    let files = fresh.files();
    assert!(files.len() >= 20, "only {} events", files.len());
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(&file.path).expect("event is readable");
        let event: ApiGatewayV2httpRequest = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("{} does not parse: {error}", file.path.display()));
        // The deployed functions' path (shared::aws::lambda), which hands every event it can
        // convert to lambda_http's own conversion: the request must be the one from_str makes.
        let response = match shared::aws::lambda::into_request(event) {
            Ok(request) => {
                let parsed = lambda_http::request::from_str(&text).expect("parses");
                assert_eq!(request.method(), parsed.method(), "{}", file.case);
                assert_eq!(request.uri(), parsed.uri(), "{}", file.case);
                assert_eq!(request.headers(), parsed.headers(), "{}", file.case);
                functions.invoke(&file.function, request).await
            }
            Err(error) => error.into_response(),
        };
        let status = response.status().as_u16();
        if status != file.expected_status {
            failures.push(format!(
                "{}: expected {}, got {status} {:?}",
                file.path.display(),
                file.expected_status,
                response.body()
            ));
            continue;
        }
        if status == 204 {
            continue;
        }
        assert_eq!(
            response.headers()[CONTENT_TYPE],
            "application/json",
            "{}",
            file.case
        );
        let body = json(&response);
        // What API Gateway receives: JSON as text, readable in `sam local invoke` and
        // `cargo lambda invoke` output, not base64.
        let answer = shared::aws::lambda::into_response(response);
        assert!(!answer.is_base64_encoded, "{}: base64 body", file.case);
        assert_eq!(answer.headers["cache-control"], "no-store", "{}", file.case);
        let text = match &answer.body {
            Some(lambda_http::Body::Text(text)) => text.as_str(),
            other => panic!("{}: not a text body: {other:?}", file.case),
        };
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .as_ref(),
            Some(&body),
            "{}",
            file.case
        );
        if status >= 400 {
            let code = body["error"]["code"].as_str().unwrap_or_default();
            let message = body["error"]["message"].as_str().unwrap_or_default();
            assert!(
                !code.is_empty() && !message.is_empty(),
                "{}: {body}",
                file.case
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Each 204 of the webhook route put one event on the bus, and nothing else did.
    let published = files
        .iter()
        .filter(|file| file.function == "videosdk-webhook" && file.expected_status == 204)
        .count();
    assert_eq!(functions.eventbridge.entries().len(), published);
}

/// `events/` holds exactly the cases the generator writes (with tokens that may have expired since:
/// `cargo run -p api-tests --bin make-events` writes them anew).
#[test]
fn the_committed_events_are_the_generated_cases() {
    let cases = |files: Vec<events::EventFile>| -> Vec<(String, String, u16)> {
        files
            .into_iter()
            .map(|file| (file.function, file.case, file.expected_status))
            .collect()
    };
    let fresh = events::fresh();
    assert_eq!(
        cases(events::all()),
        cases(fresh.files()),
        "run cargo run -p api-tests --bin make-events"
    );
}

#[test]
fn every_function_has_a_success_and_failures() {
    let files = events::all();
    for function in shared::routes::ALL.map(|route| route.name) {
        let statuses: Vec<u16> = files
            .iter()
            .filter(|file| file.function == function)
            .map(|file| file.expected_status)
            .collect();
        assert!(
            statuses.iter().any(|s| (200..300).contains(s)),
            "{function} has no success event"
        );
        assert!(
            statuses.iter().any(|s| *s >= 400),
            "{function} has no failure event"
        );
    }
    let failures = files
        .iter()
        .filter(|file| file.expected_status >= 400)
        .count();
    assert!(failures >= 8, "{failures} failure events");
}
