//! `POST /videosdk-webhook` through its real handler and state: what reaches EventBridge (a local
//! stand-in for `PutEvents`, spoken to by the real AWS SDK) for each webhook, good or bad; the
//! answers when EventBridge fails; no CORS; and VideoSDK's public key fetched at cold start from
//! a stand-in for VideoSDK's API, fetched again after a rotation, at most once per interval.

use api_tests::error_code as code;
use api_tests::webhooks::{
    EventBridgeStandIn, PutEventsAnswer, TEST_BUS, TestKey, WebhookSigner, generate_key,
    webhook_body, webhook_request, webhook_settings, webhook_state,
};
use api_tests::{Functions, VideoSdkStandIn, json};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use shared::aws::eventbridge::MAX_ENTRY_SENDS;
use shared::backends::webhooks::WebhookBackend;
use shared::domain::webhooks::MAX_WEBHOOK_BODY_BYTES;
use shared::routes::VIDEOSDK_WEBHOOK;
use shared::routes::videosdk_webhook::{SIGNATURE_HEADER, handler};
use shared::state::{InitError, State};
use shared::test_support::Capture;

async fn answer(state: &State<WebhookBackend>, request: Request) -> Response<Body> {
    let Ok(response) = handler(state, request).await;
    response
}

fn signed(body: &str) -> Request {
    webhook_request(
        body,
        Some(&WebhookSigner::development().sign(body.as_bytes())),
    )
}

fn cors_headers(response: &Response<Body>) -> Vec<String> {
    response
        .headers()
        .keys()
        .map(|name| name.as_str().to_owned())
        .filter(|name| name.starts_with("access-control-") || name == "vary")
        .collect()
}

#[tokio::test]
async fn a_verified_webhook_is_one_event_with_the_body_exactly_as_received() {
    let functions = Functions::development(&[]).await;
    // Spacing, key order and non-ASCII text that a re-encoding would change.
    let body = "{ \"webhookType\" : \"session-ended\",\n  \"data\": {\"meetingId\": \"abcd-efgh-ijkl\", \"name\": \"Zoë 🎥\", \"duration\": 61.50} }\n";
    let before = unix_seconds();
    let response = functions.invoke(VIDEOSDK_WEBHOOK.name, signed(body)).await;
    let after = unix_seconds();
    assert_eq!(
        response.status(),
        StatusCode::NO_CONTENT,
        "{:?}",
        response.body()
    );
    assert!(response.body().is_empty());
    assert_eq!(cors_headers(&response), Vec::<String>::new());
    let mut calls = functions.eventbridge.calls();
    assert_eq!(calls.len(), 1, "one PutEvents call");
    assert_eq!(calls[0].len(), 1, "with one entry");
    let mut entry = calls[0].remove(0);
    // The time it was received, as epoch seconds (the SDK's JSON).
    let time = entry["Time"].as_f64().expect("a Time");
    assert!(
        before.floor() <= time && time <= after.ceil(),
        "{before} <= {time} <= {after}"
    );
    entry.as_object_mut().unwrap().remove("Time");
    assert_eq!(
        entry,
        json!({
            "EventBusName": TEST_BUS,
            "Source": "videosdk",
            "DetailType": "session-ended",
            "Detail": body,
            // SHA-256 of the exact bytes (`printf '%s' "$body" | sha256sum`).
            "Resources": [format!("videosdk-webhook:sha256:{}", sha256_hex(body.as_bytes()))],
        })
    );
}

fn unix_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[tokio::test]
async fn copies_of_one_body_share_a_delivery_id_and_other_bodies_do_not() {
    let functions = Functions::development(&[]).await;
    let joined = webhook_body("participant-joined");
    let left = webhook_body("participant-left");
    for body in [&joined, &joined, &left] {
        let response = functions.invoke(VIDEOSDK_WEBHOOK.name, signed(body)).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }
    let ids: Vec<Value> = functions
        .eventbridge
        .entries()
        .iter()
        .map(|entry| entry["Resources"].clone())
        .collect();
    assert_eq!(ids[0], ids[1], "a redelivery of one body");
    assert_ne!(ids[0], ids[2]);
    assert_eq!(
        ids[0],
        json!([shared::domain::webhooks::delivery_id(joined.as_bytes())])
    );
}

