//! Moderation requests built from parts (the room, issued here, elsewhere or altered; a
//! `participantId`, `ban`, `banSeconds` and `reason` of every JSON type; a token of this API with
//! or without `allow_mod`, scoped to the room named, another or none; authorizer claims of
//! moderators and members), and the answer the rules give a well-formed one: who is refused
//! with what, and what a moderator reaches on a backend without bans or VideoSDK sessions.

use std::collections::HashMap;

use arbitrary::Arbitrary;
use lambda_http::http::header::{AUTHORIZATION, CONTENT_TYPE, ORIGIN};
use lambda_http::http::{self, StatusCode};
use lambda_http::{Body, Request, RequestExt};
use serde_json::{Map, Value, json};
use shared::domain::moderation::MAX_BAN_SECONDS;
use shared::domain::permissions::Permission;
use shared::domain::token::Claims;
use shared::http::request::MAX_BODY_BYTES;

use crate::deployments::{Deployment, fixtures, now};
use crate::join::is_participant_id;
use crate::json::Scalar;
use crate::logs::LogLine;
use crate::moderation::{ModerationRoute, TOKEN_REFUSALS, assert_moderation_invariants};
use crate::requests::{AuthorizerInput, MeetingIdChoice, MethodChoice, OriginChoice};

/// The longest `reason` a ban keeps, in characters (README).
const MAX_REASON_CHARS: usize = 256;
/// The longest room id a request may name (1 to this many letters, digits, `_` or `-`).
const MAX_ROOM_ID_CHARS: usize = shared::domain::meetings::MAX_SCOPE_ID_LENGTH;

/// A request to a moderation route, in one deployment. The first variant of each choice (and
/// `None`) is what a moderator's well-formed request has, so that the input of all zero bytes,
/// where the fuzzer starts, is one: a removal by the holder of an `allow_mod` token for a room
/// issued here.
#[derive(Arbitrary, Debug, Clone)]
pub struct ModerationInput {
    pub deployment: Deployment,
    pub route: ModerationRoute,
    /// Another method than the route's; the route's when `None`.
    pub method: Option<MethodChoice>,
    pub origin: Option<OriginChoice>,
    /// `roomId`: in the body, or the query of `GET /moderation/bans`.
    pub room: RoomChoice,
    pub participant_id: ParticipantChoice,
    pub ban: Option<BanField>,
    pub ban_seconds: Option<BanSecondsField>,
    pub reason: Option<ReasonField>,
    /// Other members, written first: a field above takes the place of one of the same name.
    pub extra: Vec<(String, Scalar)>,
    pub body: BodyShape,
    pub token: TokenChoice,
    /// What API Gateway's JWT authorizer passed on, if it ran.
    pub authorizer: Option<AuthorizerInput>,
}

