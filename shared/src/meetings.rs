//! Where meetings live. `local`: stateless ids this service makes and checks itself (no
//! database, no network). `videosdk`: rooms in VideoSDK's cloud, created and validated through
//! its v2 REST API with the official `videosdk-server-sdk` crate, so a client SDK can join them.

use std::time::Duration;

use lambda_http::http::StatusCode;
use serde_json::{Map, Value};
use videosdk::{AutoCloseConfigInput, AutoCloseType, Region, RoomCreateParams, RoomWebhookInput};

use crate::api_error::{ApiError, excerpt};
use crate::keyring::Keyring;
use crate::meeting_id::MeetingIdError;
use crate::request::MAX_SCOPE_ID_LENGTH;
use crate::token::Claims;
use crate::unix_now;

pub const DEFAULT_VIDEOSDK_API_ENDPOINT: &str = "https://api.videosdk.live";
/// Each call to VideoSDK ends within this, well inside the function's 10 s timeout.
pub const VIDEOSDK_REQUEST_TIMEOUT: Duration = Duration::from_secs(4);
/// Lifetime of the token this service mints for its own calls to VideoSDK.
pub const VIDEOSDK_CALL_TOKEN_TTL_SECONDS: u64 = 60;
/// `Retry-After` when VideoSDK rate-limits us without saying for how long.
const DEFAULT_RETRY_AFTER_SECONDS: u64 = 1;
const MAX_CUSTOM_ROOM_ID_LENGTH: usize = 64;
const MAX_WEBHOOK_URL_LENGTH: usize = 512;
const MAX_WEBHOOK_EVENTS: usize = 32;
const MAX_AUTO_CLOSE_SECONDS: u64 = 7 * 86_400;
const MAX_ALLOWED_PARTICIPANT_IDS: usize = 100;
/// VideoSDK's region codes a room can be geo-fenced to (`region` is discontinued).
pub const GEO_FENCE_REGIONS: [&str; 11] = [
    "us001", "us002", "eu001", "in001", "in002", "in003", "sg001", "sg002", "uk001", "uae001",
    "aus001",
];

/// Which backend `MEETING_BACKEND` selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeetingBackendKind {
    Local,
    VideoSdk {
        endpoint: String,
        /// `ALLOW_CLIENT_WEBHOOKS`: whether a caller may name a webhook URL for its room.
        allow_client_webhooks: bool,
    },
}

/// The meeting backend of a running function, built once at cold start.
#[derive(Debug)]
pub enum MeetingBackend {
    Local,
    VideoSdk(VideoSdkRooms),
}

/// What a create-meeting request may ask for, checked before anything is sent anywhere.
#[derive(Debug, Default)]
pub struct MeetingRequest {
    pub custom_room_id: Option<String>,
    pub auto_close: Option<AutoCloseConfigInput>,
    pub webhook: Option<RoomWebhookInput>,
    pub geo_fence: Option<Region>,
    pub allowed_participant_ids: Option<Vec<String>>,
}

/// A meeting that exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meeting {
    pub meeting_id: String,
    pub custom_room_id: Option<String>,
}

impl MeetingBackend {
    pub fn new(kind: &MeetingBackendKind) -> Result<Self, String> {
        match kind {
            MeetingBackendKind::Local => Ok(Self::Local),
            MeetingBackendKind::VideoSdk {
                endpoint,
                allow_client_webhooks,
            } => VideoSdkRooms::new(endpoint, *allow_client_webhooks).map(Self::VideoSdk),
        }
    }

    /// The options of a create-meeting body, checked for this backend: the local one takes
    /// none, VideoSDK's takes a caller's webhook only when the operator allows it.
    pub fn meeting_request(&self, body: &Map<String, Value>) -> Result<MeetingRequest, ApiError> {
        match self {
            Self::Local => {
                let request = MeetingRequest::from_body(body, true)?;
                if request.has_options() {
                    return Err(ApiError::bad_request(
                        "unsupported_option",
                        "customRoomId, autoCloseConfig, geoFence, allowedParticipantIds and \
                         webhook need MEETING_BACKEND=videosdk.",
                    ));
                }
                Ok(request)
            }
            Self::VideoSdk(rooms) => MeetingRequest::from_body(body, rooms.allow_client_webhooks),
        }
    }

