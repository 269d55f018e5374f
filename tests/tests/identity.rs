//! Who gets which token (docs/security.md, "Signed-in callers"): behind API Gateway's JWT
//! authorizer the participant id is the caller's identity claim and `allow_mod` is for
//! moderators; without claims, the anonymous rules. Through the handlers with events shaped as
//! HTTP API sends them, and end to end with real Cognito tokens from moto through the real binary.

use api_tests::authorizer::{SignedIn, jwt_payload};
use api_tests::events::{create_meeting_event, get_token_event};
use api_tests::{LocalApi, MotoServer, dev_credentials, dev_state, json, verified_by_videosdk};
use serde_json::{Value, json};
use shared::domain::unix_now;

const MODERATED: [(&str, &str); 2] = [
    ("ALLOWED_PERMISSIONS", "allow_join,ask_join,allow_mod"),
    ("MODERATOR_GROUPS", "moderators"),
];

/// get-token's answer to `event` on a development state with `settings`.
async fn answer(settings: &[(&str, &str)], event: Value) -> (u16, Value) {
    let state = dev_state(settings).await;
    let request = shared::aws::lambda::into_request(
        serde_json::from_value(event).expect("a payload 2.0 event"),
    )
    .expect("a valid event");
    let response = api_tests::invoke("get-token", &state, request).await;
    (response.status().as_u16(), json(&response))
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn the_participant_id_is_the_callers_identity_claim() {
    let caller = SignedIn::with_claims(&json!({"sub": "auth0|5f7c8ec7",
        "email": "a@example.com", "email_verified": true}));
    let authorizer = Some(&caller);
    let (status, body) = answer(&MODERATED, get_token_event(&[], authorizer)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["participantId"], "auth0|5f7c8ec7");
    assert_eq!(
        verified_by_videosdk(body["token"].as_str().unwrap())["participantId"],
        "auth0|5f7c8ec7"
    );

    let same = [("participantId", "auth0|5f7c8ec7")];
    let (status, _) = answer(&MODERATED, get_token_event(&same, authorizer)).await;
    assert_eq!(status, 200);
    for other in [
        &[("participantId", "alice")][..],
        &[("peerId", "auth0|other")],
    ] {
        let (status, body) = answer(&MODERATED, get_token_event(other, authorizer)).await;
        assert_eq!(
            (status, code(&body)),
            (403, "identity_mismatch"),
            "{other:?}"
        );
    }

    // Another claim, when the operator names it.
    let by_email = [("IDENTITY_CLAIM", "email")];
    let (status, body) = answer(&by_email, get_token_event(&[], authorizer)).await;
    assert_eq!(
        (status, &body["participantId"]),
        (200, &json!("a@example.com"))
    );
}

#[tokio::test]
async fn a_missing_or_unusable_identity_claim_is_403_naming_it() {
    for caller in [
        json!({"email": "a@example.com"}),
        json!({"sub": ["a", "b"]}),
        json!({"sub": "x".repeat(129)}),
    ] {
        let event = get_token_event(&[], Some(&SignedIn::with_claims(&caller)));
        let (status, body) = answer(&MODERATED, event).await;
        assert_eq!(
            (status, code(&body)),
            (403, "identity_claim_unusable"),
            "{caller}"
        );
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("\"sub\""),
            "{body}"
        );
    }
}

#[tokio::test]
async fn allow_mod_is_for_moderator_groups_in_both_forms_and_moderator_scopes() {
    let moderate = [("permissions", "allow_join,allow_mod")];
    let scoped = [
        MODERATED[0],
        MODERATED[1],
        ("MODERATOR_SCOPES", "videosdk/moderate"),
    ];
    for caller in [
        json!({"sub": "m", "cognito:groups": ["admins", "moderators"]}),
        json!({"sub": "m", "cognito:groups": "moderators"}),
        json!({"sub": "m", "scope": "openid videosdk/moderate"}),
    ] {
        let event = get_token_event(&moderate, Some(&SignedIn::with_claims(&caller)));
        let (status, body) = answer(&scoped, event).await;
        assert_eq!(status, 200, "{caller}: {body}");
        assert_eq!(
            verified_by_videosdk(body["token"].as_str().unwrap())["permissions"],
            json!(["allow_join", "allow_mod"]),
            "{caller}"
        );
    }
    for caller in [
        json!({"sub": "u", "cognito:groups": ["players"]}),
        json!({"sub": "u", "cognito:groups": "moderators-to-be"}),
        json!({"sub": "u", "scope": "openid"}),
    ] {
        let event = get_token_event(&moderate, Some(&SignedIn::with_claims(&caller)));
        let (status, body) = answer(&scoped, event).await;
        assert_eq!(
            (status, code(&body)),
            (403, "permission_not_allowed"),
            "{caller}"
        );
    }
    // Anonymous callers are not moderators either, once moderators are named.
    let (status, body) = answer(&scoped, get_token_event(&moderate, None)).await;
    assert_eq!((status, code(&body)), (403, "permission_not_allowed"));
}

