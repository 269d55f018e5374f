//! `POST /validate-meeting/{meetingId}`: 200 only for a meeting that exists and can be joined
//! (a room VideoSDK knows and has not deactivated, or an id this deployment issued, depending on
//! the meeting backend).

use std::convert::Infallible;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::{VALIDATE_MEETING, authenticate, with_fresh_keys_on_miss, within_deadline};
use crate::backends::meetings::MeetingBackend;
use crate::domain::meetings::MeetingError;
use crate::http::error::{ApiError, ErrorCode};
use crate::http::request::{json_body, path_parameter};
use crate::http::response::json_response;
use crate::state::State;

pub async fn handler(
    state: &State<MeetingBackend>,
    request: Request,
) -> Result<Response<Body>, Infallible> {
    Ok(VALIDATE_MEETING
        .serve(&state.cors, &request, |request| {
            within_deadline(request, |request, _| validate_meeting(state, request))
        })
        .await)
}

async fn validate_meeting(
    state: &State<MeetingBackend>,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let body = json_body(request)?;
    let (keys, claims) = authenticate(state, request, &body).await?;
    let id = path_parameter(request, &VALIDATE_MEETING).ok_or_else(|| {
        ApiError::new(
            ErrorCode::MissingMeetingId,
            format!("Put the meeting id in the path: {}.", VALIDATE_MEETING.path),
        )
    })?;
    let outcome = with_fresh_keys_on_miss(state, keys, |keys| {
        let id = &id;
        async move { state.backend.validate(&keys, id).await }
    })
    .await;
    // A token scoped to a room answers for that room only: the id as asked, or the room
    // VideoSDK resolved it to (a custom id names its room), before anything is answered. Any
    // other id is refused alike whether it exists or not, so such a token learns nothing of
    // other rooms.
    if let Some(scope) = &claims.room_id {
        let resolved = match &outcome {
            Ok(room_id) | Err(MeetingError::Disabled(room_id)) => Some(room_id),
            _ => None,
        };
        let about_a_room = matches!(
            outcome,
            Ok(_) | Err(MeetingError::NotFound | MeetingError::Disabled(_))
        );
        if about_a_room && *scope != id && resolved != Some(scope) {
            return Err(ApiError::new(
                ErrorCode::TokenScopeMismatch,
                "This token is scoped to another room.",
            ));
        }
    }
    let meeting_id = outcome?;
    Ok(json_response(
        StatusCode::OK,
        &json!({ "meetingId": meeting_id, "roomId": meeting_id, "valid": true }),
    ))
}
