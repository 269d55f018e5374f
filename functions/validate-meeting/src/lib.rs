//! `POST /validate-meeting/{meetingId}`: 200 only for a meeting that exists (one this deployment
//! issued, or a room VideoSDK knows, depending on the meeting backend).

use std::convert::Infallible;

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::api_error::json_response;
use shared::request::{json_body, path_parameter};
use shared::{ApiError, Endpoint, State};

pub const ENDPOINT: Endpoint = Endpoint {
    route: "/validate-meeting/{meetingId}",
    method: Method::POST,
};

pub async fn handler(state: &State, request: Request) -> Result<Response<Body>, Infallible> {
    Ok(ENDPOINT
        .serve(&state.cors, &request, |request| {
            validate_meeting(state, request)
        })
        .await)
}

async fn validate_meeting(state: &State, request: &Request) -> Result<Response<Body>, ApiError> {
    let body = json_body(request)?;
    let keys = state.keys().await;
    let claims = keys.authenticate(request, &body)?;
    let id = path_parameter(request, "meetingId", "validate-meeting").ok_or_else(|| {
        ApiError::bad_request(
            "missing_meeting_id",
            "Put the meeting id in the path: /validate-meeting/{meetingId}.",
        )
    })?;
    // A token scoped to a room answers for that room only, as written in the token.
    if claims
        .room_id
        .as_ref()
        .is_some_and(|room_id| *room_id != id)
    {
        return Err(ApiError::forbidden(
            "token_scope_mismatch",
            "This token is scoped to another room.",
        ));
    }
    let meeting_id = state.meetings()?.validate(&keys, &id).await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({ "meetingId": meeting_id, "valid": true }),
    ))
}
