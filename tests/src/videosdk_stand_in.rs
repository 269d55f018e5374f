//! A local stand-in for VideoSDK's v2 rooms API that checks every call the way VideoSDK does
//! before it answers: the bare JWT in `Authorization` (no `Bearer`), HS256, signed with the
//! account's secret (verified by VideoSDK's own Rust SDK), the account's `apikey`, `version: 2`,
//! a management role (`crawler`, any case) and an `exp` in the future. A call that fails any of
//! these gets VideoSDK's 401. Rooms it creates are remembered, with the body they were created
//! with: `customRoomId` is idempotent, `GET /v2/rooms/validate/{id}` knows a room by its id or
//! its custom id and answers an unknown id 400 (as VideoSDK's API does; its SDKs read 400, 402
//! and 404 as "not valid"), and `POST /v2/rooms/deactivate` (`{"roomId"}`, a room id only, as
//! the crate's `rooms().end` documents: anything else is 402) disables a room, which validates
//! with `disabled: true` from then on.
//! Sessions, as the docs and the Node server SDK 0.1.1 describe them (management token, no
//! `Bearer`): a test puts participants in a room's live session ([`VideoSdkStandIn::join`]);
//! `POST /v2/sessions/participants/remove` `{participantId, roomId}` drops one (404 when the
//! room has no live session or the participant is not in it), `POST /v2/sessions/end` `{roomId}`
//! ends the session and answers it ended (404 without one); an unknown room is 400 `Invalid
//! roomId` to both, as to validation; a body without `participantId` or `roomId` is 400.
//! `GET /v2/public/rsa-public-key` answers `{"publicKey": <PEM>}` with the webhook key the test
//! chose (and can rotate), or the failure it chose, after the same token checks.

use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// One call VideoSDK received, whether it passed the token checks, and the status answered.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub body: Value,
    /// The `Authorization` header as sent: the token this service minted for the call.
    pub authorization: Option<String>,
    pub authorized: bool,
    pub status: u16,
}

#[derive(Debug, Clone)]
struct Room {
    room_id: String,
    custom_room_id: Option<String>,
    disabled: bool,
    /// The participants of its live session; `None` when no session is live.
    session: Option<Vec<String>>,
    /// How many sessions it has had, for session ids.
    sessions: usize,
}

struct Account {
    api_key: String,
    secret: String,
    rooms: Mutex<Vec<Room>>,
    calls: Mutex<Vec<Call>>,
    webhook_key: Mutex<WebhookKey>,
    /// What remove, end and deactivate answer instead, when a test says so.
    moderation_failure: Mutex<Option<u16>>,
    /// Whether remove, end and deactivate answer only after a minute.
    moderation_stalled: std::sync::atomic::AtomicBool,
}

/// What `GET /v2/public/rsa-public-key` answers.
#[derive(Debug, Clone)]
enum WebhookKey {
    Serve(String),
    Fail(u16),
}

/// The running stand-in; it stops when dropped.
pub struct VideoSdkStandIn {
    server: MockServer,
    account: Arc<Account>,
}

