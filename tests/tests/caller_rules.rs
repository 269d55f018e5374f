//! The rules about callers are a property of the whole API (issue #27): under every
//! `ROOM_CREATORS` and identity mode, no sequence of get-token, join, create-meeting and
//! validate-meeting calls creates a room for a caller the rules refuse, or gives a caller
//! `allow_mod`, another caller's `participantId` or a management role the rules do not, and no
//! one but a moderator gets VideoSDK to remove, end or deactivate (issue #30). Rooms
//! are VideoSDK's (the stand-in, which records every creation); signed-in callers reach the
//! functions as API Gateway's JWT authorizer hands them over (`api_tests::authorizer`).
//!
//! The rules are restated here from the docs (README, docs/security.md), not read from the code
//! that applies them.

use std::collections::HashMap;

use api_tests::authorizer::SignedIn;
use api_tests::events::{get_token_event, join_event, moderation_event};
use api_tests::{ApiState, VideoSdkStandIn, dev_state, dev_state_of, json, verified_by_videosdk};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};
use shared::backends::moderation::ModerationBackend;
use shared::routes::{self, moderation};
use shared::state::State;

const MODERATOR_GROUP: &str = "moderators";
const MODERATOR_SCOPE: &str = "videosdk/moderate";

/// Who calls: anonymous, or signed in with a token of an identity provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Caller {
    Anonymous,
    /// In the moderator group, with a verified email.
    Moderator,
    /// In a group whose name holds a space ("Former moderators") and another one: flattened,
    /// `[Former moderators players]` would read as three groups, `moderators` among them.
    Member,
    /// An access token whose `scope` claim holds the moderator scope; HTTP API hands its
    /// `scopes` as null on these routes. No email.
    ScopedModerator,
    /// Claims the moderator's email, unverified.
    Impostor,
}

const CALLERS: [Caller; 5] = [
    Caller::Anonymous,
    Caller::Moderator,
    Caller::Member,
    Caller::ScopedModerator,
    Caller::Impostor,
];

impl Caller {
    fn token_claims(self) -> Option<Value> {
        Some(match self {
            Caller::Anonymous => return None,
            Caller::Moderator => json!({"sub": "mod-1", "cognito:groups": [MODERATOR_GROUP],
                "email": "mod-1@corp.example", "email_verified": true, "token_use": "id"}),
            Caller::Member => json!({"sub": "member-1",
                "cognito:groups": ["Former moderators", "players"],
                "email": "member-1@corp.example", "email_verified": true, "token_use": "id"}),
            Caller::ScopedModerator => json!({"sub": "mod-2", "username": "mod-2",
                "scope": format!("openid {MODERATOR_SCOPE}"), "token_use": "access"}),
            Caller::Impostor => json!({"sub": "imp-1", "email": "mod-1@corp.example",
                "email_verified": false, "token_use": "id"}),
        })
    }

    fn signed_in(self) -> Option<SignedIn> {
        self.token_claims()
            .map(|claims| SignedIn::with_claims(&claims))
    }

    /// A moderator as the rules define one: in `MODERATOR_GROUPS` (the group's whole name) or
    /// holding a scope of `MODERATOR_SCOPES` (the token's, whatever the route's `scopes`).
    fn is_moderator(self) -> bool {
        matches!(self, Caller::Moderator | Caller::ScopedModerator)
    }
}

/// Which claim is a signed-in caller's participant id, and what anonymous callers may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum IdentityMode {
    /// The stack with an authorizer: `REQUIRE_IDENTITY`, `sub`.
    SignedInBySub,
    /// The same with `IDENTITY_CLAIM=email`: accepted only while `email_verified` is true.
    SignedInByEmail,
    /// No authorizer required; anonymous callers get generated ids.
    AnonymousGenerated,
    /// No authorizer required; anonymous callers name their own id (anyone's).
    AnonymousChosen,
}

