//! The moderation routes (`shared::routes::moderation::ROUTES`, one function on
//! `State<ModerationBackend>`), how a target calls them, and the policy every answer keeps: only
//! a moderator gets past authorization, and the backend acts for no one else.
//!
//! Who moderates is restated here from the deployments' settings and the README, not read from
//! the code that decides it: behind the authorizer (claims present), a caller with a usable `sub`
//! whom the identity rules let have `allow_mod`, where `ALLOWED_PERMISSIONS` allows it (not in
//! the open deployment; everyone signed in in the restricted one, which names no moderators; a
//! member of `MODERATOR_GROUP` or holder of `MODERATOR_SCOPE` in the signed-in one); without
//! claims, nobody under `REQUIRE_IDENTITY`, else the holder of a token of this API that carries
//! `allow_mod` and is scoped to the room the request names.
//!
//! The fuzz states have the local meeting backend and no bans table, so what a moderator reaches
//! is observable without a network: `bans_not_configured` (lift, list, a removal that bans),
//! `malformed_meeting_id` or `meeting_not_found` (the room resolved), `moderation_unsupported`
//! (the backend asked to act, which it cannot), and, for that last one only, the backend's audit
//! line. Bans themselves (DynamoDB) are the proptest's and the moto tests' to cover.

use lambda_http::http::header::AUTHORIZATION;
use lambda_http::http::{Method, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::Value;
use shared::routes::moderation;

use crate::deployments::{Deployment, MODERATOR_GROUP, MODERATOR_SCOPE, fixtures, now};
use crate::invariants::assert_response_invariants;
use crate::logs::{LogLine, caught};
use crate::openapi::{DocumentedErrors, documented_errors, is_documented};

/// The moderation routes.
#[derive(arbitrary::Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModerationRoute {
    RemoveParticipant,
    LiftBan,
    ListBans,
    EndSession,
    DeactivateRoom,
}

/// Codes openapi.yaml documents for the moderation routes that only VideoSDK's backend gives
/// (no such participant or session), never the local one.
const UPSTREAM_ONLY: &[&str] = &["participant_not_in_session", "no_active_session"];

/// Answers that only come after authorization, on a backend without bans: the bans table looked
/// for, the room resolved, the backend asked to act; and whatever VideoSDK or the bans table
/// would answer. A 200 too (see [`past_authorization`]).
const PAST_AUTHORIZATION: &[&str] = &[
    "bans_not_configured",
    "malformed_meeting_id",
    "meeting_not_found",
    "moderation_unsupported",
    "participant_not_in_session",
    "no_active_session",
    "ban_store_unavailable",
];

/// The 401 codes of a token that is missing or cannot be used.
pub const TOKEN_REFUSALS: &[&str] = &[
    "missing_token",
    "invalid_token",
    "unsupported_algorithm",
    "invalid_signature",
    "expired_token",
    "invalid_claims",
    "api_key_mismatch",
];

impl ModerationRoute {
    pub const ALL: [ModerationRoute; 5] = [
        Self::RemoveParticipant,
        Self::LiftBan,
        Self::ListBans,
        Self::EndSession,
        Self::DeactivateRoom,
    ];

    /// The route as the registry writes it.
    pub fn registered(self) -> &'static shared::http::route::Route {
        match self {
            Self::RemoveParticipant => &moderation::REMOVE_PARTICIPANT,
            Self::LiftBan => &moderation::LIFT_BAN,
            Self::ListBans => &moderation::LIST_BANS,
            Self::EndSession => &moderation::END_SESSION,
            Self::DeactivateRoom => &moderation::DEACTIVATE_ROOM,
        }
    }

    pub fn path(self) -> &'static str {
        self.registered().path
    }

    pub fn method(self) -> Method {
        self.registered().method.clone()
    }

    /// The route a request's path names: the one it ends with (API Gateway routes these paths
    /// to the function, with a stage before them where the stage is not `$default`).
    pub fn of_path(path: &str) -> Option<Self> {
        let path = path.trim_end_matches('/');
        Self::ALL
            .into_iter()
            .find(|route| path.ends_with(route.path()))
    }

    /// The action's name in the audit trail (README).
    fn action(self) -> &'static str {
        match self {
            Self::RemoveParticipant => "remove-participant",
            Self::LiftBan => "lift-ban",
            Self::ListBans => "list-bans",
            Self::EndSession => "end-session",
            Self::DeactivateRoom => "deactivate-room",
        }
    }

    /// Whether the request names a participant (`participantId`).
    pub fn names_participant(self) -> bool {
        matches!(self, Self::RemoveParticipant | Self::LiftBan)
    }

    /// Whether the action needs the bans table: lifting, listing, a removal that bans.
    pub fn needs_bans(self, bans: bool) -> bool {
        match self {
            Self::LiftBan | Self::ListBans => true,
            Self::RemoveParticipant => bans,
            Self::EndSession | Self::DeactivateRoom => false,
        }
    }

    fn documented(self) -> &'static DocumentedErrors {
        let method = match self {
            Self::ListBans => "get",
            _ => "post",
        };
        documented_errors(self.path(), method, UPSTREAM_ONLY)
    }

    /// Runs the moderation function's handler on `deployment`, as its Lambda binary does (the
    /// handler picks the route by the request's path), and returns its answer and the log lines
    /// it wrote.
    pub fn call(deployment: Deployment, request: Request) -> (Response<Body>, Vec<LogLine>) {
        let fixtures = fixtures();
        let state = fixtures.moderation_state(deployment);
        caught(|| match fixtures.run(moderation::handler(state, request)) {
            Ok(response) => response,
            Err(never) => match never {},
        })
    }
}