impl VideoSdkStandIn {
    /// A stand-in for the account with this API key and secret.
    pub async fn start(api_key: &str, secret: &str) -> Self {
        let server = MockServer::start().await;
        let account = Arc::new(Account {
            api_key: api_key.to_owned(),
            secret: secret.to_owned(),
            rooms: Mutex::new(Vec::new()),
            calls: Mutex::new(Vec::new()),
            webhook_key: Mutex::new(WebhookKey::Fail(404)),
            moderation_failure: Mutex::new(None),
            moderation_stalled: std::sync::atomic::AtomicBool::new(false),
        });
        Mock::given(method("POST"))
            .and(path("/v2/rooms"))
            .respond_with(CreateRoom(Arc::clone(&account)))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path_regex("^/v2/rooms/validate/[^/]+$"))
            .respond_with(ValidateRoom(Arc::clone(&account)))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/v2/rooms/deactivate"))
            .respond_with(DeactivateRoom(Arc::clone(&account)))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/v2/sessions/participants/remove"))
            .respond_with(RemoveParticipant(Arc::clone(&account)))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/v2/sessions/end"))
            .respond_with(EndSession(Arc::clone(&account)))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v2/public/rsa-public-key"))
            .respond_with(PublicKey(Arc::clone(&account)))
            .mount(&server)
            .await;
        Self { server, account }
    }

    /// Serves `pem` as VideoSDK's webhook public key from now on (a rotation, when it changes).
    pub fn serve_webhook_key(&self, pem: &str) {
        *lock(&self.account.webhook_key) = WebhookKey::Serve(pem.to_owned());
    }

    /// Answers the webhook key's endpoint with `status` from now on.
    pub fn fail_webhook_key(&self, status: u16) {
        *lock(&self.account.webhook_key) = WebhookKey::Fail(status);
    }

    /// How many times the webhook public key was asked for.
    pub fn webhook_key_fetches(&self) -> usize {
        self.calls()
            .iter()
            .filter(|call| call.path == "/v2/public/rsa-public-key")
            .count()
    }

    /// A stand-in for the account of `dev/local.env`, the development key.
    pub async fn development() -> Self {
        let credentials = crate::dev_credentials();
        Self::start(
            credentials.api_key(),
            &String::from_utf8_lossy(credentials.secret_key()),
        )
        .await
    }

    /// The base URL to give the functions as `VIDEOSDK_API_ENDPOINT`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// Every call received so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        lock(&self.account.calls).clone()
    }

    /// `participant_id` joins the live session of the room `room_id` (a room id), which starts
    /// one if none is live. Panics for an unknown room: a test's mistake.
    pub fn join(&self, room_id: &str, participant_id: &str) {
        let mut rooms = lock(&self.account.rooms);
        let room = rooms
            .iter_mut()
            .find(|room| room.room_id == room_id)
            .unwrap_or_else(|| panic!("no room {room_id} at the stand-in"));
        if room.session.is_none() {
            room.sessions += 1;
        }
        room.session
            .get_or_insert_with(Vec::new)
            .push(participant_id.to_owned());
    }

    /// The participants of the live session of `room_id`, or `None` without one.
    pub fn session(&self, room_id: &str) -> Option<Vec<String>> {
        lock(&self.account.rooms)
            .iter()
            .find(|room| room.room_id == room_id)
            .and_then(|room| room.session.clone())
    }

    /// Answers every removal, session end and deactivation with `status` from now on (429 with
    /// `Retry-After: 7`), or as VideoSDK would again with `None`.
    pub fn fail_moderation(&self, status: Option<u16>) {
        *lock(&self.account.moderation_failure) = status;
    }

    /// From now on, every removal, session end and deactivation is answered a minute late: a
    /// VideoSDK that takes the call and hangs.
    pub fn stall_moderation(&self) {
        self.account
            .moderation_stalled
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether `room_id` was deactivated.
    pub fn is_disabled(&self, room_id: &str) -> bool {
        lock(&self.account.rooms)
            .iter()
            .any(|room| room.room_id == room_id && room.disabled)
    }

    /// How many rooms the account has (a repeated custom id makes none).
    pub fn room_count(&self) -> usize {
        lock(&self.account.rooms).len()
    }

    /// The body VideoSDK received for each room created, in order (repeats of a custom id
    /// included).
    pub fn room_creations(&self) -> Vec<Value> {
        self.calls()
            .into_iter()
            .filter(|call| call.method == "POST" && call.path == "/v2/rooms" && call.authorized)
            .map(|call| call.body)
            .collect()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Account {
    /// Answers `request` with `answer` (a status and a JSON body) when its token passes, with
    /// VideoSDK's 401 when it does not, and records the call with the status answered.
    fn answer(&self, request: &Request, answer: impl FnOnce() -> (u16, Value)) -> ResponseTemplate {
        let verdict = self.check_token(request);
        let (status, body) = match verdict {
            Ok(()) => answer(),
            Err(why) => (401, json!({ "message": why })),
        };
        lock(&self.calls).push(Call {
            method: request.method.to_string(),
            path: request.url.path().to_owned(),
            body: serde_json::from_slice(&request.body).unwrap_or(Value::Null),
            authorization: request
                .headers
                .get("authorization")
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned),
            authorized: verdict.is_ok(),
            status,
        });
        ResponseTemplate::new(status).set_body_json(body)
    }

    fn check_token(&self, request: &Request) -> Result<(), &'static str> {
        let token = request
            .headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .ok_or("no Authorization header")?;
        if token.contains(' ') {
            return Err("Authorization must be the bare token");
        }
        let header: Value = token
            .split('.')
            .next()
            .and_then(|part| URL_SAFE_NO_PAD.decode(part).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or("malformed token header")?;
        if header["alg"] != "HS256" {
            return Err("token is not HS256");
        }
        let claims = videosdk::verify_token(token, &self.secret)
            .map_err(|_| "token signature invalid or token expired")?;
        if claims.api_key.as_deref() != Some(self.api_key.as_str()) {
            return Err("token apikey is not this account's");
        }
        if claims.version != Some(2) {
            return Err("token version is not 2");
        }
        if !claims
            .roles
            .iter()
            .any(|role| role.eq_ignore_ascii_case("crawler"))
        {
            return Err("token has no management role");
        }
        if claims.expires_at.is_none() {
            return Err("token has no exp");
        }
        Ok(())
    }

    /// The failure a test asked for, recorded as a call like any other.
    fn moderation_failure(&self, request: &Request) -> Option<ResponseTemplate> {
        if self
            .moderation_stalled
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            let answer = self.answer(request, || (200, json!({})));
            return Some(answer.set_delay(std::time::Duration::from_secs(60)));
        }
        let status = (*lock(&self.moderation_failure))?;
        let response = self.answer(request, || {
            (status, json!({"message": "the stand-in was told to fail"}))
        });
        Some(if status == 429 {
            response.insert_header("retry-after", "7")
        } else {
            response
        })
    }

    fn room_json(&self, room: &Room) -> Value {
        json!({
            "id": format!("id-{}", room.room_id),
            "roomId": room.room_id,
            "customRoomId": room.custom_room_id,
            "apiKey": self.api_key,
            "disabled": room.disabled,
            "createdAt": "2026-12-01T00:00:00.000Z",
        })
    }
}