const MODES: [IdentityMode; 4] = [
    IdentityMode::SignedInBySub,
    IdentityMode::SignedInByEmail,
    IdentityMode::AnonymousGenerated,
    IdentityMode::AnonymousChosen,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Creators {
    Everyone,
    Moderators,
    Nobody,
}

const CREATORS: [Creators; 3] = [Creators::Everyone, Creators::Moderators, Creators::Nobody];

impl Creators {
    fn setting(self) -> &'static str {
        match self {
            Creators::Everyone => "everyone",
            Creators::Moderators => "moderators",
            Creators::Nobody => "nobody",
        }
    }

    fn allow(self, moderator: bool) -> bool {
        match self {
            Creators::Everyone => true,
            Creators::Moderators => moderator,
            Creators::Nobody => false,
        }
    }
}

impl IdentityMode {
    fn settings(self) -> Vec<(&'static str, &'static str)> {
        let mut settings = vec![
            ("ALLOWED_PERMISSIONS", "allow_join,ask_join,allow_mod"),
            ("MODERATOR_GROUPS", MODERATOR_GROUP),
            ("MODERATOR_SCOPES", MODERATOR_SCOPE),
        ];
        settings.extend(match self {
            IdentityMode::SignedInBySub => vec![("REQUIRE_IDENTITY", "true")],
            IdentityMode::SignedInByEmail => {
                vec![("REQUIRE_IDENTITY", "true"), ("IDENTITY_CLAIM", "email")]
            }
            IdentityMode::AnonymousGenerated => vec![("ANONYMOUS_PARTICIPANT_IDS", "generate")],
            IdentityMode::AnonymousChosen => vec![],
        });
        settings
    }

    /// The participant id the rules give `caller`: `Ok(Some(id))` for a signed-in caller,
    /// `Ok(None)` for an anonymous one (chosen or generated), `Err(())` for one refused.
    fn identity(self, caller: Caller) -> Result<Option<String>, ()> {
        let claims = caller.token_claims();
        let Some(claims) = claims else {
            return match self {
                IdentityMode::SignedInBySub | IdentityMode::SignedInByEmail => Err(()),
                _ => Ok(None),
            };
        };
        let claim = |name: &str| claims[name].as_str().map(str::to_owned);
        match self {
            IdentityMode::SignedInByEmail if claims["email_verified"] != json!(true) => Err(()),
            IdentityMode::SignedInByEmail => claim("email").map(Some).ok_or(()),
            _ => claim("sub").map(Some).ok_or(()),
        }
    }
}

/// The permissions a call asks for.
#[derive(Debug, Clone, Copy)]
enum Asked {
    Default,
    Join,
    JoinAndModerate,
    Lobby,
}

impl Asked {
    fn list(self) -> Option<&'static str> {
        match self {
            Asked::Default => None,
            Asked::Join => Some("allow_join"),
            Asked::JoinAndModerate => Some("allow_join,allow_mod"),
            Asked::Lobby => Some("ask_join"),
        }
    }
}

/// The participant id a call names.
#[derive(Debug, Clone, Copy)]
enum Named {
    Nobody,
    Own,
    /// The moderator's id, under either identity claim.
    Moderators,
    Alice,
}

/// A room a call names: one the account has (made by the operator), a custom id, or one of the
/// rooms the sequence made so far.
#[derive(Debug, Clone, Copy)]
enum RoomName {
    Lobby,
    Custom(usize),
    Made(usize),
}

const CUSTOM_IDS: [&str; 2] = ["standup", "all-hands"];

#[derive(Debug, Clone)]
enum Call {
    GetToken {
        caller: Caller,
        asked: Asked,
        named: Named,
        room: Option<RoomName>,
    },
    Join {
        caller: Caller,
        room: Option<RoomName>,
        custom: bool,
        asked: Asked,
        named: Named,
    },
    /// With a token the sequence was issued (by index), its own options and maybe a custom id.
    CreateMeeting {
        token: usize,
        custom: Option<usize>,
    },
    ValidateMeeting {
        token: usize,
        room: RoomName,
    },
    /// A moderation route (remove without a ban, end a session, deactivate a room), signed in as
    /// `caller`, or with a token the sequence was issued where `token` is set.
    Moderate {
        caller: Caller,
        token: Option<usize>,
        action: Action,
        room: RoomName,
    },
}

