//! `POST /join` with `MEETING_BACKEND=videosdk`, against the VideoSDK stand-in: one call answers
//! a room and a token for it, scoped to that room and bound to the caller, as VideoSDK's official
//! Rust crate verifies it; a custom id makes one room however many join it first; a deactivated
//! room is 410; `ROOM_CREATORS` decides who makes rooms, and a refusal costs no call to
//! VideoSDK.

use api_tests::authorizer::SignedIn;
use api_tests::events::join_event;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use api_tests::{
    ApiState as State, MotoServer, VideoSdkStandIn, aws_test_environment, dev_credentials,
    dev_state, json, verified_by_videosdk,
};
use serde_json::{Value, json};
use shared::domain::unix_now;

const MODERATED: [(&str, &str); 2] = [
    ("ALLOWED_PERMISSIONS", "allow_join,ask_join,allow_mod"),
    ("MODERATOR_GROUPS", "moderators"),
];

/// The functions' `videosdk` backend at a fresh stand-in, with `more` settings.
async fn stand_in_state(more: &[(&str, &str)]) -> (VideoSdkStandIn, State) {
    let videosdk = VideoSdkStandIn::development().await;
    let endpoint = videosdk.uri();
    let mut pairs = vec![
        ("MEETING_BACKEND", "videosdk"),
        ("VIDEOSDK_API_ENDPOINT", endpoint.as_str()),
    ];
    pairs.extend_from_slice(more);
    let state = dev_state(&pairs).await;
    (videosdk, state)
}

/// A signed-in caller as API Gateway's JWT authorizer passes them on (an ID token's claims).
fn signed_in(sub: &str, groups: &[&str]) -> SignedIn {
    SignedIn::with_claims(&json!({"sub": sub, "cognito:groups": groups, "token_use": "id"}))
}

/// The join's status and body, for `body` from `caller` (`None`: anonymous).
async fn join(state: &State, body: Value, caller: Option<&SignedIn>) -> (u16, Value) {
    let event = join_event(Some(&body), caller);
    let request = shared::aws::lambda::into_request(
        serde_json::from_value(event).expect("a payload 2.0 event"),
    )
    .expect("a valid event");
    let response = api_tests::invoke("join", state, request).await;
    (response.status().as_u16(), json(&response))
}

