//! `POST /join`: one call for a page to join a meeting. It answers a room and a token for it,
//! scoped to that room and bound to the caller, as get-token and create-meeting or
//! validate-meeting would in two or three calls. It takes no token of ours: who the caller is
//! comes from the JWT authorizer's claims, else the anonymous rules, as for get-token.
//!
//! The body, every field optional: `roomId` (a room that exists and is not deactivated),
//! `customRoomId` (that room, created on first use: VideoSDK's creation with a custom id is
//! idempotent), or neither (a new room); `permissions` (an array of the names get-token's query
//! lists with commas) and
//! `participantId` (anonymous callers, where `ANONYMOUS_PARTICIPANT_IDS=caller`). Who may create
//! a room is `ROOM_CREATORS`'s to say: a caller it refuses only joins rooms that exist, a custom
//! id's included, and so never chooses the options of a room.

use std::convert::Infallible;
use std::sync::Arc;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::{Map, Value, json};

use super::{
    JOIN, create_room, refuse_if_banned, room_creation_not_allowed, with_fresh_keys_on_miss,
    within_deadline,
};
use crate::aws::budget::Budget;
use crate::aws::metrics;
use crate::backends::meetings::MeetingBackend;
use crate::domain::keyring::Keyring;
use crate::domain::meetings::{MeetingError, RoomOptions};
use crate::domain::permissions::Permission;
use crate::domain::token::{Claims, TokenScope};
use crate::domain::unix_now;
use crate::http::error::{ApiError, ErrorCode, excerpt};
use crate::http::request::{caller_claims, json_body, room_scope};
use crate::http::response::json_response;
use crate::state::State;

pub async fn handler(
    state: &State<MeetingBackend>,
    request: Request,
) -> Result<Response<Body>, Infallible> {
    Ok(JOIN
        .serve(&state.cors, &request, |request| {
            within_deadline(request, |request, budget| join(state, request, budget))
        })
        .await)
}

/// The room a join asks for.
enum Target {
    Existing(String),
    Custom(Map<String, Value>),
    New,
}

async fn join(
    state: &State<MeetingBackend>,
    request: &Request,
    budget: Budget,
) -> Result<Response<Body>, ApiError> {
    let body = json_body(request)?;
    if body.contains_key("roomId") && body.contains_key("customRoomId") {
        return Err(ApiError::new(
            ErrorCode::InvalidBody,
            "Send roomId (a room that exists) or customRoomId (a room made on first use), not \
             both.",
        ));
    }
    let target = match (text_field(&body, "roomId")?, body.get("customRoomId")) {
        (Some(room_id), _) => Target::Existing(room_scope(room_id)?),
        (None, Some(custom)) if !custom.is_null() => Target::Custom(Map::from_iter([(
            "customRoomId".to_owned(),
            custom.clone(),
        )])),
        (None, _) => Target::New,
    };
    // Who joins and with what, settled before any call to VideoSDK: a refusal creates no room.
    let (participant_id, participant) = state.identity.joiner(
        caller_claims(request).as_ref(),
        string_field(&body, "participantId")?,
    )?;
    let requested = permissions_field(&body)?;
    let permissions = state
        .policy
        .grant(requested.as_deref(), participant.may_moderate)?;
    let may_create = state.identity.room_creators.allow(participant.may_moderate);

    let keys = state.keys().await;
    let room_id = match target {
        Target::Existing(id) => validate(state, keys, id).await?,
        Target::Custom(custom) => {
            // Checked for this backend first (the local one has no custom ids).
            let options = state.backend.room_options(&custom)?;
            if may_create {
                create(state, request, keys, options).await?
            } else {
                let id = options.custom_room_id.unwrap_or_default();
                validate(state, keys, id).await.map_err(|error| {
                    if error.code == ErrorCode::MeetingNotFound {
                        room_creation_not_allowed()
                    } else {
                        error
                    }
                })?
            }
        }
        Target::New if may_create => create(state, request, keys, RoomOptions::default()).await?,
        Target::New => return Err(room_creation_not_allowed()),
    };

    // By the room's VideoSDK id, whichever id the caller named: a custom id resolves to it.
    refuse_if_banned(state, &budget, &room_id, &participant_id).await?;
    let keys = state.keys().await;
    let claims = Claims::new(
        keys.api_key(),
        &permissions,
        &state.policy.roles,
        TokenScope {
            room_id: Some(room_id.clone()),
            participant_id: Some(participant_id.clone()),
        },
        unix_now(),
        state.policy.room_ttl_seconds,
    );
    let token = keys.sign(&claims)?;
    metrics::token_issued();
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "token": token,
            "roomId": room_id,
            "participantId": participant_id,
            "permissions": claims.permissions,
            "expiresAt": claims.exp,
        }),
    ))
}