/// The moderation routes that need no bans table.
#[derive(Debug, Clone, Copy)]
enum Action {
    Remove,
    EndSession,
    Deactivate,
}

fn any_caller() -> impl Strategy<Value = Caller> {
    prop::sample::select(CALLERS.to_vec())
}

fn any_asked() -> impl Strategy<Value = Asked> {
    prop_oneof![
        Just(Asked::Default),
        Just(Asked::Join),
        Just(Asked::JoinAndModerate),
        Just(Asked::Lobby)
    ]
}

fn any_named() -> impl Strategy<Value = Named> {
    prop_oneof![
        Just(Named::Nobody),
        Just(Named::Own),
        Just(Named::Moderators),
        Just(Named::Alice)
    ]
}

fn any_room() -> impl Strategy<Value = RoomName> {
    prop_oneof![
        Just(RoomName::Lobby),
        (0..CUSTOM_IDS.len()).prop_map(RoomName::Custom),
        (0..4usize).prop_map(RoomName::Made),
    ]
}

fn any_call() -> impl Strategy<Value = Call> {
    prop_oneof![
        (
            any_caller(),
            any_asked(),
            any_named(),
            prop::option::of(any_room())
        )
            .prop_map(|(caller, asked, named, room)| Call::GetToken {
                caller,
                asked,
                named,
                room
            }),
        (
            any_caller(),
            prop::option::of(any_room()),
            any::<bool>(),
            any_asked(),
            any_named()
        )
            .prop_map(|(caller, room, custom, asked, named)| Call::Join {
                caller,
                room,
                custom,
                asked,
                named
            }),
        (0..6usize, prop::option::of(0..CUSTOM_IDS.len()))
            .prop_map(|(token, custom)| Call::CreateMeeting { token, custom }),
        (0..6usize, any_room()).prop_map(|(token, room)| Call::ValidateMeeting { token, room }),
        (
            any_caller(),
            prop::option::of(0..6usize),
            prop_oneof![
                Just(Action::Remove),
                Just(Action::EndSession),
                Just(Action::Deactivate)
            ],
            any_room()
        )
            .prop_map(|(caller, token, action, room)| Call::Moderate {
                caller,
                token,
                action,
                room
            }),
    ]
}

/// What a sequence holds between calls.
#[derive(Default)]
struct Sequence {
    /// Tokens issued, with the caller they were issued to.
    tokens: Vec<(String, Caller)>,
    /// Rooms made so far (VideoSDK's ids).
    rooms: Vec<String>,
}

/// Counts across all cases, so that a run that never created or refused anything fails.
#[derive(Default, Debug)]
struct Seen {
    created: usize,
    creation_refused: usize,
    moderator_tokens: usize,
    identity_refused: usize,
    moderated: usize,
    moderation_refused: usize,
}

impl Seen {
    fn add(&mut self, other: &Seen) {
        self.created += other.created;
        self.creation_refused += other.creation_refused;
        self.moderator_tokens += other.moderator_tokens;
        self.identity_refused += other.identity_refused;
        self.moderated += other.moderated;
        self.moderation_refused += other.moderation_refused;
    }
}

struct World {
    videosdk: VideoSdkStandIn,
    states: HashMap<(IdentityMode, Creators), ApiState>,
    moderation: HashMap<(IdentityMode, Creators), State<ModerationBackend>>,
    lobby: String,
}

impl World {
    fn creations(&self) -> usize {
        self.videosdk.room_creations().len()
    }

    /// The moderation calls VideoSDK received: removals, session ends, deactivations.
    fn moderation_calls(&self) -> usize {
        self.videosdk
            .calls()
            .iter()
            .filter(|call| {
                call.path.starts_with("/v2/sessions") || call.path == "/v2/rooms/deactivate"
            })
            .count()
    }
}

fn participant_named(named: Named, own: Option<&str>, mode: IdentityMode) -> Option<String> {
    match named {
        Named::Nobody => None,
        Named::Own => own.map(str::to_owned),
        Named::Moderators => Some(match mode {
            IdentityMode::SignedInByEmail => "mod-1@corp.example".to_owned(),
            _ => "mod-1".to_owned(),
        }),
        Named::Alice => Some("alice".to_owned()),
    }
}