/// A 200 whose token carries exactly what the answer says: its room, its participant, its
/// permissions and its expiry.
fn assert_bound(body: &Value) -> Value {
    let claims = verified_by_videosdk(body["token"].as_str().expect("a token"));
    assert_eq!(claims["roomId"], body["roomId"], "{body}");
    assert_eq!(claims["participantId"], body["participantId"], "{body}");
    assert_eq!(claims["permissions"], body["permissions"], "{body}");
    assert_eq!(claims["exp"], body["expiresAt"], "{body}");
    assert_eq!(claims["roles"], json!(["rtc"]));
    assert!(claims["exp"].as_u64().unwrap() > unix_now());
    claims
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

/// VideoSDK's crate with a management token, as an operator's own tooling calls VideoSDK.
async fn operator_client(videosdk: &VideoSdkStandIn) -> videosdk::Client {
    let crawler = dev_state(&[("TOKEN_ROLES", "crawler")]).await;
    let request = api_tests::get_token_request("");
    let token = json(&api_tests::invoke("get-token", &crawler, request).await)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    videosdk::Client::builder()
        .base_url(videosdk.uri())
        .token(token)
        .build()
        .expect("a VideoSDK client")
}

/// Deactivates `room` as an operator's own tooling would, with the official crate.
async fn deactivate(videosdk: &VideoSdkStandIn, room: &str) {
    let ended = operator_client(videosdk)
        .await
        .rooms()
        .end(room)
        .await
        .expect("the room is deactivated");
    assert!(ended.disabled);
}

/// Creates the room of `custom_room_id` as an operator's own tooling would; its room id.
async fn operator_creates(videosdk: &VideoSdkStandIn, custom_room_id: &str) -> Value {
    let request = videosdk::RoomCreateParams {
        custom_room_id: Some(custom_room_id.to_owned()),
        ..Default::default()
    };
    let room = operator_client(videosdk)
        .await
        .rooms()
        .create(request)
        .await
        .expect("the room is created");
    json!(room.room_id)
}

/// A create-meeting request with a token of the development account carrying `permissions`,
/// as get-token or the operator's own backend would sign it.
fn create_meeting_request(permissions: &str) -> lambda_http::Request {
    use shared::domain::permissions::{PermissionSet, TokenRoles};
    use shared::domain::token::{Claims, TokenKeys, TokenScope};
    let dev = dev_credentials();
    let claims = Claims::new(
        dev.api_key(),
        &PermissionSet::parse_list(permissions).expect("permissions"),
        &TokenRoles::participant(),
        TokenScope::default(),
        unix_now(),
        600,
    );
    let token = TokenKeys::new(&dev)
        .expect("keys")
        .sign(&claims)
        .expect("a token");
    lambda_http::http::Request::builder()
        .method("POST")
        .uri("https://api.example/create-meeting")
        .header("authorization", format!("Bearer {token}"))
        .body(lambda_http::Body::from(
            json!({"customRoomId": "standup"}).to_string(),
        ))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_joins_of_a_custom_id_make_one_room() {
    let (videosdk, state) = stand_in_state(&[]).await;
    let state = Arc::new(state);
    let mut joins = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let state = Arc::clone(&state);
        joins.spawn(async move { join(&state, json!({"customRoomId": "standup"}), None).await });
    }
    let answers = joins.join_all().await;
    let mut participants = std::collections::HashSet::new();
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(body["roomId"], answers[0].1["roomId"], "one room for all");
        let claims = assert_bound(body);
        // Anonymous callers under `caller` who name no id get one of their own.
        let id = claims["participantId"].as_str().unwrap().to_owned();
        assert!(id.starts_with("guest-"), "{id}");
        participants.insert(id);
    }
    assert_eq!(
        participants.len(),
        8,
        "each caller their own participant id"
    );
    assert_eq!(videosdk.room_count(), 1, "{:?}", videosdk.calls());
    let room = answers[0].1["roomId"].as_str().unwrap();
    assert_ne!(
        room, "standup",
        "the answer is VideoSDK's room id, not the custom id"
    );
    // The custom id names the same room by roomId too.
    let (status, body) = join(&state, json!({"roomId": "standup"}), None).await;
    assert_eq!(
        (status, body["roomId"].as_str()),
        (200, Some(room)),
        "{body}"
    );
}

#[tokio::test]
async fn a_new_room_each_time_without_an_id() {
    let (videosdk, state) = stand_in_state(&[]).await;
    let (status, first) = join(&state, json!({}), None).await;
    assert_eq!(status, 200, "{first}");
    assert_bound(&first);
    let (status, second) = join(&state, json!({"participantId": "alice"}), None).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(assert_bound(&second)["participantId"], "alice");
    assert_ne!(first["roomId"], second["roomId"]);
    assert_eq!(videosdk.room_count(), 2);
    // Each room created once, with one call.
    assert_eq!(videosdk.room_creations().len(), 2);
}

#[tokio::test]
async fn a_deactivated_room_is_410_by_room_id_and_by_custom_id() {
    let (videosdk, state) = stand_in_state(&[]).await;
    let (status, body) = join(&state, json!({"customRoomId": "standup"}), None).await;
    assert_eq!(status, 200, "{body}");
    let room = body["roomId"].as_str().unwrap().to_owned();
    deactivate(&videosdk, &room).await;
    for request in [
        json!({"roomId": room}),
        json!({"roomId": "standup"}),
        json!({"customRoomId": "standup"}),
    ] {
        let (status, body) = join(&state, request.clone(), None).await;
        assert_eq!(
            (status, code(&body)),
            (410, "meeting_disabled"),
            "{request}: {body}"
        );
    }
    assert_eq!(videosdk.room_count(), 1, "no new room in its place");
}

#[tokio::test]
async fn an_unknown_room_is_404_and_creates_nothing() {
    let (videosdk, state) = stand_in_state(&[]).await;
    let (status, body) = join(&state, json!({"roomId": "wxyz-wxyz-wxyz"}), None).await;
    assert_eq!((status, code(&body)), (404, "meeting_not_found"), "{body}");
    assert!(videosdk.room_creations().is_empty());
}