#[tokio::test]
async fn allow_mod_alone_is_400_saying_to_add_allow_join() {
    let (status, body) = answer(
        &MODERATED,
        get_token_event(&[("permissions", "allow_mod")], None),
    )
    .await;
    assert_eq!((status, code(&body)), (400, "invalid_permissions"));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("allow_join")
    );
}

#[tokio::test]
async fn without_claims_identity_can_be_required_or_generated() {
    let required = [("REQUIRE_IDENTITY", "true")];
    let (status, body) = answer(&required, get_token_event(&[], None)).await;
    assert_eq!((status, code(&body)), (401, "identity_required"));

    let generated = [("ANONYMOUS_PARTICIPANT_IDS", "generate")];
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (status, body) = answer(&generated, get_token_event(&[], None)).await;
        assert_eq!(status, 200);
        let id = verified_by_videosdk(body["token"].as_str().unwrap())["participantId"].clone();
        assert_eq!(id, body["participantId"]);
        ids.push(id);
    }
    ids.sort_by_key(Value::to_string);
    ids.dedup();
    assert_eq!(ids.len(), 3, "every guest gets an id of their own: {ids:?}");
    let (status, body) = answer(
        &generated,
        get_token_event(&[("participantId", "alice")], None),
    )
    .await;
    assert_eq!((status, code(&body)), (403, "participant_id_not_allowed"));

    // The seed's default: the caller names an id, as identity providers write them, or none.
    let (status, body) = answer(
        &[],
        get_token_event(&[("peerId", "google-oauth2:1034")], None),
    )
    .await;
    assert_eq!(
        (status, &body["participantId"]),
        (200, &json!("google-oauth2:1034"))
    );
    let (status, body) = answer(&[], get_token_event(&[], None)).await;
    assert_eq!(status, 200);
    assert!(body.get("participantId").is_none(), "{body}");
    let too_long = "x".repeat(129);
    let (status, body) = answer(&[], get_token_event(&[("participantId", &too_long)], None)).await;
    assert_eq!((status, code(&body)), (400, "invalid_participant_id"));
}

#[tokio::test]
#[ignore = "needs the test tools; scripts/test runs it"]
async fn cognito_users_get_their_own_tokens_through_the_real_binary() {
    let moto = MotoServer::start();
    let tokens = moto.cognito_tokens();
    let api = LocalApi::start(
        &[
            (
                "ALLOWED_PERMISSIONS",
                "allow_join,ask_join,allow_mod".to_owned(),
            ),
            ("MODERATOR_GROUPS", "moderators".to_owned()),
            ("REQUIRE_IDENTITY", "true".to_owned()),
        ],
        true,
    );
    let invoke = |name: &str, query: &[(&str, &str)], token: Option<&str>| {
        let caller = token.map(SignedIn::new);
        api.answer("get-token", name, &get_token_event(query, caller.as_ref()))
    };
    let sub = |token: &Value| jwt_payload(token.as_str().unwrap())["sub"].clone();
    let moderate = [("permissions", "allow_join,allow_mod")];
    let secret = std::str::from_utf8(dev_credentials().secret_key())
        .unwrap()
        .to_owned();

    for kind in ["id", "access"] {
        let token = tokens["moderator"][kind].as_str().unwrap();
        let (status, body) = invoke(&format!("moderator-{kind}"), &moderate, Some(token));
        assert_eq!(status, 200, "{kind}: {body}\n{}", api.log());
        let issued = body["token"].as_str().unwrap();
        let claims = verified_by_videosdk(issued);
        assert_eq!(
            claims["participantId"],
            sub(&tokens["moderator"][kind]),
            "{kind}"
        );
        assert_eq!(claims["permissions"], json!(["allow_join", "allow_mod"]));
        assert_eq!(claims["roles"], json!(["rtc"]));
        assert!(claims["exp"].as_u64().unwrap() > unix_now());
        // VideoSDK's Node server SDK reads the same claims.
        let node = api_tests::node_oracle(
            &json!({"command": "verify-token", "token": issued, "secret": secret}),
        );
        assert_eq!(
            node["claims"]["participantId"], claims["participantId"],
            "{node}"
        );
        assert_eq!(
            node["claims"]["permissions"], claims["permissions"],
            "{node}"
        );
    }

    let member = tokens["member"]["id"].as_str().unwrap();
    let (status, body) = invoke("member", &[], Some(member));
    assert_eq!(status, 200, "{body}");
    let claims = verified_by_videosdk(body["token"].as_str().unwrap());
    assert_eq!(claims["participantId"], sub(&tokens["member"]["id"]));
    assert_eq!(claims["permissions"], json!(["allow_join"]));

    let (status, body) = invoke("member-moderating", &moderate, Some(member));
    assert_eq!(
        (status, code(&body)),
        (403, "permission_not_allowed"),
        "{body}"
    );
    let moderator_sub = sub(&tokens["moderator"]["id"]);
    let as_moderator = [("participantId", moderator_sub.as_str().unwrap())];
    let (status, body) = invoke("member-as-moderator", &as_moderator, Some(member));
    assert_eq!((status, code(&body)), (403, "identity_mismatch"), "{body}");
    let (status, body) = invoke("no-claims", &[], None);
    assert_eq!((status, code(&body)), (401, "identity_required"), "{body}");

    // No token and no claim reached the log.
    let log = api.log();
    for token in [member, tokens["moderator"]["id"].as_str().unwrap()] {
        assert!(!log.contains(token), "a Cognito token reached the log");
    }
    assert!(
        !log.contains(moderator_sub.as_str().unwrap()),
        "an identity reached the log"
    );
}

