//! The moderation routes, answered by the `moderation` function: remove a participant from a
//! room's session (and ban them from it), lift a ban, list a room's bans, end a room's session,
//! deactivate a room. Only moderators call them, and anyone else is refused before any call to
//! VideoSDK: under the JWT authorizer, a caller the identity policy lets have `allow_mod`
//! (`MODERATOR_GROUPS`, `MODERATOR_SCOPES`) where `ALLOWED_PERMISSIONS` allows it; without one,
//! the holder of one of this API's tokens carrying `allow_mod` and scoped to the room named.
//!
//! Every request names the room (`roomId`: its VideoSDK id or its custom id), resolved through
//! VideoSDK to both ids: a ban is stored under each, so that get-token, which asks for a token by
//! the id the caller names, meets it by either, and join, which resolves the room, by its room
//! id. Every action goes to the audit trail (`ModerationBackend::audit`).

use std::convert::Infallible;
use std::time::Duration;

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::{Map, Value, json};

use super::{authenticate, within_deadline};
use crate::aws::bans::BanTable;
use crate::aws::budget::Budget;
use crate::backends::moderation::ModerationBackend;
use crate::domain::identity::is_participant_id;
use crate::domain::meetings::{MeetingError, UpstreamFailure, whole_number};
use crate::domain::moderation::{
    AuditRecord, Ban, MAX_BAN_SECONDS, MAX_REASON_CHARS, ModeratedRoom, ModerationAction,
    SessionError, VideoSdkOutcome, ban_seconds,
};
use crate::domain::permissions::Permission;
use crate::http::error::{ApiError, ErrorCode, excerpt};
use crate::http::request::{MAX_BODY_BYTES, caller_claims, json_body, query_parameter, room_scope};
use crate::http::response::json_response;
use crate::http::route::Route;
use crate::state::State;
use crate::videosdk::VIDEOSDK_REQUEST_TIMEOUT;

/// The function every moderation route runs in.
const FUNCTION: &str = "moderation";
/// Kept by every call of an action for the last one, its audit event on the bus: an action done
/// at VideoSDK always has time to be recorded.
const AUDIT_RESERVE: Duration = Duration::from_secs(1);

/// `POST`, body `{roomId, participantId, ban?, banSeconds?, reason?}`.
pub const REMOVE_PARTICIPANT: Route = Route {
    name: FUNCTION,
    path: "/moderation/remove-participant",
    method: Method::POST,
    cors: true,
    max_body_bytes: MAX_BODY_BYTES,
};
/// `POST`, body `{roomId, participantId}`.
pub const LIFT_BAN: Route = Route {
    name: FUNCTION,
    path: "/moderation/lift-ban",
    method: Method::POST,
    cors: true,
    max_body_bytes: MAX_BODY_BYTES,
};
/// `GET ?roomId=`.
pub const LIST_BANS: Route = Route {
    name: FUNCTION,
    path: "/moderation/bans",
    method: Method::GET,
    cors: true,
    max_body_bytes: MAX_BODY_BYTES,
};
/// `POST`, body `{roomId}`.
pub const END_SESSION: Route = Route {
    name: FUNCTION,
    path: "/moderation/end-session",
    method: Method::POST,
    cors: true,
    max_body_bytes: MAX_BODY_BYTES,
};
/// `POST`, body `{roomId}`.
pub const DEACTIVATE_ROOM: Route = Route {
    name: FUNCTION,
    path: "/moderation/deactivate-room",
    method: Method::POST,
    cors: true,
    max_body_bytes: MAX_BODY_BYTES,
};

/// The moderation routes, each with its action.
pub const ROUTES: [(Route, ModerationAction); 5] = [
    (REMOVE_PARTICIPANT, ModerationAction::RemoveParticipant),
    (LIFT_BAN, ModerationAction::LiftBan),
    (LIST_BANS, ModerationAction::ListBans),
    (END_SESSION, ModerationAction::EndSession),
    (DEACTIVATE_ROOM, ModerationAction::DeactivateRoom),
];

