//! `POST /create-meeting`: a new meeting for the holder of a valid token without a room, made by
//! the configured meeting backend (a room in VideoSDK's cloud, or a local id), with the
//! operator's webhook (`WEBHOOK_EVENTS`) when the caller names none. Who may create is
//! `ROOM_CREATORS`'s to say, as for join: the route sees only our token, so under `moderators`
//! the token must carry `allow_mod`, which get-token grants moderators only.

use std::convert::Infallible;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::{
    CREATE_MEETING, authenticate, create_room, room_creation_not_allowed, within_deadline,
};
use crate::backends::meetings::MeetingBackend;
use crate::domain::permissions::Permission;
use crate::http::error::{ApiError, ErrorCode};
use crate::http::request::json_body;
use crate::http::response::json_response;
use crate::state::State;

pub async fn handler(
    state: &State<MeetingBackend>,
    request: Request,
) -> Result<Response<Body>, Infallible> {
    Ok(CREATE_MEETING
        .serve(&state.cors, &request, |request| {
            within_deadline(request, |request, _| create_meeting(state, request))
        })
        .await)
}

async fn create_meeting(
    state: &State<MeetingBackend>,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let body = json_body(request)?;
    let (keys, claims) = authenticate(state, request, &body).await?;
    if claims.room_id.is_some() {
        return Err(ApiError::new(
            ErrorCode::TokenScopeMismatch,
            "This token is scoped to one room; creating a meeting needs a token without roomId.",
        ));
    }
    let moderator = claims.permissions.contains(&Permission::AllowMod);
    if !state.identity.room_creators.allow(moderator) {
        return Err(room_creation_not_allowed());
    }
    let options = state.backend.room_options(&body)?;
    let meeting = create_room(state, request, keys, options).await?;
    let mut answer = json!({ "meetingId": meeting.meeting_id, "roomId": meeting.meeting_id });
    if let Some(custom_room_id) = meeting.custom_room_id {
        answer["customRoomId"] = json!(custom_room_id);
    }
    Ok(json_response(StatusCode::OK, &answer))
}
