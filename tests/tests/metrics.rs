//! The functions' CloudWatch metrics (`shared::aws::metrics`): every line is a valid embedded
//! metric format document (`api_tests::emf`, written from the specification), and says what
//! happened: a token issued, a refusal with its code, a failed request, an upstream failure, a
//! secret refresh. Through `shared::aws::lambda::answer`, what the Lambda loop runs for each
//! event. The real binaries' lines (and init duration) are checked in `local_api.rs` and
//! `secret_faults.rs`.

use std::convert::Infallible;

use api_tests::emf::{self, Record};
use api_tests::{ApiState as State, Functions, MotoServer, dev_state, events, route};
use lambda_http::aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use lambda_http::lambda_runtime::{Context, LambdaEvent};
use lambda_http::{Body, Request};
use serde_json::{Value, json};
use shared::aws::metrics;
use shared::routes;
use shared::test_support::Capture;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// `event` answered by the function `function` as its Lambda loop answers it.
async fn answer(
    state: &State,
    function: &str,
    event: ApiGatewayV2httpRequest,
) -> ApiGatewayV2httpResponse {
    let route = route(function);
    let handler = |request: Request| async move {
        Ok::<_, Infallible>(routes::answer(route, state, request).await)
    };
    shared::aws::lambda::answer(&handler, LambdaEvent::new(event, Context::default())).await
}

/// `event` answered by the function `function`, on its own function's state.
async fn answer_by(
    functions: &Functions,
    function: &str,
    event: ApiGatewayV2httpRequest,
) -> ApiGatewayV2httpResponse {
    let handler = |request: Request| async move {
        Ok::<_, Infallible>(functions.invoke(function, request).await)
    };
    shared::aws::lambda::answer(&handler, LambdaEvent::new(event, Context::default())).await
}

/// A payload 2.0 event, as API Gateway sends it.
fn event(
    method: &str,
    path: &str,
    query: &str,
    headers: Value,
    body: Option<String>,
) -> ApiGatewayV2httpRequest {
    let mut headers = headers;
    headers["host"] = json!("api.example.com");
    serde_json::from_value(json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {"http": {"method": method, "path": path}, "stage": "$default"},
        "body": body,
        "isBase64Encoded": false
    }))
    .expect("a payload 2.0 event")
}

fn body(answer: &ApiGatewayV2httpResponse) -> Value {
    match &answer.body {
        Some(Body::Text(text)) => serde_json::from_str(text).expect("a JSON body"),
        _ => Value::Null,
    }
}

/// The lines captured, each checked against the specification.
fn checked(capture: &Capture) -> Vec<Record> {
    capture
        .lines()
        .iter()
        .map(|line| emf::check(line).unwrap_or_else(|error| panic!("{error}: {line}")))
        .collect()
}

/// `(metric name, dimensions but the function's name, value)` of each record, which must be in
/// this API's namespace, with its one metric and one dimension set as `shared::aws::metrics`
/// defines them.
fn summary(records: &[Record]) -> Vec<(String, Vec<String>, Value)> {
    records
        .iter()
        .map(|record| {
            assert_eq!(record.metrics.len(), 1, "{:?}", record.root);
            let metric = &record.metrics[0];
            let defined = metrics::ALL
                .iter()
                .find(|defined| defined.name == metric.name)
                .unwrap_or_else(|| panic!("{} is not in metrics::ALL", metric.name));
            assert_eq!(metric.namespace, metrics::NAMESPACE);
            assert_eq!(metric.unit.as_deref(), Some(defined.unit));
            assert_eq!(metric.dimension_sets, vec![defined.dimensions.to_vec()]);
            assert_eq!(
                record.dimension(metrics::FUNCTION_NAME),
                Some("local"),
                "outside Lambda the function's name is local"
            );
            let others = defined.dimensions[1..]
                .iter()
                .map(|name| record.dimension(name).unwrap_or_default().to_owned())
                .collect();
            (metric.name.clone(), others, metric.value.clone())
        })
        .collect()
}

fn one(name: &str, dimensions: &[&str]) -> (String, Vec<String>, Value) {
    (
        name.to_owned(),
        dimensions.iter().map(|value| (*value).to_owned()).collect(),
        json!(1),
    )
}