/// Answers any moderation route: the one whose path ends the request's (API Gateway's path
/// may carry a stage before it).
pub async fn handler(
    state: &State<ModerationBackend>,
    request: Request,
) -> Result<Response<Body>, Infallible> {
    let path = request.uri().path().trim_end_matches('/').to_owned();
    let Some((route, action)) = ROUTES.iter().find(|(route, _)| path.ends_with(route.path)) else {
        return Ok(ApiError::new(
            ErrorCode::InvalidRequest,
            "No moderation route has this path.",
        )
        .into_response());
    };
    Ok(route
        .serve(&state.cors, &request, |request| {
            within_deadline(request, |request, budget| {
                moderate(state, request, *action, budget)
            })
        })
        .await)
}

/// What a moderation request asks, read before anything is checked against the outside.
struct Asked {
    /// The room as named (a room id or a custom id).
    room: String,
    participant_id: Option<String>,
    /// For a removal: the ban's length in seconds, when it bans.
    ban_seconds: Option<u64>,
    reason: Option<String>,
}

async fn moderate(
    state: &State<ModerationBackend>,
    request: &Request,
    action: ModerationAction,
    budget: Budget,
) -> Result<Response<Body>, ApiError> {
    let body = if action == ModerationAction::ListBans {
        Map::new()
    } else {
        json_body(request)?
    };
    let asked = read_request(request, &body, action)?;
    let moderator = moderator(state, request, &body, &asked.room).await?;
    // Checked before any call to VideoSDK: a ban asked for where none can be kept does nothing.
    let bans = match action {
        ModerationAction::LiftBan | ModerationAction::ListBans => Some(bans_table(state)?),
        ModerationAction::RemoveParticipant if asked.ban_seconds.is_some() => {
            Some(bans_table(state)?)
        }
        _ => None,
    };

    let keys = state.keys().await;
    let room = state.backend.rooms.resolve(&keys, &asked.room).await?;
    let now = (state.clock)();
    let mut record = AuditRecord {
        action,
        moderator,
        room_id: room.room_id.clone(),
        participant_id: asked.participant_id.clone(),
        at: now,
        videosdk: VideoSdkOutcome::NotCalled,
        ban_ends_at: None,
        succeeded: false,
    };
    let rooms = &state.backend.rooms;
    let outcome = match action {
        ModerationAction::RemoveParticipant => {
            let participant_id = asked.participant_id.clone().unwrap_or_default();
            let ban = match (bans, asked.ban_seconds) {
                (Some(table), Some(seconds)) => {
                    let ban = Ban {
                        room_id: room.room_id.clone(),
                        participant_id: participant_id.clone(),
                        banned_at: now,
                        ends_at: now.saturating_add(seconds),
                        banned_by: record.moderator.clone(),
                        reason: asked.reason.clone(),
                    };
                    // Before the removal: the token the removed participant asks for next is
                    // refused even if VideoSDK fails below.
                    write_ban(table, &budget, &room, &ban).await?;
                    record.ban_ends_at = Some(ban.ends_at);
                    Some(ban)
                }
                _ => None,
            };
            let removed = at_videosdk(
                &budget,
                rooms.remove_participant(&keys, &room.room_id, &participant_id),
            )
            .await;
            record.videosdk = removed
                .as_ref()
                .map_or_else(SessionError::outcome, |()| VideoSdkOutcome::Done);
            match (removed, ban) {
                (Ok(()), ban) => Ok(removal_answer(&room, &participant_id, true, ban)),
                // Banned, though not in the room now (or no sessions here): the ban stands.
                (Err(SessionError::NoSession | SessionError::Unsupported), Some(ban)) => {
                    Ok(removal_answer(&room, &participant_id, false, Some(ban)))
                }
                (Err(SessionError::NoSession), None) => Err(ApiError::new(
                    ErrorCode::ParticipantNotInSession,
                    "This participant is not in the room's session now; nothing was done (send \
                     \"ban\": true to keep them out).",
                )),
                (Err(error), _) => Err(session_error(error)),
            }
        }
        ModerationAction::LiftBan => {
            let participant_id = asked.participant_id.clone().unwrap_or_default();
            let table = bans_table(state)?;
            let mut lifted = false;
            for id in room.ids() {
                lifted |= table
                    .within(&budget, AUDIT_RESERVE, table.lift(id, &participant_id, now))
                    .await
                    .map_err(store_unavailable)?;
            }
            Ok(json!({
                "roomId": room.room_id,
                "participantId": participant_id,
                "lifted": lifted,
            }))
        }
        ModerationAction::ListBans => {
            let table = bans_table(state)?;
            let bans = table
                .within(
                    &budget,
                    AUDIT_RESERVE,
                    table.bans_of_room(&room.room_id, now),
                )
                .await
                .map_err(store_unavailable)?;
            Ok(json!({ "roomId": room.room_id, "bans": bans }))
        }
        ModerationAction::EndSession => {
            let ended = at_videosdk(&budget, rooms.end_session(&keys, &room.room_id)).await;
            record.videosdk = ended
                .as_ref()
                .map_or_else(SessionError::outcome, |()| VideoSdkOutcome::Done);
            match ended {
                Ok(()) => Ok(json!({ "roomId": room.room_id, "ended": true })),
                Err(SessionError::NoSession) => Err(ApiError::new(
                    ErrorCode::NoActiveSession,
                    "This room has no session now; nothing was ended.",
                )),
                Err(error) => Err(session_error(error)),
            }
        }
        ModerationAction::DeactivateRoom => {
            let deactivated = at_videosdk(&budget, rooms.deactivate(&keys, &room.room_id)).await;
            record.videosdk = deactivated
                .as_ref()
                .map_or_else(SessionError::outcome, |()| VideoSdkOutcome::Done);
            match deactivated {
                Ok(()) => Ok(json!({ "roomId": room.room_id, "deactivated": true })),
                Err(SessionError::NoSession | SessionError::RoomNotFound) => {
                    Err(MeetingError::NotFound.into())
                }
                Err(error) => Err(session_error(error)),
            }
        }
    };
    record.succeeded = outcome.is_ok();
    state.backend.audit(&record, &budget).await;
    Ok(json_response(StatusCode::OK, &outcome?))
}