fn room_id(world: &World, sequence: &Sequence, room: RoomName) -> String {
    match room {
        RoomName::Lobby => world.lobby.clone(),
        RoomName::Custom(index) => CUSTOM_IDS[index].to_owned(),
        RoomName::Made(index) if !sequence.rooms.is_empty() => {
            sequence.rooms[index % sequence.rooms.len()].clone()
        }
        RoomName::Made(_) => world.lobby.clone(),
    }
}

async fn answer(function: &str, state: &ApiState, event: Value) -> (u16, Value) {
    let request =
        shared::aws::lambda::into_request(serde_json::from_value(event).expect("an event"))
            .expect("a valid event");
    let response = api_tests::invoke(function, state, request).await;
    (response.status().as_u16(), json(&response))
}

async fn with_token(
    function: &str,
    state: &ApiState,
    path: &str,
    token: &str,
    body: Value,
) -> (u16, Value) {
    let request = lambda_http::http::Request::builder()
        .method("POST")
        .uri(format!(
            "https://abc123.execute-api.us-east-1.amazonaws.com{path}"
        ))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(lambda_http::Body::from(body.to_string()))
        .expect("a request");
    let response = api_tests::invoke(function, state, request).await;
    (response.status().as_u16(), json(&response))
}

/// Checks a token an answer carries against the rules for `caller` under `mode`.
fn check_issued(
    body: &Value,
    caller: Caller,
    mode: IdentityMode,
    named: Option<&str>,
    seen: &mut Seen,
) -> Result<(), TestCaseError> {
    let claims = verified_by_videosdk(body["token"].as_str().expect("a token"));
    prop_assert_eq!(
        &claims["roles"],
        &json!(["rtc"]),
        "a token for the REST API"
    );
    let moderating = claims["permissions"]
        .as_array()
        .expect("permissions")
        .contains(&json!("allow_mod"));
    prop_assert!(
        !moderating || caller.is_moderator(),
        "allow_mod for {:?} under {:?}",
        caller,
        mode
    );
    seen.moderator_tokens += usize::from(moderating);
    let id = claims["participantId"].as_str();
    match mode.identity(caller) {
        Err(()) => prop_assert!(false, "a token for {:?}, whom {:?} refuses", caller, mode),
        Ok(Some(own)) => prop_assert_eq!(id, Some(own.as_str()), "another's participantId"),
        Ok(None) if mode == IdentityMode::AnonymousGenerated => prop_assert!(
            id.is_some_and(|id| id.starts_with("guest-")),
            "a chosen id under generate: {:?}",
            id
        ),
        // Anonymous under `caller`: the id they named (anyone's: docs/security.md says so), or
        // one of their own.
        Ok(None) => prop_assert!(
            id.is_none() || id == named || id.is_some_and(|id| id.starts_with("guest-")),
            "{:?}",
            id
        ),
    }
    Ok(())
}

