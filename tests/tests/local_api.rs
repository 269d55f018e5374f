//! End to end: the real binaries under `cargo lambda watch`, on the API Gateway routes, reading
//! their secret from a real Secrets Manager API (moto_server) at cold start.

use api_tests::local_api::http_client;
use api_tests::{LocalApi, MotoServer, aws_test_environment, dev_credentials, events};
use serde_json::{Value, json};
use shared::{ApiCredentials, TokenError, TokenKeys};

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

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<none>")
}

#[tokio::test]
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
        .verify(&token)
        .expect("signed with the key stored in moto");
    assert_eq!(claims.apikey, "moto-api-key");
    assert_eq!(claims.participant_id.as_deref(), Some("alice"));
    let dev_keys = TokenKeys::new(&dev_credentials()).unwrap();
    assert_eq!(
        dev_keys.verify(&token).unwrap_err(),
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
        (200, json!({"meetingId": id, "valid": true}))
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
            "/get-token?permissions=allow_mod",
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
}

// Multi-threaded: the request runs on another worker while this one watches the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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
async fn cargo_lambda_invoke_answers_every_event_with_its_status() {
    let api = LocalApi::start(&[], true);
    // The events' tokens are signed with the development key the local API runs with.
    let mut failures = Vec::new();
    let mut answers = String::new();
    let mut tokens = Vec::new();
    for file in events::all() {
        let response = api.invoke(&file.function, &file.path);
        let status = response["statusCode"].as_u64().unwrap_or_default();
        if status != u64::from(file.expected_status) {
            failures.push(format!("{}: {status} {response}", file.path.display()));
        }
        let event = std::fs::read_to_string(&file.path).unwrap();
        tokens.extend(jwts_in(&event));
        tokens.extend(jwts_in(&response.to_string()));
        answers.push_str(&response.to_string());
    }
    assert!(
        failures.is_empty(),
        "{}\n{}",
        failures.join("\n"),
        api.log()
    );

    // Nothing the functions logged or answered holds the secret; no log line holds a token.
    let secret = String::from_utf8(dev_credentials().secret_key().to_vec()).unwrap();
    let log = api.log();
    assert!(!answers.contains(&secret), "the secret reached a response");
    assert!(!log.contains(&secret), "the secret reached the log");
    assert!(tokens.len() >= 10, "only {} tokens seen", tokens.len());
    for token in &tokens {
        assert!(!log.contains(token.as_str()), "a token reached the log");
    }
}

/// The JWT-shaped strings (three base64url parts, the first starting `eyJ`) in `text`.
fn jwts_in(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .filter(|word| word.starts_with("eyJ") && word.split('.').count() == 3)
        .map(str::to_owned)
        .collect()
}
