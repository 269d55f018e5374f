//! A token from get-token is a VideoSDK token: the official server SDK (`videosdk-server-sdk`)
//! verifies it with the account's secret and reads back the same claims.

use api_tests::{claims_of, dev_credentials, dev_state, invoke, json};
use lambda_http::Body;
use lambda_http::http::Request;
use shared::domain::unix_now;

#[tokio::test]
async fn the_official_sdk_verifies_our_tokens_and_reads_the_same_claims() {
    let state = dev_state(&[("ALLOWED_PERMISSIONS", "allow_join,allow_mod,ask_join")]).await;
    let credentials = dev_credentials();
    let secret = std::str::from_utf8(credentials.secret_key()).unwrap();
    for query in [
        "",
        "permissions=allow_join,allow_mod&roomId=abcd-efgh-ijkl&participantId=alice",
        "permissions=ask_join",
    ] {
        let request = api_tests::get_token_request(query);
        let response = invoke("get-token", &state, request).await;
        assert_eq!(response.status(), 200, "{query:?}");
        let token = json(&response)["token"].as_str().unwrap().to_owned();

        let ours = state.keys().await.verify_at(&token, unix_now()).unwrap();
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

/// The claims of a JWT, without checking anything (both sides are verified elsewhere).
/// The claims apart from the times, which differ between any two tokens.
fn timeless(token: &str) -> serde_json::Value {
    let mut claims = claims_of(token);
    let object = claims.as_object_mut().expect("an object");
    assert!(object.remove("iat").is_some() && object.remove("exp").is_some());
    claims
}

/// VideoSDK's Node server SDK (npm `@videosdk.live/server-sdk`) mints, for the same key,
/// permissions, room and participant, a participant token (`accessToken()`) with the claims of
/// ours, and a management token (`forApi()`) with the claims of the one this service sends to
/// VideoSDK's REST API.
#[tokio::test]
#[ignore = "needs the test tools; scripts/test runs it"]
async fn our_tokens_have_the_claims_of_the_node_sdks() {
    let videosdk = api_tests::VideoSdkStandIn::start(
        dev_credentials().api_key(),
        std::str::from_utf8(dev_credentials().secret_key()).unwrap(),
    )
    .await;
    let state = dev_state(&[
        ("ALLOWED_PERMISSIONS", "allow_join,allow_mod,ask_join"),
        ("MEETING_BACKEND", "videosdk"),
        ("VIDEOSDK_API_ENDPOINT", &videosdk.uri()),
    ])
    .await;
    let credentials = dev_credentials();
    let secret = std::str::from_utf8(credentials.secret_key()).unwrap();
    let cases: [(&[&str], Option<&str>, Option<&str>); 5] = [
        (&["allow_join"], None, None),
        (
            &["allow_join", "allow_mod"],
            Some("abcd-efgh-ijkl"),
            Some("alice"),
        ),
        (&["ask_join"], Some("abcd-efgh-ijkl"), None),
        (&["allow_join"], None, Some("bob_2")),
        (
            &["allow_join", "allow_mod"],
            Some("room-1"),
            Some("auth0|carol"),
        ),
    ];
    let mut api_token = None;
    for (permissions, room, participant) in cases {
        let mut query = format!("permissions={}", permissions.join(","));
        if let Some(room) = room {
            query.push_str(&format!("&roomId={room}"));
        }
        if let Some(participant) = participant {
            query.push_str(&format!("&participantId={participant}"));
        }
        let request = api_tests::get_token_request(&query);
        let response = invoke("get-token", &state, request).await;
        assert_eq!(response.status(), 200, "{permissions:?}");
        let ours = json(&response)["token"].as_str().unwrap().to_owned();

        let theirs = api_tests::node_oracle(&serde_json::json!({
            "command": "tokens",
            "apiKey": credentials.api_key(),
            "secret": secret,
            "permissions": permissions,
            "roomId": room,
            "participantId": participant,
        }));
        let participant_token = theirs["participant"].as_str().unwrap();
        assert_eq!(
            timeless(&ours),
            timeless(participant_token),
            "{permissions:?} {room:?} {participant:?}"
        );
        api_token = theirs["api"].as_str().map(str::to_owned);
    }

    // The token create-meeting sends to VideoSDK, as VideoSDK received it.
    let caller = {
        let request = api_tests::get_token_request("");
        json(&invoke("get-token", &state, request).await)["token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let request = Request::builder()
        .method("POST")
        .uri("https://api.example/create-meeting")
        .header("authorization", format!("Bearer {caller}"))
        .body(Body::Empty)
        .unwrap();
    let response = invoke("create-meeting", &state, request).await;
    assert_eq!(response.status(), 200, "{:?}", response.body());
    let calls = videosdk.calls();
    let sent = calls[0].authorization.as_deref().expect("a token was sent");
    assert!(calls[0].authorized, "VideoSDK's checks refused it");
    assert_eq!(
        timeless(sent),
        timeless(&api_token.expect("the Node SDK's forApi() token"))
    );
    assert!(
        !String::from_utf8_lossy(response.body().as_ref()).contains(sent),
        "the management token is never returned"
    );
}
