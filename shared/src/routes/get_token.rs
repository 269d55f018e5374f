//! `GET /get-token`: a VideoSDK token for the browser, signed with the account's secret.

use std::convert::Infallible;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::GET_TOKEN;
use crate::aws::metrics;
use crate::domain::token::{Claims, TokenScope};
use crate::domain::unix_now;
use crate::http::error::ApiError;
use crate::http::request::{caller_claims, query_parameter, room_scope};
use crate::http::response::json_response;
use crate::state::{Backend, State};

pub async fn handler<B: Backend>(
    state: &State<B>,
    request: Request,
) -> Result<Response<Body>, Infallible> {
    Ok(GET_TOKEN
        .serve(&state.cors, &request, |request| get_token(state, request))
        .await)
}

/// Who the token is for comes from the identity policy: the signed-in caller's claim, or the
/// anonymous rules; the query may only repeat it.
async fn get_token<B: Backend>(
    state: &State<B>,
    request: &Request,
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
    let mut answer = json!({ "token": token, "expiresAt": claims.exp });
    if let Some(id) = &claims.participant_id {
        answer["participantId"] = json!(id);
    }
    Ok(json_response(StatusCode::OK, &answer))
}
