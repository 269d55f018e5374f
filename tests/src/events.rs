//! The API Gateway HTTP API (payload 2.0) events in `events/`: how they are named, read and
//! (re)generated. A file `events/<function>/<case>.<status>.json` is an event for `<function>`
//! whose handler must answer `<status>`.
//!
//! Their tokens are valid for a day from when they were written: the functions refuse an `exp`
//! more than 24 hours ahead, so no event can carry a token valid for good. The tests write a
//! fresh set into a temporary folder ([`fresh`]) and check that `events/` holds the same cases.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use shared::domain::credentials::ApiCredentials;
use shared::domain::meeting_id::MeetingIdCodec;
use shared::domain::permissions::{PermissionSet, TokenRoles};
use shared::domain::token::{Claims, TokenKeys, TokenScope};
use shared::domain::webhooks::MAX_WEBHOOK_BODY_BYTES;
use shared::http::route::Route;
use shared::routes::videosdk_webhook::SIGNATURE_HEADER;
use shared::routes::{
    CREATE_MEETING, GET_TOKEN, JOIN, VALIDATE_MEETING, VIDEOSDK_WEBHOOK, moderation,
};

use crate::authorizer::SignedIn;
use crate::webhooks::{WebhookSigner, webhook_body};
use shared::domain::token::MAX_TOKEN_LIFETIME_SECONDS;
use shared::domain::unix_now;

use crate::{dev_credentials, workspace_root};

/// One file of `events/`.
#[derive(Debug, Clone)]
pub struct EventFile {
    pub path: PathBuf,
    pub function: String,
    pub case: String,
    pub expected_status: u16,
}

/// The committed events, `events/`.
pub fn committed_root() -> PathBuf {
    workspace_root().join("events")
}

/// Every committed event file (their tokens may have expired: see [`fresh`]).
pub fn all() -> Vec<EventFile> {
    all_in(&committed_root())
}

/// A set of events written now, in a temporary folder removed when it is dropped.
pub struct FreshEvents {
    dir: tempfile::TempDir,
}

impl FreshEvents {
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn files(&self) -> Vec<EventFile> {
        all_in(self.root())
    }
}

/// Every event, written now with tokens valid for a day.
pub fn fresh() -> FreshEvents {
    let dir = tempfile::tempdir().expect("a temporary directory");
    write_all(dir.path()).expect("the events are written");
    FreshEvents { dir }
}

