//! The check after a deploy (`docs/deploying.md`, step 5) tells a working key from the
//! placeholder the stack's own secret starts with: the same call, `POST /join` with no body,
//! against the real functions under `cargo lambda watch` with the VideoSDK backend pointed at a
//! stand-in for VideoSDK's API that checks every call's token as VideoSDK does. With the
//! placeholder key it answers 502 `upstream_auth_failed` (and `GET /get-token` still answers a
//! token, which is why that is no check); with the account's key, a room VideoSDK made.

use api_tests::local_api::{LocalApi, http_client};
use api_tests::videosdk_stand_in::VideoSdkStandIn;
use serde_json::Value;

/// What the stack's secret holds until the key is put in it: `template.yaml`'s
/// `SecretStringTemplate` key, and a generated secret of 32 letters and digits.
const PLACEHOLDER_KEY: &str = "REPLACE_ME";
const GENERATED_SECRET: &str = "q8Vd2LrT0kXw5NbY7cJm3HsA9pEz1GfU";

async fn join(api: &LocalApi) -> (u16, Value) {
    let response = http_client()
        .post(api.url("/join"))
        .send()
        .await
        .expect("the local API answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON answer"))
}

#[tokio::test]
#[ignore = "needs the test tools; scripts/test runs it"]
async fn the_smoke_check_fails_plainly_with_the_placeholder_key_and_passes_with_the_real_one() {
    let template = std::fs::read_to_string(api_tests::workspace_root().join("template.yaml"))
        .expect("template.yaml");
    assert!(
        template.contains(&format!("'{{\"VIDEOSDK_API_KEY\":\"{PLACEHOLDER_KEY}\"}}'")),
        "the stack's secret starts with the placeholder key {PLACEHOLDER_KEY}"
    );
    let videosdk = VideoSdkStandIn::development().await;
    let backend = |key: &str, secret: &str| {
        vec![
            ("MEETING_BACKEND", "videosdk".to_owned()),
            ("VIDEOSDK_API_ENDPOINT", videosdk.uri()),
            ("VIDEOSDK_API_KEY", key.to_owned()),
            ("VIDEOSDK_SECRET_KEY", secret.to_owned()),
        ]
    };

    let placeholder = LocalApi::start(&backend(PLACEHOLDER_KEY, GENERATED_SECRET), false);
    let (status, body) = join(&placeholder).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (502, Some("upstream_auth_failed")),
        "{body}\n{}",
        placeholder.log()
    );
    assert_eq!(videosdk.room_count(), 0);
    let token = http_client()
        .get(placeholder.url("/get-token"))
        .send()
        .await
        .expect("the local API answers");
    assert_eq!(
        token.status(),
        200,
        "get-token signs with any key: no check"
    );
    drop(placeholder);

    let credentials = api_tests::dev_credentials();
    let working = LocalApi::start(
        &backend(
            credentials.api_key(),
            &String::from_utf8_lossy(credentials.secret_key()),
        ),
        false,
    );
    let (status, body) = join(&working).await;
    assert_eq!(status, 200, "{body}\n{}", working.log());
    assert_eq!(videosdk.room_count(), 1);
    assert!(
        body["token"]
            .as_str()
            .is_some_and(|token| token.starts_with("eyJ"))
    );
}
