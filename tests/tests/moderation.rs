//! Moderation that holds (issue #30), through the handlers of get-token, join and the moderation
//! function, each on its own function's state as deployed: bans in a DynamoDB table (moto's),
//! the audit trail on an EventBridge bus (moto's, read back through a rule and a queue), rooms
//! and sessions at the VideoSDK stand-in (which checks every call as VideoSDK does), and callers
//! signed in with real Cognito tokens (moto's user pool), as API Gateway's JWT authorizer hands
//! them over. Time, for the bans, is a clock the test moves: a ban ends on time without sleeping.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use api_tests::authorizer::SignedIn;
use api_tests::events::{get_token_event, join_event, moderation_event};
use api_tests::{
    MotoServer, VideoSdkStandIn, aws_test_environment, json, lambda_context_ending_in,
};
use lambda_http::RequestExt;
use serde_json::{Value, json};
use shared::aws::bans::BanTable;
use shared::backends::NoMeetingBackend;
use shared::backends::meetings::MeetingBackend;
use shared::backends::moderation::ModerationBackend;
use shared::domain::moderation::{Ban, MODERATION_EVENT_SOURCE};
use shared::domain::unix_now;
use shared::routes::moderation::{
    DEACTIVATE_ROOM, END_SESSION, LIFT_BAN, LIST_BANS, REMOVE_PARTICIPANT,
};
use shared::routes::{self};
use shared::state::{Backend, State};

const TABLE: &str = "videosdk-bans";
const BUS: &str = "videosdk-moderation-test";

/// The time the states' bans are read and written at.
static NOW: AtomicU64 = AtomicU64::new(0);

fn now() -> u64 {
    NOW.load(Ordering::SeqCst)
}

/// A ban table client of the tests' own, as the functions build theirs.
fn table(moto: &MotoServer) -> BanTable {
    BanTable::new(&api_tests::test_aws_environment(&moto.endpoint), TABLE)
}

fn ban(room: &str, participant: &str, ends_at: u64) -> Ban {
    Ban {
        room_id: room.to_owned(),
        participant_id: participant.to_owned(),
        banned_at: ends_at - 60,
        ends_at,
        banned_by: "moderator".to_owned(),
        reason: Some("spam".to_owned()),
    }
}

#[tokio::test]
#[ignore = "needs the test tools; scripts/test runs it"]
async fn a_ban_holds_until_its_end_though_its_item_stays_and_binds_one_room_and_participant() {
    let moto = MotoServer::start();
    moto.create_bans_table(TABLE).await;
    let bans = table(&moto);
    let t = 1_800_000_000;
    bans.put(&ban("room-a", "member", t + 60)).await.unwrap();
    bans.put(&ban("room-a", "other", t + 10)).await.unwrap();

    let held = bans.active_ban("room-a", "member", t).await.unwrap();
    assert_eq!(held, Some(ban("room-a", "member", t + 60)));
    assert!(
        bans.active_ban("room-a", "member", t + 59)
            .await
            .unwrap()
            .is_some()
    );
    // Ended: the item is still there (TTL deletes lazily), and it bans no one.
    assert_eq!(
        bans.active_ban("room-a", "member", t + 60).await.unwrap(),
        None
    );
    let item = moto
        .dynamodb()
        .get_item()
        .table_name(TABLE)
        .key(
            "roomId",
            aws_sdk_dynamodb::types::AttributeValue::S("room-a".into()),
        )
        .key(
            "participantId",
            aws_sdk_dynamodb::types::AttributeValue::S("member".into()),
        )
        .send()
        .await
        .unwrap();
    assert!(
        item.item().is_some(),
        "the ended ban's item is still stored"
    );
    // Another room, another participant: not banned.
    assert_eq!(bans.active_ban("room-b", "member", t).await.unwrap(), None);
    assert_eq!(bans.active_ban("room-a", "someone", t).await.unwrap(), None);

    let listed = bans.bans_of_room("room-a", t + 20).await.unwrap();
    assert_eq!(
        listed,
        [ban("room-a", "member", t + 60)],
        "only bans that hold"
    );
    assert!(bans.lift("room-a", "member", t).await.unwrap());
    assert!(
        !bans.lift("room-a", "member", t).await.unwrap(),
        "lifted once"
    );
    assert_eq!(bans.active_ban("room-a", "member", t).await.unwrap(), None);

    // A table that cannot be reached is an error, never "not banned".
    let missing = BanTable::new(
        &api_tests::test_aws_environment(&moto.endpoint),
        "no-such-table",
    );
    assert!(missing.active_ban("room-a", "member", t).await.is_err());
}

/// The three functions that make and act on rooms' tokens, each on its own state, as the stack
/// deploys them behind the JWT authorizer.
struct Stack {
    get_token: State<NoMeetingBackend>,
    join: State<MeetingBackend>,
    moderation: State<ModerationBackend>,
}

async fn state<B: Backend>(pairs: &[(&str, String)]) -> State<B> {
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    api_tests::dev_state_of::<B>(&pairs).await.with_clock(now)
}

