//! `POST /validate-meeting/{meetingId}`: 200 only for a meeting id this deployment issued.

use std::convert::Infallible;

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::api_error::json_response;
use shared::request::{json_body, path_parameter};
use shared::{ApiError, Endpoint, MeetingIdError, State};

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
    keys.authenticate(request, &body)?;
    let text = path_parameter(request, "meetingId", "validate-meeting").ok_or_else(|| {
        ApiError::bad_request(
            "missing_meeting_id",
            "Put the meeting id in the path: /validate-meeting/{meetingId}.",
        )
    })?;
    match keys.check_meeting_id(&text) {
        Ok(id) => Ok(json_response(
            StatusCode::OK,
            &json!({ "meetingId": id.to_string(), "valid": true }),
        )),
        Err(MeetingIdError::NotIssued) => Err(ApiError::not_found(
            "meeting_not_found",
            "No meeting with this id was created by this service.",
        )),
        Err(error) => Err(ApiError::bad_request(
            "malformed_meeting_id",
            error.to_string(),
        )),
    }
}