/// Whether an answer could only have come after authorization.
fn past_authorization(status: StatusCode, code: Option<&str>) -> bool {
    status == StatusCode::OK || code.is_some_and(|code| PAST_AUTHORIZATION.contains(&code))
}

/// The backend's audit lines among `logs` (`ModerationBackend::audit`: its message is
/// `moderation`, and it names the action).
fn audit_lines(logs: &[LogLine]) -> Vec<&LogLine> {
    logs.iter()
        .filter(|line| line.message == "moderation" && line.field("action").is_some())
        .collect()
}

/// What every answer of the moderation function must be, for a request to `path` from a caller
/// who `may_moderate` (when false, the rules make them no moderator): the shape of every answer;
/// a code openapi.yaml documents for the route at that status (400 `invalid_request` for a path
/// that names none); never an answer past authorization for a caller who is no moderator; and
/// the backend's audit line, the sign that it was asked to act (which the local backend answers
/// `moderation_unsupported`), exactly with that answer, for the route's action, and never for
/// such a caller.
pub fn assert_moderation_invariants(
    path: &str,
    may_moderate: bool,
    response: &Response<Body>,
    logs: &[LogLine],
) {
    assert_response_invariants(response);
    let status = response.status();
    let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap_or_default();
    let code = body["error"]["code"].as_str();
    let route = ModerationRoute::of_path(path);
    match route {
        Some(route) if !status.is_success() => assert!(
            is_documented(route.documented(), status, code),
            "{} answered {status} {code:?}, which it documents not",
            route.path()
        ),
        Some(_) => {}
        None => assert_eq!(
            (status, code),
            (StatusCode::BAD_REQUEST, Some("invalid_request")),
            "the moderation function answered a path that names none of its routes: {path:?}"
        ),
    }
    let audits = audit_lines(logs);
    if !may_moderate {
        assert!(
            !past_authorization(status, code) && audits.is_empty(),
            "a caller who is no moderator got past authorization on {path:?}: {status} {code:?}, \
             {} audit line(s)",
            audits.len()
        );
    }
    let acted = code == Some("moderation_unsupported");
    assert_eq!(
        audits.len(),
        usize::from(acted),
        "{status} {code:?} with {} audit line(s): the backend's actions and the audit trail \
         disagree",
        audits.len()
    );
    if let (Some(route), Some(audit)) = (route, audits.first()) {
        assert_eq!(audit.field("action"), Some(route.action()), "{audit:?}");
        assert_eq!(audit.field("succeeded"), Some("false"), "{audit:?}");
    }
}

/// Whether the rules could make the caller of a request, as it came, a moderator: a necessary
/// condition, for requests whose parts are not known (raw events). Behind the authorizer,
/// nobody in the open deployment, everyone in the restricted one, and in the signed-in one a
/// caller whose claims or scopes mention a moderator group or scope; without claims, nobody
/// under `REQUIRE_IDENTITY`, else only a caller sending a token (in `Authorization` or the
/// body) that jsonwebtoken verifies now or within a minute, with `allow_mod`, scoped to a room
/// id the request carries (in the body or the query).
pub fn could_moderate(deployment: Deployment, request: &Request) -> bool {
    let jwt = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context
            .authorizer
            .as_ref()
            .and_then(|authorizer| authorizer.jwt.as_ref()),
        _ => None,
    };
    if let Some(jwt) = jwt {
        return match deployment {
            Deployment::Open => false,
            Deployment::Restricted => true,
            Deployment::SignedIn => jwt
                .claims
                .values()
                .chain(jwt.scopes.iter().flatten())
                .any(|text| text.contains(MODERATOR_GROUP) || text.contains(MODERATOR_SCOPE)),
        };
    }
    if deployment == Deployment::SignedIn {
        return false;
    }
    let body: Value = match request.body() {
        Body::Text(text) => serde_json::from_str(text).unwrap_or_default(),
        Body::Binary(bytes) => serde_json::from_slice(bytes).unwrap_or_default(),
        _ => Value::Null,
    };
    let mut rooms: Vec<&str> = body["roomId"].as_str().into_iter().collect();
    if let Some(query) = request.query_string_parameters_ref() {
        rooms.extend(query.all("roomId").into_iter().flatten());
    }
    let header = request
        .headers()
        .get_all(AUTHORIZATION)
        .iter()
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let body_token = body["token"].as_str().map(str::trim);
    let keys = &fixtures().keys;
    let now = now();
    header.split_whitespace().chain(body_token).any(|token| {
        [now, now + 60].into_iter().any(|at| {
            shared::test_support::verify_by_jsonwebtoken(keys, token, at).is_ok_and(|claims| {
                claims
                    .permissions
                    .contains(&shared::domain::permissions::Permission::AllowMod)
                    && claims
                        .room_id
                        .as_deref()
                        .is_some_and(|room| rooms.contains(&room))
            })
        })
    })
}
