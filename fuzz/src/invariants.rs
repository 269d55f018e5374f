//! What every answer must be, whatever the request: never a 5xx, JSON errors in one shape, and a
//! 200 worth what it says (a token that verifies and is the caller's, a meeting id that checks).

use lambda_http::http::StatusCode;
use lambda_http::http::header::CONTENT_TYPE;
use lambda_http::{Body, Response};
use serde_json::{Value, json};
use shared::domain::permissions::Permission;
use shared::domain::token::Claims;

use crate::deployments::{Deployment, fixtures, now};
use crate::requests::AuthorizerInput;
use crate::routes::Route;

impl Route {
    /// A 200 is worth what it says: a token that verifies, a meeting id that checks, and from
    /// join a token scoped to the room and bound to the participant it answers.
    pub fn assert_success_invariants(self, response: &Response<Body>) {
        if response.status() != StatusCode::OK {
            return;
        }
        let fixtures = fixtures();
        let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap_or_default();
        match self {
            Self::GetToken => {
                verified_token(self, &body);
            }
            Self::Join => {
                let claims = verified_token(self, &body);
                let room_id = body["roomId"]
                    .as_str()
                    .expect("a 200 from join has a roomId");
                assert!(
                    fixtures.meeting_ids.check(room_id).is_ok(),
                    "join answered 200 with a room this deployment did not issue: {room_id:?}"
                );
                assert_eq!(
                    claims.room_id.as_deref(),
                    Some(room_id),
                    "the token is not scoped to the room join answered"
                );
                assert!(
                    body["participantId"].is_string(),
                    "a 200 from join names its participant"
                );
                assert_eq!(
                    claims.participant_id.as_deref(),
                    body["participantId"].as_str(),
                    "the token is not bound to the participant join answered"
                );
                let permissions: Vec<&str> = claims
                    .permissions
                    .iter()
                    .map(|permission| permission.as_str())
                    .collect();
                assert_eq!(
                    body["permissions"],
                    json!(permissions),
                    "join answered other permissions than its token's"
                );
            }
            Self::CreateMeeting | Self::ValidateMeeting => {
                let id = body["meetingId"]
                    .as_str()
                    .expect("a 200 from a meeting route has a meetingId");
                assert!(
                    fixtures.meeting_ids.check(id).is_ok(),
                    "{self:?} answered 200 with a meeting id this deployment did not issue: {id:?}"
                );
                if self == Self::ValidateMeeting {
                    assert_eq!(body["valid"], json!(true));
                    assert_eq!(body["roomId"], body["meetingId"]);
                }
            }
        }
    }
}

/// The token of a 200 that answers one: it verifies, and `expiresAt` is its `exp`.
fn verified_token(route: Route, body: &Value) -> Claims {
    let token = body["token"]
        .as_str()
        .unwrap_or_else(|| panic!("a 200 from {route:?} has a token"));
    let claims = fixtures()
        .keys
        .verify_at(token, now())
        .unwrap_or_else(|error| {
            panic!("{route:?} answered a token that does not verify: {error:?}")
        });
    assert_eq!(
        Some(claims.exp),
        body["expiresAt"].as_u64(),
        "expiresAt is the token's exp"
    );
    claims
}

/// What every answer of every route must be: never a 5xx (nor a 1xx or 3xx); JSON with the
/// JSON content type unless it is a 204 with no body; an error body for every 4xx.
pub fn assert_response_invariants(response: &Response<Body>) {
    let status = response.status();
    let body: &[u8] = response.body().as_ref();
    let text = String::from_utf8_lossy(body);
    assert!(
        !status.is_server_error(),
        "answered {status} to client input: {text}"
    );
    assert!(
        status.is_success() || status.is_client_error(),
        "answered {status}: {text}"
    );
    if status == StatusCode::NO_CONTENT {
        assert!(body.is_empty(), "a 204 with a body: {text}");
        return;
    }
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .map(|value| value.to_str().unwrap_or("(not text)"));
    assert_eq!(
        content_type,
        Some("application/json"),
        "{status} answered without the JSON content type: {text}"
    );
    let json: Value = serde_json::from_slice(body).unwrap_or_else(|error| {
        panic!("{status} answered a body that is not JSON ({error}): {text}")
    });
    if status.is_client_error() {
        assert!(
            json["error"]["code"].is_string() && json["error"]["message"].is_string(),
            "{status} answered without error.code and error.message strings: {text}"
        );
    }
}

impl AuthorizerInput {
    /// What a token issued to this caller must say: the `sub` claim as its participant id, and
    /// `allow_mod` only for a moderator.
    pub fn assert_token_is_the_callers(&self, deployment: Deployment, response: &Response<Body>) {
        if response.status() != StatusCode::OK {
            return;
        }
        let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap_or_default();
        let token = body["token"]
            .as_str()
            .expect("a 200 from get-token has a token");
        let claims = fixtures()
            .keys
            .verify_at(token, now())
            .expect("it verifies");
        let sub = self.sub();
        assert!(sub.is_some(), "a token for a caller with no sub claim");
        assert_eq!(
            claims.participant_id, sub,
            "the token is not for the caller"
        );
        assert_eq!(
            body["participantId"].as_str(),
            claims.participant_id.as_deref()
        );
        if deployment == Deployment::SignedIn && claims.permissions.contains(&Permission::AllowMod)
        {
            assert!(
                self.is_moderator(),
                "allow_mod for a caller who is no moderator"
            );
        }
    }
}