    pub async fn create(
        &self,
        keys: &Keyring,
        request: MeetingRequest,
    ) -> Result<Meeting, ApiError> {
        match self {
            Self::Local => {
                let id = keys.issue_meeting_id().map_err(|error| {
                    ApiError::internal("randomness_unavailable", error.to_string())
                })?;
                Ok(Meeting {
                    meeting_id: id.to_string(),
                    custom_room_id: None,
                })
            }
            Self::VideoSdk(rooms) => rooms.create(keys, request).await,
        }
    }

    /// The meeting's id when it exists; 400 for an id that cannot be one, 404 for one that
    /// does not exist.
    pub async fn validate(&self, keys: &Keyring, id: &str) -> Result<String, ApiError> {
        match self {
            Self::Local => match keys.check_meeting_id(id) {
                Ok(id) => Ok(id.to_string()),
                Err(MeetingIdError::NotIssued) => Err(not_found()),
                Err(error) => Err(ApiError::bad_request(
                    "malformed_meeting_id",
                    error.to_string(),
                )),
            },
            Self::VideoSdk(rooms) => {
                // A room id or a custom room id: never sent on unless it is plain text.
                if !is_plain_id(id, 128) {
                    return Err(ApiError::bad_request(
                        "malformed_meeting_id",
                        "A meeting id is 1 to 128 letters, digits, '_' or '-'.",
                    ));
                }
                rooms.validate(keys, id).await
            }
        }
    }
}

fn not_found() -> ApiError {
    ApiError::not_found(
        "meeting_not_found",
        "No meeting with this id exists for this account.",
    )
}