#[tokio::test]
async fn older_events_and_base64_bodies_verify_too() {
    let functions = Functions::development(&[]).await;
    let older = r#"{"type":"recording-stopped","data":{"filePath":"a.mp4"}}"#;
    let response = functions.invoke(VIDEOSDK_WEBHOOK.name, signed(older)).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    // API Gateway's base64 (isBase64Encoded) reaches the handler as bytes: the same bytes.
    let body = webhook_body("participant-joined");
    let signature = WebhookSigner::development().sign(body.as_bytes());
    let request = lambda_http::http::Request::builder()
        .method("POST")
        .uri("https://abc123.execute-api.us-east-1.amazonaws.com/videosdk-webhook")
        .header(SIGNATURE_HEADER, &signature)
        .body(Body::Binary(body.clone().into_bytes()))
        .unwrap();
    let response = functions.invoke(VIDEOSDK_WEBHOOK.name, request).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let entries = functions.eventbridge.entries();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["DetailType"], "recording-stopped");
    assert_eq!(entries[0]["Detail"], older);
    assert_eq!(entries[1]["DetailType"], "participant-joined");
    assert_eq!(entries[1]["Detail"], body.as_str());
}

#[tokio::test]
async fn refused_signatures_are_401_and_publish_nothing() {
    let functions = Functions::development(&[]).await;
    let body = webhook_body("session-started");
    let genuine = WebhookSigner::development().sign(body.as_bytes());
    let other_key = generate_key("webhooks-other", 2048);
    let mut cases: Vec<(&str, Request)> = vec![
        ("no header", webhook_request(&body, None)),
        ("empty header", webhook_request(&body, Some(""))),
        (
            "another key",
            webhook_request(&body, Some(&other_key.signer().sign(body.as_bytes()))),
        ),
        (
            "tampered body",
            webhook_request(&body.replace("started", "ended"), Some(&genuine)),
        ),
        ("truncated", webhook_request(&body, Some(&genuine[..200]))),
        ("not base64", webhook_request(&body, Some("%%%%%%%%"))),
        (
            // As API Gateway passes a header sent twice: the values joined with a comma.
            "sent twice, joined",
            webhook_request(&body, Some(&format!("{genuine},{genuine}"))),
        ),
    ];
    let mut twice = webhook_request(&body, Some(&genuine));
    twice
        .headers_mut()
        .append(SIGNATURE_HEADER, genuine.parse().unwrap());
    cases.push(("sent twice, two values", twice));
    for (case, request) in cases {
        let response = functions.invoke(VIDEOSDK_WEBHOOK.name, request).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{case}");
        assert_eq!(code(&response), "invalid_signature", "{case}");
        let message = json(&response)["error"]["message"].to_string();
        assert!(
            message.contains("nothing was published"),
            "{case}: {message}"
        );
        assert!(
            !message.contains(&genuine[..20]),
            "{case}: the signature echoed"
        );
    }
    assert_eq!(functions.eventbridge.calls().len(), 0, "nothing published");
}

