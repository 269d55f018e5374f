//! The API's routes, each written once here: the name of the function that answers it, its path
//! and its method, whether browsers call it (CORS) and the largest body it takes. The functions,
//! the tests, the fuzz targets and the benchmarks take their routes from [`ALL`];
//! `tests/tests/contract.rs` fails when `Cargo.toml`'s router, `template.yaml` or `openapi.yaml`
//! disagree with it. The handlers, one module each, are plain async functions of the state and a
//! request.
//!
//! Two kinds of function state serve them: the routes of [`API`] run on
//! `State<MeetingBackend>` (get-token needs less and runs on `State<NoMeetingBackend>`), the
//! moderation routes ([`moderation::ROUTES`], one function) on `State<ModerationBackend>`, and
//! [`VIDEOSDK_WEBHOOK`] on `State<WebhookBackend>`, which holds an EventBridge bus and
//! VideoSDK's public key instead of a meeting backend. `answer` runs any route of [`API`] on
//! one state; the webhook route is run by its own handler, on its own state.

use std::sync::Arc;
use std::time::Duration;

use lambda_http::http::Method;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::{Map, Value};

use crate::aws::budget::Budget;
use crate::backends::meetings::MeetingBackend;
use crate::domain::keyring::Keyring;
use crate::domain::meetings::{Meeting, MeetingError, RoomOptions};
use crate::domain::token::{Claims, TokenError};
use crate::domain::unix_now;
use crate::domain::webhooks::MAX_WEBHOOK_BODY_BYTES;
use crate::http::error::{ApiError, ErrorCode};
use crate::http::request::{self, MAX_BODY_BYTES, api_base_url};
use crate::http::route::Route;
use crate::state::{Backend, State};

pub mod create_meeting;
pub mod get_token;
pub mod join;
pub mod moderation;
pub mod validate_meeting;
pub mod videosdk_webhook;

pub const GET_TOKEN: Route = Route {
    name: "get-token",
    path: "/get-token",
    method: Method::GET,
    cors: true,
    max_body_bytes: MAX_BODY_BYTES,
};
pub const CREATE_MEETING: Route = Route {
    name: "create-meeting",
    path: "/create-meeting",
    method: Method::POST,
    cors: true,
    max_body_bytes: MAX_BODY_BYTES,
};
pub const VALIDATE_MEETING: Route = Route {
    name: "validate-meeting",
    path: "/validate-meeting/{meetingId}",
    method: Method::POST,
    cors: true,
    max_body_bytes: MAX_BODY_BYTES,
};
/// One call to join: a room (existing, custom or new) and a token for it, bound to the caller.
pub const JOIN: Route = Route {
    name: "join",
    path: "/join",
    method: Method::POST,
    cors: true,
    max_body_bytes: MAX_BODY_BYTES,
};
/// VideoSDK's webhooks: called by VideoSDK's servers, never by a browser.
pub const VIDEOSDK_WEBHOOK: Route = Route {
    name: "videosdk-webhook",
    path: "/videosdk-webhook",
    method: Method::POST,
    cors: false,
    max_body_bytes: MAX_WEBHOOK_BODY_BYTES,
};

/// The token and meeting API, which browsers call: the routes `answer` runs.
pub const API: [Route; 4] = [JOIN, GET_TOKEN, CREATE_MEETING, VALIDATE_MEETING];

/// Every route of the API.
pub const ALL: [Route; 10] = [
    JOIN,
    GET_TOKEN,
    CREATE_MEETING,
    VALIDATE_MEETING,
    VIDEOSDK_WEBHOOK,
    moderation::REMOVE_PARTICIPANT,
    moderation::LIFT_BAN,
    moderation::LIST_BANS,
    moderation::END_SESSION,
    moderation::DEACTIVATE_ROOM,
];