/// `abcd-efgh-ijkl`-shaped ids, distinct for each room.
fn room_id(index: usize) -> String {
    let mut letters = [b'a'; 12];
    let mut rest = index;
    for slot in letters.iter_mut().rev() {
        *slot = b'a' + (rest % 26) as u8;
        rest /= 26;
    }
    let text = String::from_utf8_lossy(&letters).into_owned();
    format!("vsdk-{}-{}", &text[4..8], &text[8..12])
}

struct CreateRoom(Arc<Account>);

impl Respond for CreateRoom {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0.answer(request, || {
            let body: Value = match serde_json::from_slice(&request.body) {
                Ok(Value::Object(body)) => Value::Object(body),
                _ if request.body.is_empty() => json!({}),
                _ => return (400, json!({"message": "body is not a JSON object"})),
            };
            let custom_room_id = body["customRoomId"].as_str().map(str::to_owned);
            let mut rooms = lock(&self.0.rooms);
            if let Some(custom) = &custom_room_id
                && let Some(existing) = rooms
                    .iter()
                    .find(|room| room.custom_room_id.as_ref() == Some(custom))
            {
                return (200, self.0.room_json(existing));
            }
            let room = Room {
                room_id: room_id(rooms.len()),
                custom_room_id,
                disabled: false,
                session: None,
                sessions: 0,
            };
            rooms.push(room.clone());
            (200, self.0.room_json(&room))
        })
    }
}

struct ValidateRoom(Arc<Account>);