/// The stack's settings as the template deploys it behind the JWT authorizer, with moto for AWS
/// and the stand-in for VideoSDK (the bus is the moderation function's alone).
fn deployed_environment(
    moto: &MotoServer,
    videosdk: &VideoSdkStandIn,
) -> Vec<(&'static str, String)> {
    let mut environment = aws_test_environment(&moto.endpoint);
    environment.extend([
        ("MEETING_BACKEND", "videosdk".to_owned()),
        ("VIDEOSDK_API_ENDPOINT", videosdk.uri()),
        (
            "ALLOWED_PERMISSIONS",
            "allow_join,ask_join,allow_mod".to_owned(),
        ),
        ("MODERATOR_GROUPS", "moderators".to_owned()),
        ("REQUIRE_IDENTITY", "true".to_owned()),
        ("ROOM_CREATORS", "moderators".to_owned()),
        ("BANS_TABLE_NAME", TABLE.to_owned()),
    ]);
    environment
}

impl Stack {
    async fn start(moto: &MotoServer, videosdk: &VideoSdkStandIn) -> Self {
        let pairs = deployed_environment(moto, videosdk);
        let mut moderation = pairs.clone();
        moderation.push(("EVENT_BUS_NAME", BUS.to_owned()));
        Self {
            get_token: state(&pairs).await,
            join: state(&pairs).await,
            moderation: state(&moderation).await,
        }
    }

    async fn get_token(&self, caller: &SignedIn, room: Option<&str>) -> (u16, Value) {
        let query: Vec<(&str, &str)> = room.map(|room| ("roomId", room)).into_iter().collect();
        let request = request(get_token_event(&query, Some(caller)));
        let Ok(response) = routes::get_token::handler(&self.get_token, request).await;
        (response.status().as_u16(), json(&response))
    }

    async fn join(&self, caller: &SignedIn, body: Value) -> (u16, Value) {
        let request = request(join_event(Some(&body), Some(caller)));
        let Ok(response) = routes::join::handler(&self.join, request).await;
        (response.status().as_u16(), json(&response))
    }

    async fn moderate(
        &self,
        route: &'static shared::http::route::Route,
        caller: &SignedIn,
        input: Value,
    ) -> (u16, Value) {
        let request = request(moderation_event(route, &input, Some(caller), None));
        let Ok(response) = routes::moderation::handler(&self.moderation, request).await;
        (response.status().as_u16(), json(&response))
    }
}

fn request(event: Value) -> lambda_http::Request {
    shared::aws::lambda::into_request(serde_json::from_value(event).expect("an event"))
        .expect("a valid event")
}

fn code(answer: &(u16, Value)) -> (u16, &str) {
    (
        answer.0,
        answer.1["error"]["code"].as_str().unwrap_or_default(),
    )
}

/// The moderation calls VideoSDK received since `from`: (path, body), authorized only.
fn session_calls(videosdk: &VideoSdkStandIn, from: usize) -> Vec<(String, Value)> {
    videosdk.calls()[from..]
        .iter()
        .filter(|call| call.path.starts_with("/v2/sessions") || call.path.ends_with("deactivate"))
        .map(|call| {
            assert!(call.authorized, "{call:?}");
            let authorization = call.authorization.as_deref().unwrap_or_default();
            assert!(
                !authorization.starts_with("Bearer"),
                "a bare management token"
            );
            (call.path.clone(), call.body.clone())
        })
        .collect()
}

/// The stack's bus, in moto.
async fn create_bus(moto: &MotoServer) {
    moto.eventbridge()
        .create_event_bus()
        .name(BUS)
        .send()
        .await
        .expect("moto creates the bus");
}

/// The stack's bus in moto, and a queue its moderation audit events reach; the queue's URL.
async fn audit_queue(moto: &MotoServer) -> String {
    create_bus(moto).await;
    moto.rule_to_queue(
        BUS,
        "moderation-audit",
        &json!({ "source": [MODERATION_EVENT_SOURCE] }).to_string(),
    )
    .await
}

/// moto with the bans table, the stack's bus and a queue its audit events reach (its URL), and
/// the Cognito tokens of moto's user pool.
async fn moto_with_bans() -> (MotoServer, String, Value) {
    let moto = MotoServer::start();
    moto.create_bans_table(TABLE).await;
    let audit = audit_queue(&moto).await;
    let tokens = moto.cognito_tokens();
    (moto, audit, tokens)
}

/// The audit events that reached the queue `audit_queue` made, as EventBridge delivered them.
async fn audit_events(moto: &MotoServer, audit: &str) -> Vec<Value> {
    moto.receive(audit)
        .await
        .iter()
        .map(|body| serde_json::from_str(body).expect("an event"))
        .collect()
}

/// Each audit event's detail type, VideoSDK's outcome and whether the action succeeded.
fn audit_summary(events: &[Value]) -> Vec<(String, String, String)> {
    events
        .iter()
        .map(|event| {
            let detail = &event["detail"];
            (
                event["detail-type"].as_str().unwrap_or_default().to_owned(),
                detail["videosdk"].as_str().unwrap_or_default().to_owned(),
                detail["succeeded"].to_string(),
            )
        })
        .collect()
}

