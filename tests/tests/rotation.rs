//! Secret rotation against a real Secrets Manager API (moto_server): a warm function picks up
//! the new version, keeps accepting what the previous version made, refuses anything older, and
//! keeps serving when a refresh fails.

use api_tests::{ApiState as State, MotoServer, aws_test_environment, invoke, json};
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
    let mut environment = aws_test_environment(&moto.endpoint);
    environment.extend([
        ("VIDEOSDK_SECRET_ID", SECRET.to_owned()),
        ("SECRET_REFRESH_SECONDS", refresh_seconds.to_owned()),
        ("MEETING_BACKEND", "local".to_owned()),
    ]);
    let pairs: Vec<(&str, &str)> = environment
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    api_tests::state(&pairs).await
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