impl Respond for ValidateRoom {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0.answer(request, || {
            let id = request.url.path().rsplit('/').next().unwrap_or_default();
            let rooms = lock(&self.0.rooms);
            match rooms
                .iter()
                .find(|room| room.room_id == id || room.custom_room_id.as_deref() == Some(id))
            {
                Some(room) => (200, self.0.room_json(room)),
                None => (400, json!({"message": "Invalid roomId"})),
            }
        })
    }
}

struct DeactivateRoom(Arc<Account>);

impl Respond for DeactivateRoom {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if let Some(failure) = self.0.moderation_failure(request) {
            return failure;
        }
        self.0.answer(request, || {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
            let id = body["roomId"].as_str().unwrap_or_default();
            let mut rooms = lock(&self.0.rooms);
            match rooms.iter_mut().find(|room| room.room_id == id) {
                Some(room) => {
                    room.disabled = true;
                    let room = room.clone();
                    (200, self.0.room_json(&room))
                }
                None => (402, json!({"message": "Invalid roomId"})),
            }
        })
    }
}

/// The JSON body of a sessions call, and its room (by room id, as the Node SDK sends it).
fn session_call<'a>(
    request: &Request,
    rooms: &'a mut [Room],
    also: &[&str],
) -> Result<&'a mut Room, (u16, Value)> {
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    for field in std::iter::once(&"roomId").chain(also) {
        if !body[*field].is_string() {
            return Err((
                400,
                json!({ "message": format!("\"{field}\" is required") }),
            ));
        }
    }
    let id = body["roomId"].as_str().unwrap_or_default();
    rooms
        .iter_mut()
        .find(|room| room.room_id == id)
        .ok_or((400, json!({"message": "Invalid roomId"})))
}

struct RemoveParticipant(Arc<Account>);

impl Respond for RemoveParticipant {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if let Some(failure) = self.0.moderation_failure(request) {
            return failure;
        }
        self.0.answer(request, || {
            let mut rooms = lock(&self.0.rooms);
            let room = match session_call(request, &mut rooms, &["participantId"]) {
                Ok(room) => room,
                Err(refusal) => return refusal,
            };
            let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
            let participant = body["participantId"].as_str().unwrap_or_default();
            let Some(session) = room.session.as_mut() else {
                return (
                    404,
                    json!({"message": "No active session found for this room"}),
                );
            };
            let before = session.len();
            session.retain(|present| present != participant);
            if session.len() == before {
                return (
                    404,
                    json!({"message": "Participant not found in the session"}),
                );
            }
            (200, json!({"message": "Participant removed successfully"}))
        })
    }
}

struct EndSession(Arc<Account>);

impl Respond for EndSession {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if let Some(failure) = self.0.moderation_failure(request) {
            return failure;
        }
        self.0.answer(request, || {
            let mut rooms = lock(&self.0.rooms);
            let room = match session_call(request, &mut rooms, &[]) {
                Ok(room) => room,
                Err(refusal) => return refusal,
            };
            let Some(participants) = room.session.take() else {
                return (
                    404,
                    json!({"message": "No active session found for this room"}),
                );
            };
            let participants: Vec<Value> = participants
                .iter()
                .map(|id| json!({"participantId": id, "name": id, "timelog": []}))
                .collect();
            (
                200,
                json!({
                    "id": format!("session-{}-{}", room.room_id, room.sessions),
                    "roomId": room.room_id,
                    "start": "2026-12-01T00:00:00.000Z",
                    "end": "2026-12-01T00:30:00.000Z",
                    "status": "ended",
                    "participants": participants,
                }),
            )
        })
    }
}

struct PublicKey(Arc<Account>);

impl Respond for PublicKey {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0
            .answer(request, || match lock(&self.0.webhook_key).clone() {
                WebhookKey::Serve(pem) => (200, json!({ "publicKey": pem })),
                WebhookKey::Fail(status) => {
                    (status, json!({"message": "the stand-in was told to fail"}))
                }
            })
    }
}