// Multi-threaded: the stand-ins answer the handlers on one worker while this one waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the test tools; scripts/test runs it"]
async fn a_moderator_removes_and_bans_a_member_who_gets_no_token_for_that_room_until_it_ends() {
    let (moto, audit, tokens) = moto_with_bans().await;
    let moderator = SignedIn::new(tokens["moderator"]["id"].as_str().unwrap());
    let member = SignedIn::new(tokens["member"]["id"].as_str().unwrap());
    let member_id = api_tests::claims_of(tokens["member"]["id"].as_str().unwrap())["sub"]
        .as_str()
        .unwrap()
        .to_owned();
    let videosdk = VideoSdkStandIn::development().await;
    let stack = Stack::start(&moto, &videosdk).await;
    let t0 = unix_now();
    NOW.store(t0, Ordering::SeqCst);

    // The moderator opens a named room and another one; the member joins the first.
    let (status, hall) = stack
        .join(&moderator, json!({"customRoomId": "town-hall"}))
        .await;
    assert_eq!(status, 200, "{hall}");
    let room = hall["roomId"].as_str().unwrap().to_owned();
    let (status, other) = stack.join(&moderator, json!({})).await;
    assert_eq!(status, 200, "{other}");
    let other_room = other["roomId"].as_str().unwrap().to_owned();
    let (status, joined) = stack
        .join(&member, json!({"customRoomId": "town-hall"}))
        .await;
    assert_eq!(
        (status, joined["roomId"].as_str()),
        (200, Some(room.as_str()))
    );
    videosdk.join(&room, &member_id);

    // The member cannot moderate: refused before any call to VideoSDK.
    let before = videosdk.calls().len();
    for (route, input) in [
        (
            &REMOVE_PARTICIPANT,
            json!({"roomId": room, "participantId": "someone", "ban": true}),
        ),
        (
            &LIFT_BAN,
            json!({"roomId": room, "participantId": member_id}),
        ),
        (&LIST_BANS, json!({"roomId": room})),
        (&END_SESSION, json!({"roomId": room})),
        (&DEACTIVATE_ROOM, json!({"roomId": room})),
    ] {
        let answer = stack.moderate(route, &member, input).await;
        assert_eq!(
            code(&answer),
            (403, "moderation_not_allowed"),
            "{}",
            route.path
        );
    }
    assert_eq!(videosdk.calls().len(), before, "VideoSDK saw no call");

    // The moderator removes and bans the member for a minute (by the room's custom id).
    let from = videosdk.calls().len();
    let (status, removed) = stack
        .moderate(
            &REMOVE_PARTICIPANT,
            &moderator,
            json!({"roomId": "town-hall", "participantId": member_id, "ban": true,
                "banSeconds": 60, "reason": "spam"}),
        )
        .await;
    assert_eq!(status, 200, "{removed}");
    assert_eq!(removed["removed"], true);
    assert_eq!(removed["ban"]["endsAt"], t0 + 60);
    assert_eq!(
        videosdk.session(&room),
        Some(vec![]),
        "dropped from the session"
    );
    assert_eq!(
        session_calls(&videosdk, from),
        [(
            "/v2/sessions/participants/remove".to_owned(),
            json!({"participantId": member_id, "roomId": room})
        )]
    );

    // Banned from that room, by its id or its custom id, through get-token and join; no token
    // without a room either (it would admit there); other rooms still work.
    let refused = |answer: (u16, Value)| assert_eq!(code(&answer), (403, "participant_banned"));
    refused(stack.get_token(&member, Some(&room)).await);
    refused(stack.get_token(&member, Some("town-hall")).await);
    refused(stack.join(&member, json!({"roomId": room})).await);
    refused(
        stack
            .join(&member, json!({"customRoomId": "town-hall"}))
            .await,
    );
    assert_eq!(
        code(&stack.get_token(&member, None).await),
        (403, "room_required")
    );
    assert_eq!(stack.get_token(&member, Some(&other_room)).await.0, 200);
    assert_eq!(
        stack.join(&member, json!({"roomId": other_room})).await.0,
        200
    );
    // The moderator is not banned.
    assert_eq!(stack.get_token(&moderator, Some(&room)).await.0, 200);

    let (status, listed) = stack
        .moderate(&LIST_BANS, &moderator, json!({"roomId": "town-hall"}))
        .await;
    assert_eq!(status, 200, "{listed}");
    let bans = listed["bans"].as_array().unwrap();
    assert_eq!(bans.len(), 1, "{listed}");
    assert_eq!(bans[0]["participantId"], member_id.as_str());
    assert_eq!(bans[0]["endsAt"], t0 + 60);
    assert_eq!(bans[0]["reason"], "spam");

    // The ban ends on time: still held a second before, gone at its end.
    NOW.store(t0 + 59, Ordering::SeqCst);
    refused(stack.get_token(&member, Some(&room)).await);
    NOW.store(t0 + 60, Ordering::SeqCst);
    assert_eq!(stack.get_token(&member, Some(&room)).await.0, 200);
    assert_eq!(stack.get_token(&member, Some("town-hall")).await.0, 200);
    assert_eq!(stack.join(&member, json!({"roomId": room})).await.0, 200);

    // Banned again while away (no session to drop them from), then lifted.
    let (status, banned) = stack
        .moderate(
            &REMOVE_PARTICIPANT,
            &moderator,
            json!({"roomId": room, "participantId": member_id, "ban": true}),
        )
        .await;
    assert_eq!(
        (status, &banned["removed"]),
        (200, &json!(false)),
        "{banned}"
    );
    assert_eq!(
        banned["ban"]["endsAt"],
        t0 + 60 + 86_400,
        "a day by default"
    );
    refused(stack.get_token(&member, Some("town-hall")).await);
    let (status, lifted) = stack
        .moderate(
            &LIFT_BAN,
            &moderator,
            json!({"roomId": room, "participantId": member_id}),
        )
        .await;
    assert_eq!((status, &lifted["lifted"]), (200, &json!(true)), "{lifted}");
    assert_eq!(stack.get_token(&member, Some("town-hall")).await.0, 200);
    assert_eq!(stack.join(&member, json!({"roomId": room})).await.0, 200);

    // Removing someone not in the session, without a ban, does nothing.
    let answer = stack
        .moderate(
            &REMOVE_PARTICIPANT,
            &moderator,
            json!({"roomId": room, "participantId": "nobody-here"}),
        )
        .await;
    assert_eq!(code(&answer), (404, "participant_not_in_session"));

    // End the session, then deactivate the room.
    videosdk.join(&room, &member_id);
    let from = videosdk.calls().len();
    let (status, ended) = stack
        .moderate(&END_SESSION, &moderator, json!({"roomId": "town-hall"}))
        .await;
    assert_eq!(status, 200, "{ended}");
    assert_eq!(videosdk.session(&room), None);
    let again = stack
        .moderate(&END_SESSION, &moderator, json!({"roomId": room}))
        .await;
    assert_eq!(code(&again), (409, "no_active_session"));
    let (status, deactivated) = stack
        .moderate(&DEACTIVATE_ROOM, &moderator, json!({"roomId": "town-hall"}))
        .await;
    assert_eq!(status, 200, "{deactivated}");
    assert!(videosdk.is_disabled(&room));
    assert_eq!(
        session_calls(&videosdk, from),
        [
            ("/v2/sessions/end".to_owned(), json!({"roomId": room})),
            ("/v2/sessions/end".to_owned(), json!({"roomId": room})),
            ("/v2/rooms/deactivate".to_owned(), json!({"roomId": room})),
        ],
        "by the room's id, never its custom id"
    );
    assert_eq!(
        code(&stack.join(&member, json!({"roomId": room})).await),
        (410, "meeting_disabled")
    );
    let unknown = stack
        .moderate(&END_SESSION, &moderator, json!({"roomId": "no-such-room"}))
        .await;
    assert_eq!(code(&unknown), (404, "meeting_not_found"));

    // Every moderation call went onto the bus, by whom, on what, with VideoSDK's outcome, and
    // with no token in it.
    let events = audit_events(&moto, &audit).await;
    let summary = audit_summary(&events);
    let expected: Vec<(String, String, String)> = [
        ("Moderation RemoveParticipant", "done", "true"),
        ("Moderation ListBans", "not_called", "true"),
        ("Moderation RemoveParticipant", "no_session", "true"),
        ("Moderation LiftBan", "not_called", "true"),
        ("Moderation RemoveParticipant", "no_session", "false"),
        ("Moderation EndSession", "done", "true"),
        ("Moderation EndSession", "no_session", "false"),
        ("Moderation DeactivateRoom", "done", "true"),
    ]
    .iter()
    .map(|(kind, outcome, succeeded)| {
        (kind.to_string(), outcome.to_string(), succeeded.to_string())
    })
    .collect();
    let mut sorted_summary = summary.clone();
    let mut sorted_expected = expected.clone();
    sorted_summary.sort();
    sorted_expected.sort();
    assert_eq!(sorted_summary, sorted_expected, "{events:#?}");
    let moderator_id = api_tests::claims_of(tokens["moderator"]["id"].as_str().unwrap())["sub"]
        .as_str()
        .unwrap()
        .to_owned();
    for event in &events {
        assert_eq!(event["source"], MODERATION_EVENT_SOURCE);
        assert_eq!(event["detail"]["moderator"], moderator_id.as_str());
        assert_eq!(event["detail"]["roomId"], room.as_str());
        assert!(!event.to_string().contains("eyJ"), "no token: {event}");
    }
    let first = events
        .iter()
        .find(|event| event["detail"]["videosdk"] == "done")
        .unwrap();
    assert_eq!(first["detail"]["participantId"], member_id.as_str());
}