/// Every event file under `root`, sorted, with its function and expected status read from its
/// path.
pub fn all_in(root: &Path) -> Vec<EventFile> {
    let mut files = Vec::new();
    for function in crate::functions() {
        let folder = root.join(function);
        let entries = std::fs::read_dir(&folder)
            .unwrap_or_else(|error| panic!("cannot list {}: {error}", folder.display()));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            files.push(parse_name(function, &path));
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

fn parse_name(function: &str, path: &Path) -> EventFile {
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .and_then(|name| name.strip_suffix(".json"))
        .unwrap_or_else(|| panic!("{} is not a .json event", path.display()));
    let (case, status) = name
        .rsplit_once('.')
        .unwrap_or_else(|| panic!("{} is not named <case>.<status>.json", path.display()));
    EventFile {
        path: path.to_path_buf(),
        function: function.to_owned(),
        case: case.to_owned(),
        expected_status: status
            .parse()
            .unwrap_or_else(|_| panic!("{} has no status in its name", path.display())),
    }
}

/// Tokens issued at `now` for as long as the functions take (a day), or expired an hour ago.
#[derive(Clone, Copy)]
enum Lifetime {
    Valid,
    Expired,
}

fn token(credentials: &ApiCredentials, lifetime: Lifetime) -> String {
    scoped_token(credentials, lifetime, TokenScope::default())
}

fn scoped_token(credentials: &ApiCredentials, lifetime: Lifetime, scope: TokenScope) -> String {
    token_with(credentials, lifetime, scope, "allow_join")
}

/// A token with `permissions` (a comma list, as get-token's query).
fn token_with(
    credentials: &ApiCredentials,
    lifetime: Lifetime,
    scope: TokenScope,
    permissions: &str,
) -> String {
    let keys = TokenKeys::new(credentials).expect("keys build");
    let permissions = PermissionSet::parse_list(permissions).expect("valid permissions");
    let now = unix_now();
    let (iat, ttl) = match lifetime {
        Lifetime::Valid => (now, MAX_TOKEN_LIFETIME_SECONDS),
        Lifetime::Expired => (now - 7_200, 3_600),
    };
    let claims = Claims::new(
        credentials.api_key(),
        &permissions,
        &TokenRoles::participant(),
        scope,
        iat,
        ttl,
    );
    keys.sign(&claims).expect("token signs")
}

/// A token without a room or participant, with `permissions` (a comma list), signed with the
/// development key and valid for a day: one this API issues where no authorizer is required.
pub fn development_token(permissions: &str) -> String {
    token_with(
        &dev_credentials(),
        Lifetime::Valid,
        TokenScope::default(),
        permissions,
    )
}

fn unsigned_token(credentials: &ApiCredentials) -> String {
    let now = unix_now();
    let payload = json!({"apikey": credentials.api_key(), "permissions": ["allow_join"],
        "version": 2, "roles": ["rtc"], "iat": now, "exp": now + MAX_TOKEN_LIFETIME_SECONDS});
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    )
}

/// An API Gateway HTTP API payload 2.0 event, as API Gateway sends it to the function.
struct Event<'a> {
    method: &'a str,
    path: &'a str,
    /// The API Gateway route, `None` for a function URL.
    route: Option<&'a Route>,
    query: &'a [(&'a str, &'a str)],
    headers: Vec<(&'a str, String)>,
    body: Option<String>,
    /// A caller signed in through API Gateway's JWT authorizer: their `Authorization` header
    /// and the `requestContext.authorizer` it fills in.
    caller: Option<SignedIn>,
}

impl Event<'_> {
    fn to_json(&self) -> Value {
        let raw_query: Vec<String> = self.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut headers = serde_json::Map::new();
        headers.insert(
            "host".into(),
            json!("abc123.execute-api.us-east-1.amazonaws.com"),
        );
        headers.insert("user-agent".into(), json!("curl/8.5.0"));
        let signed_in = self.caller.as_ref().map(SignedIn::header);
        for (name, value) in self.headers.iter().chain(&signed_in) {
            headers.insert((*name).into(), json!(value));
        }
        let route_key = match self.route {
            Some(route) => format!("{} {}", self.method, route.path),
            None => "$default".to_owned(),
        };
        let mut event = json!({
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": self.path,
            "rawQueryString": raw_query.join("&"),
            "headers": headers,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "abc123",
                "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
                "domainPrefix": "abc123",
                "http": {
                    "method": self.method,
                    "path": self.path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": "192.0.2.10",
                    "userAgent": "curl/8.5.0"
                },
                "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
                "routeKey": route_key,
                "stage": "$default",
                "time": "29/Nov/2026:04:30:00 +0000",
                "timeEpoch": 1_795_926_600_000u64
            },
            "isBase64Encoded": false
        });
        if !self.query.is_empty() {
            let parameters: serde_json::Map<String, Value> = self
                .query
                .iter()
                .map(|(k, v)| ((*k).to_owned(), json!(v)))
                .collect();
            event["queryStringParameters"] = Value::Object(parameters);
        }
        let parameter = self
            .route
            .and_then(|route| route.path.rsplit_once("/{"))
            .and_then(|(_, name)| name.strip_suffix('}'));
        if let Some(name) = parameter {
            let value = self.path.rsplit('/').next().unwrap_or_default();
            event["pathParameters"] = json!({ name: value });
        }
        if let Some(body) = &self.body {
            event["body"] = json!(body);
        }
        if let Some(caller) = &self.caller {
            event["requestContext"]["authorizer"] = caller.authorizer.clone();
        }
        event
    }
}

/// A `GET /get-token?{query}` event from API Gateway's route, from `caller` when signed in
/// (see `crate::authorizer`).
pub fn get_token_event(query: &[(&str, &str)], caller: Option<&SignedIn>) -> Value {
    get_token(query, caller.cloned()).to_json()
}

fn get_token<'a>(query: &'a [(&'a str, &'a str)], caller: Option<SignedIn>) -> Event<'a> {
    Event {
        method: "GET",
        path: GET_TOKEN.path,
        route: Some(&GET_TOKEN),
        query,
        headers: vec![],
        body: None,
        caller,
    }
}

/// A `POST /join` event from API Gateway's route with `body` (JSON), from `caller` when signed
/// in (see `crate::authorizer`).
pub fn join_event(body: Option<&Value>, caller: Option<&SignedIn>) -> Value {
    join(body, caller.cloned()).to_json()
}

