//! Secret rotation against a real Secrets Manager API (moto_server): a warm function picks up
//! the new version, keeps accepting what the previous version made, refuses anything older, and
//! keeps serving when a refresh fails.

use api_tests::{ApiState as State, MotoServer, invoke, json};
use lambda_http::http::Request;
use lambda_http::{Body, Request as LambdaRequest};
use serde_json::json;
use shared::domain::credentials::ApiCredentials;
use shared::domain::token::{TokenError, TokenKeys};
use shared::domain::unix_now;

const SECRET: &str = "videosdk/rotating";

fn stored(secret_key: &str) -> String {
    json!({"VIDEOSDK_API_KEY": "rotating-api-key", "VIDEOSDK_SECRET_KEY": secret_key}).to_string()
}

fn keys(secret_key: &str) -> TokenKeys {
    TokenKeys::new(&ApiCredentials::new("rotating-api-key", secret_key)).unwrap()
}

fn request(method: &str, path: &str, token: Option<&str>) -> LambdaRequest {
    let mut builder = Request::builder()
        .method(method)
        .uri(format!("https://api.example{path}"));
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    builder.body(Body::Empty).unwrap()
}

async fn new_token(state: &State) -> String {
    let response = invoke("get-token", state, request("GET", "/get-token", None)).await;
    assert_eq!(response.status(), 200);
    json(&response)["token"].as_str().unwrap().to_owned()
}