/// The request's room, participant and ban, each checked; nothing else is read.
fn read_request(
    request: &Request,
    body: &Map<String, Value>,
    action: ModerationAction,
) -> Result<Asked, ApiError> {
    let room = if action == ModerationAction::ListBans {
        query_parameter(request, &["roomId"])?
    } else {
        string_field(body, "roomId")?
    }
    .ok_or_else(|| ApiError::new(ErrorCode::InvalidRoomId, "Name the room: roomId."))
    .and_then(room_scope)?;
    let names_participant = matches!(
        action,
        ModerationAction::RemoveParticipant | ModerationAction::LiftBan
    );
    let participant_id = if names_participant {
        let id = string_field(body, "participantId")?.ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidParticipantId,
                "Name the participant: participantId.",
            )
        })?;
        if !is_participant_id(id) {
            return Err(ApiError::new(
                ErrorCode::InvalidParticipantId,
                "participantId must be 1 to 128 characters, with no whitespace.",
            ));
        }
        Some(id.to_owned())
    } else {
        None
    };
    let mut asked = Asked {
        room,
        participant_id,
        ban_seconds: None,
        reason: None,
    };
    if action == ModerationAction::RemoveParticipant {
        let ban = match body.get("ban") {
            None | Some(Value::Bool(false)) => false,
            Some(Value::Bool(true)) => true,
            Some(_) => return Err(invalid_body("The body's \"ban\" must be true or false.")),
        };
        let seconds = match body.get("banSeconds") {
            None => None,
            Some(_) if !ban => {
                return Err(invalid_body(
                    "banSeconds is the length of a ban: send it with \"ban\": true.",
                ));
            }
            Some(value) => Some(whole_number(value).ok_or_else(|| {
                invalid_body(format!(
                    "banSeconds must be a whole number of seconds from 1 to {MAX_BAN_SECONDS}."
                ))
            })?),
        };
        if ban {
            asked.ban_seconds =
                Some(ban_seconds(seconds).map_err(|error| invalid_body(format!("{error}.")))?);
        }
        asked.reason = string_field(body, "reason")?.map(str::to_owned);
        if asked
            .reason
            .as_ref()
            .is_some_and(|reason| reason.chars().count() > MAX_REASON_CHARS)
        {
            return Err(invalid_body(format!(
                "The reason is at most {MAX_REASON_CHARS} characters."
            )));
        }
    }
    Ok(asked)
}