/// Answers `request` with the handler of `route`, one of [`API`], as that route's function
/// would: for tests, fuzzing and benchmarks, which run every route of [`API`] on one state.
/// [`VIDEOSDK_WEBHOOK`] runs on another state: call [`videosdk_webhook::handler`].
#[cfg(any(test, feature = "test-support"))]
pub async fn answer(
    route: &Route,
    state: &State<MeetingBackend>,
    request: Request,
) -> lambda_http::Response<lambda_http::Body> {
    let answered = match route.name {
        name if name == JOIN.name => join::handler(state, request).await,
        name if name == GET_TOKEN.name => get_token::handler(state, request).await,
        name if name == CREATE_MEETING.name => create_meeting::handler(state, request).await,
        name if name == VALIDATE_MEETING.name => validate_meeting::handler(state, request).await,
        other => unreachable!(
            "route {other} is not in routes::API; the webhook route runs on \
             State<WebhookBackend>, with routes::videosdk_webhook::handler"
        ),
    };
    match answered {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// The caller's token (header or body), verified now, and the keys that verified it. A
/// signature no key held matches may come from a rotated secret another instance read first:
/// the keys are read again (rate-limited, see `State::keys_after_miss`) and the token checked
/// once more, so a rotation fails no request.
async fn authenticate<B: Backend>(
    state: &State<B>,
    request: &Request,
    body: &Map<String, Value>,
) -> Result<(Arc<Keyring>, Claims), ApiError> {
    let token = request::token(request, body)?;
    let keys = state.keys().await;
    match keys.verify_at(token, unix_now()) {
        Ok(claims) => Ok((keys, claims)),
        Err(TokenError::BadSignature) => match state.keys_after_miss().await {
            Some(fresh) => {
                let claims = fresh.verify_at(token, unix_now())?;
                Ok((fresh, claims))
            }
            None => Err(TokenError::BadSignature.into()),
        },
        Err(error) => Err(error.into()),
    }
}

/// `call` with `keys`, and, when what it answers may come from keys out of date (a meeting id or
/// a VideoSDK refusal of our token after a rotation another instance read first), once more
/// with the keys read again.
async fn with_fresh_keys_on_miss<T, F, Fut>(
    state: &State<MeetingBackend>,
    keys: Arc<Keyring>,
    call: F,
) -> Result<T, MeetingError>
where
    F: Fn(Arc<Keyring>) -> Fut,
    Fut: Future<Output = Result<T, MeetingError>>,
{
    match call(keys).await {
        Err(error) if state.backend.may_be_stale_keys(&error) => {
            match state.keys_after_miss().await {
                Some(fresh) => call(fresh).await,
                None => Err(error),
            }
        }
        outcome => outcome,
    }
}

/// The route's own work (`answer` makes it, given the invocation's budget for its calls out),
/// within the invocation's deadline, whatever its calls out take together: past it, 504
/// `deadline_exceeded`, an answer the caller can read, where Lambda would stop the function and
/// API Gateway answer without a body. Outside Lambda, no bound.
async fn within_deadline<'r, F, Fut>(
    request: &'r Request,
    answer: F,
) -> Result<Response<Body>, ApiError>
where
    F: FnOnce(&'r Request, Budget) -> Fut,
    Fut: Future<Output = Result<Response<Body>, ApiError>>,
{
    let budget = Budget::from_context(request.lambda_context_ref());
    budget
        // Made on the heap: the handlers' futures are deep, and held inline beside the timeout
        // around them they overflow a test thread's stack in debug builds.
        .bound(Box::pin(answer(request, budget)))
        .await
        .unwrap_or_else(|out_of_time| {
            Err(ApiError::new(
                ErrorCode::DeadlineExceeded,
                format!(
                    "This request ran out of time ({out_of_time}): a service it called answered \
                     too slowly. Try again."
                ),
            ))
        })
}

/// The refusal of every route that creates rooms, for a caller `ROOM_CREATORS` refuses.
fn room_creation_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::RoomCreationNotAllowed,
        "This API does not let you create rooms (ROOM_CREATORS): join a room that exists, with \
         its roomId or customRoomId, or ask a moderator to create it (with a token carrying \
         allow_mod, where moderators create rooms).",
    )
}

/// Refuses a token for `room_id` to `participant_id` while a ban of them from that room holds
/// (one consistent read of the bans table, when one is configured). A table that cannot be read
/// refuses too: a ban that cannot be checked is not waved through.
async fn refuse_if_banned<B>(
    state: &State<B>,
    budget: &Budget,
    room_id: &str,
    participant_id: &str,
) -> Result<(), ApiError> {
    let Some(bans) = &state.bans else {
        return Ok(());
    };
    let read = bans.active_ban(room_id, participant_id, (state.clock)());
    match bans.within(budget, Duration::ZERO, read).await {
        Ok(None) => Ok(()),
        Ok(Some(ban)) => Err(ApiError::new(
            ErrorCode::ParticipantBanned,
            format!(
                "A moderator banned you from this room until {} (Unix seconds); no token \
                     for it is issued to you before then.",
                ban.ends_at
            ),
        )),
        Err(error) => {
            tracing::error!(error = %error, "cannot check the bans; refusing the token");
            Err(ApiError::new(
                ErrorCode::BanStoreUnavailable,
                "This API cannot check its bans right now, so it issues no token for a room; \
                 try again shortly.",
            ))
        }
    }
}

/// A room made at VideoSDK with `options` (create-meeting's, or join's), given the operator's
/// webhook when the caller named none (on this request's API domain unless `WEBHOOK_URL` says
/// otherwise), and made again with the keys read afresh when VideoSDK refused stale ones.
async fn create_room(
    state: &State<MeetingBackend>,
    request: &Request,
    keys: Arc<Keyring>,
    mut options: RoomOptions,
) -> Result<Meeting, ApiError> {
    if options.webhook.is_none() {
        options.webhook = state.backend.operator_webhook(|| {
            api_base_url(request).map(|base| format!("{base}{}", VIDEOSDK_WEBHOOK.path))
        })?;
    }
    let meeting = with_fresh_keys_on_miss(state, keys, |keys| {
        let options = options.clone();
        async move { state.backend.create(&keys, options).await }
    })
    .await?;
    Ok(meeting)
}