#[tokio::test]
async fn every_event_is_counted_as_its_answer_says() {
    let functions = Functions::development(&api_tests::as_pairs(&events::settings())).await;
    let fresh = events::fresh();
    let files = fresh.files();
    assert!(files.len() >= 20, "only {} events", files.len());
    for file in files {
        let text = std::fs::read_to_string(&file.path).expect("event is readable");
        let event = serde_json::from_str(&text).expect("a payload 2.0 event");
        let capture = Capture::start();
        let answer = answer_by(&functions, &file.function, event).await;
        let counted = summary(&checked(&capture));
        let status = answer.status_code;
        assert_eq!(status, i64::from(file.expected_status), "{}", file.case);
        let code = body(&answer)["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let expected = match status {
            500.. => vec![one("FailedRequests", &[&code])],
            400.. => vec![one("Refusals", &[&code])],
            // The two routes that mint tokens.
            200 if file.function == "get-token" || file.function == "join" => {
                vec![one("TokensIssued", &[])]
            }
            _ => vec![],
        };
        assert_eq!(
            counted,
            expected,
            "{}: {status} {code}",
            file.path.display()
        );
    }
}

#[tokio::test]
async fn videosdk_failures_are_upstream_failures_and_an_unknown_room_is_not() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/rooms"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/rooms/validate/abcd-efgh-ijkl"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let state = dev_state(&[
        ("MEETING_BACKEND", "videosdk"),
        ("VIDEOSDK_API_ENDPOINT", &server.uri()),
    ])
    .await;
    let capture = Capture::start();
    let token = body(
        &answer(
            &state,
            "get-token",
            event("GET", "/get-token", "", json!({}), None),
        )
        .await,
    )["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let bearer = json!({ "authorization": format!("Bearer {token}") });
    let created = answer(
        &state,
        "create-meeting",
        event("POST", "/create-meeting", "", bearer.clone(), None),
    )
    .await;
    assert_eq!(created.status_code, 502);
    let validated = answer(
        &state,
        "validate-meeting",
        event("POST", "/validate-meeting/abcd-efgh-ijkl", "", bearer, None),
    )
    .await;
    assert_eq!(validated.status_code, 404);
    assert_eq!(
        summary(&checked(&capture)),
        vec![
            one("TokensIssued", &[]),
            one("UpstreamFailures", &["VideoSDK", "unavailable"]),
            one("FailedRequests", &["upstream_unavailable"]),
            one("Refusals", &["meeting_not_found"]),
        ]
    );
    // Nothing of the caller's token in any metric line.
    assert!(capture.lines().iter().all(|line| !line.contains(&token)));
}

#[tokio::test]
#[ignore = "needs the test tools; scripts/test runs it"]
async fn secret_refreshes_are_counted_and_a_lost_secret_is_an_upstream_failure() {
    let moto = MotoServer::start();
    moto.create_secret(
        "videosdk/counted",
        &json!({"VIDEOSDK_API_KEY": "k", "VIDEOSDK_SECRET_KEY": "counted-secret"}).to_string(),
    )
    .await;
    // 0: a refresh on every request.
    let state = api_tests::secrets_manager_state(&moto.endpoint, "videosdk/counted", "0").await;
    let get_token = || event("GET", "/get-token", "", json!({}), None);

    let capture = Capture::start();
    assert_eq!(
        answer(&state, "get-token", get_token()).await.status_code,
        200
    );
    moto.client()
        .await
        .delete_secret()
        .secret_id("videosdk/counted")
        .force_delete_without_recovery(true)
        .send()
        .await
        .expect("moto deletes the secret");
    // The refresh fails; the keys in hand still sign.
    assert_eq!(
        answer(&state, "get-token", get_token()).await.status_code,
        200
    );
    assert_eq!(
        summary(&checked(&capture)),
        vec![
            one("SecretRefreshes", &["refreshed"]),
            one("TokensIssued", &[]),
            one("UpstreamFailures", &["SecretsManager", "not_found"]),
            one("SecretRefreshes", &["failed"]),
            one("TokensIssued", &[]),
        ]
    );
    assert!(
        capture
            .lines()
            .iter()
            .all(|line| !line.contains("counted-secret"))
    );
}
