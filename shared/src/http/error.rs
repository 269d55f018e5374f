//! The one error shape every route answers with,
//! `{"error": {"code": "snake_case", "message": "a sentence for a person"}}`, the codes, and how
//! each domain error becomes one.

use std::borrow::Cow;

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::domain::identity::IdentityRefusal;
use crate::domain::meeting_id::MeetingIdError;
use crate::domain::meetings::{MeetingError, OptionError, UpstreamFailure};
use crate::domain::permissions::{PermissionError, PolicyRefusal};
use crate::domain::token::TokenError;
use crate::domain::webhooks::{SignatureError, WebhookBodyError};
use crate::http::response::json_response;

/// Every error code this API answers with: the only place their strings are written (strum
/// spells each variant in snake_case). `tests/tests/contract.rs` holds `openapi.yaml` to exactly
/// this list.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumIter, strum::Display,
)]
#[strum(serialize_all = "snake_case")]
pub enum ErrorCode {
    // get-token's query
    UnknownPermission,
    ConflictingPermissions,
    InvalidPermissions,
    InvalidRoomId,
    InvalidParticipantId,
    DuplicateParameter,
    PermissionNotAllowed,
    // who the caller is
    IdentityRequired,
    IdentityClaimUnusable,
    IdentityClaimUnverified,
    IdentityMismatch,
    ParticipantIdNotAllowed,
    // the caller's token
    MissingToken,
    InvalidToken,
    UnsupportedAlgorithm,
    InvalidSignature,
    ExpiredToken,
    InvalidClaims,
    ApiKeyMismatch,
    TokenScopeMismatch,
    // bodies and meetings
    InvalidJson,
    InvalidBody,
    InvalidMeetingOption,
    UnsupportedOption,
    OptionNotAllowed,
    MalformedMeetingId,
    MissingMeetingId,
    MeetingNotFound,
    MeetingDisabled,
    MeetingRejected,
    RoomCreationNotAllowed,
    // moderation: bans where tokens are made, and the moderation routes
    ParticipantBanned,
    RoomRequired,
    ModerationNotAllowed,
    ParticipantNotInSession,
    NoActiveSession,
    BansNotConfigured,
    BanStoreUnavailable,
    ModerationUnsupported,
    // every route
    OriginNotAllowed,
    MethodNotAllowed,
    PayloadTooLarge,
    InvalidRequest,
    // faults of this service or of VideoSDK
    SigningFailed,
    RandomnessUnavailable,
    UpstreamClientError,
    UpstreamAuthFailed,
    UpstreamPaymentRequired,
    UpstreamInvalidResponse,
    UpstreamUnavailable,
    UpstreamRateLimited,
    InternalError,
    DeadlineExceeded,
    // VideoSDK's webhooks: where they go, and where rooms send them
    EventBusUnavailable,
    WebhookUrlUnknown,
    WebhookKeyRefreshPending,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The status this code is answered with (`upstream_unavailable` is a 504 when VideoSDK
    /// timed out, see `ApiError::with_status`).
    pub fn status(self) -> StatusCode {
        use ErrorCode::*;
        match self {
            UnknownPermission
            | ConflictingPermissions
            | InvalidPermissions
            | InvalidRoomId
            | InvalidParticipantId
            | DuplicateParameter
            | InvalidJson
            | InvalidBody
            | InvalidMeetingOption
            | UnsupportedOption
            | OptionNotAllowed
            | MalformedMeetingId
            | MissingMeetingId
            | MeetingRejected
            | InvalidRequest
            // What this deployment does not offer (no bans table, local meeting ids), as
            // `unsupported_option` for room options local ids cannot have: no fault to retry.
            | BansNotConfigured
            | ModerationUnsupported => StatusCode::BAD_REQUEST,
            MissingToken | InvalidToken | UnsupportedAlgorithm | InvalidSignature
            | ExpiredToken | InvalidClaims | ApiKeyMismatch | IdentityRequired => {
                StatusCode::UNAUTHORIZED
            }
            PermissionNotAllowed
            | IdentityClaimUnusable
            | IdentityClaimUnverified
            | IdentityMismatch
            | ParticipantIdNotAllowed
            | TokenScopeMismatch
            | RoomCreationNotAllowed
            | ParticipantBanned
            | RoomRequired
            | ModerationNotAllowed
            | OriginNotAllowed => StatusCode::FORBIDDEN,
            MeetingNotFound | ParticipantNotInSession => StatusCode::NOT_FOUND,
            NoActiveSession => StatusCode::CONFLICT,
            MeetingDisabled => StatusCode::GONE,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            WebhookKeyRefreshPending => StatusCode::TOO_MANY_REQUESTS,
            SigningFailed
            | RandomnessUnavailable
            | UpstreamClientError
            | InternalError
            | WebhookUrlUnknown => StatusCode::INTERNAL_SERVER_ERROR,
            UpstreamAuthFailed
            | UpstreamPaymentRequired
            | UpstreamInvalidResponse
            | UpstreamUnavailable => StatusCode::BAD_GATEWAY,
            DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
            UpstreamRateLimited | EventBusUnavailable | BanStoreUnavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            },
        }
    }
}

