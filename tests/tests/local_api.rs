//! End to end: the real binaries under `cargo lambda watch`, on the API Gateway routes, reading
//! their secret from a real Secrets Manager API (moto_server) at cold start.

use api_tests::emf;
use api_tests::error_code_of as code;
use api_tests::local_api::http_client;
use api_tests::webhooks::{TEST_BUS, development_public_key};
use api_tests::{
    LocalApi, MotoServer, VideoSdkStandIn, aws_test_environment, dev_credentials, events,
};
use serde_json::{Value, json};
use shared::aws::metrics;
use shared::domain::credentials::ApiCredentials;
use shared::domain::token::{TokenError, TokenKeys};
use shared::domain::unix_now;
use shared::routes::VIDEOSDK_WEBHOOK;
use shared::routes::videosdk_webhook::SIGNATURE_HEADER;

async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<String>,
) -> (u16, Value) {
    let mut request = client.request(method, url);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body);
    }
    let response = request.send().await.expect("the local API answers");
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    let body = serde_json::from_str(&text).unwrap_or_else(|_| json!({ "raw": text }));
    (status, body)
}

#[tokio::test]
#[ignore = "needs the test tools; scripts/test runs it"]
async fn the_flow_over_http_signs_with_the_key_stored_in_secrets_manager() {
    let moto = MotoServer::start();
    // A key unique to this run, so a token can only verify if it came from this secret.
    let secret_key = format!("moto-secret-{}", std::process::id());
    let stored = json!({"VIDEOSDK_API_KEY": "moto-api-key", "VIDEOSDK_SECRET_KEY": secret_key});
    let arn = moto
        .create_secret("videosdk/e2e", &stored.to_string())
        .await;
    let mut environment = aws_test_environment(&moto.endpoint);
    environment.push(("VIDEOSDK_SECRET_ID", arn.clone()));
    // At trace: the AWS SDK reads the secret, and must not log it whatever the level.
    environment.push(("AWS_LAMBDA_LOG_LEVEL", "trace".to_owned()));
    let api = LocalApi::start(&environment, false);
    let client = http_client();
    use reqwest::Method;

    let (status, body) = call(
        &client,
        Method::GET,
        api.url("/get-token?peerId=alice"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}\n{}", api.log());
    let token = body["token"].as_str().expect("a token").to_owned();

    let stored_keys =
        TokenKeys::new(&ApiCredentials::new("moto-api-key", secret_key.clone())).unwrap();
    let claims = stored_keys
        .verify_at(&token, unix_now())
        .expect("signed with the key stored in moto");
    assert_eq!(claims.apikey, "moto-api-key");
    assert_eq!(claims.participant_id.as_deref(), Some("alice"));
    let dev_keys = TokenKeys::new(&dev_credentials()).unwrap();
    assert_eq!(
        dev_keys.verify_at(&token, unix_now()).unwrap_err(),
        TokenError::BadSignature
    );

    let (status, body) = call(
        &client,
        Method::POST,
        api.url("/create-meeting"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let id = body["meetingId"].as_str().expect("a meeting id").to_owned();

    let (status, body) = call(
        &client,
        Method::POST,
        api.url(&format!("/validate-meeting/{id}")),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(
        (status, body),
        (200, json!({"meetingId": id, "roomId": id, "valid": true}))
    );

    let forged = format!("{}{}", &id[..13], if id.ends_with('x') { 'y' } else { 'x' });
    let (status, body) = call(
        &client,
        Method::POST,
        api.url(&format!("/validate-meeting/{forged}")),
        Some(&token),
        None,
    )
    .await;
    assert_eq!((status, code(&body)), (404, "meeting_not_found"));

    // The one-call flow: a new room and a token bound to it, signed with the stored key.
    let (status, body) = call(
        &client,
        Method::POST,
        api.url("/join"),
        None,
        Some("{}".to_owned()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let joined = stored_keys
        .verify_at(body["token"].as_str().expect("a token"), unix_now())
        .expect("signed with the key stored in moto");
    assert_eq!(joined.room_id.as_deref(), body["roomId"].as_str(), "{body}");

    // One request of each failure class, through the real routes.
    struct Case<'a> {
        method: Method,
        path: &'a str,
        token: Option<&'a str>,
        body: Option<String>,
        status: u16,
        code: &'a str,
    }
    let token_body = json!({ "token": token }).to_string();
    let case = |method, path, token, body: Option<String>, status, code| Case {
        method,
        path,
        token,
        body,
        status,
        code,
    };
    let cases = [
        case(
            Method::POST,
            "/create-meeting",
            None,
            None,
            401,
            "missing_token",
        ),
        case(
            Method::POST,
            "/create-meeting",
            Some("a.b.c"),
            None,
            401,
            "invalid_token",
        ),
        case(
            Method::POST,
            "/validate-meeting/not-an-id",
            None,
            Some(token_body.clone()),
            400,
            "malformed_meeting_id",
        ),
        case(
            Method::POST,
            "/create-meeting",
            None,
            Some("{\"token\":".into()),
            400,
            "invalid_json",
        ),
        case(
            Method::POST,
            "/create-meeting",
            Some(&token),
            Some("x".repeat(20_000)),
            413,
            "payload_too_large",
        ),
        case(
            Method::GET,
            "/get-token?permissions=allow_join,allow_mod",
            None,
            None,
            403,
            "permission_not_allowed",
        ),
        case(
            Method::GET,
            "/get-token?permissions=nope",
            None,
            None,
            400,
            "unknown_permission",
        ),
        case(
            Method::DELETE,
            "/get-token",
            None,
            None,
            405,
            "method_not_allowed",
        ),
    ];
    let refused: Vec<(&str, &str)> = cases
        .iter()
        .map(|case| (function_of(case.path), case.code))
        .collect();
    for case in cases {
        let (status, answer) = call(
            &client,
            case.method.clone(),
            api.url(case.path),
            case.token,
            case.body,
        )
        .await;
        assert_eq!(
            (status, code(&answer)),
            (case.status, case.code),
            "{} {}: {answer}",
            case.method,
            case.path
        );
    }

    let log = api.log();
    assert!(
        log.contains("reading the VideoSDK credentials from Secrets Manager"),
        "{log}"
    );
    assert!(!log.contains(&secret_key), "the secret reached the log");
    assert!(!log.contains(&token), "a token reached the log");

    // The functions' metric lines, as CloudWatch would read them from their output: each one
    // valid embedded metric format, counting what happened above.
    let records = emf::records(&log).unwrap_or_else(|error| panic!("{error}"));
    let counted = |function: &str, metric: &str, dimension: Option<(&str, &str)>| {
        records
            .iter()
            .filter(|record| {
                record.metrics.iter().any(|m| m.name == metric)
                    && record.dimension(metrics::FUNCTION_NAME) == Some(function)
                    && dimension.is_none_or(|(name, value)| record.dimension(name) == Some(value))
            })
            .count()
    };
    assert_eq!(counted("get-token", "TokensIssued", None), 1, "{log}");
    for (function, code) in refused {
        assert!(
            counted(function, "Refusals", Some((metrics::ERROR_CODE, code))) >= 1,
            "no refusal {code} counted for {function}:\n{log}"
        );
    }
    // The functions this test calls (the webhook function is not one of them).
    for route in shared::routes::API {
        assert_eq!(
            counted(route.name, "InitDuration", None),
            1,
            "{}'s cold start:\n{log}",
            route.name
        );
    }
}

/// The function that answers `path` (a path with its query, or a meeting id in place).
fn function_of(path: &str) -> &'static str {
    let path = path.split('?').next().unwrap_or_default();
    shared::routes::ALL
        .iter()
        .find(|route| match route.path.split_once('{') {
            Some((prefix, _)) => path.starts_with(prefix),
            None => path == route.path,
        })
        .map(|route| route.name)
        .unwrap_or_else(|| panic!("no route for {path}"))
}

/// As deployed by default: `MEETING_BACKEND=videosdk`, the key in Secrets Manager, and VideoSDK
/// (a stand-in that checks every call as VideoSDK does) creating and validating real rooms.
// Multi-threaded: the stand-in answers the functions on one worker while this one waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the test tools; scripts/test runs it"]
async fn rooms_are_created_and_validated_at_videosdk_with_the_stored_key() {
    let moto = MotoServer::start();
    let secret_key = format!("moto-secret-{}", std::process::id());
    let stored = json!({"VIDEOSDK_API_KEY": "moto-api-key", "VIDEOSDK_SECRET_KEY": secret_key});
    let arn = moto
        .create_secret("videosdk/rooms", &stored.to_string())
        .await;
    let videosdk = VideoSdkStandIn::start("moto-api-key", &secret_key).await;
    let mut environment = aws_test_environment(&moto.endpoint);
    environment.extend([
        ("VIDEOSDK_SECRET_ID", arn),
        ("MEETING_BACKEND", "videosdk".to_owned()),
        ("VIDEOSDK_API_ENDPOINT", videosdk.uri()),
    ]);
    let api = LocalApi::start(&environment, false);
    let client = http_client();
    use reqwest::Method;

    let (status, body) = call(&client, Method::GET, api.url("/get-token"), None, None).await;
    assert_eq!(status, 200, "{body}\n{}", api.log());
    let token = body["token"].as_str().expect("a token").to_owned();
    let create = |body: Value| {
        call(
            &client,
            Method::POST,
            api.url("/create-meeting"),
            Some(&token),
            Some(body.to_string()),
        )
    };
    let validate = |id: String| {
        call(
            &client,
            Method::POST,
            api.url(&format!("/validate-meeting/{id}")),
            Some(&token),
            None,
        )
    };

    let (status, body) = create(json!({"region": "sg001"})).await;
    assert_eq!(status, 200, "{body}\n{}", api.log());
    let room = body["meetingId"].as_str().expect("a room id").to_owned();
    assert_eq!(body["roomId"], room.as_str());
    let (status, body) = validate(room.clone()).await;
    assert_eq!(
        (status, body),
        (
            200,
            json!({"meetingId": room, "roomId": room, "valid": true})
        )
    );
    let (status, body) = validate("nobo-dyho-mexx".into()).await;
    assert_eq!((status, code(&body)), (404, "meeting_not_found"), "{body}");

    let (status, first) = create(json!({"customRoomId": "standup"})).await;
    assert_eq!(status, 200, "{first}");
    let (status, second) = create(json!({"customRoomId": "standup"})).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(
        first["roomId"], second["roomId"],
        "customRoomId is idempotent"
    );
    assert_eq!(second["customRoomId"], "standup");
    assert_ne!(first["roomId"], room.as_str());

    let calls = videosdk.calls();
    assert_eq!(calls.len(), 5, "{calls:#?}");
    assert!(
        calls.iter().all(|call| call.authorized),
        "VideoSDK refused a call: {calls:#?}"
    );

    // A caller token signed with another key never reaches VideoSDK.
    let forged = TokenKeys::new(&ApiCredentials::new("moto-api-key", "not-the-secret"))
        .unwrap()
        .sign(&stored_claims_like(&token, &secret_key))
        .unwrap();
    let (status, body) = call(
        &client,
        Method::POST,
        api.url("/create-meeting"),
        Some(&forged),
        None,
    )
    .await;
    assert_eq!((status, code(&body)), (401, "invalid_signature"), "{body}");
    assert_eq!(
        videosdk.calls().len(),
        5,
        "no upstream call for a forged token"
    );
}

/// The claims of `token` (verified with the stored key), to sign again with another key.
fn stored_claims_like(token: &str, secret_key: &str) -> shared::domain::token::Claims {
    TokenKeys::new(&ApiCredentials::new("moto-api-key", secret_key))
        .unwrap()
        .verify_at(token, unix_now())
        .expect("signed with the stored key")
}

// Multi-threaded: the request runs on another worker while this one watches the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the test tools; scripts/test runs it"]
async fn a_cold_start_with_a_missing_secret_fails_and_names_it() {
    let moto = MotoServer::start();
    let mut environment = aws_test_environment(&moto.endpoint);
    environment.push(("VIDEOSDK_SECRET_ID", "videosdk/does-not-exist".to_owned()));
    let api = LocalApi::start(&environment, false);

    // The emulator keeps the request open while the function fails to start (Lambda would
    // answer it with an error), so the request runs aside while the log is watched.
    let url = api.url("/get-token");
    let request = tokio::spawn(async move { http_client().get(url).send().await });
    let line = api
        .wait_for_log_line("init failed", std::time::Duration::from_secs(180))
        .unwrap_or_else(|| panic!("no init failure logged:\n{}", api.log()));
    request.abort();
    assert!(
        line.contains("videosdk/does-not-exist") && line.contains("not found"),
        "{line}"
    );
}

#[tokio::test]
#[ignore = "needs the test tools; scripts/test runs it"]
async fn cargo_lambda_invoke_answers_every_event_with_its_status() {
    // At the default level, and at trace, where the dependencies would log raw events, headers
    // and bodies if they were let (shared::aws::logging caps them).
    for level in ["info", "trace"] {
        // The webhook function's bus, in moto, with a queue that receives what it publishes;
        // its events are signed with the development webhook key, pinned here.
        let moto = MotoServer::start();
        let queue = moto.bus_to_queue(TEST_BUS, "events-test-queue").await;
        let mut environment = aws_test_environment(&moto.endpoint);
        environment.extend([
            ("EVENT_BUS_NAME", TEST_BUS.to_owned()),
            (
                "VIDEOSDK_WEBHOOK_PUBLIC_KEY",
                development_public_key().trim_end().replace('\n', "\\n"),
            ),
            ("AWS_LAMBDA_LOG_LEVEL", level.to_owned()),
        ]);
        let settings = events::settings();
        environment.extend(
            settings
                .iter()
                .filter(|(name, _)| !name.starts_with("VIDEOSDK_"))
                .map(|(name, value)| (name.as_str(), value.clone())),
        );
        let api = LocalApi::start(&environment, true);
        // The events' tokens are signed with the development key the local API runs with.
        let mut failures = Vec::new();
        let mut answers = String::new();
        let mut tokens = Vec::new();
        let fresh = events::fresh();
        let files = fresh.files();
        for file in &files {
            let response = api.invoke(&file.function, &file.path);
            let status = response["statusCode"].as_u64().unwrap_or_default();
            if status != u64::from(file.expected_status) {
                failures.push(format!("{}: {status} {response}", file.path.display()));
            }
            if response["headers"]["cache-control"] != "no-store" {
                failures.push(format!("{}: cacheable: {response}", file.path.display()));
            }
            let event = std::fs::read_to_string(&file.path).unwrap();
            tokens.extend(jwts_in(&event));
            tokens.extend(jwts_in(&response.to_string()));
            answers.push_str(&response.to_string());
        }
        assert!(
            failures.is_empty(),
            "{level}: {}\n{}",
            failures.join("\n"),
            api.log()
        );
        let published = files
            .iter()
            .filter(|file| file.function == VIDEOSDK_WEBHOOK.name && file.expected_status == 204)
            .count();
        assert_eq!(
            moto.receive(&queue).await.len(),
            published,
            "one event per 204"
        );

        // Nothing the functions logged or answered holds the secret; no log line holds a token,
        // an Authorization header or a webhook's signature.
        let secret = String::from_utf8(dev_credentials().secret_key().to_vec()).unwrap();
        let log = api.log();
        assert!(!answers.contains(&secret), "the secret reached a response");
        assert!(
            !log.contains(&secret),
            "{level}: the secret reached the log"
        );
        assert!(tokens.len() >= 10, "only {} tokens seen", tokens.len());
        for token in &tokens {
            assert!(
                !log.contains(token.as_str()),
                "{level}: a token reached the log"
            );
        }
        assert!(
            !log.contains("authorization") && !log.contains("Authorization"),
            "{level}: a header reached the log"
        );
        for file in &files {
            let event: Value = serde_json::from_str(&std::fs::read_to_string(&file.path).unwrap())
                .expect("an event");
            if let Some(signature) = event["headers"][SIGNATURE_HEADER].as_str()
                && signature.len() > 40
            {
                assert!(
                    !log.contains(&signature[..40]),
                    "{level}: a signature reached the log"
                );
            }
        }
    }
}

/// The JWT-shaped strings (three base64url parts, the first starting `eyJ`) in `text`.
fn jwts_in(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .filter(|word| word.starts_with("eyJ") && word.split('.').count() == 3)
        .map(str::to_owned)
        .collect()
}
