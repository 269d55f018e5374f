//! `POST /videosdk-webhook`: a webhook from VideoSDK, its `videosdk-signature` checked over the
//! exact bytes received, then put on EventBridge as one event (source `videosdk`, detail-type its
//! type, detail its body). 204 once published; 401 `invalid_signature` for a missing, repeated
//! or wrong signature, and nothing published; 400 for a verified body that is not an event; 202
//! when EventBridge refused or failed and the fallback queue took it; 503
//! `event_bus_unavailable` only when both failed.
//! No CORS: browsers never call it.
//!
//! Every call on the way takes its timeout from the time the invocation has left
//! (`aws::budget`), keeping what a send to the fallback queue needs, so that a verified webhook
//! is queued before Lambda's deadline however slow the calls before it are. The check of a
//! pinned key needs no keys; a due refresh of the secret runs beside the delivery, not before.

use std::convert::Infallible;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};

use super::VIDEOSDK_WEBHOOK;
use crate::aws::budget::Budget;
use crate::backends::webhooks::{Delivered, VerifyError, WebhookBackend};
use crate::domain::webhooks::{SignatureError, WebhookEvent};
use crate::http::error::{ApiError, ErrorCode};
use crate::http::request::{raw_body, single_header};
use crate::state::State;

/// The header VideoSDK puts its signature in.
pub const SIGNATURE_HEADER: &str = "videosdk-signature";

pub async fn handler(
    state: &State<WebhookBackend>,
    request: Request,
) -> Result<Response<Body>, Infallible> {
    Ok(VIDEOSDK_WEBHOOK
        .serve(&state.cors, &request, |request| receive(state, request))
        .await)
}

async fn receive(
    state: &State<WebhookBackend>,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let received_at = std::time::SystemTime::now();
    let budget = Budget::from_context(request.lambda_context_ref());
    let signature = single_header(request, SIGNATURE_HEADER)
        .map_err(|()| SignatureError::Repeated)?
        .ok_or(SignatureError::Missing)?;
    // API Gateway joins the values of a header sent twice with commas, which base64 never
    // holds. (VideoSDK's Node SDK would read such a value up to the first signature's padding.)
    if signature.contains(&b',') {
        return Err(SignatureError::Repeated.into());
    }
    let body = raw_body(request);
    let keys = state.current_keys();
    let mut verdict = state.backend.verify(body, signature, &keys, &budget).await;
    // A key pinned in the secret that fails may have been replaced there: the secret read again
    // (as a token that matches no key reads it, at most once per interval).
    if verdict == Err(VerifyError::Signature(SignatureError::Invalid))
        && state.backend.key_pinned_in_secret()
        && let Some(keys) = state.keys_after_miss_within(&budget).await
    {
        verdict = state.backend.verify(body, signature, &keys, &budget).await;
    }
    verdict.map_err(|error| match error {
        VerifyError::Signature(refused) => ApiError::from(refused),
        VerifyError::RefreshPending { retry_after } => {
            tracing::warn!(
                retry_after_ms = retry_after.as_millis() as u64,
                "webhook signature fails with the key in hand; VideoSDK's key was fetched too \
                     recently to fetch it again"
            );
            ApiError::new(
                ErrorCode::WebhookKeyRefreshPending,
                "The signature does not verify with the key in hand, which was fetched from \
                     VideoSDK too recently to fetch it again; nothing was published. Send it \
                     again after Retry-After.",
            )
            .with_retry_after(retry_after.as_secs() + 1)
        }
        VerifyError::KeyUnavailable { .. } => {
            tracing::error!(error = %error, "webhook not verified");
            ApiError::new(
                ErrorCode::UpstreamUnavailable,
                "The signature does not verify with the key in hand, and VideoSDK's current \
                     key could not be fetched; nothing was published.",
            )
        }
    })?;
    let event = WebhookEvent::from_verified_body(body)?.received_at_time(received_at);
    // Boxed: the two futures side by side are deep types, past the compiler's layout limit in
    // the crates that nest this handler further.
    let (delivered, ()) = tokio::join!(
        Box::pin(state.backend.deliver(&event, &budget)),
        Box::pin(state.refresh_if_due(&budget))
    );
    match delivered {
        Ok(Delivered::Published { event_id }) => {
            tracing::info!(
                webhook_type = event.kind(),
                delivery_id = event.delivery_id(),
                event_id,
                published = true,
                "webhook"
            );
            let mut response = Response::new(Body::Empty);
            *response.status_mut() = StatusCode::NO_CONTENT;
            Ok(response)
        }
        Ok(Delivered::Queued { message_id, bus }) => {
            // Kept, not lost: the queue's consumer puts it on the bus once EventBridge takes it.
            tracing::error!(
                webhook_type = event.kind(),
                delivery_id = event.delivery_id(),
                published = false,
                queued = true,
                message_id,
                error = %bus,
                "webhook"
            );
            let mut response = Response::new(Body::Empty);
            *response.status_mut() = StatusCode::ACCEPTED;
            Ok(response)
        }
        Err(error) => {
            tracing::error!(
                webhook_type = event.kind(),
                delivery_id = event.delivery_id(),
                published = false,
                queued = false,
                error = %error,
                "webhook"
            );
            Err(ApiError::new(
                ErrorCode::EventBusUnavailable,
                "EventBridge did not take the event, nor did the fallback queue; nothing was \
                 kept, deliver it again.",
            ))
        }
    }
}