/// An error answered to the client. The `code` is stable and machine-readable; the `message` is
/// for a person and never contains a secret or a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: Cow<'static, str>,
    /// Sent as `Retry-After` (seconds), for answers that ask the client to come back later.
    pub retry_after_seconds: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status: code.status(),
            code,
            message: message.into(),
            retry_after_seconds: None,
        }
    }

    pub(crate) fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub(crate) fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_seconds = Some(seconds);
        self
    }

    pub fn into_response(self) -> Response<Body> {
        #[derive(Serialize)]
        struct Envelope<'a> {
            error: Detail<'a>,
        }
        #[derive(Serialize)]
        struct Detail<'a> {
            code: &'a str,
            message: &'a str,
        }
        let mut response = json_response(
            self.status,
            &Envelope {
                error: Detail {
                    code: self.code.as_str(),
                    message: &self.message,
                },
            },
        );
        // The code, for whoever counts the answers (aws::metrics).
        response.extensions_mut().insert(self.code);
        if let Some(seconds) = self.retry_after_seconds {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        response
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

/// Shortens client-supplied text before it is echoed in an error message, on a char boundary.
pub(crate) fn excerpt(text: &str) -> String {
    const MAX: usize = 40;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

impl From<TokenError> for ApiError {
    fn from(error: TokenError) -> Self {
        let code = match error {
            TokenError::Missing => ErrorCode::MissingToken,
            TokenError::Malformed => ErrorCode::InvalidToken,
            TokenError::UnsupportedAlgorithm => ErrorCode::UnsupportedAlgorithm,
            TokenError::BadSignature => ErrorCode::InvalidSignature,
            TokenError::Expired => ErrorCode::ExpiredToken,
            TokenError::InvalidClaims => ErrorCode::InvalidClaims,
            TokenError::ApiKeyMismatch => ErrorCode::ApiKeyMismatch,
            TokenError::SigningFailed => ErrorCode::SigningFailed,
        };
        Self::new(code, error.to_string())
    }
}

impl From<PolicyRefusal> for ApiError {
    fn from(refusal: PolicyRefusal) -> Self {
        match refusal {
            PolicyRefusal::Invalid(PermissionError::Empty) => Self::new(
                ErrorCode::InvalidPermissions,
                "The permissions parameter names no permission.",
            ),
            PolicyRefusal::Invalid(PermissionError::Unknown(name)) => Self::new(
                ErrorCode::UnknownPermission,
                format!(
                    "Unknown permission {:?}; use allow_join, ask_join or allow_mod.",
                    excerpt(&name)
                ),
            ),
            PolicyRefusal::Invalid(PermissionError::Conflicting) => Self::new(
                ErrorCode::ConflictingPermissions,
                "ask_join cannot be combined with allow_join or allow_mod; VideoSDK refuses the mix.",
            ),
            PolicyRefusal::Invalid(PermissionError::ModerateWithoutJoin) => Self::new(
                ErrorCode::InvalidPermissions,
                "allow_mod alone admits no one to a room; ask for allow_join,allow_mod.",
            ),
            PolicyRefusal::NotModerator => Self::new(
                ErrorCode::PermissionNotAllowed,
                "Only moderators get allow_mod (MODERATOR_GROUPS, MODERATOR_SCOPES).",
            ),
            PolicyRefusal::NotAllowed(permission) => Self::new(
                ErrorCode::PermissionNotAllowed,
                format!(
                    "This API does not issue tokens with {permission}; see ALLOWED_PERMISSIONS."
                ),
            ),
        }
    }
}

impl From<IdentityRefusal> for ApiError {
    fn from(refusal: IdentityRefusal) -> Self {
        let code = match refusal {
            IdentityRefusal::Required => ErrorCode::IdentityRequired,
            IdentityRefusal::UnusableClaim { .. } => ErrorCode::IdentityClaimUnusable,
            IdentityRefusal::UnverifiedClaim { .. } => ErrorCode::IdentityClaimUnverified,
            IdentityRefusal::Mismatch { .. } => ErrorCode::IdentityMismatch,
            IdentityRefusal::ChosenIdNotAllowed => ErrorCode::ParticipantIdNotAllowed,
            IdentityRefusal::InvalidParticipantId => ErrorCode::InvalidParticipantId,
            IdentityRefusal::RandomnessUnavailable => ErrorCode::RandomnessUnavailable,
        };
        Self::new(code, refusal.to_string())
    }
}

impl From<OptionError> for ApiError {
    fn from(error: OptionError) -> Self {
        let code = match error {
            OptionError::Invalid { .. } => ErrorCode::InvalidMeetingOption,
            OptionError::WebhookNotAllowed | OptionError::NotAllowed(_) => {
                ErrorCode::OptionNotAllowed
            }
            OptionError::Unsupported => ErrorCode::UnsupportedOption,
        };
        Self::new(code, format!("{error}."))
    }
}

impl From<MeetingIdError> for ApiError {
    fn from(error: MeetingIdError) -> Self {
        match error {
            MeetingIdError::Malformed => {
                Self::new(ErrorCode::MalformedMeetingId, error.to_string())
            }
            MeetingIdError::NotIssued => MeetingError::NotFound.into(),
            MeetingIdError::RandomnessUnavailable => MeetingError::RandomnessUnavailable.into(),
        }
    }
}

impl From<MeetingError> for ApiError {
    fn from(error: MeetingError) -> Self {
        match error {
            MeetingError::NotFound => Self::new(
                ErrorCode::MeetingNotFound,
                "No meeting with this id exists for this account.",
            ),
            MeetingError::Disabled(_) => Self::new(
                ErrorCode::MeetingDisabled,
                "This meeting's room was deactivated (ended, or closed by its autoCloseConfig) \
                 and can no longer be joined; create a new meeting.",
            ),
            MeetingError::MalformedId(why) => Self::new(ErrorCode::MalformedMeetingId, why),
            MeetingError::RandomnessUnavailable => {
                Self::new(ErrorCode::RandomnessUnavailable, error.to_string())
            }
            MeetingError::Upstream(failure) => failure.into(),
            MeetingError::WebhookUrlUnknown => {
                Self::new(ErrorCode::WebhookUrlUnknown, format!("{error}."))
            }
        }
    }
}

impl From<SignatureError> for ApiError {
    fn from(error: SignatureError) -> Self {
        let message = match error {
            SignatureError::Missing => {
                "The videosdk-signature header is missing or empty; nothing was published."
            }
            SignatureError::Repeated => {
                "The videosdk-signature header was sent more than once; nothing was published."
            }
            SignatureError::Invalid => {
                "The videosdk-signature is not VideoSDK's signature of this body; nothing was \
                 published."
            }
        };
        Self::new(ErrorCode::InvalidSignature, message)
    }
}

impl From<WebhookBodyError> for ApiError {
    fn from(error: WebhookBodyError) -> Self {
        let code = match error {
            WebhookBodyError::NotJson { .. } => ErrorCode::InvalidJson,
            WebhookBodyError::NotAnObject
            | WebhookBodyError::NoType
            | WebhookBodyError::InvalidType => ErrorCode::InvalidBody,
        };
        Self::new(
            code,
            format!("The webhook's signature is valid, but {error}; nothing was published."),
        )
    }
}

impl From<UpstreamFailure> for ApiError {
    fn from(failure: UpstreamFailure) -> Self {
        match failure {
            UpstreamFailure::AuthRefused => Self::new(
                ErrorCode::UpstreamAuthFailed,
                "VideoSDK refused this service's credentials; the operator has been told.",
            ),
            UpstreamFailure::PaymentRequired => Self::new(
                ErrorCode::UpstreamPaymentRequired,
                "VideoSDK refused to create a room for this service's account (402 Payment \
                 Required: its plan or billing); the operator has been told.",
            ),
            UpstreamFailure::RateLimited {
                retry_after_seconds,
            } => Self::new(
                ErrorCode::UpstreamRateLimited,
                "VideoSDK is rate-limiting this service; try again shortly.",
            )
            .with_retry_after(retry_after_seconds),
            UpstreamFailure::Unavailable => Self::new(
                ErrorCode::UpstreamUnavailable,
                "VideoSDK could not be reached or failed.",
            ),
            UpstreamFailure::TimedOut => Self::new(
                ErrorCode::UpstreamUnavailable,
                "VideoSDK did not answer in time.",
            )
            .with_status(StatusCode::GATEWAY_TIMEOUT),
            UpstreamFailure::InvalidResponse => Self::new(
                ErrorCode::UpstreamInvalidResponse,
                "VideoSDK answered with something that is not a room.",
            ),
            UpstreamFailure::Rejected => Self::new(
                ErrorCode::MeetingRejected,
                "VideoSDK refused to create the meeting with these options.",
            ),
            UpstreamFailure::ClientUnavailable => Self::new(
                ErrorCode::UpstreamClientError,
                "The VideoSDK client could not be built.",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator;

    use super::*;

    #[test]
    fn codes_are_distinct_snake_case_words() {
        let codes: Vec<&str> = ErrorCode::iter().map(ErrorCode::as_str).collect();
        let mut unique = codes.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), codes.len());
        for code in codes {
            assert!(
                code.split('_').count() >= 2
                    && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{code}"
            );
        }
        assert_eq!(ErrorCode::ApiKeyMismatch.as_str(), "api_key_mismatch");
    }

    #[test]
    fn the_body_is_the_error_shape_as_text() {
        let response =
            ApiError::new(ErrorCode::MeetingNotFound, "No such meeting.").into_response();
        assert_eq!(response.status(), 404);
        assert!(matches!(response.body(), Body::Text(_)));
        let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"error": {"code": "meeting_not_found", "message": "No such meeting."}})
        );
    }
}