async fn run_call(
    world: &World,
    mode: IdentityMode,
    creators: Creators,
    sequence: &mut Sequence,
    call: &Call,
    seen: &mut Seen,
) -> Result<(), TestCaseError> {
    let state = &world.states[&(mode, creators)];
    let before = world.creations();
    let moderation_calls_before = world.moderation_calls();
    let mut may_moderate = false;
    let (status, body, may_create) = match *call {
        Call::GetToken {
            caller,
            asked,
            named,
            room,
        } => {
            let own = mode.identity(caller).ok().flatten();
            let named = participant_named(named, own.as_deref(), mode);
            let room = room.map(|room| room_id(world, sequence, room));
            let mut query: Vec<(&str, &str)> = Vec::new();
            query.extend(asked.list().map(|list| ("permissions", list)));
            query.extend(named.as_deref().map(|id| ("participantId", id)));
            query.extend(room.as_deref().map(|room| ("roomId", room)));
            let event = get_token_event(&query, caller.signed_in().as_ref());
            let (status, body) = answer("get-token", state, event).await;
            if status == 200 {
                check_issued(&body, caller, mode, named.as_deref(), seen)?;
                let token = body["token"].as_str().expect("a token").to_owned();
                sequence.tokens.push((token, caller));
            }
            (status, body, false)
        }
        Call::Join {
            caller,
            room,
            custom,
            asked,
            named,
        } => {
            let own = mode.identity(caller).ok().flatten();
            let named = participant_named(named, own.as_deref(), mode);
            let mut request = serde_json::Map::new();
            if let Some(room) = room {
                let field = if custom { "customRoomId" } else { "roomId" };
                request.insert(field.into(), json!(room_id(world, sequence, room)));
            }
            if let Some(list) = asked.list() {
                let names: Vec<&str> = list.split(',').collect();
                request.insert("permissions".into(), json!(names));
            }
            if let Some(id) = &named {
                request.insert("participantId".into(), json!(id));
            }
            let event = join_event(Some(&Value::Object(request)), caller.signed_in().as_ref());
            let (status, body) = answer("join", state, event).await;
            let may_create = mode.identity(caller).is_ok() && creators.allow(caller.is_moderator());
            if status == 200 {
                check_issued(&body, caller, mode, named.as_deref(), seen)?;
                let token = body["token"].as_str().expect("a token").to_owned();
                sequence.tokens.push((token, caller));
            }
            (status, body, may_create)
        }
        Call::CreateMeeting { token, custom } => {
            if sequence.tokens.is_empty() {
                return Ok(());
            }
            let (token, holder) = sequence.tokens[token % sequence.tokens.len()].clone();
            let mut request = json!({"autoCloseConfig": {"type": "session-end-and-deactivate",
                "duration": 60}});
            if let Some(index) = custom {
                request["customRoomId"] = json!(CUSTOM_IDS[index]);
            }
            let (status, body) =
                with_token("create-meeting", state, "/create-meeting", &token, request).await;
            (status, body, creators.allow(holder.is_moderator()))
        }
        Call::ValidateMeeting { token, room } => {
            if sequence.tokens.is_empty() {
                return Ok(());
            }
            let (token, _) = sequence.tokens[token % sequence.tokens.len()].clone();
            let path = format!("/validate-meeting/{}", room_id(world, sequence, room));
            let (status, body) =
                with_token("validate-meeting", state, &path, &token, json!({})).await;
            (status, body, false)
        }
        Call::Moderate {
            caller,
            token,
            action,
            room,
        } => {
            let route = match action {
                Action::Remove => &moderation::REMOVE_PARTICIPANT,
                Action::EndSession => &moderation::END_SESSION,
                // Only rooms of this sequence: the lobby stays open for the others.
                Action::Deactivate if sequence.rooms.is_empty() => return Ok(()),
                Action::Deactivate => &moderation::DEACTIVATE_ROOM,
            };
            let room = match action {
                Action::Deactivate => sequence.rooms[0].clone(),
                _ => room_id(world, sequence, room),
            };
            let input = json!({"roomId": room, "participantId": "alice"});
            // The rules, restated: a signed-in moderator whose identity the mode accepts; without
            // claims (where the mode lets anonymous callers in), a token of ours carrying
            // allow_mod and scoped to the room named.
            let event = match token {
                Some(index) if !sequence.tokens.is_empty() => {
                    let (token, _) = &sequence.tokens[index % sequence.tokens.len()];
                    let claims = verified_by_videosdk(token);
                    may_moderate = mode.identity(Caller::Anonymous).is_ok()
                        && claims["permissions"]
                            .as_array()
                            .is_some_and(|permissions| permissions.contains(&json!("allow_mod")))
                        && claims["roomId"] == json!(room);
                    moderation_event(route, &input, None, Some(token))
                }
                _ => {
                    may_moderate = caller.is_moderator() && mode.identity(caller).is_ok();
                    moderation_event(route, &input, caller.signed_in().as_ref(), None)
                }
            };
            let request =
                shared::aws::lambda::into_request(serde_json::from_value(event).expect("an event"))
                    .expect("a valid event");
            let Ok(response) =
                routes::moderation::handler(&world.moderation[&(mode, creators)], request).await;
            let (status, body) = (response.status().as_u16(), json(&response));
            seen.moderation_refused += usize::from(status == 403);
            (status, body, false)
        }
    };
    prop_assert!(status < 500, "{:?} answered {}: {}", call, status, body);
    prop_assert!(
        world.moderation_calls() == moderation_calls_before || may_moderate,
        "{:?} under {:?}: VideoSDK was asked to moderate",
        call,
        mode
    );
    prop_assert!(
        status != 200 || !matches!(call, Call::Moderate { .. }) || may_moderate,
        "{:?} under {:?} moderated: {}",
        call,
        mode,
        body
    );
    seen.moderated += usize::from(world.moderation_calls() > moderation_calls_before);
    let created = world.creations() - before;
    prop_assert!(
        created == 0 || may_create,
        "{:?} under {:?}, ROOM_CREATORS={}: VideoSDK was asked to create a room",
        call,
        mode,
        creators.setting()
    );
    seen.created += created;
    let code = body["error"]["code"].as_str().unwrap_or_default();
    seen.creation_refused += usize::from(code == "room_creation_not_allowed");
    seen.identity_refused += usize::from(code.starts_with("identity_"));
    if status == 200
        && let Some(room) = body["roomId"].as_str()
        && !sequence.rooms.iter().any(|known| known == room)
    {
        sequence.rooms.push(room.to_owned());
    }
    Ok(())
}