async fn create(state: &State, token: &str) -> (u16, String) {
    let response = invoke(
        "create-meeting",
        state,
        request("POST", "/create-meeting", Some(token)),
    )
    .await;
    let id = json(&response)["meetingId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (response.status().as_u16(), id)
}

async fn validate(state: &State, token: &str, id: &str) -> u16 {
    let path = format!("/validate-meeting/{id}");
    let response = invoke(
        "validate-meeting",
        state,
        request("POST", &path, Some(token)),
    )
    .await;
    response.status().as_u16()
}

async fn put(moto: &MotoServer, secret_key: &str) {
    moto.client()
        .await
        .put_secret_value()
        .secret_id(SECRET)
        .secret_string(stored(secret_key))
        .send()
        .await
        .expect("moto stores the new version");
}

/// A function's state reading `SECRET` from moto, refreshing every `refresh_seconds` (blank: the
/// default).
async fn warm_function(moto: &MotoServer, refresh_seconds: &str) -> State {
    api_tests::secrets_manager_state(&moto.endpoint, SECRET, refresh_seconds).await
}

#[tokio::test]
#[ignore = "needs the test tools; scripts/test runs it"]
async fn a_warm_function_follows_rotations_without_a_failed_request() {
    let moto = MotoServer::start();
    moto.create_secret(SECRET, &stored("secret-one")).await;
    // 0: re-read the secret on every request, so the test needs no waiting.
    let state = warm_function(&moto, "0").await;

    let token_one = new_token(&state).await;
    assert!(keys("secret-one").verify_at(&token_one, unix_now()).is_ok());
    let (status, id_one) = create(&state, &token_one).await;
    assert_eq!(status, 200);

    put(&moto, "secret-two").await;
    let token_two = new_token(&state).await;
    assert!(
        keys("secret-two").verify_at(&token_two, unix_now()).is_ok(),
        "signs with the new version"
    );
    assert_eq!(
        keys("secret-one").verify_at(&token_two, unix_now()),
        Err(TokenError::BadSignature)
    );
    // What the previous version made keeps working until it expires.
    let (status, id_two) = create(&state, &token_one).await;
    assert_eq!(
        status, 200,
        "a token of the previous version is still accepted"
    );
    assert_eq!(validate(&state, &token_one, &id_one).await, 200);
    assert_eq!(validate(&state, &token_two, &id_one).await, 200);
    assert_eq!(validate(&state, &token_two, &id_two).await, 200);

    put(&moto, "secret-three").await;
    let token_three = new_token(&state).await;
    assert!(
        keys("secret-three")
            .verify_at(&token_three, unix_now())
            .is_ok()
    );
    // Two versions back: refused.
    assert_eq!(create(&state, &token_one).await.0, 401);
    assert_eq!(validate(&state, &token_three, &id_one).await, 404);
    assert_eq!(validate(&state, &token_two, &id_two).await, 200);

    // Secrets Manager loses the secret: refreshes fail, the function keeps its keys and serves.
    moto.client()
        .await
        .delete_secret()
        .secret_id(SECRET)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    let token_four = new_token(&state).await;
    assert!(
        keys("secret-three")
            .verify_at(&token_four, unix_now())
            .is_ok()
    );
    assert_eq!(create(&state, &token_three).await.0, 200);
}

#[tokio::test]
#[ignore = "needs the test tools; scripts/test runs it"]
async fn between_refreshes_the_secret_is_not_read_again() {
    let moto = MotoServer::start();
    moto.create_secret(SECRET, &stored("secret-one")).await;
    // The default interval, 300 s: no refresh within this test.
    let state = warm_function(&moto, "").await;
    put(&moto, "secret-two").await;
    let token = new_token(&state).await;
    assert!(
        keys("secret-one").verify_at(&token, unix_now()).is_ok(),
        "still the version read at cold start"
    );
    let cold = warm_function(&moto, "").await;
    assert!(
        keys("secret-two")
            .verify_at(&new_token(&cold).await, unix_now())
            .is_ok()
    );
}

/// Secrets Manager as a stand-in that answers `AWSCURRENT` with `current` and `AWSPREVIOUS` as
/// `previous` says: the key, throttled, or not found.
mod faulty_secrets_manager {
    use serde_json::json;
    use wiremock::matchers::{body_string_contains, header, method};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    pub(super) enum Previous<'a> {
        Key(&'a str),
        Throttled,
        NotFound,
    }

    fn secret(stored: String, stage: &str) -> ResponseTemplate {
        ResponseTemplate::new(200)
            .insert_header("content-type", "application/x-amz-json-1.1")
            .set_body_json(json!({
                "ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:videosdk/rotating-AbCdEf",
                "Name": super::SECRET,
                "VersionId": format!("version-{stage}"),
                "SecretString": stored,
                "VersionStages": [stage],
                "CreatedDate": 1_800_000_000.0
            }))
    }

    fn refusal(error_type: &str) -> ResponseTemplate {
        ResponseTemplate::new(400)
            .insert_header("content-type", "application/x-amz-json-1.1")
            .insert_header("x-amzn-errortype", error_type)
            .set_body_json(json!({ "__type": error_type, "message": "from the stand-in" }))
    }

    /// Serves `current` and `previous` from now on.
    pub(super) async fn serve(server: &MockServer, current: &str, previous: Previous<'_>) {
        server.reset().await;
        let get = || {
            Mock::given(method("POST")).and(header("x-amz-target", "secretsmanager.GetSecretValue"))
        };
        get()
            .and(body_string_contains("AWSCURRENT"))
            .respond_with(secret(super::stored(current), "AWSCURRENT"))
            .mount(server)
            .await;
        let previous = match previous {
            Previous::Key(key) => secret(super::stored(key), "AWSPREVIOUS"),
            Previous::Throttled => refusal("ThrottlingException"),
            Previous::NotFound => refusal("ResourceNotFoundException"),
        };
        get()
            .and(body_string_contains("AWSPREVIOUS"))
            .respond_with(previous)
            .mount(server)
            .await;
    }
}

#[tokio::test]
async fn a_transient_failure_to_read_the_previous_version_keeps_its_keys() {
    use faulty_secrets_manager::{Previous, serve};
    let server = wiremock::MockServer::start().await;
    serve(&server, "secret-two", Previous::Key("secret-one")).await;
    // Read the secret on every request.
    let state = api_tests::secrets_manager_state(&server.uri(), SECRET, "0").await;
    let claims = keys("secret-two")
        .verify_at(&new_token(&state).await, unix_now())
        .expect("signed with the current version");
    let previous_token = keys("secret-one").sign(&claims).unwrap();
    let (status, previous_id) = create(&state, &previous_token).await;
    assert_eq!(status, 200, "the previous version is held");

    // Throttled: every request reads the secret again, and the previous keys stay.
    serve(&server, "secret-two", Previous::Throttled).await;
    assert_eq!(create(&state, &previous_token).await.0, 200);
    assert_eq!(validate(&state, &previous_token, &previous_id).await, 200);

    // A definite "no previous version": now they go.
    serve(&server, "secret-two", Previous::NotFound).await;
    assert_eq!(create(&state, &previous_token).await.0, 401);
    let current_token = new_token(&state).await;
    assert_eq!(create(&state, &current_token).await.0, 200);
}
