//! A token from get-token is a VideoSDK token: the official server SDK (`videosdk-server-sdk`)
//! verifies it with the account's secret and reads back the same claims.

use api_tests::{dev_credentials, dev_state, invoke, json};
use lambda_http::http::Request;
use lambda_http::{Body, RequestExt};

#[tokio::test]
async fn the_official_sdk_verifies_our_tokens_and_reads_the_same_claims() {
    let state = dev_state(&[("ALLOWED_PERMISSIONS", "allow_join,allow_mod,ask_join")]);
    let credentials = dev_credentials();
    let secret = std::str::from_utf8(credentials.secret_key()).unwrap();
    for query in [
        vec![],
        vec![
            ("permissions", "allow_join,allow_mod"),
            ("roomId", "abcd-efgh-ijkl"),
            ("participantId", "alice"),
        ],
        vec![("permissions", "ask_join")],
    ] {
        let mut map = std::collections::HashMap::<String, Vec<String>>::new();
        for (k, v) in &query {
            map.entry(k.to_string()).or_default().push(v.to_string());
        }
        let request = Request::builder()
            .uri("https://api.example/get-token")
            .body(Body::Empty)
            .unwrap()
            .with_query_string_parameters(map);
        let response = invoke("get-token", &state, request).await;
        assert_eq!(response.status(), 200, "{query:?}");
        let token = json(&response)["token"].as_str().unwrap().to_owned();

        let ours = state.keys().await.verify(&token).unwrap();
        let theirs = videosdk::verify_token(&token, secret).expect("the official SDK verifies it");
        assert_eq!(theirs.api_key.as_deref(), Some(ours.apikey.as_str()));
        let permissions: Vec<String> = ours.permissions.iter().map(|p| p.to_string()).collect();
        assert_eq!(theirs.permissions, permissions);
        assert_eq!(theirs.roles, ours.roles);
        assert_eq!(theirs.version, Some(2));
        assert_eq!(theirs.issued_at, Some(ours.iat as i64));
        assert_eq!(theirs.expires_at, Some(ours.exp as i64));
        assert_eq!(
            theirs.raw.get("roomId").and_then(|v| v.as_str()),
            ours.room_id.as_deref()
        );
        assert_eq!(
            theirs.raw.get("participantId").and_then(|v| v.as_str()),
            ours.participant_id.as_deref()
        );

        assert!(videosdk::verify_token(&token, "another-secret").is_err());
    }
}