#[tokio::test]
async fn verified_bodies_that_are_no_event_are_400_and_publish_nothing() {
    let functions = Functions::development(&[]).await;
    for (body, expected) in [
        ("[1,2,3]", "invalid_body"),
        ("\"session-started\"", "invalid_body"),
        ("{\"data\":{}}", "invalid_body"),
        ("{\"webhookType\":null}", "invalid_body"),
        ("{\"webhookType\":42}", "invalid_body"),
        ("{\"webhookType\":\"\"}", "invalid_body"),
        ("{\"webhookType\":", "invalid_json"),
        ("", "invalid_json"),
    ] {
        let response = functions.invoke(VIDEOSDK_WEBHOOK.name, signed(body)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(code(&response), expected, "{body}");
    }
    assert_eq!(functions.eventbridge.calls().len(), 0);
}

#[tokio::test]
async fn the_size_limit_is_what_one_event_can_carry() {
    let functions = Functions::development(&[]).await;
    let padded = |total: usize| {
        let shell = r#"{"webhookType":"session-started","padding":""}"#;
        format!(
            r#"{{"webhookType":"session-started","padding":"{}"}}"#,
            "x".repeat(total - shell.len())
        )
    };
    let largest = padded(MAX_WEBHOOK_BODY_BYTES);
    assert_eq!(largest.len(), MAX_WEBHOOK_BODY_BYTES);
    let response = functions
        .invoke(VIDEOSDK_WEBHOOK.name, signed(&largest))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = functions
        .invoke(
            VIDEOSDK_WEBHOOK.name,
            signed(&padded(MAX_WEBHOOK_BODY_BYTES + 1)),
        )
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(code(&response), "payload_too_large");
    assert_eq!(functions.eventbridge.entries().len(), 1);
}

#[tokio::test]
async fn an_eventbridge_failure_is_503_so_that_videosdk_delivers_again() {
    let functions = Functions::development(&[]).await;
    let body = webhook_body("session-started");
    for (answer_with, calls) in [
        // Sent again with backoff, as AWS advises for these two codes, then given up.
        (
            PutEventsAnswer::FailEntry {
                code: "ThrottlingException".into(),
                message: "Rate exceeded".into(),
            },
            MAX_ENTRY_SENDS,
        ),
        (
            PutEventsAnswer::FailEntry {
                code: "InternalFailure".into(),
                message: "Internal service failure.".into(),
            },
            MAX_ENTRY_SENDS,
        ),
        // Any other code: sending it again would fail again.
        (
            PutEventsAnswer::FailEntry {
                code: "InvalidArgument".into(),
                message: "Parameter Detail is not valid.".into(),
            },
            1,
        ),
        // The SDK's two attempts, then the route's 503.
        (PutEventsAnswer::Status(500), 2),
        (PutEventsAnswer::Status(400), 1),
    ] {
        functions.eventbridge.answer_with(answer_with.clone());
        let before = functions.eventbridge.calls().len();
        let response = functions.invoke(VIDEOSDK_WEBHOOK.name, signed(&body)).await;
        assert_eq!(
            response.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "{answer_with:?}"
        );
        assert_eq!(code(&response), "event_bus_unavailable");
        assert_eq!(
            functions.eventbridge.calls().len() - before,
            calls,
            "{answer_with:?}"
        );
    }

    // Nothing listens: a closed port.
    let closed = format!("http://127.0.0.1:{}", api_tests::free_port());
    let state = webhook_state(&closed, &[]).await;
    let started = std::time::Instant::now();
    let response = answer(&state, signed(&body)).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(code(&response), "event_bus_unavailable");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

/// A failed entry inside a 200 is sent again when EventBridge says to (`ThrottlingException`,
/// `InternalFailure`): the same entry, once more, and the webhook is on the bus (204), not
/// queued.
#[tokio::test]
async fn an_entry_eventbridge_failed_once_is_sent_again_and_published() {
    let functions = Functions::development(&[]).await;
    let body = webhook_body("participant-left");
    for code in ["ThrottlingException", "InternalFailure"] {
        functions
            .eventbridge
            .answer_with(PutEventsAnswer::FailEntryOnce {
                code: code.into(),
                message: "try again".into(),
            });
        let before = functions.eventbridge.calls().len();
        let response = functions.invoke(VIDEOSDK_WEBHOOK.name, signed(&body)).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT, "{code}");
        let calls = functions.eventbridge.calls();
        assert_eq!(calls.len() - before, 2, "{code}: sent twice");
        assert_eq!(calls[before], calls[before + 1], "{code}: the same entry");
    }
}

#[tokio::test]
async fn the_route_takes_no_cors_no_preflight_and_no_origin_check() {
    let functions = Functions::development(&[("ALLOWED_ORIGINS", "https://app.example.com")]).await;
    let body = webhook_body("session-started");
    for origin in ["https://app.example.com", "https://elsewhere.example"] {
        let mut request = signed(&body);
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
        let response = functions.invoke(VIDEOSDK_WEBHOOK.name, request).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT, "{origin}");
        assert_eq!(cors_headers(&response), Vec::<String>::new(), "{origin}");
    }
    let preflight = lambda_http::http::Request::builder()
        .method("OPTIONS")
        .uri("https://abc123.execute-api.us-east-1.amazonaws.com/videosdk-webhook")
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .body(Body::Empty)
        .unwrap();
    let response = functions.invoke(VIDEOSDK_WEBHOOK.name, preflight).await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "POST");
    assert_eq!(cors_headers(&response), Vec::<String>::new());
}

/// A stand-in for VideoSDK serving `key`, and a bus stand-in.
async fn videosdk_serving(key: &TestKey) -> (VideoSdkStandIn, EventBridgeStandIn) {
    let videosdk = VideoSdkStandIn::development().await;
    videosdk.serve_webhook_key(&key.spki_pem);
    (videosdk, EventBridgeStandIn::start().await)
}