/// A token get-token issues on `state` to an anonymous caller with `query`.
/// VideoSDK takes the removal and never answers. The ban is written first; the removal gets what
/// the invocation has left less the second the audit event keeps; the moderator is answered 504
/// `upstream_unavailable` before Lambda's deadline, and the action is on the bus with VideoSDK's
/// outcome `failed`. Without that reserve the removal would use the time to the deadline and the
/// audit event would have none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the test tools; scripts/test runs it"]
async fn a_removal_videosdk_never_answers_is_answered_and_audited_before_the_deadline() {
    let (moto, audit, tokens) = moto_with_bans().await;
    let moderator = SignedIn::new(tokens["moderator"]["id"].as_str().unwrap());
    let videosdk = VideoSdkStandIn::development().await;
    let stack = Stack::start(&moto, &videosdk).await;
    let t0 = unix_now();
    NOW.store(t0, Ordering::SeqCst);
    let (status, opened) = stack.join(&moderator, json!({})).await;
    assert_eq!(status, 200, "{opened}");
    let room = opened["roomId"].as_str().unwrap().to_owned();
    videosdk.stall_moderation();

    // Less than the AWS clients' 5 s and VideoSDK's 4 s with the reserve: only the deadline ends
    // the removal in time.
    let left = Duration::from_secs(4);
    let input = json!({"roomId": room, "participantId": "member-1", "ban": true});
    let request = request(moderation_event(
        &REMOVE_PARTICIPANT,
        &input,
        Some(&moderator),
        None,
    ))
    .with_lambda_context(lambda_context_ending_in(left));
    // Lambda stops the function at its deadline: so does this test.
    let Ok(Ok(response)) = tokio::time::timeout(
        left,
        routes::moderation::handler(&stack.moderation, request),
    )
    .await
    else {
        panic!("the function was still running at its deadline");
    };
    let answer = (response.status().as_u16(), json(&response));
    assert_eq!(code(&answer), (504, "upstream_unavailable"), "{}", answer.1);
    assert!(
        table(&moto)
            .active_ban(&room, "member-1", t0)
            .await
            .expect("moto reads")
            .is_some(),
        "the ban, written before the removal, stands"
    );
    let events = audit_events(&moto, &audit).await;
    assert_eq!(
        audit_summary(&events),
        [(
            "Moderation RemoveParticipant".to_owned(),
            "failed".to_owned(),
            "false".to_owned()
        )],
        "the action is on the bus"
    );
}