fn join(body: Option<&Value>, caller: Option<SignedIn>) -> Event<'static> {
    Event {
        method: "POST",
        path: JOIN.path,
        route: Some(&JOIN),
        query: &[],
        headers: vec![("content-type", "application/json".into())],
        body: body.map(Value::to_string),
        caller,
    }
}

/// An event of moderation route `route` from API Gateway's route: `input`'s fields as its query
/// (GET) or its JSON body (POST), from `caller` when signed in, with `Authorization: Bearer
/// {token}` when a token of this API is given instead.
pub fn moderation_event(
    route: &'static Route,
    input: &Value,
    caller: Option<&SignedIn>,
    token: Option<&str>,
) -> Value {
    let fields: Vec<(String, String)> = input
        .as_object()
        .map(|fields| {
            fields
                .iter()
                .map(|(name, value)| {
                    let text = value
                        .as_str()
                        .map_or_else(|| value.to_string(), str::to_owned);
                    (name.clone(), text)
                })
                .collect()
        })
        .unwrap_or_default();
    let query: Vec<(&str, &str)> = fields
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let is_get = route.method == lambda_http::http::Method::GET;
    let mut headers = vec![("content-type", "application/json".to_owned())];
    if let Some(token) = token {
        headers.push(("authorization", format!("Bearer {token}")));
    }
    Event {
        method: route.method.as_str(),
        path: route.path,
        route: Some(route),
        query: if is_get { &query } else { &[] },
        headers,
        body: (!is_get).then(|| input.to_string()),
        caller: caller.cloned(),
    }
    .to_json()
}

/// A `POST /create-meeting` event from API Gateway's route with `Authorization: Bearer {token}`
/// and `body` (JSON), as a page sends the token get-token gave it.
pub fn create_meeting_event(token: &str, body: Option<&Value>) -> Value {
    Event {
        method: "POST",
        path: CREATE_MEETING.path,
        route: Some(&CREATE_MEETING),
        query: &[],
        headers: vec![
            ("authorization", format!("Bearer {token}")),
            ("content-type", "application/json".into()),
        ],
        body: body.map(Value::to_string),
        caller: None,
    }
    .to_json()
}