#[test]
fn no_sequence_of_calls_gets_past_the_rules_about_callers() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let world = runtime.block_on(async {
        let videosdk = VideoSdkStandIn::development().await;
        let endpoint = videosdk.uri();
        let mut states = HashMap::new();
        let mut moderation = HashMap::new();
        for mode in MODES {
            for creators in CREATORS {
                let mut settings = mode.settings();
                settings.extend([
                    ("MEETING_BACKEND", "videosdk"),
                    ("VIDEOSDK_API_ENDPOINT", endpoint.as_str()),
                    ("ROOM_CREATORS", creators.setting()),
                ]);
                states.insert((mode, creators), dev_state(&settings).await);
                moderation.insert((mode, creators), dev_state_of(&settings).await);
            }
        }
        // A room of the account, made by the operator: anyone may join it.
        let open = dev_state(&[
            ("MEETING_BACKEND", "videosdk"),
            ("VIDEOSDK_API_ENDPOINT", endpoint.as_str()),
        ])
        .await;
        let (_, token) = answer("get-token", &open, get_token_event(&[], None)).await;
        let token = token["token"].as_str().expect("a token").to_owned();
        let (status, lobby) = with_token(
            "create-meeting",
            &open,
            "/create-meeting",
            &token,
            json!({}),
        )
        .await;
        assert_eq!(status, 200, "{lobby}");
        let lobby = lobby["roomId"].as_str().expect("a room").to_owned();
        World {
            videosdk,
            states,
            moderation,
            lobby,
        }
    });

    let seen = std::cell::RefCell::new(Seen::default());
    let mut runner = TestRunner::new(Config {
        cases: 512,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        prop::sample::select(MODES.to_vec()),
        prop::sample::select(CREATORS.to_vec()),
        prop::collection::vec(any_call(), 1..8),
    );
    let result = runner.run(&strategy, |(mode, creators, calls)| {
        let mut case = Seen::default();
        let outcome = runtime.block_on(async {
            let mut sequence = Sequence::default();
            for call in &calls {
                run_call(&world, mode, creators, &mut sequence, call, &mut case).await?;
            }
            Ok(())
        });
        seen.borrow_mut().add(&case);
        outcome
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    // A run that never created, refused or granted anything proves nothing.
    let seen = seen.into_inner();
    assert!(
        seen.created > 0
            && seen.creation_refused > 0
            && seen.moderator_tokens > 0
            && seen.identity_refused > 0
            && seen.moderated > 0
            && seen.moderation_refused > 0,
        "{seen:?}"
    );
}