#[tokio::test]
async fn the_token_is_bound_to_the_signed_in_caller_and_their_room() {
    let (_videosdk, state) = stand_in_state(&MODERATED).await;
    let member = signed_in("auth0|5f7c8ec7", &["players"]);
    let (status, body) = join(&state, json!({"customRoomId": "standup"}), Some(&member)).await;
    assert_eq!(status, 200, "{body}");
    let claims = assert_bound(&body);
    assert_eq!(claims["participantId"], "auth0|5f7c8ec7");
    assert_eq!(claims["permissions"], json!(["allow_join"]));
    let room = body["roomId"].clone();

    // The same caller naming their own id is fine; anyone else's is not, nor allow_mod.
    let own = json!({"roomId": room, "participantId": "auth0|5f7c8ec7"});
    assert_eq!(join(&state, own, Some(&member)).await.0, 200);
    let other = json!({"roomId": room, "participantId": "alice"});
    let (status, body) = join(&state, other, Some(&member)).await;
    assert_eq!((status, code(&body)), (403, "identity_mismatch"), "{body}");
    let moderate = json!({"roomId": room, "permissions": ["allow_join", "allow_mod"]});
    let (status, body) = join(&state, moderate.clone(), Some(&member)).await;
    assert_eq!(
        (status, code(&body)),
        (403, "permission_not_allowed"),
        "{body}"
    );

    let moderator = signed_in("mod-1", &["admins", "moderators"]);
    let (status, body) = join(&state, moderate, Some(&moderator)).await;
    assert_eq!(status, 200, "{body}");
    let claims = assert_bound(&body);
    assert_eq!(claims["participantId"], "mod-1");
    assert_eq!(claims["permissions"], json!(["allow_join", "allow_mod"]));
    assert_eq!(claims["roomId"], room);
}

#[tokio::test]
async fn refusals_cost_no_call_to_videosdk() {
    let (videosdk, state) = stand_in_state(&[("ANONYMOUS_PARTICIPANT_IDS", "generate")]).await;
    for (request, status, expected) in [
        (
            json!({"participantId": "alice"}),
            403,
            "participant_id_not_allowed",
        ),
        (
            json!({"permissions": ["allow_join", "allow_mod"]}),
            403,
            "permission_not_allowed",
        ),
        (
            json!({"permissions": ["superuser"]}),
            400,
            "unknown_permission",
        ),
        (
            json!({"roomId": "a", "customRoomId": "b"}),
            400,
            "invalid_body",
        ),
        (json!({"roomId": "room.one"}), 400, "invalid_room_id"),
        (json!({"roomId": 7}), 400, "invalid_body"),
        (
            json!({"customRoomId": "has space"}),
            400,
            "invalid_meeting_option",
        ),
        (json!({"participantId": ["a"]}), 400, "invalid_body"),
        // As get-token's query has no null; and both room fields, even one null, are ambiguous.
        (json!({"participantId": null}), 400, "invalid_body"),
        (
            json!({"roomId": null, "customRoomId": "b"}),
            400,
            "invalid_body",
        ),
    ] {
        let (answered, body) = join(&state, request.clone(), None).await;
        assert_eq!(
            (answered, code(&body)),
            (status, expected),
            "{request}: {body}"
        );
    }
    assert!(videosdk.calls().is_empty(), "{:?}", videosdk.calls());
}

#[tokio::test]
async fn nobody_may_create_but_anyone_may_join_a_room_that_exists() {
    let (videosdk, state) = stand_in_state(&[("ROOM_CREATORS", "nobody")]).await;
    for request in [json!({}), json!({"customRoomId": "standup"})] {
        let (status, body) = join(&state, request.clone(), None).await;
        assert_eq!(
            (status, code(&body)),
            (403, "room_creation_not_allowed"),
            "{request}: {body}"
        );
    }
    assert!(videosdk.room_creations().is_empty(), "nothing was created");

    // Nor through create-meeting, whatever the token: `nobody` is every route's rule.
    for permissions in ["allow_join", "allow_join,allow_mod"] {
        let create = create_meeting_request(permissions);
        let refused = api_tests::invoke("create-meeting", &state, create).await;
        assert_eq!(
            api_tests::status_and_code(&refused),
            (403, "room_creation_not_allowed".to_owned()),
            "{permissions}"
        );
    }
    assert!(videosdk.room_creations().is_empty(), "nothing was created");

    // The operator makes the room with their own tooling: VideoSDK's crate, a management token.
    let room = operator_creates(&videosdk, "standup").await;
    for request in [json!({"customRoomId": "standup"}), json!({"roomId": room})] {
        let (status, body) = join(&state, request.clone(), None).await;
        assert_eq!(status, 200, "{request}: {body}");
        assert_eq!(assert_bound(&body)["roomId"], room);
    }
    assert_eq!(videosdk.room_creations().len(), 1, "the operator's only");
}