/// 1 to `max` ASCII letters, digits, '_' or '-': what room and participant ids may hold here.
pub(crate) fn is_plain_id(text: &str, max: usize) -> bool {
    (1..=max).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl MeetingRequest {
    fn has_options(&self) -> bool {
        self.custom_room_id.is_some()
            || self.auto_close.is_some()
            || self.webhook.is_some()
            || self.geo_fence.is_some()
            || self.allowed_participant_ids.is_some()
    }

    /// Reads the optional `customRoomId`, `autoCloseConfig`, `geoFence`, `allowedParticipantIds`
    /// and `webhook` of a create-meeting body. Other fields, such as the token or the `region`
    /// VideoSDK's example clients still send, are not ours and are ignored. A `webhook` makes
    /// VideoSDK call a URL of the caller's choosing, so it is refused unless
    /// `allow_client_webhooks`.
    pub fn from_body(
        body: &Map<String, Value>,
        allow_client_webhooks: bool,
    ) -> Result<Self, ApiError> {
        let invalid = |field: &'static str, why: String| {
            ApiError::bad_request("invalid_meeting_option", format!("{field}: {why}"))
        };
        let custom_room_id = match body.get("customRoomId") {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) if is_plain_id(id, MAX_CUSTOM_ROOM_ID_LENGTH) => {
                Some(id.clone())
            }
            Some(other) => {
                return Err(invalid(
                    "customRoomId",
                    format!(
                        "{} is not 1 to {MAX_CUSTOM_ROOM_ID_LENGTH} letters, digits, '_' or '-'",
                        excerpt(&other.to_string())
                    ),
                ));
            }
        };
        let auto_close = match body.get("autoCloseConfig") {
            None | Some(Value::Null) => None,
            Some(Value::Object(config)) => {
                let kind = match config.get("type") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(kind)) if kind == "session-ends" => {
                        Some(AutoCloseType::SESSION_ENDS)
                    }
                    Some(Value::String(kind)) if kind == "session-end-and-deactivate" => {
                        Some(AutoCloseType::SESSION_END_AND_DEACTIVATE)
                    }
                    Some(_) => {
                        return Err(invalid(
                            "autoCloseConfig.type",
                            "use \"session-ends\" or \"session-end-and-deactivate\"".into(),
                        ));
                    }
                };
                let duration = match config.get("duration") {
                    None | Some(Value::Null) => None,
                    Some(value) => match value.as_u64() {
                        Some(seconds) if (1..=MAX_AUTO_CLOSE_SECONDS).contains(&seconds) => {
                            u32::try_from(seconds).ok()
                        }
                        _ => {
                            return Err(invalid(
                                "autoCloseConfig.duration",
                                format!(
                                    "a whole number of seconds from 1 to {MAX_AUTO_CLOSE_SECONDS}"
                                ),
                            ));
                        }
                    },
                };
                Some(AutoCloseConfigInput {
                    after_inactive_seconds: duration,
                    kind,
                })
            }
            Some(_) => return Err(invalid("autoCloseConfig", "must be an object".into())),
        };
        let geo_fence = match body.get("geoFence") {
            None | Some(Value::Null) => None,
            Some(Value::String(code)) if GEO_FENCE_REGIONS.contains(&code.as_str()) => {
                Some(Region::from(code.as_str()))
            }
            Some(other) => {
                return Err(invalid(
                    "geoFence",
                    format!(
                        "{} is not one of VideoSDK's regions ({})",
                        excerpt(&other.to_string()),
                        GEO_FENCE_REGIONS.join(", ")
                    ),
                ));
            }
        };
        let allowed_participant_ids = match body.get("allowedParticipantIds") {
            None | Some(Value::Null) => None,
            Some(Value::Array(ids)) if (1..=MAX_ALLOWED_PARTICIPANT_IDS).contains(&ids.len()) => {
                let mut checked: Vec<String> = Vec::with_capacity(ids.len());
                for id in ids {
                    match id.as_str() {
                        Some(id)
                            if is_plain_id(id, MAX_SCOPE_ID_LENGTH)
                                && !checked.iter().any(|seen| seen == id) =>
                        {
                            checked.push(id.to_owned());
                        }
                        _ => {
                            return Err(invalid(
                                "allowedParticipantIds",
                                format!(
                                    "{} is not a participant id (1 to {MAX_SCOPE_ID_LENGTH} \
                                     letters, digits, '_' or '-') or is listed twice",
                                    excerpt(&id.to_string())
                                ),
                            ));
                        }
                    }
                }
                Some(checked)
            }
            Some(_) => {
                return Err(invalid(
                    "allowedParticipantIds",
                    format!("a list of 1 to {MAX_ALLOWED_PARTICIPANT_IDS} participant ids"),
                ));
            }
        };
        let webhook = match body.get("webhook") {
            None | Some(Value::Null) => None,
            Some(_) if !allow_client_webhooks => {
                return Err(ApiError::bad_request(
                    "option_not_allowed",
                    "webhook: this API does not let callers choose where VideoSDK sends a \
                     room's events (ALLOW_CLIENT_WEBHOOKS is off).",
                ));
            }
            Some(Value::Object(webhook)) => {
                let url = match webhook.get("endPoint") {
                    Some(Value::String(url))
                        if url.starts_with("https://")
                            && url.len() <= MAX_WEBHOOK_URL_LENGTH
                            && reqwest::Url::parse(url).is_ok()
                            && !url.chars().any(char::is_whitespace) =>
                    {
                        url.clone()
                    }
                    _ => {
                        return Err(invalid(
                            "webhook.endPoint",
                            format!(
                                "an https:// URL of at most {MAX_WEBHOOK_URL_LENGTH} characters"
                            ),
                        ));
                    }
                };
                let events = match webhook.get("events") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(events))
                        if events.len() <= MAX_WEBHOOK_EVENTS
                            && events.iter().all(|event| {
                                event.as_str().is_some_and(|name| {
                                    (1..=64).contains(&name.len())
                                        && name.bytes().all(|b| {
                                            b.is_ascii_alphanumeric() || b"-_.*".contains(&b)
                                        })
                                })
                            }) =>
                    {
                        events
                            .iter()
                            .filter_map(|event| event.as_str().map(str::to_owned))
                            .collect()
                    }
                    _ => {
                        return Err(invalid(
                            "webhook.events",
                            format!(
                                "a list of at most {MAX_WEBHOOK_EVENTS} event names such as \"session-started\""
                            ),
                        ));
                    }
                };
                Some(RoomWebhookInput { url, events })
            }
            Some(_) => return Err(invalid("webhook", "must be an object".into())),
        };
        Ok(Self {
            custom_room_id,
            auto_close,
            webhook,
            geo_fence,
            allowed_participant_ids,
        })
    }
}

/// VideoSDK's rooms API. The HTTP client (connection pool, TLS roots) is built once; each call
/// gets a VideoSDK client around it holding a fresh short-lived token minted with the current
/// key, so a rotated secret takes effect at once and callers' tokens never reach VideoSDK.
#[derive(Debug)]
pub struct VideoSdkRooms {
    http: reqwest::Client,
    endpoint: String,
    allow_client_webhooks: bool,
}

