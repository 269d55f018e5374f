//! Every request is answered before Lambda's deadline, whatever the services it calls do: a bans
//! table that never answers is 503 `ban_store_unavailable` in the time the invocation has left,
//! and calls that outlast it together are 504 `deadline_exceeded`. Lambda stops a function at its
//! deadline without an answer (API Gateway then answers a bodiless 503): so does each test here,
//! with `tokio::time::timeout` at the deadline.

use std::time::{Duration, Instant};

use api_tests::events::{get_token_event, join_event};
use api_tests::webhooks::SilentEndpoint;
use api_tests::{aws_test_environment, json, lambda_context_ending_in};
use lambda_http::{Body, RequestExt, Response};
use serde_json::{Value, json};
use shared::backends::NoMeetingBackend;
use shared::backends::meetings::MeetingBackend;
use shared::routes;
use shared::state::State;

/// Less than every usual timeout on these paths (5 s for an AWS call, 4 s for VideoSDK's), so
/// that only the deadline can end them in time.
const LEFT: Duration = Duration::from_secs(2);

fn request(event: Value) -> lambda_http::Request {
    shared::aws::lambda::into_request(serde_json::from_value(event).expect("an event"))
        .expect("a valid event")
        .with_lambda_context(lambda_context_ending_in(LEFT))
}

/// A function's state with the development account and `pairs`, as `B`'s function builds it.
async fn state<B: shared::state::Backend>(pairs: &[(&str, String)]) -> State<B> {
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    api_tests::dev_state_of::<B>(&pairs).await
}

/// Answers `answer` as Lambda would let it: by the deadline, or not at all (a panic here).
async fn by_the_deadline(
    answer: impl Future<Output = Result<Response<Body>, std::convert::Infallible>>,
) -> (u16, Value, Duration) {
    let started = Instant::now();
    let Ok(Ok(response)) = tokio::time::timeout(LEFT, answer).await else {
        panic!("the function was still running at its deadline");
    };
    (
        response.status().as_u16(),
        json(&response),
        started.elapsed(),
    )
}

/// get-token (naming a room) and join read the bans table before they issue a token; a table
/// that takes the connection and never answers would hold them for the AWS client's 5 s
/// operation timeout, past a 2 s deadline. The read gets what is left instead, and the
/// refusal is the table's own 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bans_table_that_never_answers_is_503_ban_store_unavailable_before_the_deadline() {
    let dynamodb = SilentEndpoint::start().await;
    let mut pairs = aws_test_environment(dynamodb.uri());
    // On the local backend (dev_state_of's default), the table is the only call out.
    pairs.push(("BANS_TABLE_NAME", "videosdk-bans".to_owned()));
    let get_token_state: State<NoMeetingBackend> = state(&pairs).await;
    let join_state: State<MeetingBackend> = state(&pairs).await;

    let (status, body, took) = by_the_deadline(routes::get_token::handler(
        &get_token_state,
        request(get_token_event(
            &[("roomId", "abcd-efgh-ijkl"), ("participantId", "alice")],
            None,
        )),
    ))
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("ban_store_unavailable")),
        "{body} after {took:?}"
    );

    // Join first makes the room (a local one: no call), then reads the bans.
    let (status, body, took) = by_the_deadline(routes::join::handler(
        &join_state,
        request(join_event(Some(&json!({"participantId": "alice"})), None)),
    ))
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("ban_store_unavailable")),
        "{body} after {took:?}"
    );
    assert!(
        dynamodb.connections() >= 2,
        "each read reached the table's endpoint"
    );
}

/// A VideoSDK that takes the connection and never answers holds join for its 4 s timeout, past
/// a 2 s deadline: the request as a whole is answered 504 `deadline_exceeded` just before the
/// deadline instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_that_outlast_the_deadline_together_are_504_deadline_exceeded_before_it() {
    let videosdk = SilentEndpoint::start().await;
    let endpoint = videosdk.uri().replacen("http://", "https://", 1);
    let join_state: State<MeetingBackend> = state(&[
        ("MEETING_BACKEND", "videosdk".to_owned()),
        ("VIDEOSDK_API_ENDPOINT", endpoint),
    ])
    .await;

    let (status, body, took) = by_the_deadline(routes::join::handler(
        &join_state,
        request(join_event(
            Some(&json!({"roomId": "abcd-efgh-ijkl", "participantId": "alice"})),
            None,
        )),
    ))
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (504, Some("deadline_exceeded")),
        "{body} after {took:?}"
    );
    assert!(videosdk.connections() >= 1, "join called VideoSDK");
}
