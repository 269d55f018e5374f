//! `GET /get-token`: a VideoSDK token for the browser, signed with the account's secret.

use std::convert::Infallible;

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::api_error::json_response;
use shared::request::{query_parameter, scope_id};
use shared::{ApiError, Claims, Endpoint, State, TokenScope, unix_now};

pub const ENDPOINT: Endpoint = Endpoint {
    route: "/get-token",
    method: Method::GET,
};

pub async fn handler(state: &State, request: Request) -> Result<Response<Body>, Infallible> {
    Ok(ENDPOINT
        .serve(&state.cors, &request, |request| get_token(state, request))
        .await)
}

async fn get_token(state: &State, request: &Request) -> Result<Response<Body>, ApiError> {
    let requested = query_parameter(request, &["permissions"])?;
    let scope = TokenScope {
        room_id: query_parameter(request, &["roomId", "meetingId"])?
            .map(|value| scope_id("roomId", "invalid_room_id", value))
            .transpose()?,
        participant_id: query_parameter(request, &["participantId", "peerId"])?
            .map(|value| scope_id("participantId", "invalid_participant_id", value))
            .transpose()?,
    };
    let permissions = state.policy.grant(requested)?;
    let keys = state.keys().await;
    let claims = Claims::new(
        keys.api_key(),
        &permissions,
        &state.policy.roles,
        scope,
        unix_now(),
        state.policy.ttl_seconds,
    );
    let token = keys.sign(&claims)?;
    Ok(json_response(
        StatusCode::OK,
        &json!({ "token": token, "expiresAt": claims.exp }),
    ))
}
