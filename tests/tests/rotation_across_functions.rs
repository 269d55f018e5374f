//! A rotation fails no request between separate function instances, each with its own keys and
//! refresh timer, as in Lambda: the real binaries under `cargo lambda watch` (one process per
//! function), the secret in moto, two deployments' worth of instances: `stale` started before
//! the rotation, `fresh` after it. And forged tokens cannot make a function call Secrets Manager
//! more often than once per `MISS_REFRESH_INTERVAL`.

use std::time::{Duration, Instant};

use api_tests::local_api::http_client;
use api_tests::{LocalApi, MotoServer, aws_test_environment};
use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::credentials::ApiCredentials;
use shared::domain::token::TokenKeys;
use shared::domain::unix_now;

const SECRET: &str = "videosdk/rotating";
const API_KEY: &str = "rotating-api-key";
/// The refresh of a function that met an unknown key happens at most this often (the
/// functions' `MISS_REFRESH_INTERVAL`).
const MISS_REFRESH_INTERVAL: Duration = Duration::from_secs(5);

fn stored(secret_key: &str) -> String {
    json!({"VIDEOSDK_API_KEY": API_KEY, "VIDEOSDK_SECRET_KEY": secret_key}).to_string()
}

fn keys(secret_key: &str) -> TokenKeys {
    TokenKeys::new(&ApiCredentials::new(API_KEY, secret_key)).unwrap()
}

/// The local API reading `SECRET` from moto, with the default refresh interval (300 s: no
/// timed refresh happens during the test), and local meeting ids, whose tags depend on the key.
fn deployment(moto: &MotoServer) -> LocalApi {
    let mut environment = aws_test_environment(&moto.endpoint);
    environment.extend([
        ("VIDEOSDK_SECRET_ID", SECRET.to_owned()),
        ("MEETING_BACKEND", "local".to_owned()),
    ]);
    LocalApi::start(&environment, false)
}

struct Caller {
    client: reqwest::Client,
}

impl Caller {
    async fn call(
        &self,
        api: &LocalApi,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> (u16, Value) {
        let mut request = self.client.request(method, api.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("the local API answers");
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    async fn token(&self, api: &LocalApi) -> String {
        let (status, body) = self.call(api, Method::GET, "/get-token", None).await;
        assert_eq!(status, 200, "{body}\n{}", api.log());
        body["token"].as_str().expect("a token").to_owned()
    }

    async fn create(&self, api: &LocalApi, token: &str) -> String {
        let (status, body) = self
            .call(api, Method::POST, "/create-meeting", Some(token))
            .await;
        assert_eq!(status, 200, "{body}\n{}", api.log());
        body["meetingId"].as_str().expect("a meeting id").to_owned()
    }

    async fn validate(&self, api: &LocalApi, id: &str, token: &str) {
        let (status, body) = self
            .call(
                api,
                Method::POST,
                &format!("/validate-meeting/{id}"),
                Some(token),
            )
            .await;
        assert_eq!(status, 200, "{id}: {body}\n{}", api.log());
    }
}

#[tokio::test]
#[ignore = "needs the test tools; scripts/test runs it"]
async fn a_rotation_fails_no_request_between_separate_functions() {
    let moto = MotoServer::start();
    moto.create_secret(SECRET, &stored("secret-one")).await;
    let caller = Caller {
        client: http_client(),
    };

    // Before the rotation: each function of `stale` starts and reads the first key.
    let stale = deployment(&moto);
    let token_one = caller.token(&stale).await;
    assert!(keys("secret-one").verify_at(&token_one, unix_now()).is_ok());
    let id_one = caller.create(&stale, &token_one).await;
    caller.validate(&stale, &id_one, &token_one).await;

    moto.rotate_secret(SECRET, &stored("secret-two")).await;
    // After it: `fresh` reads the second key, with the first as the previous one.
    let fresh = deployment(&moto);

    // A meeting id made under the new key, at an instance that has not seen it: the token is
    // one it knows (stale get-token still signs with the first key), the id is not.
    let token_stale = caller.token(&stale).await;
    assert!(
        keys("secret-one")
            .verify_at(&token_stale, unix_now())
            .is_ok(),
        "the stale get-token still signs with the first key"
    );
    let id_two = caller.create(&fresh, &token_stale).await;
    caller.validate(&stale, &id_two, &token_stale).await;

    // A token signed with the new key, at a create-meeting that has not seen it.
    let token_two = caller.token(&fresh).await;
    assert!(keys("secret-two").verify_at(&token_two, unix_now()).is_ok());
    let id_three = caller.create(&stale, &token_two).await;
    caller.validate(&stale, &id_three, &token_two).await;
    caller.validate(&fresh, &id_three, &token_two).await;

    // The reverse: what stale instances make works at fresh ones (the previous key).
    caller.validate(&fresh, &id_one, &token_stale).await;
    let id_four = caller.create(&fresh, &token_stale).await;
    caller.validate(&fresh, &id_four, &token_one).await;

    // The stale functions that met the new key read the secret again, once each.
    let log = stale.log();
    let refreshes: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("secret refreshed") && line.contains("UnknownKey"))
        .collect();
    assert_eq!(refreshes.len(), 2, "{refreshes:#?}");
    assert!(
        refreshes.iter().all(|line| line.contains("changed=true")),
        "{refreshes:#?}"
    );
}

#[tokio::test]
#[ignore = "needs the test tools; scripts/test runs it"]
async fn forged_tokens_read_the_secret_at_most_once_per_interval() {
    let moto = MotoServer::start();
    moto.create_secret(SECRET, &stored("secret-one")).await;
    let api = deployment(&moto);
    let caller = Caller {
        client: http_client(),
    };
    // Start create-meeting (its cold start reads the secret) before counting.
    let token = caller.token(&api).await;
    caller.create(&api, &token).await;

    let claims = keys("secret-one").verify_at(&token, unix_now()).unwrap();
    let forged_token = keys("a-secret-that-is-not-the-one").sign(&claims).unwrap();
    moto.record_requests().await;
    let started = Instant::now();
    let attempts = 60;
    for _ in 0..attempts {
        let (status, body) = caller
            .call(&api, Method::POST, "/create-meeting", Some(&forged_token))
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (401, Some("invalid_signature"))
        );
    }
    let elapsed = started.elapsed();
    let calls = moto.get_secret_value_calls().await;

    // Each refresh reads two versions (AWSCURRENT and AWSPREVIOUS).
    let windows =
        (elapsed.as_secs_f64() / MISS_REFRESH_INTERVAL.as_secs_f64()).floor() as usize + 1;
    println!(
        "{attempts} forged tokens in {:.1} s: {calls} GetSecretValue calls (at most {})",
        elapsed.as_secs_f64(),
        2 * windows
    );
    assert!(
        calls >= 2,
        "the first unknown signature reads the secret again"
    );
    assert!(
        calls <= 2 * windows,
        "{calls} GetSecretValue calls in {elapsed:?}: more than one refresh per {MISS_REFRESH_INTERVAL:?}"
    );
}