async fn anonymous_token(state: &api_tests::ApiState, query: &[(&str, &str)]) -> String {
    let request = request(get_token_event(query, None));
    let response = api_tests::invoke("get-token", state, request).await;
    assert_eq!(response.status(), 200, "{:?}", response.body());
    json(&response)["token"].as_str().unwrap().to_owned()
}

// Multi-threaded: the stand-in answers the handlers on one worker while this one waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_authorizer_a_token_scoped_to_the_room_moderates_and_videosdk_failures_are_mapped()
 {
    let videosdk = VideoSdkStandIn::development().await;
    let endpoint = videosdk.uri();
    let settings = [
        ("MEETING_BACKEND", "videosdk"),
        ("VIDEOSDK_API_ENDPOINT", endpoint.as_str()),
        ("ALLOWED_PERMISSIONS", "allow_join,ask_join,allow_mod"),
    ];
    let api = api_tests::dev_state(&settings).await;
    let moderation: State<ModerationBackend> = api_tests::dev_state_of(&settings).await;
    let (status, joined) = {
        let request = request(join_event(
            Some(&json!({"customRoomId": "standup", "participantId": "host"})),
            None,
        ));
        let response = api_tests::invoke("join", &api, request).await;
        (response.status().as_u16(), json(&response))
    };
    assert_eq!(status, 200, "{joined}");
    let room = joined["roomId"].as_str().unwrap().to_owned();
    let moderate_standup = &[
        ("roomId", "standup"),
        ("permissions", "allow_join,allow_mod"),
        ("participantId", "host"),
    ];
    let by_custom_id = anonymous_token(&api, moderate_standup).await;
    let by_room_id = anonymous_token(
        &api,
        &[("roomId", &room), ("permissions", "allow_join,allow_mod")],
    )
    .await;
    let member = anonymous_token(&api, &[("roomId", "standup")]).await;
    let elsewhere = anonymous_token(
        &api,
        &[("roomId", "retro"), ("permissions", "allow_join,allow_mod")],
    )
    .await;
    let unscoped = anonymous_token(&api, &[("permissions", "allow_join,allow_mod")]).await;
    let moderate = async |route, input: Value, token: Option<&str>| {
        let request = request(moderation_event(route, &input, None, token));
        let Ok(response) = routes::moderation::handler(&moderation, request).await;
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|value| value.to_str().unwrap().to_owned());
        (response.status().as_u16(), json(&response), retry_after)
    };
    let standup = json!({"roomId": "standup"});

    // Refused before VideoSDK: no token, a token without allow_mod, one for another room (or
    // for the room by its other id), one without a room; a ban where no table is kept.
    let before = videosdk.calls().len();
    for (token, expected) in [
        (None, (401, "missing_token")),
        (Some(&member), (403, "moderation_not_allowed")),
        (Some(&elsewhere), (403, "token_scope_mismatch")),
        (Some(&by_room_id), (403, "token_scope_mismatch")),
        (Some(&unscoped), (403, "token_scope_mismatch")),
    ] {
        let (status, body, _) =
            moderate(&END_SESSION, standup.clone(), token.map(String::as_str)).await;
        assert_eq!(code(&(status, body)), expected);
    }
    let (status, body, _) = moderate(
        &REMOVE_PARTICIPANT,
        json!({"roomId": "standup", "participantId": "guest", "ban": true}),
        Some(&by_custom_id),
    )
    .await;
    assert_eq!(code(&(status, body)), (400, "bans_not_configured"));
    let (status, body, _) = moderate(
        &REMOVE_PARTICIPANT,
        json!({"roomId": "standup", "participantId": "guest", "banSeconds": 60}),
        Some(&by_custom_id),
    )
    .await;
    assert_eq!(code(&(status, body)), (400, "invalid_body"));
    // banSeconds as JSON Schema reads an integer (60.0 is 60), within 1 to 30 days.
    for (seconds, expected) in [
        (json!(60.0), (400, "bans_not_configured")),
        (json!(2_592_000), (400, "bans_not_configured")),
        (json!(0), (400, "invalid_body")),
        (json!(2_592_001), (400, "invalid_body")),
        (json!(1.5), (400, "invalid_body")),
    ] {
        let input = json!({"roomId": "standup", "participantId": "guest", "ban": true,
            "banSeconds": seconds});
        let (status, body, _) = moderate(&REMOVE_PARTICIPANT, input, Some(&by_custom_id)).await;
        assert_eq!(code(&(status, body)), expected, "{seconds}");
    }
    assert_eq!(videosdk.calls().len(), before, "VideoSDK saw no call");

    // The holder of the room's moderator token ends its session, by the room id.
    videosdk.join(&room, "guest");
    let (status, body, _) = moderate(&END_SESSION, standup.clone(), Some(&by_custom_id)).await;
    assert_eq!((status, &body["ended"]), (200, &json!(true)), "{body}");
    assert_eq!(videosdk.session(&room), None);
    let (status, body, _) =
        moderate(&END_SESSION, json!({"roomId": room}), Some(&by_room_id)).await;
    assert_eq!(code(&(status, body)), (409, "no_active_session"));

    // VideoSDK's failures, each a clear answer.
    for (failure, expected, retry_after) in [
        (500, (502, "upstream_unavailable"), None),
        (401, (502, "upstream_auth_failed"), None),
        (429, (503, "upstream_rate_limited"), Some("7".to_owned())),
        (400, (404, "meeting_not_found"), None),
    ] {
        videosdk.fail_moderation(Some(failure));
        for route in [&END_SESSION, &DEACTIVATE_ROOM] {
            let (status, body, retry) = moderate(route, standup.clone(), Some(&by_custom_id)).await;
            assert_eq!(
                code(&(status, body)),
                expected,
                "{failure} to {}",
                route.path
            );
            assert_eq!(retry, retry_after, "{failure}");
        }
        let (status, body, _) = moderate(
            &REMOVE_PARTICIPANT,
            json!({"roomId": "standup", "participantId": "guest"}),
            Some(&by_custom_id),
        )
        .await;
        assert_eq!(code(&(status, body)), expected, "{failure} to a removal");
    }
    videosdk.fail_moderation(None);
    assert!(!videosdk.is_disabled(&room));
}