/// `roomId`: a meeting id as a client may send one, none, or JSON of another type.
#[derive(Arbitrary, Debug, Clone)]
pub enum RoomChoice {
    Id(MeetingIdChoice),
    Absent,
    Other(Scalar),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum ParticipantChoice {
    /// The authorizer's `sub` claim, or an id when there is none.
    Callers,
    Absent,
    Text(String),
    Other(Scalar),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum BanField {
    Yes,
    No,
    Other(Scalar),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum BanSecondsField {
    /// 1 to the longest ban.
    Within(u32),
    Zero,
    /// Past the longest ban.
    Over(u32),
    Other(Scalar),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum ReasonField {
    Text(String),
    /// The longest reason kept.
    Longest,
    /// One character more.
    TooLong,
    Other(Scalar),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum BodyShape {
    /// The fields as a JSON object, as text or bytes (a body API Gateway sent in base64).
    Object {
        binary: bool,
    },
    NotAnObject(Scalar),
    Text(String),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum TokenChoice {
    Signed(SignedToken),
    Absent,
    /// Anything else, in `Authorization` (after `Bearer ` or bare).
    Garbage {
        text: String,
        bearer: bool,
    },
}

/// A token of this API (or signed with another secret), as a client sends one.
#[derive(Arbitrary, Debug, Clone)]
pub struct SignedToken {
    pub signer: Signer,
    pub permission: TokenPermission,
    pub room: TokenRoom,
    pub participant_id: Option<String>,
    pub lifetime: Lifetime,
    pub placement: Placement,
}

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPermission {
    /// `allow_join` and `allow_mod`.
    AllowMod,
    /// `allow_join` only.
    JoinOnly,
}

/// Seconds from now, at least a minute either way.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    Valid(u16),
    Expired(u16),
}

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signer {
    Ours,
    Elsewhere,
}

#[derive(Arbitrary, Debug, Clone)]
pub enum TokenRoom {
    /// The room the request names, as it names it.
    Named,
    Other(MeetingIdChoice),
    Unscoped,
}

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    Bearer,
    Bare,
    /// The body's `token` (a `GET` has no body the route reads).
    Body,
    /// Both, the same token.
    Both,
}

/// A request as sent, with what its parts were.
pub struct ModerationRequest {
    pub request: Request,
    pub path: &'static str,
    /// The room named, when it is text.
    room: Option<String>,
    /// The token sent, when it is one signed here or elsewhere.
    token: Option<String>,
    /// Whether the body (as the route reads it) is an object that well-formed fields fill.
    fields_well_formed: bool,
}

/// An answer the rules give: one of these status and code pairs.
type Expected = Vec<(StatusCode, &'static str)>;

impl ModerationInput {
    /// The request, or `None` for one HTTP cannot carry (a method or header value it refuses).
    pub fn request(&self) -> Option<ModerationRequest> {
        let route = self.route;
        let method = match &self.method {
            None => route.method(),
            Some(choice) => choice.method(route.method())?,
        };
        let room = match &self.room {
            RoomChoice::Id(id) => Some(Value::String(id.text())),
            RoomChoice::Absent => None,
            RoomChoice::Other(value) => Some(value.value()),
        };
        let room_text = room.as_ref().and_then(Value::as_str).map(str::to_owned);
        let token = match &self.token {
            TokenChoice::Signed(token) => Some(token.text(room_text.as_deref())),
            _ => None,
        };
        let (mut fields, fields_well_formed) = self.fields(room.clone());
        if let (TokenChoice::Signed(signed), Some(token)) = (&self.token, &token)
            && matches!(signed.placement, Placement::Body | Placement::Both)
        {
            fields.insert("token".to_owned(), json!(token));
        }
        let text = match &self.body {
            BodyShape::Object { .. } => Value::Object(fields).to_string(),
            BodyShape::NotAnObject(value) => value.value().to_string(),
            BodyShape::Text(text) => text.clone(),
        };
        let body = match self.body {
            BodyShape::Object { binary: true } => Body::Binary(text.into_bytes()),
            _ => Body::Text(text),
        };

        let mut builder = http::Request::builder()
            .method(method)
            .uri(route.path())
            .header(CONTENT_TYPE, "application/json");
        if let Some(origin) = &self.origin {
            builder = builder.header(ORIGIN, origin.text());
        }
        match (&self.token, &token) {
            (TokenChoice::Signed(signed), Some(token)) => match signed.placement {
                Placement::Bearer | Placement::Both => {
                    builder = builder.header(AUTHORIZATION, format!("Bearer {token}"));
                }
                Placement::Bare => builder = builder.header(AUTHORIZATION, token.as_str()),
                Placement::Body => {}
            },
            (TokenChoice::Garbage { text, bearer }, _) => {
                let value = if *bearer {
                    format!("Bearer {text}")
                } else {
                    text.clone()
                };
                builder = builder.header(AUTHORIZATION, value);
            }
            _ => {}
        }
        let mut request = builder.body(body).ok()?;
        if route == ModerationRoute::ListBans
            && let Some(room) = &room
        {
            let text = room
                .as_str()
                .map_or_else(|| room.to_string(), str::to_owned);
            request = request
                .with_query_string_parameters(HashMap::from([("roomId".to_owned(), vec![text])]));
        }
        if let Some(authorizer) = &self.authorizer {
            request = request.with_request_context(authorizer.context());
        }
        Some(ModerationRequest {
            request,
            path: route.path(),
            room: room_text,
            token,
            fields_well_formed,
        })
    }

    /// The body's members (the room only for a `POST`), and whether each is one the route
    /// takes: a room id of 1 to 64 letters, digits, `_` or `-`; for a removal and a lift, a
    /// participant id of 1 to 128 characters with no whitespace or control character; for a
    /// removal, `ban` true or false, `banSeconds` of 1 to the longest ban and only with a ban,
    /// a `reason` string of at most 256 characters; nothing else that the route reads.
    fn fields(&self, room: Option<Value>) -> (Map<String, Value>, bool) {
        let route = self.route;
        let mut fields: Map<String, Value> = self
            .extra
            .iter()
            .map(|(name, value)| (name.clone(), value.value()))
            .collect();
        const READ: [&str; 6] = [
            "roomId",
            "participantId",
            "ban",
            "banSeconds",
            "reason",
            "token",
        ];
        let mut well_formed = !fields.keys().any(|name| READ.contains(&name.as_str()));

        well_formed &= room
            .as_ref()
            .and_then(Value::as_str)
            .is_some_and(is_plain_room_id);
        if route != ModerationRoute::ListBans
            && let Some(room) = room
        {
            fields.insert("roomId".to_owned(), room);
        }

        let participant = match &self.participant_id {
            ParticipantChoice::Callers => Some(Value::String(
                self.authorizer
                    .as_ref()
                    .and_then(AuthorizerInput::sub)
                    .unwrap_or_else(|| "alice".to_owned()),
            )),
            ParticipantChoice::Absent => None,
            ParticipantChoice::Text(text) => Some(Value::String(text.clone())),
            ParticipantChoice::Other(value) => Some(value.value()),
        };
        if route.names_participant() {
            well_formed &= participant
                .as_ref()
                .and_then(Value::as_str)
                .is_some_and(is_participant_id);
        }
        if let Some(participant) = participant {
            fields.insert("participantId".to_owned(), participant);
        }

        let ban = self.ban.as_ref().map(|ban| match ban {
            BanField::Yes => json!(true),
            BanField::No => json!(false),
            BanField::Other(value) => value.value(),
        });
        let ban_seconds = self.ban_seconds.as_ref().map(|seconds| match seconds {
            BanSecondsField::Within(seconds) => json!(1 + u64::from(*seconds) % MAX_BAN_SECONDS),
            BanSecondsField::Zero => json!(0),
            BanSecondsField::Over(seconds) => json!(MAX_BAN_SECONDS + 1 + u64::from(*seconds)),
            BanSecondsField::Other(value) => value.value(),
        });
        let reason = self.reason.as_ref().map(|reason| match reason {
            ReasonField::Text(text) => json!(text),
            ReasonField::Longest => json!("r".repeat(MAX_REASON_CHARS)),
            ReasonField::TooLong => json!("r".repeat(MAX_REASON_CHARS + 1)),
            ReasonField::Other(value) => value.value(),
        });
        if route == ModerationRoute::RemoveParticipant {
            let bans = ban.as_ref().is_some_and(|ban| ban == &json!(true));
            well_formed &= ban.as_ref().is_none_or(Value::is_boolean);
            well_formed &= match &ban_seconds {
                None => true,
                Some(seconds) => {
                    bans && seconds
                        .as_u64()
                        .is_some_and(|seconds| (1..=MAX_BAN_SECONDS).contains(&seconds))
                }
            };
            well_formed &= match &reason {
                None | Some(Value::Null) => true,
                Some(Value::String(text)) => text.chars().count() <= MAX_REASON_CHARS,
                Some(_) => false,
            };
        }
        for (name, value) in [
            ("ban", ban),
            ("banSeconds", ban_seconds),
            ("reason", reason),
        ] {
            if let Some(value) = value {
                fields.insert(name.to_owned(), value);
            }
        }
        (fields, well_formed)
    }

    /// Whether the request asks for a ban (`"ban": true`).
    fn bans(&self) -> bool {
        matches!(
            self.ban,
            Some(BanField::Yes | BanField::Other(Scalar::Bool(true)))
        )
    }

    /// Whether the rules make the caller a moderator of the room named (see
    /// `crate::moderation`), from the request's parts.
    fn is_moderator(&self, sent: &ModerationRequest) -> bool {
        self.authorization(sent).is_none()
    }

    /// The refusal the rules give the caller, or `None` for a moderator. `Some` of an empty
    /// list where the token's refusal is not pinned here (a garbage token gets some 401 of
    /// [`TOKEN_REFUSALS`]).
    fn authorization(&self, sent: &ModerationRequest) -> Option<Expected> {
        let refused = |status, code| Some(vec![(status, code)]);
        if let Some(authorizer) = &self.authorizer {
            if !authorizer.sub().is_some_and(|sub| is_participant_id(&sub)) {
                return refused(StatusCode::FORBIDDEN, "identity_claim_unusable");
            }
            let moderator = match self.deployment {
                // ALLOWED_PERMISSIONS has no allow_mod: nobody moderates.
                Deployment::Open => false,
                // No moderators named: everyone signed in may.
                Deployment::Restricted => true,
                Deployment::SignedIn => authorizer.is_moderator(),
            };
            return if moderator {
                None
            } else {
                refused(StatusCode::FORBIDDEN, "moderation_not_allowed")
            };
        }
        if self.deployment == Deployment::SignedIn {
            return refused(StatusCode::UNAUTHORIZED, "identity_required");
        }
        let token_refusals = || {
            Some(
                TOKEN_REFUSALS
                    .iter()
                    .map(|code| (StatusCode::UNAUTHORIZED, *code))
                    .collect(),
            )
        };
        let signed = match &self.token {
            TokenChoice::Absent => return refused(StatusCode::UNAUTHORIZED, "missing_token"),
            TokenChoice::Garbage { .. } => return token_refusals(),
            TokenChoice::Signed(signed) => signed,
        };
        let in_header = signed.placement != Placement::Body;
        if !in_header && self.route == ModerationRoute::ListBans {
            return refused(StatusCode::UNAUTHORIZED, "missing_token");
        }
        match (signed.signer, signed.lifetime) {
            (Signer::Elsewhere, _) => return token_refusals(),
            (Signer::Ours, Lifetime::Expired(_)) => {
                return refused(StatusCode::UNAUTHORIZED, "expired_token");
            }
            (Signer::Ours, Lifetime::Valid(_)) => {}
        }
        if signed.permission != TokenPermission::AllowMod {
            return refused(StatusCode::FORBIDDEN, "moderation_not_allowed");
        }
        if !matches!(signed.room, TokenRoom::Named) || sent.room.is_none() {
            // Scoped to another room (or an id that happens to be the same: see expected()).
            return refused(StatusCode::FORBIDDEN, "token_scope_mismatch");
        }
        None
    }

    /// The answer the rules give a request the route takes (its method, an allowed origin,
    /// every field well-formed), or `None` for another.
    fn expected(&self, sent: &ModerationRequest) -> Option<Expected> {
        let origin_allowed = match &self.origin {
            None | Some(OriginChoice::Allowed | OriginChoice::Local) => true,
            Some(_) => false,
        };
        let body_read = self.route != ModerationRoute::ListBans;
        let body_well_formed =
            !body_read || matches!(self.body, BodyShape::Object { .. }) && sent.fields_well_formed;
        let room_well_formed = sent.room.as_deref().is_some_and(is_plain_room_id);
        let small = body_length(&sent.request) <= MAX_BODY_BYTES;
        if self.method.is_some()
            || !origin_allowed
            || !body_well_formed
            || !room_well_formed
            || !small
        {
            return None;
        }
        if let TokenChoice::Signed(SignedToken {
            room: TokenRoom::Other(_),
            ..
        }) = &self.token
        {
            // Another room's id may spell the same room (an altered id altered back): not
            // pinned, the invariants of every answer still hold.
            return None;
        }
        if let Some(refusal) = self.authorization(sent) {
            return Some(refusal);
        }
        if self.route.needs_bans(self.bans()) {
            return Some(vec![(StatusCode::BAD_REQUEST, "bans_not_configured")]);
        }
        let unsupported = (StatusCode::BAD_REQUEST, "moderation_unsupported");
        let unknown = (StatusCode::NOT_FOUND, "meeting_not_found");
        let malformed = (StatusCode::BAD_REQUEST, "malformed_meeting_id");
        Some(match &self.room {
            RoomChoice::Id(MeetingIdChoice::Issued) => vec![unsupported],
            RoomChoice::Id(MeetingIdChoice::IssuedElsewhere) => vec![unknown],
            RoomChoice::Id(MeetingIdChoice::Upper) => vec![malformed],
            // An altered id may be altered back to the issued one.
            _ => vec![unsupported, unknown, malformed],
        })
    }

    /// Calls the moderation function and checks its answer: the invariants of every answer,
    /// the answer the rules give a well-formed request, and no token in any log line.
    pub fn call_and_check(&self, sent: ModerationRequest) {
        let may_moderate = self.is_moderator(&sent);
        let expected = self.expected(&sent);
        let token = sent.token.clone();
        let path = sent.path;
        let (response, logs) = ModerationRoute::call(self.deployment, sent.request);
        assert_moderation_invariants(path, may_moderate, &response, &logs);
        let status = response.status();
        let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap_or_default();
        let code = body["error"]["code"].as_str().unwrap_or_default();
        if let Some(expected) = expected {
            assert!(
                expected.contains(&(status, code)),
                "{:?} answered {status} {code:?}; the rules give one of {expected:?}",
                self.route
            );
        }
        if let Some(token) = token {
            assert_no_token_logged(&token, &logs);
        }
    }
}

impl SignedToken {
    /// The token, its room the one named (`named`) where it is scoped to it.
    fn text(&self, named: Option<&str>) -> String {
        let fixtures = fixtures();
        let now = now();
        let room_id = match &self.room {
            TokenRoom::Named => named.map(str::to_owned),
            TokenRoom::Other(id) => Some(id.text()),
            TokenRoom::Unscoped => None,
        };
        let mut permissions = vec![Permission::AllowJoin];
        if self.permission == TokenPermission::AllowMod {
            permissions.push(Permission::AllowMod);
        }
        let claims = Claims {
            apikey: fixtures.account.api_key.clone(),
            permissions,
            version: 2,
            roles: vec!["rtc".to_owned()],
            iat: now,
            exp: match self.lifetime {
                Lifetime::Valid(seconds) => now + 60 + u64::from(seconds),
                Lifetime::Expired(seconds) => now.saturating_sub(60 + u64::from(seconds)),
            },
            room_id,
            participant_id: self.participant_id.clone(),
            nbf: None,
        };
        let keys = match self.signer {
            Signer::Ours => &fixtures.keys,
            Signer::Elsewhere => &fixtures.other_keys,
        };
        keys.sign(&claims).expect("signing works")
    }
}

/// A token must never reach a log line (the team's standard; the audit trail says so too).
fn assert_no_token_logged(token: &str, logs: &[LogLine]) {
    for line in logs {
        assert!(
            !line.texts().any(|text| text.contains(token)),
            "a log line holds the caller's token: {line:?}"
        );
    }
}

fn body_length(request: &Request) -> usize {
    match request.body() {
        Body::Text(text) => text.len(),
        Body::Binary(bytes) => bytes.len(),
        _ => 0,
    }
}

/// A room id as a request may name one (README): 1 to 64 letters, digits, `_` or `-`.
fn is_plain_room_id(id: &str) -> bool {
    (1..=MAX_ROOM_ID_CHARS).contains(&id.len())
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-'))
}