/// VideoSDK's webhooks, signed with the development webhook key (`dev/webhook-signing-key.pem`,
/// whose public half `dev/env-vars.json` pins), and their failures.
fn webhook_events() -> Vec<(&'static str, &'static str, Value)> {
    let signer = WebhookSigner::development();
    let another_key = WebhookSigner::from_pkcs8_pem(
        &std::fs::read_to_string(workspace_root().join("tests/data/webhook-kat/private-key.pem"))
            .expect("the known-answer key is readable"),
    );
    let event = |method: &'static str, headers: Vec<(&'static str, String)>, body: String| {
        Event {
            method,
            path: VIDEOSDK_WEBHOOK.path,
            route: Some(&VIDEOSDK_WEBHOOK),
            query: &[],
            headers: [
                vec![("content-type", "application/json".to_owned())],
                headers,
            ]
            .concat(),
            body: Some(body),
            caller: None,
        }
        .to_json()
    };
    let signed = |body: String| {
        event(
            "POST",
            vec![(SIGNATURE_HEADER, signer.sign(body.as_bytes()))],
            body,
        )
    };
    let started = webhook_body("session-started");
    let older = serde_json::json!({"type": "recording-stopped",
        "data": {"meetingId": "abcd-efgh-ijkl", "filePath": "recordings/abcd.mp4"}})
    .to_string();
    let mut base64_body = signed(webhook_body("participant-joined"));
    let text = base64_body["body"]
        .as_str()
        .expect("a text body")
        .to_owned();
    base64_body["body"] = json!(base64::engine::general_purpose::STANDARD.encode(text));
    base64_body["isBase64Encoded"] = json!(true);
    // Marked base64 but not: lambda_http would panic on it (shared::aws::lambda refuses it).
    let mut not_base64 = signed(webhook_body("participant-joined"));
    not_base64["isBase64Encoded"] = json!(true);
    let oversized = format!(
        "{{\"webhookType\":\"session-started\",\"padding\":\"{}\"}}",
        "x".repeat(MAX_WEBHOOK_BODY_BYTES)
    );
    vec![
        (
            VIDEOSDK_WEBHOOK.name,
            "session-started.204",
            signed(started.clone()),
        ),
        (VIDEOSDK_WEBHOOK.name, "older-type-field.204", signed(older)),
        (
            VIDEOSDK_WEBHOOK.name,
            "base64-encoded-body.204",
            base64_body,
        ),
        (
            VIDEOSDK_WEBHOOK.name,
            "body-marked-base64-but-not.400",
            not_base64,
        ),
        (
            VIDEOSDK_WEBHOOK.name,
            "no-signature.401",
            event("POST", vec![], started.clone()),
        ),
        (
            VIDEOSDK_WEBHOOK.name,
            "tampered-body.401",
            event(
                "POST",
                vec![(SIGNATURE_HEADER, signer.sign(started.as_bytes()))],
                started.replace("session-started", "session-ended"),
            ),
        ),
        (
            VIDEOSDK_WEBHOOK.name,
            "signed-with-another-key.401",
            event(
                "POST",
                vec![(SIGNATURE_HEADER, another_key.sign(started.as_bytes()))],
                started.clone(),
            ),
        ),
        (
            VIDEOSDK_WEBHOOK.name,
            "signature-not-base64.401",
            event(
                "POST",
                vec![(SIGNATURE_HEADER, "%%%%".to_owned())],
                started.clone(),
            ),
        ),
        (
            VIDEOSDK_WEBHOOK.name,
            "not-an-object.400",
            signed("[1,2,3]".to_owned()),
        ),
        (
            VIDEOSDK_WEBHOOK.name,
            "no-type.400",
            signed("{\"data\":{\"meetingId\":\"abcd-efgh-ijkl\"}}".to_owned()),
        ),
        (
            VIDEOSDK_WEBHOOK.name,
            "oversized-body.413",
            signed(oversized),
        ),
        (
            VIDEOSDK_WEBHOOK.name,
            "wrong-method.405",
            event(
                "GET",
                vec![(SIGNATURE_HEADER, signer.sign(started.as_bytes()))],
                started.clone(),
            ),
        ),
        (
            // No CORS on this route: a browser's preflight is a method it does not take.
            VIDEOSDK_WEBHOOK.name,
            "browser-preflight.405",
            Event {
                method: "OPTIONS",
                path: VIDEOSDK_WEBHOOK.path,
                route: Some(&VIDEOSDK_WEBHOOK),
                query: &[],
                headers: vec![
                    ("origin", "https://app.example.com".to_owned()),
                    ("access-control-request-method", "POST".to_owned()),
                ],
                body: None,
                caller: None,
            }
            .to_json(),
        ),
    ]
}

/// `POST /join`, under the settings of `dev/env-vars.json` (the local backend, moderators by
/// group or scope, `ROOM_CREATORS=moderators`): `meeting` is an id issued under the
/// development key, `unknown` one that is not.
fn join_events(meeting: &str, unknown: &str) -> Vec<(&'static str, &'static str, Value)> {
    let player = id_token_claims(SIGNED_IN_SUB, "[\"players\"]");
    let moderator = id_token_claims(SIGNED_IN_SUB, "[\"admins\", \"moderators\"]");
    let (player, moderator) = (Some(&player), Some(&moderator));
    let authorizer = |claims: Option<&Value>| claims.map(SignedIn::with_claims);
    let join_with = |body: Value, claims| join(Some(&body), authorizer(claims));
    let cases = [
        (
            "new-room-as-moderator.200",
            join(None, authorizer(moderator)),
        ),
        (
            "moderator-with-allow-mod.200",
            join_with(
                json!({"permissions": ["allow_join", "allow_mod"]}),
                moderator,
            ),
        ),
        (
            "signed-in-existing-room.200",
            join_with(json!({ "roomId": meeting }), player),
        ),
        (
            "anonymous-existing-room.200",
            join_with(json!({ "roomId": meeting, "participantId": "alice" }), None),
        ),
        ("new-room-not-allowed.403", join(None, authorizer(player))),
        (
            "anonymous-new-room-not-allowed.403",
            join_with(json!({}), None),
        ),
        (
            "not-a-moderator.403",
            join_with(
                json!({ "roomId": meeting, "permissions": ["allow_join", "allow_mod"] }),
                player,
            ),
        ),
        (
            "someone-elses-participant-id.403",
            join_with(
                json!({ "roomId": meeting, "participantId": "alice" }),
                player,
            ),
        ),
        (
            "unknown-room.404",
            join_with(json!({ "roomId": unknown }), player),
        ),
        (
            "both-room-ids.400",
            join_with(
                json!({ "roomId": meeting, "customRoomId": "standup" }),
                moderator,
            ),
        ),
        (
            // The local backend has no custom ids.
            "custom-room-id-without-videosdk.400",
            join_with(json!({ "customRoomId": "standup" }), moderator),
        ),
        (
            "invalid-room-id.400",
            join_with(json!({ "roomId": "room.one" }), player),
        ),
        (
            "malformed-json.400",
            Event {
                body: Some("{\"roomId\": ".into()),
                ..join(None, authorizer(player))
            },
        ),
        (
            "room-id-not-a-string.400",
            join_with(json!({ "roomId": 42 }), player),
        ),
        (
            "wrong-method.405",
            Event {
                method: "GET",
                ..join(None, authorizer(player))
            },
        ),
        (
            "preflight.204",
            Event {
                method: "OPTIONS",
                headers: vec![
                    ("origin", "https://app.example.com".into()),
                    ("access-control-request-method", "POST".into()),
                    (
                        "access-control-request-headers",
                        "authorization,content-type".into(),
                    ),
                ],
                ..join(None, None)
            },
        ),
    ];
    cases
        .into_iter()
        .map(|(case, event)| (JOIN.name, case, event.to_json()))
        .collect()
}

