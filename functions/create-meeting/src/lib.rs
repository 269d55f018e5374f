//! `POST /create-meeting`: a new meeting id for the holder of a valid token.

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
    keys.authenticate(request, &body)?;
    let id = keys
        .issue_meeting_id()
        .map_err(|error| ApiError::internal("randomness_unavailable", error.to_string()))?
        .to_string();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "meetingId": id, "roomId": id }),
    ))
}
