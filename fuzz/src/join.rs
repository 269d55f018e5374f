//! `POST /join` requests, and what the deployment's identity rules say the answer must be. The
//! rules are restated here from the deployments' settings and the README (who a participant is,
//! who may moderate, who may create a room), not read from the code that applies them.

use arbitrary::Arbitrary;
use lambda_http::http::header::{CONTENT_TYPE, ORIGIN};
use lambda_http::http::{self, Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::{Map, Value, json};

use crate::deployments::{Deployment, RoomCreators, fixtures};
use crate::json::Scalar;
use crate::openapi::{documented_errors, is_documented};
use crate::requests::{AuthorizerInput, MeetingIdChoice, MethodChoice, OriginChoice};
use crate::routes::Route;
use crate::tokens::PermissionName;

/// A request to join, to one deployment with one `ROOM_CREATORS`.
#[derive(Arbitrary, Debug, Clone)]
pub struct JoinInput {
    pub deployment: Deployment,
    pub may_create: RoomCreators,
    /// Another method than POST (a preflight, a wrong one); POST when `None`.
    pub method: Option<MethodChoice>,
    pub origin: Option<OriginChoice>,
    pub body: JoinBody,
    /// What API Gateway's JWT authorizer passed on, if it ran.
    pub authorizer: Option<AuthorizerInput>,
}

#[derive(Arbitrary, Debug, Clone)]
pub enum JoinBody {
    Object {
        room_id: Option<RoomField>,
        custom_room_id: Option<RoomField>,
        permissions: Option<PermissionsField>,
        participant_id: Option<ParticipantIdField>,
        /// Other members, written first: a field above takes the place of one of the same name.
        extra: Vec<(String, Scalar)>,
        binary: bool,
    },
    Empty,
    NotAnObject(Scalar),
    Text(String),
}

/// `roomId` or `customRoomId`: a meeting id as a client may send one, or JSON of another type.
#[derive(Arbitrary, Debug, Clone)]
pub enum RoomField {
    Id(MeetingIdChoice),
    Other(Scalar),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum PermissionsField {
    Names(Vec<PermissionItem>),
    Other(Scalar),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum PermissionItem {
    Name(PermissionName),
    Other(Scalar),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum ParticipantIdField {
    /// The authorizer's `sub` claim, or an id when there is none.
    Callers,
    Text(String),
    Other(Scalar),
}

/// Codes openapi.yaml documents for `/join` that only VideoSDK's backend gives (it refuses a room,
/// or has deactivated one), never the local backend the fuzz targets run on.
const UPSTREAM_ONLY: &[&str] = &["meeting_rejected", "meeting_disabled"];

/// A join request as sent: its body's members when it is a JSON object (or none).
pub struct JoinRequest {
    pub request: Request,
    pub fields: Option<Map<String, Value>>,
}

impl JoinInput {
    /// The request, or `None` for one HTTP cannot carry (a method or header value it refuses)
    /// or a `ROOM_CREATORS` the deployment refuses to start with.
    pub fn request(&self) -> Option<JoinRequest> {
        fixtures().join_state(self.deployment, self.may_create)?;
        let mut builder = http::Request::builder()
            .method(self.http_method()?)
            .uri(Route::Join.path())
            .header(CONTENT_TYPE, "application/json");
        if let Some(origin) = &self.origin {
            builder = builder.header(ORIGIN, origin.text());
        }
        let (body, fields) = self.body();
        let mut request = builder.body(body).ok()?;
        if let Some(authorizer) = &self.authorizer {
            request = request.with_request_context(authorizer.context());
        }
        Some(JoinRequest { request, fields })
    }

    fn http_method(&self) -> Option<Method> {
        match &self.method {
            None => Some(Method::POST),
            Some(choice) => choice.method(Route::Join.method()),
        }
    }

    fn body(&self) -> (Body, Option<Map<String, Value>>) {
        let JoinBody::Object {
            room_id,
            custom_room_id,
            permissions,
            participant_id,
            extra,
            binary,
        } = &self.body
        else {
            return match &self.body {
                JoinBody::NotAnObject(value) => (Body::Text(value.value().to_string()), None),
                JoinBody::Text(text) => (Body::Text(text.clone()), None),
                // No body asks what `{}` asks: every field is optional.
                _ => (Body::Empty, Some(Map::new())),
            };
        };
        let mut fields: Map<String, Value> = extra
            .iter()
            .map(|(name, value)| (name.clone(), value.value()))
            .collect();
        let room = |field: &RoomField| match field {
            RoomField::Id(id) => Value::String(id.text()),
            RoomField::Other(value) => value.value(),
        };
        if let Some(field) = room_id {
            fields.insert("roomId".to_owned(), room(field));
        }
        if let Some(field) = custom_room_id {
            fields.insert("customRoomId".to_owned(), room(field));
        }
        if let Some(field) = permissions {
            let value = match field {
                PermissionsField::Names(items) => Value::Array(
                    items
                        .iter()
                        .map(|item| match item {
                            PermissionItem::Name(name) => Value::String(name.text()),
                            PermissionItem::Other(value) => value.value(),
                        })
                        .collect(),
                ),
                PermissionsField::Other(value) => value.value(),
            };
            fields.insert("permissions".to_owned(), value);
        }
        if let Some(field) = participant_id {
            let value = match field {
                ParticipantIdField::Callers => Value::String(
                    self.authorizer
                        .as_ref()
                        .and_then(AuthorizerInput::sub)
                        .unwrap_or_else(|| "alice".to_owned()),
                ),
                ParticipantIdField::Text(text) => Value::String(text.clone()),
                ParticipantIdField::Other(value) => value.value(),
            };
            fields.insert("participantId".to_owned(), value);
        }
        let text = Value::Object(fields.clone()).to_string();
        let body = if *binary {
            Body::Binary(text.into_bytes())
        } else {
            Body::Text(text)
        };
        (body, Some(fields))
    }

    /// Calls join on the deployment and checks its answer against the rules.
    pub fn call_and_check(&self, sent: JoinRequest) {
        let fixtures = fixtures();
        let state = fixtures
            .join_state(self.deployment, self.may_create)
            .expect("request() returns a request only for a deployment that starts");
        let response = fixtures.run(shared::test_support::answer(
            Route::Join.registered(),
            state,
            sent.request,
        ));
        crate::invariants::assert_response_invariants(&response);
        Route::Join.assert_success_invariants(&response);
        self.assert_answer_follows_the_rules(sent.fields.as_ref(), &response);
    }

    /// Whether the rules let this caller have `allow_mod` (and, under `moderators`, create a
    /// room): with moderators named, a signed-in moderator only; without, anyone.
    fn is_moderator(&self) -> bool {
        !self.deployment.names_moderators()
            || self
                .authorizer
                .as_ref()
                .is_some_and(AuthorizerInput::is_moderator)
    }

    fn may_have_allow_mod(&self) -> bool {
        // ALLOWED_PERMISSIONS of the open deployment has no allow_mod.
        self.deployment != Deployment::Open && self.is_moderator()
    }

    fn may_create(&self) -> bool {
        match self.may_create {
            RoomCreators::Unset | RoomCreators::Everyone => true,
            RoomCreators::Moderators => self.is_moderator(),
            RoomCreators::Nobody => false,
        }
    }

    /// Who the rules say the caller is.
    fn caller(&self) -> Caller {
        match &self.authorizer {
            Some(authorizer) => match authorizer.sub().filter(|id| is_participant_id(id)) {
                Some(id) => Caller::SignedIn(id),
                None => Caller::Refused,
            },
            None if self.deployment == Deployment::SignedIn => Caller::Refused,
            None => Caller::Anonymous,
        }
    }

    fn assert_answer_follows_the_rules(
        &self,
        fields: Option<&Map<String, Value>>,
        response: &Response<Body>,
    ) {
        let status = response.status();
        let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap_or_default();
        let code = body["error"]["code"].as_str();
        if !status.is_success() {
            let documented = documented_errors("/join", "post", UPSTREAM_ONLY);
            assert!(
                is_documented(documented, status, code),
                "join answered {status} {code:?}, which it documents not"
            );
        }
        if code == Some("room_creation_not_allowed") {
            assert!(
                !self.may_create(),
                "room_creation_not_allowed for a caller who may create"
            );
        }
        if let Some(fields) = fields {
            self.assert_the_room_decides(fields, status, code);
        }
        if status == StatusCode::OK {
            self.assert_success_follows_the_rules(fields.cloned().unwrap_or_default(), &body);
        }
    }

    /// What a POST that only its room fields could have refused gets: 400 `invalid_body` for
    /// both; for an existing room, 200; for none, 200 or, when the caller may not create, 403
    /// `room_creation_not_allowed`.
    fn assert_the_room_decides(
        &self,
        fields: &Map<String, Value>,
        status: StatusCode,
        code: Option<&str>,
    ) {
        let origin_allowed = self.deployment != Deployment::Restricted
            || matches!(
                self.origin,
                None | Some(OriginChoice::Allowed | OriginChoice::Local)
            );
        if self.http_method() != Some(Method::POST) || !origin_allowed {
            return;
        }
        let room_fields: Vec<&Value> = ["roomId", "customRoomId"]
            .into_iter()
            .filter_map(|name| fields.get(name))
            .collect();
        let expected = if room_fields.len() == 2 {
            Some((StatusCode::BAD_REQUEST, Some("invalid_body")))
        } else if self.caller() == Caller::Refused
            || fields.contains_key("permissions")
            || fields.contains_key("participantId")
        {
            None
        } else if room_fields.iter().all(|value| value.is_null()) {
            if self.may_create() {
                Some((StatusCode::OK, None))
            } else {
                Some((StatusCode::FORBIDDEN, Some("room_creation_not_allowed")))
            }
        } else {
            let exists = fields
                .get("roomId")
                .and_then(Value::as_str)
                .is_some_and(|id| fixtures().meeting_ids.check(id).is_ok());
            exists.then_some((StatusCode::OK, None))
        };
        if let Some(expected) = expected {
            assert_eq!((status, code), expected, "the room fields {room_fields:?}");
        }
    }

    /// A 200 joined the room named, or a new one for a caller who may create; for the
    /// participant the rules give; with the permissions asked for (else the defaults), and
    /// `allow_mod` only for a caller the rules let moderate.
    fn assert_success_follows_the_rules(&self, fields: Map<String, Value>, body: &Value) {
        assert_eq!(
            self.http_method(),
            Some(Method::POST),
            "200 to {:?}",
            self.method
        );
        assert!(
            fields.get("customRoomId").is_none_or(Value::is_null),
            "the local backend has no custom room ids, yet join answered 200 to one"
        );
        match fields.get("roomId").and_then(Value::as_str) {
            Some(named) => assert_eq!(body["roomId"], named, "joined another room than named"),
            None => assert!(self.may_create(), "a room created for a caller who may not"),
        }

        let participant_id = body["participantId"].as_str().unwrap_or_default();
        let requested_id = fields.get("participantId").and_then(Value::as_str);
        match self.caller() {
            Caller::Refused => panic!("a token for a caller the rules refuse: {body}"),
            Caller::SignedIn(own) => {
                assert_eq!(participant_id, own, "the token is not the caller's")
            }
            // Only the open deployment lets anonymous callers choose their id.
            Caller::Anonymous => match requested_id {
                Some(requested) if self.deployment == Deployment::Open => {
                    assert_eq!(participant_id, requested)
                }
                Some(_) => panic!("a chosen participant id where ids are generated"),
                None => assert!(
                    is_guest_id(participant_id),
                    "an anonymous caller got {participant_id:?}, not a generated id"
                ),
            },
        }

        let names = |value: Option<&Value>| {
            let mut names: Vec<String> = value
                .and_then(Value::as_array)
                .map(|names| {
                    names
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            names.sort_unstable();
            names
        };
        let granted = names(body.get("permissions"));
        assert!(
            !granted.iter().any(|name| name == "allow_mod") || self.may_have_allow_mod(),
            "allow_mod for a caller the rules do not let moderate"
        );
        let expected = match fields.get("permissions") {
            Some(requested) => names(Some(requested)),
            // DEFAULT_PERMISSIONS: allow_mod too where the restricted deployment sets it.
            None if self.deployment == Deployment::Restricted => {
                names(Some(&json!(["allow_join", "allow_mod"])))
            }
            None => names(Some(&json!(["allow_join"]))),
        };
        assert_eq!(
            granted, expected,
            "other permissions than asked for (or the defaults)"
        );
    }
}

/// Who the rules say a caller is.
#[derive(Debug, PartialEq, Eq)]
enum Caller {
    /// Signed in, with an identity claim that can be a participant id: the token's.
    SignedIn(String),
    /// No claims, where the deployment takes anonymous callers.
    Anonymous,
    /// No claims where an identity is required, or an identity claim that cannot be an id.
    Refused,
}

/// What VideoSDK takes as a participant id (README): 1 to 128 characters, none whitespace or
/// a control character.
pub(crate) fn is_participant_id(id: &str) -> bool {
    (1..=128).contains(&id.chars().count())
        && !id.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// `guest-` and 32 lowercase hex digits, as anonymous callers' ids are generated.
fn is_guest_id(id: &str) -> bool {
    id.strip_prefix("guest-").is_some_and(|hex| {
        hex.len() == 32 && hex.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
    })
}