#[tokio::test]
async fn with_moderators_only_moderators_create_and_everyone_joins() {
    let mut settings = MODERATED.to_vec();
    settings.push(("ROOM_CREATORS", "moderators"));
    let (videosdk, state) = stand_in_state(&settings).await;
    let member = signed_in("u-1", &["players"]);
    let moderator = signed_in("mod-1", &["moderators"]);
    let custom = json!({"customRoomId": "standup"});

    let (status, body) = join(&state, custom.clone(), Some(&member)).await;
    assert_eq!(
        (status, code(&body)),
        (403, "room_creation_not_allowed"),
        "{body}"
    );
    let (status, body) = join(&state, json!({}), None).await;
    assert_eq!(
        (status, code(&body)),
        (403, "room_creation_not_allowed"),
        "{body}"
    );
    assert!(videosdk.room_creations().is_empty());

    let (status, made) = join(&state, custom.clone(), Some(&moderator)).await;
    assert_eq!(status, 200, "{made}");
    let (status, joined) = join(&state, custom, Some(&member)).await;
    assert_eq!(status, 200, "{joined}");
    assert_eq!(joined["roomId"], made["roomId"]);
    assert_eq!(assert_bound(&joined)["participantId"], "u-1");
    assert_eq!(videosdk.room_count(), 1);
}

/// A TCP relay in front of a server that counts the connections made through it.
struct CountingRelay {
    address: std::net::SocketAddr,
    accepted: Arc<AtomicUsize>,
    first_met_other: Arc<AtomicBool>,
}

/// Where the first connections of two relays meet: each holds its first connection until the
/// other relay has one too, so both go through only if the two calls are in flight together.
#[derive(Clone)]
struct Rendezvous(Arc<tokio::sync::watch::Sender<usize>>);

impl Rendezvous {
    fn new() -> Self {
        Self(Arc::new(tokio::sync::watch::Sender::new(0)))
    }

    /// Waits until one side has arrived (without arriving).
    async fn arrived(&self) {
        let mut arrivals = self.0.subscribe();
        let _ = arrivals.wait_for(|count| *count >= 1).await;
    }

    /// Arrives and waits for the other side; false if it never came within `limit`.
    async fn meet(&self, limit: Duration) -> bool {
        let mut arrivals = self.0.subscribe();
        self.0.send_modify(|count| *count += 1);
        tokio::time::timeout(limit, arrivals.wait_for(|count| *count >= 2))
            .await
            .is_ok_and(|waited| waited.is_ok())
    }
}

impl CountingRelay {
    async fn start(target: &str) -> Self {
        Self::start_meeting(target, None).await
    }

