//! `GET /get-token`: a VideoSDK token for the browser, signed with the account's secret. A token
//! for a room (`roomId`) is refused to a participant a moderator banned from it (the id as
//! named: the moderation function stores a room's bans under its custom id too).

use std::convert::Infallible;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::{GET_TOKEN, refuse_if_banned, within_deadline};
use crate::aws::budget::Budget;
use crate::aws::metrics;
use crate::domain::token::{Claims, TokenScope};
use crate::domain::unix_now;
use crate::http::error::{ApiError, ErrorCode};
use crate::http::request::{caller_claims, query_parameter, room_scope};
use crate::http::response::json_response;
use crate::state::{Backend, State};

pub async fn handler<B: Backend>(
    state: &State<B>,
    request: Request,
) -> Result<Response<Body>, Infallible> {
    Ok(GET_TOKEN
        .serve(&state.cors, &request, |request| {
            within_deadline(request, |request, budget| get_token(state, request, budget))
        })
        .await)
}

/// Who the token is for comes from the identity policy: the signed-in caller's claim, or the
/// anonymous rules; the query may only repeat it.
async fn get_token<B: Backend>(
    state: &State<B>,
    request: &Request,
    budget: Budget,
) -> Result<Response<Body>, ApiError> {
    let requested = query_parameter(request, &["permissions"])?;
    let requested_id = query_parameter(request, &["participantId", "peerId"])?;
    let participant = state
        .identity
        .participant(caller_claims(request).as_ref(), requested_id)?;
    let scope = TokenScope {
        room_id: query_parameter(request, &["roomId", "meetingId"])?
            .map(room_scope)
            .transpose()?,
        participant_id: participant.id,
    };
    let permissions = state.policy.grant(requested, participant.may_moderate)?;
    // A token without a room admits to every room, a banned one's too: under an authorizer it
    // is for those who may create rooms (ROOM_CREATORS); everyone else names the room, whose
    // bans are checked.
    if scope.room_id.is_none()
        && state.identity.require_identity
        && !state.identity.room_creators.allow(participant.may_moderate)
    {
        return Err(ApiError::new(
            ErrorCode::RoomRequired,
            "Name the room this token is for (roomId): this API issues tokens without a room \
             only to callers who may create rooms (ROOM_CREATORS).",
        ));
    }
    if let (Some(room_id), Some(participant_id)) = (&scope.room_id, &scope.participant_id) {
        refuse_if_banned(state, &budget, room_id, participant_id).await?;
    }
    let lifetime = state.policy.lifetime(scope.room_id.is_some());
    let keys = state.keys().await;
    let claims = Claims::new(
        keys.api_key(),
        &permissions,
        &state.policy.roles,
        scope,
        unix_now(),
        lifetime,
    );
    let token = keys.sign(&claims)?;
    metrics::token_issued();
    let mut answer = json!({ "token": token, "expiresAt": claims.exp });
    if let Some(id) = &claims.participant_id {
        answer["participantId"] = json!(id);
    }
    Ok(json_response(StatusCode::OK, &answer))
}