/// Who the moderator is (their participant id), or the refusal: decided from the request alone,
/// before any call to VideoSDK.
async fn moderator(
    state: &State<ModerationBackend>,
    request: &Request,
    body: &Map<String, Value>,
    room: &str,
) -> Result<String, ApiError> {
    let not_a_moderator = |why: &'static str| ApiError::new(ErrorCode::ModerationNotAllowed, why);
    if let Some(caller) = caller_claims(request) {
        let participant = state.identity.participant(Some(&caller), None)?;
        if !state.policy.moderates(participant.may_moderate) {
            return Err(not_a_moderator(
                "Only moderators (MODERATOR_GROUPS, MODERATOR_SCOPES) moderate rooms.",
            ));
        }
        return Ok(participant.id.unwrap_or_default());
    }
    if state.identity.require_identity {
        return Err(crate::domain::identity::IdentityRefusal::Required.into());
    }
    let (_, claims) = authenticate(state, request, body).await?;
    if !claims.permissions.contains(&Permission::AllowMod) {
        return Err(not_a_moderator(
            "Moderating a room takes a token of this API carrying allow_mod.",
        ));
    }
    if claims.room_id.as_deref() != Some(room) {
        return Err(ApiError::new(
            ErrorCode::TokenScopeMismatch,
            "Moderating a room takes a token scoped to that room, by the id named here.",
        ));
    }
    Ok(claims
        .participant_id
        .unwrap_or_else(|| "anonymous-moderator".to_owned()))
}

/// The bans table, or 503 where none is configured.
fn bans_table(state: &State<ModerationBackend>) -> Result<&BanTable, ApiError> {
    state.bans.as_ref().ok_or_else(|| {
        ApiError::new(
            ErrorCode::BansNotConfigured,
            "This deployment keeps no bans (BANS_TABLE_NAME is not set): remove without \"ban\", \
             or deploy the template, which creates the table.",
        )
    })
}

/// `ban` under every id of `room`, within `budget`.
async fn write_ban(
    table: &BanTable,
    budget: &Budget,
    room: &ModeratedRoom,
    ban: &Ban,
) -> Result<(), ApiError> {
    for id in room.ids() {
        let copy = Ban {
            room_id: id.to_owned(),
            ..ban.clone()
        };
        table
            .within(budget, AUDIT_RESERVE, table.put(&copy))
            .await
            .map_err(store_unavailable)?;
    }
    Ok(())
}

/// A session call to VideoSDK within `budget`, keeping [`AUDIT_RESERVE`], with VideoSDK's usual
/// timeout at most; one with no time left, or that runs out of it, is VideoSDK not answering in
/// time.
async fn at_videosdk(
    budget: &Budget,
    call: impl Future<Output = Result<(), SessionError>>,
) -> Result<(), SessionError> {
    budget
        .run(AUDIT_RESERVE, VIDEOSDK_REQUEST_TIMEOUT, call)
        .await
        .unwrap_or(Err(SessionError::Upstream(UpstreamFailure::TimedOut)))
}

fn store_unavailable(error: crate::aws::bans::BanStoreError) -> ApiError {
    tracing::error!(error = %error, "the bans table failed");
    ApiError::new(
        ErrorCode::BanStoreUnavailable,
        "The bans could not be read or written; try again shortly.",
    )
}

fn removal_answer(
    room: &ModeratedRoom,
    participant_id: &str,
    removed: bool,
    ban: Option<Ban>,
) -> Value {
    let mut answer = json!({
        "roomId": room.room_id,
        "participantId": participant_id,
        "removed": removed,
    });
    if let Some(ban) = ban {
        answer["ban"] = json!({ "bannedAt": ban.banned_at, "endsAt": ban.ends_at });
    }
    answer
}

fn session_error(error: SessionError) -> ApiError {
    match error {
        SessionError::NoSession => {
            ApiError::new(ErrorCode::NoActiveSession, "This room has no session now.")
        }
        SessionError::RoomNotFound => MeetingError::NotFound.into(),
        SessionError::Unsupported => ApiError::new(
            ErrorCode::ModerationUnsupported,
            "This deployment's meeting backend is local: it has no VideoSDK sessions to act on \
             (MEETING_BACKEND=videosdk has).",
        ),
        SessionError::Upstream(failure) => failure.into(),
    }
}

fn invalid_body(message: impl Into<std::borrow::Cow<'static, str>>) -> ApiError {
    ApiError::new(ErrorCode::InvalidBody, message)
}

/// An optional string field of the body; any other type is refused.
fn string_field<'a>(body: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(invalid_body(format!(
            "The body's {:?} must be a string.",
            excerpt(name)
        ))),
    }
}