/// The moderation routes' events, on the development configuration (local meeting ids, no bans
/// table): the refusals before VideoSDK. What needs VideoSDK's sessions or the table answers 503
/// there, a fault of the configuration rather than of the input, and is tested with both
/// (tests/tests/moderation.rs).
fn moderation_events(meeting: &str, unknown: &str) -> Vec<(&'static str, &'static str, Value)> {
    let dev = dev_credentials();
    let scoped = |room: &str, permissions| {
        let scope = TokenScope {
            room_id: Some(room.to_owned()),
            participant_id: Some("host".to_owned()),
        };
        format!(
            "Bearer {}",
            token_with(&dev, Lifetime::Valid, scope, permissions)
        )
    };
    let moderator_token = scoped(meeting, "allow_join,allow_mod");
    let member_token = scoped(meeting, "allow_join");
    let other_room_token = scoped("another-room", "allow_join,allow_mod");
    let post = |route: &'static Route, authorization: Option<&str>, body: Value| Event {
        method: "POST",
        path: route.path,
        route: Some(route),
        query: &[],
        headers: [
            vec![("content-type", "application/json".to_owned())],
            authorization
                .map(|value| vec![("authorization", value.to_owned())])
                .unwrap_or_default(),
        ]
        .concat(),
        body: Some(body.to_string()),
        caller: None,
    };
    let room = json!({ "roomId": meeting });
    let removal = json!({ "roomId": meeting, "participantId": "guest-1", "ban": true });
    let member = id_token_claims(SIGNED_IN_SUB, "[\"players\"]");
    let moderator = id_token_claims(SIGNED_IN_SUB, "[\"admins\", \"moderators\"]");
    let malformed_query = [("roomId", "not a room")];
    let list_bans = |caller: Value| Event {
        method: "GET",
        path: moderation::LIST_BANS.path,
        route: Some(&moderation::LIST_BANS),
        query: &[],
        headers: vec![],
        body: None,
        caller: Some(SignedIn::with_claims(&caller)),
    };
    let cases = [
        (
            "preflight.204",
            Event {
                method: "OPTIONS",
                headers: vec![
                    ("origin", "https://app.example.com".to_owned()),
                    ("access-control-request-method", "POST".to_owned()),
                ],
                body: None,
                ..post(&moderation::END_SESSION, None, json!({}))
            },
        ),
        (
            "no-token.401",
            post(&moderation::END_SESSION, None, room.clone()),
        ),
        (
            "token-without-allow-mod.403",
            post(&moderation::END_SESSION, Some(&member_token), room.clone()),
        ),
        (
            "token-for-another-room.403",
            post(
                &moderation::DEACTIVATE_ROOM,
                Some(&other_room_token),
                room.clone(),
            ),
        ),
        (
            "signed-in-member.403",
            Event {
                caller: Some(SignedIn::with_claims(&member)),
                ..post(&moderation::REMOVE_PARTICIPANT, None, removal.clone())
            },
        ),
        (
            "no-room.400",
            post(&moderation::END_SESSION, Some(&moderator_token), json!({})),
        ),
        (
            "signed-in-moderator-unknown-room.404",
            Event {
                caller: Some(SignedIn::with_claims(&moderator)),
                ..post(&moderation::END_SESSION, None, json!({ "roomId": unknown }))
            },
        ),
        (
            "list-bans-of-malformed-room.400",
            Event {
                query: &malformed_query,
                ..list_bans(moderator.clone())
            },
        ),
        (
            "wrong-method.405",
            Event {
                method: "GET",
                ..post(&moderation::LIFT_BAN, Some(&moderator_token), removal)
            },
        ),
    ];
    cases
        .into_iter()
        .map(|(case, event)| (moderation::REMOVE_PARTICIPANT.name, case, event.to_json()))
        .collect()
}

