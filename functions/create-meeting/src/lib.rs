//! `POST /create-meeting`: a new meeting for the holder of a valid token, made by the configured
//! meeting backend (local ids, or a room in VideoSDK's cloud).

use std::convert::Infallible;

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::api_error::json_response;
use shared::request::json_body;
use shared::{ApiError, Endpoint, State};

pub const ENDPOINT: Endpoint = Endpoint {
    route: "/create-meeting",
    method: Method::POST,
};

pub async fn handler(state: &State, request: Request) -> Result<Response<Body>, Infallible> {
    Ok(ENDPOINT
        .serve(&state.cors, &request, |request| {
            create_meeting(state, request)
        })
        .await)
}

async fn create_meeting(state: &State, request: &Request) -> Result<Response<Body>, ApiError> {
    let body = json_body(request)?;
    let keys = state.keys().await;
    let claims = keys.authenticate(request, &body)?;
    if claims.room_id.is_some() {
        return Err(ApiError::forbidden(
            "token_scope_mismatch",
            "This token is scoped to one room; creating a meeting needs a token without roomId.",
        ));
    }
    let meetings = state.meetings()?;
    let options = meetings.meeting_request(&body)?;
    let meeting = meetings.create(&keys, options).await?;
    let mut answer = json!({ "meetingId": meeting.meeting_id, "roomId": meeting.meeting_id });
    if let Some(custom_room_id) = meeting.custom_room_id {
        answer["customRoomId"] = json!(custom_room_id);
    }
    Ok(json_response(StatusCode::OK, &answer))
}