/// Cognito's tokens as deployed, on routes without authorization scopes: HTTP API hands the
/// functions `"scopes": null`, so the moderator scope is read from the access token's `scope`
/// claim; and the room-creation rule holds at create-meeting, whose only input is our token.
#[tokio::test]
#[ignore = "needs the test tools; scripts/test runs it"]
async fn scopes_come_from_the_token_and_room_creation_holds_at_create_meeting_through_the_real_binaries()
 {
    let moto = MotoServer::start();
    let tokens = moto.cognito_tokens();
    // Every access token of the pool carries this scope; ID tokens carry none.
    let scope = jwt_payload(tokens["member"]["access"].as_str().unwrap())["scope"]
        .as_str()
        .expect("Cognito's access tokens have a scope")
        .to_owned();
    let api = LocalApi::start(
        &[
            ("ALLOWED_PERMISSIONS", "allow_join,allow_mod".to_owned()),
            ("MODERATOR_SCOPES", scope),
            ("REQUIRE_IDENTITY", "true".to_owned()),
            ("ROOM_CREATORS", "moderators".to_owned()),
        ],
        true,
    );
    let invoke = |function: &str, name: &str, event: Value| api.answer(function, name, &event);
    let moderate = [("permissions", "allow_join,allow_mod")];
    let get_token = |name: &str, query: &[(&str, &str)], token: &str| {
        let caller = SignedIn::new(token);
        assert_eq!(caller.authorizer["jwt"]["scopes"], Value::Null);
        invoke("get-token", name, get_token_event(query, Some(&caller)))
    };

    // The member's access token holds the scope: allow_mod, and with it a room.
    let access = tokens["member"]["access"].as_str().unwrap();
    let (status, body) = get_token("access", &moderate, access);
    assert_eq!(status, 200, "{body}\n{}", api.log());
    let moderator_token = body["token"].as_str().unwrap().to_owned();
    assert_eq!(
        verified_by_videosdk(&moderator_token)["permissions"],
        json!(["allow_join", "allow_mod"])
    );
    let (status, body) = invoke(
        "create-meeting",
        "create-as-moderator",
        create_meeting_event(&moderator_token, None),
    );
    assert_eq!(status, 200, "{body}");

    // The member's ID token holds no scope: no allow_mod, and their token creates no room.
    let id = tokens["member"]["id"].as_str().unwrap();
    let (status, body) = get_token("id-moderating", &moderate, id);
    assert_eq!(
        (status, code(&body)),
        (403, "permission_not_allowed"),
        "{body}"
    );
    // Under the authorizer a member gets no token without a room (it would admit to every room,
    // past any ban: docs/moderation.md); a token of ours without allow_mod, as an open
    // configuration issues it, still creates no room.
    let (status, body) = get_token("id", &[], id);
    assert_eq!((status, code(&body)), (403, "room_required"), "{body}");
    let member_token = api_tests::events::development_token("allow_join");
    let custom = json!({"customRoomId": "standup"});
    let (status, body) = invoke(
        "create-meeting",
        "create-as-member",
        create_meeting_event(&member_token, Some(&custom)),
    );
    assert_eq!(
        (status, code(&body)),
        (403, "room_creation_not_allowed"),
        "{body}"
    );
}

/// With another identity claim configured, each refusal names that claim, never `sub`: the
/// caller is told which claim of their token to fix.
#[tokio::test]
async fn refusals_name_the_configured_identity_claim() {
    let by_email = [("IDENTITY_CLAIM", "email")];
    for (caller, query, expected) in [
        (
            json!({"sub": "auth0|1"}),
            &[][..],
            "identity_claim_unusable",
        ),
        (
            json!({"sub": "auth0|1", "email": "a b@example.com"}),
            &[],
            "identity_claim_unusable",
        ),
        (
            json!({"sub": "auth0|1", "email": "a@example.com", "email_verified": true}),
            &[("participantId", "auth0|1")],
            "identity_mismatch",
        ),
        (
            json!({"sub": "auth0|1", "email": "a@example.com", "email_verified": false}),
            &[],
            "identity_claim_unverified",
        ),
    ] {
        let event = get_token_event(query, Some(&SignedIn::with_claims(&caller)));
        let (status, body) = answer(&by_email, event).await;
        assert_eq!((status, code(&body)), (403, expected), "{caller}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("\"email\"") && !message.contains("sub"),
            "{caller}: {body}"
        );
    }
}