/// The `sub` of the signed-in caller in the events: a Cognito user's id.
pub const SIGNED_IN_SUB: &str = "0b5e4a3c-9f1d-4d8e-a7c2-3e6f1b2d4c5a";
const USER_POOL: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEfGhI";
const APP_CLIENT: &str = "4m1dexample0client0id0abcd";

/// The claims of a Cognito ID token for `sub`, in the groups of `groups` (a JSON value).
fn id_token_claims(sub: &str, groups: &str) -> Value {
    json!({
        "sub": sub,
        "cognito:groups": serde_json::from_str::<Value>(groups).expect("groups are JSON"),
        "iss": USER_POOL,
        "cognito:username": "maria",
        "aud": APP_CLIENT,
        "token_use": "id",
        "auth_time": 1_795_926_500u64,
        "iat": 1_795_926_500u64,
        "exp": 1_795_930_100u64,
        "email": "maria@example.com",
        "email_verified": true
    })
}

/// The claims of a Cognito access token for `sub` with `scope` (space-separated).
fn access_token_claims(sub: &str, scope: &str) -> Value {
    json!({
        "sub": sub,
        "iss": USER_POOL,
        "client_id": APP_CLIENT,
        "token_use": "access",
        "scope": scope,
        "username": "maria",
        "auth_time": 1_795_926_500u64,
        "iat": 1_795_926_500u64,
        "exp": 1_795_930_100u64
    })
}