impl VideoSdkRooms {
    pub fn new(endpoint: &str, allow_client_webhooks: bool) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .build()
            .map_err(|error| format!("cannot build the HTTP client: {error}"))?;
        Ok(Self {
            http,
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            allow_client_webhooks,
        })
    }

    fn client(&self, keys: &Keyring) -> Result<videosdk::Client, ApiError> {
        let token = service_token(keys)?;
        videosdk::Client::builder()
            .http_client(self.http.clone())
            .base_url(self.endpoint.clone())
            .token(token)
            // No retry: a 429 must reach the caller as 503 at once, not after sleeping through
            // VideoSDK's Retry-After inside our function timeout; browsers retry.
            .max_retries(0)
            .request_timeout(VIDEOSDK_REQUEST_TIMEOUT)
            .build()
            .map_err(|error| {
                tracing::error!(error = %error, "cannot build the VideoSDK client");
                ApiError::internal(
                    "upstream_client_error",
                    "The VideoSDK client could not be built.",
                )
            })
    }

    async fn create(&self, keys: &Keyring, request: MeetingRequest) -> Result<Meeting, ApiError> {
        let params = RoomCreateParams {
            custom_room_id: request.custom_room_id,
            auto_close_config: request.auto_close,
            webhook: request.webhook,
            geo_fence: request.geo_fence,
            allowed_participant_ids: request.allowed_participant_ids,
            ..RoomCreateParams::default()
        };
        let room = self
            .client(keys)?
            .rooms()
            .create(params)
            .await
            .map_err(|error| upstream_error("create a room", &error))?;
        if !is_plain_id(&room.room_id, 128) {
            tracing::error!(room_id = %excerpt(&room.room_id), "VideoSDK answered a room without a usable roomId");
            return Err(invalid_upstream());
        }
        let custom_room_id = room.custom_room_id.filter(|id| is_plain_id(id, 128));
        Ok(Meeting {
            meeting_id: room.room_id,
            custom_room_id,
        })
    }

    async fn validate(&self, keys: &Keyring, id: &str) -> Result<String, ApiError> {
        let validation = self
            .client(keys)?
            .rooms()
            .validate(id)
            .await
            .map_err(|error| upstream_error("validate a room", &error))?;
        if !validation.valid {
            return Err(not_found());
        }
        // The room id VideoSDK resolved (a custom id resolves to its room id); checked, not
        // passed through.
        if is_plain_id(&validation.room_id, 128) {
            Ok(validation.room_id)
        } else {
            Err(invalid_upstream())
        }
    }
}

/// The token this service signs for its own REST calls: the management role, one minute,
/// minted per call and never returned to a caller.
fn service_token(keys: &Keyring) -> Result<String, ApiError> {
    let claims = Claims::for_api(keys.api_key(), unix_now(), VIDEOSDK_CALL_TOKEN_TTL_SECONDS);
    Ok(keys.sign(&claims)?)
}

fn invalid_upstream() -> ApiError {
    ApiError::new(
        StatusCode::BAD_GATEWAY,
        "upstream_invalid_response",
        "VideoSDK answered with something that is not a room.",
    )
}

/// Maps a failed VideoSDK call to an answer that names the dependency and never carries
/// VideoSDK's own body; the details go to the log for the operator.
fn upstream_error(action: &str, error: &videosdk::Error) -> ApiError {
    let status = error.status();
    tracing::error!(action, status = ?status, error = %error, "VideoSDK call failed");
    match (status, error) {
        (Some(401 | 403), _) => {
            tracing::error!(
                "VideoSDK refused this service's credentials: check VIDEOSDK_API_KEY and \
                 VIDEOSDK_SECRET_KEY in the secret"
            );
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "upstream_auth_failed",
                "VideoSDK refused this service's credentials; the operator has been told.",
            )
        }
        (Some(429), _) => {
            let seconds = error
                .retry_after()
                .map(|after| after.as_secs().max(1))
                .unwrap_or(DEFAULT_RETRY_AFTER_SECONDS);
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "upstream_rate_limited",
                "VideoSDK is rate-limiting this service; try again shortly.",
            )
            .with_retry_after(seconds)
        }
        (Some(400 | 409 | 422), _) => ApiError::bad_request(
            "meeting_rejected",
            "VideoSDK refused to create the meeting with these options.",
        ),
        (Some(402 | 404), _) => not_found(),
        (_, videosdk::Error::Timeout { .. }) => ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "upstream_unavailable",
            "VideoSDK did not answer in time.",
        ),
        (_, videosdk::Error::Decode { .. }) => invalid_upstream(),
        _ => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "upstream_unavailable",
            "VideoSDK could not be reached or failed.",
        ),
    }
}
