//! `GET /get-token`: a VideoSDK token for the browser, signed with the account's secret.

use std::convert::Infallible;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::GET_TOKEN;
use crate::aws::metrics;
use crate::domain::token::{Claims, TokenScope};
use crate::domain::unix_now;
use crate::http::error::{ApiError, ErrorCode};
use crate::http::request::{query_parameter, scope_id};
use crate::http::response::json_response;
use crate::state::State;

pub async fn handler<B>(state: &State<B>, request: Request) -> Result<Response<Body>, Infallible> {
    Ok(GET_TOKEN
        .serve(&state.cors, &request, |request| get_token(state, request))
        .await)
}

async fn get_token<B>(state: &State<B>, request: &Request) -> Result<Response<Body>, ApiError> {
    let requested = query_parameter(request, &["permissions"])?;
    let scope = TokenScope {
        room_id: query_parameter(request, &["roomId", "meetingId"])?
            .map(|value| scope_id("roomId", ErrorCode::InvalidRoomId, value))
            .transpose()?,
        participant_id: query_parameter(request, &["participantId", "peerId"])?
            .map(|value| scope_id("participantId", ErrorCode::InvalidParticipantId, value))
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
    metrics::token_issued();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "token": token, "expiresAt": claims.exp }),
    ))
}