/// The settings the events are written for, as `sam local invoke --env-vars dev/env-vars.json`
/// gives them to every function: the `Parameters` of `dev/env-vars.json` that are not blank
/// (moderators among them, for the signed-in events).
pub fn settings() -> Vec<(String, String)> {
    let path = workspace_root().join("dev/env-vars.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    let file: Value = serde_json::from_str(&text).expect("dev/env-vars.json is JSON");
    file["Parameters"]
        .as_object()
        .expect("dev/env-vars.json has Parameters")
        .iter()
        .filter_map(|(name, value)| Some((name.clone(), value.as_str()?.to_owned())))
        .filter(|(_, value)| !value.is_empty())
        .collect()
}

/// Writes every event into `root`, replacing what is there. Tokens are signed with the
/// development key and are valid for a day from now; the valid meeting id is issued under that
/// key.
pub fn write_all(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let dev = dev_credentials();
    let valid = token(&dev, Lifetime::Valid);
    let bearer = format!("Bearer {valid}");
    // What get-token gives a moderator who asks for allow_mod: the token that creates rooms
    // under `ROOM_CREATORS=moderators`, as dev/env-vars.json sets it.
    let moderator_token = token_with(
        &dev,
        Lifetime::Valid,
        TokenScope::default(),
        "allow_join,allow_mod",
    );
    let moderator_bearer = format!("Bearer {moderator_token}");
    let expired = format!("Bearer {}", token(&dev, Lifetime::Expired));
    let foreign_key = ApiCredentials::new(dev.api_key(), "a-secret-that-is-not-ours");
    let forged = format!("Bearer {}", token(&foreign_key, Lifetime::Valid));
    let alg_none = format!("Bearer {}", unsigned_token(&dev));
    let codec = MeetingIdCodec::new(&dev);
    let meeting = codec.issue().expect("an id").to_string();
    let unknown = std::iter::repeat_with(|| codec.issue().expect("an id").to_string())
        .map(|id| format!("{}{}", &id[..13], if id.ends_with('a') { 'b' } else { 'a' }))
        .find(|id| codec.check(id).is_err())
        .expect("an unknown id");
    // Room-scoped tokens, for the issued meeting and for another room.
    let room_scoped = |room: &str| {
        let scope = TokenScope {
            room_id: Some(room.to_owned()),
            participant_id: Some("alice".to_owned()),
        };
        format!("Bearer {}", scoped_token(&dev, Lifetime::Valid, scope))
    };
    let json_body = |token: &str| Some(json!({ "token": token, "region": "sg001" }).to_string());
    let validate_path = |id: &str| VALIDATE_MEETING.path.replace("{meetingId}", id);
    let origin = ("origin", "https://app.example.com".to_owned());

    let get = |query: &'static [(&'static str, &'static str)]| get_token(query, None);

    // Signed-in callers, as API Gateway's JWT authorizer passes on a Cognito user pool's ID
    // token (groups flattened, scopes null) or access token (scopes listed).
    let signed_in = |query: &'static [(&'static str, &'static str)], payload: Value| Event {
        caller: Some(SignedIn::with_claims(&payload)),
        ..get(query)
    };
    let player = id_token_claims(SIGNED_IN_SUB, "[\"players\"]");
    let moderator = id_token_claims(SIGNED_IN_SUB, "[\"admins\", \"moderators\"]");
    let one_group = id_token_claims(SIGNED_IN_SUB, "\"moderators\"");
    let moderate = &[("permissions", "allow_join,allow_mod")][..];
    let mut no_sub = player.clone();
    no_sub.as_object_mut().expect("claims").remove("sub");
    let get_token_cases = vec![
        ("default-permissions.200", get(&[])),
        (
            "scoped-to-room-and-peer.200",
            get(&[("roomId", "abcd-efgh-ijkl"), ("peerId", "alice")]),
        ),
        ("ask-join.200", get(&[("permissions", "ask_join")])),
        (
            "forbidden-permission.403",
            get(&[("permissions", "allow_join,allow_mod")]),
        ),
        (
            "unknown-permission.400",
            get(&[("permissions", "superuser")]),
        ),
        (
            "conflicting-permissions.400",
            get(&[("permissions", "ask_join,allow_join")]),
        ),
        ("invalid-room-id.400", get(&[("roomId", "room.one")])),
        (
            // A `"` in the raw query makes a URI lambda_http cannot build (shared::aws::lambda).
            "unparsable-query.400",
            get(&[("roomId", "a\"b")]),
        ),
        (
            "wrong-method.405",
            Event {
                method: "POST",
                ..get(&[])
            },
        ),
        (
            "preflight.204",
            Event {
                method: "OPTIONS",
                headers: vec![
                    origin.clone(),
                    ("access-control-request-method", "GET".into()),
                ],
                ..get(&[])
            },
        ),
        ("signed-in.200", signed_in(&[], player.clone())),
        (
            "own-participant-id.200",
            signed_in(&[("participantId", SIGNED_IN_SUB)], player.clone()),
        ),
        (
            "someone-elses-participant-id.403",
            signed_in(&[("participantId", "alice")], player.clone()),
        ),
        ("signed-in-moderator.200", signed_in(moderate, moderator)),
        ("moderator-in-one-group.200", signed_in(moderate, one_group)),
        (
            "moderator-by-scope.200",
            signed_in(
                moderate,
                access_token_claims(SIGNED_IN_SUB, "openid videosdk/moderate"),
            ),
        ),
        ("not-a-moderator.403", signed_in(moderate, player)),
        (
            // Read whole from the token: one group whose name holds a space, not "moderators".
            "group-name-with-a-space.403",
            signed_in(
                moderate,
                id_token_claims(SIGNED_IN_SUB, "[\"Former moderators\"]"),
            ),
        ),
        ("no-identity-claim.403", signed_in(&[], no_sub)),
        (
            "moderator-without-join.400",
            get(&[("permissions", "allow_mod")]),
        ),
        (
            "provider-style-participant-id.200",
            get(&[("participantId", "google-oauth2:1034")]),
        ),
    ];
    let mut events: Vec<(&str, &str, Value)> = get_token_cases
        .into_iter()
        .map(|(case, event)| (GET_TOKEN.name, case, event.to_json()))
        .collect();

    // One row per create-meeting and validate-meeting event: `POST {path}` with these headers
    // and body, unless the row changes the method or takes the route away (a function URL).
    let auth = |value: &str| ("authorization", value.to_owned());
    let json = || ("content-type", "application/json".to_owned());
    let create = |headers: Vec<(&'static str, String)>, body: Option<String>| Event {
        method: "POST",
        path: CREATE_MEETING.path,
        route: Some(&CREATE_MEETING),
        query: &[],
        headers,
        body,
        caller: None,
    };
    let validate = |path, headers, body| Event {
        path,
        route: Some(&VALIDATE_MEETING),
        ..create(headers, body)
    };
    let (meeting_path, unknown_path) = (validate_path(&meeting), validate_path(&unknown));
    let malformed_path = validate_path("not-a-meeting");
    let function_url_path = format!("/{meeting}");
    let oversized = format!("{{\"padding\":\"{}\"}}", "x".repeat(17 * 1024));
    let auto_start = json!({"autoStartConfig": {"recording": {"config": {"quality": "high"}}}});
    let create_cases = vec![
        (
            "bearer-token.200",
            create(vec![auth(&moderator_bearer)], None),
        ),
        (
            "token-in-body.200",
            create(vec![json()], json_body(&moderator_token)),
        ),
        (
            "bare-authorization.200",
            create(vec![auth(&moderator_token)], None),
        ),
        // A member's token, without allow_mod: no room under `ROOM_CREATORS=moderators`.
        (
            "token-without-allow-mod.403",
            create(vec![auth(&bearer)], None),
        ),
        ("no-token.401", create(vec![], None)),
        ("expired-token.401", create(vec![auth(&expired)], None)),
        (
            "signed-with-another-key.401",
            create(vec![auth(&forged)], None),
        ),
        ("alg-none.401", create(vec![auth(&alg_none)], None)),
        (
            "malformed-json.400",
            create(vec![json()], Some("{\"token\": ".into())),
        ),
        (
            "oversized-body.413",
            create(vec![auth(&bearer)], Some(oversized)),
        ),
        // Refused although the header carries a valid token: the spec's `type: string`.
        (
            "token-not-a-string.400",
            create(
                vec![auth(&bearer), json()],
                Some(json!({"token": 42}).to_string()),
            ),
        ),
        // Paid work a caller may not start by default (option_not_allowed with VideoSDK's
        // rooms, unsupported_option with local ids).
        (
            "auto-start-config.400",
            create(
                vec![auth(&moderator_bearer), json()],
                Some(auto_start.to_string()),
            ),
        ),
        (
            "room-scoped-token.403",
            create(vec![auth(&room_scoped(&meeting))], None),
        ),
        (
            "wrong-method.405",
            Event {
                method: "GET",
                ..create(vec![auth(&bearer)], None)
            },
        ),
    ];
    let validate_cases = vec![
        (
            "token-for-this-room.200",
            validate(&meeting_path, vec![auth(&room_scoped(&meeting))], None),
        ),
        (
            "token-for-another-room.403",
            validate(
                &meeting_path,
                vec![auth(&room_scoped("abcd-efgh-ijkl"))],
                None,
            ),
        ),
        (
            "issued-id.200",
            validate(&meeting_path, vec![auth(&bearer)], None),
        ),
        (
            "token-in-body.200",
            validate(&meeting_path, vec![json()], json_body(&valid)),
        ),
        (
            "unknown-id.404",
            validate(&unknown_path, vec![auth(&bearer)], None),
        ),
        (
            "malformed-id.400",
            validate(&malformed_path, vec![auth(&bearer)], None),
        ),
        ("no-token.401", validate(&meeting_path, vec![], None)),
        (
            "token-not-a-string.400",
            validate(
                &meeting_path,
                vec![auth(&bearer), json()],
                Some(json!({"token": ["not", "a", "string"]}).to_string()),
            ),
        ),
        (
            "expired-token.401",
            validate(&meeting_path, vec![auth(&expired)], None),
        ),
        (
            "function-url-without-route.200",
            Event {
                route: None,
                ..validate(&function_url_path, vec![auth(&bearer)], None)
            },
        ),
    ];
    for (function, cases) in [
        (CREATE_MEETING.name, create_cases),
        (VALIDATE_MEETING.name, validate_cases),
    ] {
        for (case, event) in cases {
            events.push((function, case, event.to_json()));
        }
    }

    events.extend(join_events(&meeting, &unknown));
    events.extend(webhook_events());
    events.extend(moderation_events(&meeting, &unknown));

    let _ = std::fs::remove_dir_all(root);
    let mut written = Vec::new();
    for (function, case, event) in events {
        let folder = root.join(function);
        std::fs::create_dir_all(&folder)?;
        let path = folder.join(format!("{case}.json"));
        let mut text = serde_json::to_string_pretty(&event).map_err(std::io::Error::other)?;
        text.push('\n');
        std::fs::write(&path, text)?;
        written.push(path);
    }
    Ok(written)
}