#[tokio::test]
async fn room_tokens_live_room_token_ttl_seconds_and_others_token_ttl_seconds() {
    let api = api_tests::dev_state(&[("ROOM_TOKEN_TTL_SECONDS", "120")]).await;
    let lifetime = |token: &str| {
        let claims = api_tests::claims_of(token);
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap()
    };
    let scoped = anonymous_token(&api, &[("roomId", "abcd-efgh-ijkl")]).await;
    assert_eq!(lifetime(&scoped), 120);
    let unscoped = anonymous_token(&api, &[]).await;
    assert_eq!(lifetime(&unscoped), 600, "TOKEN_TTL_SECONDS' default");
    let (status, room) = {
        let request = request(join_event(Some(&json!({"participantId": "alice"})), None));
        let response = api_tests::invoke("join", &api, request).await;
        (response.status().as_u16(), json(&response))
    };
    assert_eq!(status, 200, "{room}");
    assert_eq!(lifetime(room["token"].as_str().unwrap()), 120);
}

/// The same story through the real binaries under `cargo lambda watch`, each function its own
/// process reading its environment as deployed: the bans table and the bus at moto, rooms and
/// sessions at the stand-in.
// Multi-threaded: the stand-in answers the functions on one worker while this one waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the test tools; scripts/test runs it"]
async fn a_ban_holds_across_the_real_binaries() {
    let (moto, audit, tokens) = moto_with_bans().await;
    let videosdk = VideoSdkStandIn::development().await;
    let mut environment = deployed_environment(&moto, &videosdk);
    environment.push(("EVENT_BUS_NAME", BUS.to_owned()));
    let api = api_tests::local_api::LocalApi::start(&environment, true);
    let invoke = |function: &str, name: &str, event: Value| api.answer(function, name, &event);
    let moderator = SignedIn::new(tokens["moderator"]["id"].as_str().unwrap());
    let member = SignedIn::new(tokens["member"]["id"].as_str().unwrap());
    let member_id = api_tests::claims_of(tokens["member"]["id"].as_str().unwrap())["sub"]
        .as_str()
        .unwrap()
        .to_owned();
    let get_token = |name: &str, room: &str| {
        invoke(
            "get-token",
            name,
            get_token_event(&[("roomId", room)], Some(&member)),
        )
    };

    let (status, hall) = invoke(
        "join",
        "moderator-opens",
        join_event(
            Some(&json!({"customRoomId": "town-hall"})),
            Some(&moderator),
        ),
    );
    assert_eq!(status, 200, "{hall}\n{}", api.log());
    let room = hall["roomId"].as_str().unwrap().to_owned();
    let (status, other) = invoke(
        "join",
        "moderator-opens-another",
        join_event(Some(&json!({})), Some(&moderator)),
    );
    assert_eq!(status, 200, "{other}");
    let other_room = other["roomId"].as_str().unwrap().to_owned();
    assert_eq!(get_token("before", "town-hall").0, 200);
    videosdk.join(&room, &member_id);

    let before = videosdk.calls().len();
    let removal = json!({"roomId": "town-hall", "participantId": member_id, "ban": true});
    let answer = invoke(
        "moderation",
        "member-removes",
        moderation_event(&REMOVE_PARTICIPANT, &removal, Some(&member), None),
    );
    assert_eq!(code(&answer), (403, "moderation_not_allowed"));
    assert_eq!(videosdk.calls().len(), before, "VideoSDK saw no call");

    let (status, removed) = invoke(
        "moderation",
        "moderator-removes",
        moderation_event(&REMOVE_PARTICIPANT, &removal, Some(&moderator), None),
    );
    assert_eq!(
        (status, &removed["removed"]),
        (200, &json!(true)),
        "{removed}\n{}",
        api.log()
    );
    assert_eq!(videosdk.session(&room), Some(vec![]));
    assert_eq!(
        code(&get_token("banned-by-custom-id", "town-hall")),
        (403, "participant_banned")
    );
    assert_eq!(
        code(&get_token("banned-by-room-id", &room)),
        (403, "participant_banned")
    );
    let answer = invoke(
        "join",
        "banned-joins",
        join_event(Some(&json!({"roomId": room})), Some(&member)),
    );
    assert_eq!(code(&answer), (403, "participant_banned"));
    assert_eq!(get_token("other-room", &other_room).0, 200);

    let lift = json!({"roomId": room, "participantId": member_id});
    let (status, lifted) = invoke(
        "moderation",
        "moderator-lifts",
        moderation_event(&LIFT_BAN, &lift, Some(&moderator), None),
    );
    assert_eq!((status, &lifted["lifted"]), (200, &json!(true)), "{lifted}");
    assert_eq!(get_token("lifted", "town-hall").0, 200);

    let kinds: Vec<String> = moto
        .receive(&audit)
        .await
        .iter()
        .map(|body| {
            serde_json::from_str::<Value>(body).expect("an event")["detail-type"].to_string()
        })
        .collect();
    assert_eq!(
        kinds,
        ["\"Moderation RemoveParticipant\"", "\"Moderation LiftBan\""]
    );
    let log = api.log();
    for token in [&tokens["member"]["id"], &tokens["moderator"]["id"]] {
        assert!(
            !log.contains(token.as_str().unwrap()),
            "a Cognito token reached the log"
        );
    }
    assert!(!log.contains("eyJ"), "no JWT of any kind reached the log");
}