/// The webhook state with no pinned key (a blank `VIDEOSDK_WEBHOOK_PUBLIC_KEY` counts as unset):
/// its key comes from `videosdk`.
async fn fetching_state(
    videosdk: &VideoSdkStandIn,
    eventbridge: &EventBridgeStandIn,
) -> Result<State<WebhookBackend>, InitError> {
    State::from_settings(webhook_settings(
        &eventbridge.uri(),
        &[
            ("VIDEOSDK_WEBHOOK_PUBLIC_KEY", ""),
            ("VIDEOSDK_API_ENDPOINT", &videosdk.uri()),
        ],
    ))
    .await
}

fn signed_by(key: &TestKey, body: &str) -> Request {
    webhook_request(body, Some(&key.signer().sign(body.as_bytes())))
}

#[tokio::test]
async fn the_key_is_fetched_at_cold_start_and_again_after_a_rotation_at_most_once_per_interval() {
    let [a, b, c] = ["rotation-a", "rotation-b", "rotation-c"].map(|seed| generate_key(seed, 2048));
    let (videosdk, eventbridge) = videosdk_serving(&a).await;
    let state = fetching_state(&videosdk, &eventbridge)
        .await
        .expect("the state builds with VideoSDK's key");
    assert_eq!(videosdk.webhook_key_fetches(), 1, "fetched at cold start");
    assert!(
        videosdk.calls().iter().all(|call| call.authorized),
        "with a token VideoSDK takes"
    );
    let body = webhook_body("session-started");

    let response = answer(&state, signed_by(&a, &body)).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        videosdk.webhook_key_fetches(),
        1,
        "the key in hand verified"
    );

    // VideoSDK rotates its key: the first signature that fails fetches it again, and verifies.
    videosdk.serve_webhook_key(&b.pkcs1_pem);
    let response = answer(&state, signed_by(&b, &body)).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(videosdk.webhook_key_fetches(), 2);
    let response = answer(&state, signed_by(&b, &body)).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(videosdk.webhook_key_fetches(), 2, "the new key is kept");

    // Another rotation at once: within the interval, no fetch, so 429 (come back after
    // Retry-After) until it has passed.
    videosdk.serve_webhook_key(&c.spki_pem);
    let response = answer(&state, signed_by(&c, &body)).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(code(&response), "webhook_key_refresh_pending");
    assert_eq!(videosdk.webhook_key_fetches(), 2);
    let response = answer(&state, webhook_request(&body, Some("forged"))).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        videosdk.webhook_key_fetches(),
        2,
        "forgeries cost VideoSDK nothing more"
    );
    assert_eq!(eventbridge.entries().len(), 3);
}

#[tokio::test]
async fn an_unchanged_key_is_fetched_once_for_a_bad_signature_then_not_again() {
    let a = generate_key("unchanged-a", 2048);
    let (videosdk, eventbridge) = videosdk_serving(&a).await;
    let state = fetching_state(&videosdk, &eventbridge).await.unwrap();
    let body = webhook_body("session-started");
    let response = answer(&state, webhook_request(&body, Some("forged"))).await;
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "the key is unchanged"
    );
    for _ in 0..2 {
        let response = answer(&state, webhook_request(&body, Some("forged"))).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(code(&response), "webhook_key_refresh_pending");
    }
    assert_eq!(
        videosdk.webhook_key_fetches(),
        2,
        "cold start, then one refetch"
    );
    assert_eq!(eventbridge.calls().len(), 0);
}