    /// A relay whose first connection waits at `rendezvous` before it is forwarded.
    async fn start_meeting(target: &str, rendezvous: Option<Rendezvous>) -> Self {
        let target = target.trim_start_matches("http://").to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let first_met_other = Arc::new(AtomicBool::new(false));
        let (counter, met) = (Arc::clone(&accepted), Arc::clone(&first_met_other));
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let first = counter.fetch_add(1, Ordering::SeqCst) == 0;
                let target = target.clone();
                let rendezvous = rendezvous.clone().filter(|_| first);
                let met = Arc::clone(&met);
                tokio::spawn(async move {
                    if let Some(rendezvous) = rendezvous {
                        // Longer than the SDK's whole operation timeout: a call made only after
                        // the other has finished fails the init, or waits here in vain.
                        let limit = shared::aws::environment::OPERATION_TIMEOUT * 2;
                        met.store(rendezvous.meet(limit).await, Ordering::SeqCst);
                    }
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Self {
            address,
            accepted,
            first_met_other,
        }
    }

    fn uri(&self) -> String {
        format!("http://{}", self.address)
    }

    fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    fn first_met_other(&self) -> bool {
        self.first_met_other.load(Ordering::SeqCst)
    }
}

/// The pre-warm and the secret fetch from a real Secrets Manager API (moto) are side by side:
/// each relay holds its first connection until the other has one, which two calls made one
/// after the other never do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the test tools; scripts/test runs it"]
async fn the_connection_to_videosdk_opens_while_the_secret_is_fetched() {
    let moto = MotoServer::start();
    let credentials = dev_credentials();
    let stored = json!({
        "VIDEOSDK_API_KEY": credentials.api_key(),
        "VIDEOSDK_SECRET_KEY": std::str::from_utf8(credentials.secret_key()).unwrap(),
    });
    let arn = moto
        .create_secret("videosdk/join", &stored.to_string())
        .await;
    let videosdk = VideoSdkStandIn::development().await;
    let rendezvous = Rendezvous::new();
    let secrets = CountingRelay::start_meeting(&moto.endpoint, Some(rendezvous.clone())).await;
    let rooms = CountingRelay::start_meeting(&videosdk.uri(), Some(rendezvous)).await;
    let mut environment = aws_test_environment(&secrets.uri());
    environment.extend([
        ("VIDEOSDK_SECRET_ID", arn),
        ("MEETING_BACKEND", "videosdk".to_owned()),
        ("VIDEOSDK_API_ENDPOINT", rooms.uri()),
    ]);
    let pairs: Vec<(&str, &str)> = environment
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let state = api_tests::state(&pairs).await;
    assert!(secrets.first_met_other(), "the secret fetch waited alone");
    assert!(rooms.first_met_other(), "the pre-warm waited alone");
    // Nothing waits for the warm-up; the test does, so that the join finds its connection idle.
    shared::test_support::warm_up_ended(&state).await;
    assert_eq!(rooms.connections(), 1);

    let (status, body) = join(&state, json!({"customRoomId": "standup"}), None).await;
    assert_eq!(status, 200, "{body}");
    assert_bound(&body);
    assert_eq!(
        rooms.connections(),
        1,
        "the join used the pre-warmed connection"
    );
}

/// The cold start does not wait for the warm-up, nor does the first call: with the warm-up's
/// connection held by a relay, the state is built and a join answered (on a connection of its
/// own), the warm-up still under way; once let through, it ends.
#[tokio::test]
async fn neither_the_cold_start_nor_the_first_call_waits_for_the_warm_up() {
    let videosdk = VideoSdkStandIn::development().await;
    let hold = Rendezvous::new();
    let relay = CountingRelay::start_meeting(&videosdk.uri(), Some(hold.clone())).await;
    let endpoint = relay.uri();
    let state = dev_state(&[
        ("MEETING_BACKEND", "videosdk"),
        ("VIDEOSDK_API_ENDPOINT", endpoint.as_str()),
    ])
    .await;
    assert!(
        shared::test_support::warm_up_pending(&state),
        "the cold start ended with the warm-up"
    );
    hold.arrived().await;
    assert_eq!(relay.connections(), 1, "the warm-up's connection, held");

    let (status, body) = join(&state, json!({"customRoomId": "standup"}), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(videosdk.calls().len(), 1);
    assert_eq!(relay.connections(), 2, "the join's own connection");
    assert!(
        shared::test_support::warm_up_pending(&state),
        "the join waited for the warm-up's connection"
    );

    assert!(
        hold.meet(Duration::from_secs(1)).await,
        "the warm-up is let through"
    );
    shared::test_support::warm_up_ended(&state).await;
    assert!(relay.first_met_other());
}

#[tokio::test]
async fn the_connection_to_videosdk_is_opened_at_start_and_kept() {
    let videosdk = VideoSdkStandIn::development().await;
    let relay = CountingRelay::start(&videosdk.uri()).await;
    let endpoint = relay.uri();
    let state = dev_state(&[
        ("MEETING_BACKEND", "videosdk"),
        ("VIDEOSDK_API_ENDPOINT", endpoint.as_str()),
    ])
    .await;
    // Nothing waits for the warm-up; the test does, so that the joins find its connection idle.
    shared::test_support::warm_up_ended(&state).await;
    assert_eq!(relay.connections(), 1, "opened as the function started");
    assert!(videosdk.calls().is_empty(), "with no call to the rooms API");

    let (status, body) = join(&state, json!({"customRoomId": "standup"}), None).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = join(&state, json!({"roomId": "standup"}), None).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = join(&state, json!({}), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(videosdk.calls().len(), 3);
    assert_eq!(
        relay.connections(),
        1,
        "every call went over the connection opened at start"
    );
}