/// The room `id` resolves to (a custom id names its room), when it exists and can be joined:
/// 404 `meeting_not_found` or, for a deactivated room, 410 `meeting_disabled`, as
/// validate-meeting answers.
async fn validate(
    state: &State<MeetingBackend>,
    keys: Arc<Keyring>,
    id: String,
) -> Result<String, ApiError> {
    let room_id = with_fresh_keys_on_miss(state, keys, |keys| {
        let id = &id;
        async move { state.backend.validate(&keys, id).await }
    })
    .await?;
    Ok(room_id)
}

/// A new room, or with a custom id the room it names (made now if it is new), as
/// create-meeting makes it; a deactivated one is refused.
async fn create(
    state: &State<MeetingBackend>,
    request: &Request,
    keys: Arc<Keyring>,
    options: RoomOptions,
) -> Result<String, ApiError> {
    let meeting = create_room(state, request, keys, options).await?;
    if meeting.disabled {
        return Err(MeetingError::Disabled(meeting.meeting_id).into());
    }
    Ok(meeting.meeting_id)
}

/// An optional string field of the body: absent, or a string; any other type (`null` too, as
/// get-token's query has no null) is refused.
fn string_field<'a>(body: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, ApiError> {
    match body.get(name) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(ApiError::new(
            ErrorCode::InvalidBody,
            format!("The body's {name:?} must be a string."),
        )),
    }
}

/// The body's `permissions`: absent, or an array of permission names, each exactly one of
/// them and each once (a JSON body has arrays; get-token's query spells the same list with
/// commas, which is what the policy reads).
fn permissions_field(body: &Map<String, Value>) -> Result<Option<String>, ApiError> {
    let Some(value) = body.get("permissions") else {
        return Ok(None);
    };
    let not_a_list = || {
        ApiError::new(
            ErrorCode::InvalidBody,
            "The body's \"permissions\" must be an array of permission names, such as \
             [\"allow_join\", \"allow_mod\"].",
        )
    };
    let Value::Array(items) = value else {
        return Err(not_a_list());
    };
    let mut names: Vec<&str> = Vec::with_capacity(items.len());
    for item in items {
        let name = item.as_str().ok_or_else(not_a_list)?;
        let permission = name.parse::<Permission>().map_err(|_| {
            ApiError::new(
                ErrorCode::UnknownPermission,
                format!(
                    "Unknown permission {:?}; use allow_join, ask_join or allow_mod.",
                    excerpt(name)
                ),
            )
        })?;
        if names.contains(&permission.as_str()) {
            return Err(ApiError::new(
                ErrorCode::InvalidPermissions,
                format!("The body's \"permissions\" names {name} twice."),
            ));
        }
        names.push(permission.as_str());
    }
    Ok(Some(names.join(",")))
}

/// An optional room field of the body; `null` counts as absent, any other type is refused.
fn text_field<'a>(body: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(ApiError::new(
            ErrorCode::InvalidBody,
            format!("The body's {name:?} must be a string."),
        )),
    }
}