#[tokio::test]
async fn a_refetch_that_fails_is_502_and_publishes_nothing() {
    let [a, b] = ["refetch-fails-a", "refetch-fails-b"].map(|seed| generate_key(seed, 2048));
    let (videosdk, eventbridge) = videosdk_serving(&a).await;
    let state = fetching_state(&videosdk, &eventbridge).await.unwrap();
    videosdk.fail_webhook_key(503);
    let response = answer(&state, signed_by(&b, &webhook_body("session-started"))).await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(code(&response), "upstream_unavailable");
    assert_eq!(eventbridge.calls().len(), 0);
    // The key in hand still works.
    let response = answer(&state, signed_by(&a, &webhook_body("session-started"))).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_key_videosdk_cannot_serve_fails_the_cold_start_naming_where_it_was_asked() {
    let a = generate_key("cold-start-a", 2048);
    let (videosdk, eventbridge) = videosdk_serving(&a).await;
    videosdk.fail_webhook_key(500);
    let capture = Capture::start();
    let error = fetching_state(&videosdk, &eventbridge).await.unwrap_err();
    let text = error.to_string();
    // Counted as what it is: VideoSDK failing, not this function.
    let failures: Vec<(Value, Value)> = capture
        .lines()
        .iter()
        .map(|line| serde_json::from_str::<Value>(line).expect("a metric line is JSON"))
        .filter(|line| line.get("UpstreamFailures").is_some())
        .map(|line| (line["Upstream"].clone(), line["Failure"].clone()))
        .collect();
    assert_eq!(failures, [(json!("VideoSDK"), json!("unavailable"))]);
    assert!(matches!(error, InitError::WebhookKeyFetch { .. }), "{text}");
    assert!(
        text.contains(&format!("{}/v2/public/rsa-public-key", videosdk.uri()))
            && text.contains("500"),
        "{text}"
    );
    videosdk.serve_webhook_key("-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n");
    let text = fetching_state(&videosdk, &eventbridge)
        .await
        .unwrap_err()
        .to_string();
    assert!(text.contains("cannot be used"), "{text}");
    assert!(
        capture
            .lines()
            .iter()
            .any(|line| line.contains("\"invalid_response\"")),
        "{:?}",
        capture.lines()
    );
}

#[tokio::test]
async fn a_pinned_key_is_never_fetched() {
    let a = generate_key("pinned-a", 2048);
    let (videosdk, eventbridge) = videosdk_serving(&a).await;
    let state = webhook_state(
        &eventbridge.uri(),
        &[("VIDEOSDK_API_ENDPOINT", &videosdk.uri())],
    )
    .await;
    let body = webhook_body("session-started");
    for request in [signed_by(&a, &body), webhook_request(&body, Some("forged"))] {
        assert_eq!(
            answer(&state, request).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        answer(&state, signed(&body)).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(videosdk.webhook_key_fetches(), 0);
}

/// Key rotation against forged traffic: a forgery spends the refetch allowance (VideoSDK's key
/// is fetched, unchanged: 401); VideoSDK rotates its key; its first genuine webhook with the new
/// key, inside the interval, is not refused for good (401) but told to come back (429 with
/// `Retry-After` within the interval), nothing published. Sent again once a fetch is allowed, it
/// verifies and is published. (The interval is a setting: 30 s by default, here 0 for the
/// second delivery, so that no test sleeps.)
#[tokio::test]
async fn forged_then_rotation_then_genuine_is_retryable_not_refused() {
    let [a, b] = ["forged-rotation-a", "forged-rotation-b"].map(|seed| generate_key(seed, 2048));
    let (videosdk, eventbridge) = videosdk_serving(&a).await;
    let state = fetching_state(&videosdk, &eventbridge).await.unwrap();
    let body = webhook_body("session-started");

    let forged = answer(&state, webhook_request(&body, Some("forged"))).await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        videosdk.webhook_key_fetches(),
        2,
        "cold start, then the forgery's"
    );

    videosdk.serve_webhook_key(&b.spki_pem);
    let genuine = answer(&state, signed_by(&b, &body)).await;
    assert_eq!(genuine.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(code(&genuine), "webhook_key_refresh_pending");
    let retry_after: u64 = genuine.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=31).contains(&retry_after), "{retry_after}");
    assert_eq!(videosdk.webhook_key_fetches(), 2);
    assert_eq!(eventbridge.calls().len(), 0, "nothing published");

    // The same sequence where a fetch is allowed again (the interval has passed): the genuine
    // webhook verifies with the rotated key.
    let (videosdk, eventbridge) = videosdk_serving(&a).await;
    let state = State::from_settings(webhook_settings(
        &eventbridge.uri(),
        &[
            ("VIDEOSDK_WEBHOOK_PUBLIC_KEY", ""),
            ("VIDEOSDK_API_ENDPOINT", &videosdk.uri()),
            ("WEBHOOK_KEY_REFETCH_SECONDS", "0"),
        ],
    ))
    .await
    .unwrap();
    let forged = answer(&state, webhook_request(&body, Some("forged"))).await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    videosdk.serve_webhook_key(&b.spki_pem);
    let genuine = answer(&state, signed_by(&b, &body)).await;
    assert_eq!(genuine.status(), StatusCode::NO_CONTENT);
    assert_eq!(videosdk.webhook_key_fetches(), 3);
    assert_eq!(eventbridge.entries().len(), 1);
}