/// The time of the property's states, apart from the other tests' [`NOW`].
static PROPERTY_NOW: AtomicU64 = AtomicU64::new(0);

fn property_now() -> u64 {
    PROPERTY_NOW.load(Ordering::SeqCst)
}

/// A call of the property: moderators ban and lift, time passes, members ask for tokens.
#[derive(Debug, Clone)]
enum Step {
    Ban {
        member: usize,
        room: usize,
        by_custom_id: bool,
        seconds: u64,
    },
    Lift {
        member: usize,
        room: usize,
    },
    Wait(u64),
    GetToken {
        member: usize,
        room: usize,
        by_custom_id: bool,
    },
    Join {
        member: usize,
        room: usize,
        by_custom_id: bool,
    },
}

fn any_step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    prop_oneof![
        (0..2usize, 0..2usize, any::<bool>(), 1..120u64).prop_map(
            |(member, room, by_custom_id, seconds)| Step::Ban {
                member,
                room,
                by_custom_id,
                seconds
            }
        ),
        (0..2usize, 0..2usize).prop_map(|(member, room)| Step::Lift { member, room }),
        (0..150u64).prop_map(Step::Wait),
        (0..2usize, 0..2usize, any::<bool>()).prop_map(|(member, room, by_custom_id)| {
            Step::GetToken {
                member,
                room,
                by_custom_id,
            }
        }),
        (0..2usize, 0..2usize, any::<bool>()).prop_map(|(member, room, by_custom_id)| {
            Step::Join {
                member,
                room,
                by_custom_id,
            }
        }),
    ]
}

/// Over any sequence of bans, lifts, time passing and token requests, by either id of a room:
/// a member gets a token for a room exactly when no ban of theirs from it holds.
#[test]
#[ignore = "needs the test tools; scripts/test runs it"]
fn a_banned_member_never_gets_a_token_for_the_room_and_others_always_do() {
    use proptest::test_runner::{Config, TestRunner};
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let moto = MotoServer::start();
    let videosdk = runtime.block_on(VideoSdkStandIn::development());
    let (stack, rooms, moderator, members) = runtime.block_on(async {
        moto.create_bans_table(TABLE).await;
        create_bus(&moto).await;
        let mut stack = Stack::start(&moto, &videosdk).await;
        stack.get_token = stack.get_token.with_clock(property_now);
        stack.join = stack.join.with_clock(property_now);
        stack.moderation = stack.moderation.with_clock(property_now);
        let moderator = SignedIn::with_claims(&json!({"sub": "mod-1",
            "cognito:groups": ["moderators"], "token_use": "id"}));
        let members: Vec<(String, SignedIn)> = ["member-1", "member-2"]
            .iter()
            .map(|sub| {
                let claims = json!({"sub": sub, "cognito:groups": ["players"], "token_use": "id"});
                (sub.to_string(), SignedIn::with_claims(&claims))
            })
            .collect();
        let mut rooms = Vec::new();
        for custom in ["alpha", "beta"] {
            let (status, body) = stack
                .join(&moderator, json!({ "customRoomId": custom }))
                .await;
            assert_eq!(status, 200, "{body}");
            rooms.push((body["roomId"].as_str().unwrap().to_owned(), custom));
        }
        (stack, rooms, moderator, members)
    });
    let table = table(&moto);
    let mut runner = TestRunner::new(Config {
        cases: 48,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = proptest::collection::vec(any_step(), 1..12);
    let refused = std::cell::Cell::new(0);
    let issued = std::cell::Cell::new(0);
    let result = runner.run(&strategy, |steps| {
        runtime.block_on(async {
            // A clean table and a fresh clock for each sequence.
            PROPERTY_NOW.store(1_900_000_000, Ordering::SeqCst);
            for (room, custom) in &rooms {
                for (member, _) in &members {
                    for id in [room.as_str(), custom] {
                        table.lift(id, member, 0).await.expect("moto deletes");
                    }
                }
            }
            // The model: when each (member, room) ban ends.
            let mut ends: std::collections::HashMap<(usize, usize), u64> = Default::default();
            for step in &steps {
                let name = |room: usize, by_custom_id: bool| {
                    let (id, custom) = &rooms[room];
                    if by_custom_id {
                        custom.to_string()
                    } else {
                        id.clone()
                    }
                };
                let banned = |ends: &std::collections::HashMap<(usize, usize), u64>,
                              member: usize,
                              room: usize| {
                    ends.get(&(member, room))
                        .is_some_and(|end| property_now() < *end)
                };
                match *step {
                    Step::Ban {
                        member,
                        room,
                        by_custom_id,
                        seconds,
                    } => {
                        let input = json!({"roomId": name(room, by_custom_id),
                            "participantId": members[member].0, "ban": true,
                            "banSeconds": seconds});
                        let (status, body) =
                            stack.moderate(&REMOVE_PARTICIPANT, &moderator, input).await;
                        proptest::prop_assert_eq!(status, 200, "{}", body);
                        ends.insert((member, room), property_now() + seconds);
                    }
                    Step::Lift { member, room } => {
                        let input = json!({"roomId": name(room, false),
                            "participantId": members[member].0});
                        let (status, body) = stack.moderate(&LIFT_BAN, &moderator, input).await;
                        proptest::prop_assert_eq!(status, 200, "{}", body);
                        proptest::prop_assert_eq!(
                            body["lifted"].as_bool(),
                            Some(banned(&ends, member, room))
                        );
                        ends.remove(&(member, room));
                    }
                    Step::Wait(seconds) => {
                        PROPERTY_NOW.fetch_add(seconds, Ordering::SeqCst);
                    }
                    Step::GetToken {
                        member,
                        room,
                        by_custom_id,
                    }
                    | Step::Join {
                        member,
                        room,
                        by_custom_id,
                    } => {
                        let caller = &members[member].1;
                        let answer = if matches!(step, Step::GetToken { .. }) {
                            stack
                                .get_token(caller, Some(&name(room, by_custom_id)))
                                .await
                        } else {
                            let field = if by_custom_id {
                                "customRoomId"
                            } else {
                                "roomId"
                            };
                            stack
                                .join(caller, json!({ field: name(room, by_custom_id) }))
                                .await
                        };
                        if banned(&ends, member, room) {
                            proptest::prop_assert_eq!(
                                code(&answer),
                                (403, "participant_banned"),
                                "{:?}",
                                step
                            );
                            refused.set(refused.get() + 1);
                        } else {
                            proptest::prop_assert_eq!(answer.0, 200, "{:?}: {}", step, answer.1);
                            issued.set(issued.get() + 1);
                        }
                    }
                }
            }
            Ok(())
        })
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    let (refused, issued) = (refused.get(), issued.get());
    assert!(
        refused > 0 && issued > 0,
        "refused {refused}, issued {issued}"
    );
}
