//! VideoSDK's rooms API, through the official `videosdk-server-sdk` crate: create a room, validate
//! a room id. Failures come back as domain [`UpstreamFailure`]s; VideoSDK's own answer bodies go
//! to the log for the operator, never to a caller. And the public key VideoSDK signs its webhooks
//! with (`GET /v2/public/rsa-public-key`), which the crate does not have, with reqwest.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use videosdk::{
    AutoCloseConfigInput, AutoCloseType, AutoStartConfig, MultiComposition, Region,
    RoomCreateParams, RoomWebhookInput, SessionEndParams, SessionRemoveParticipantParams,
};

use crate::domain::keyring::Keyring;
use crate::domain::meetings::{
    AutoCloseKind, MAX_ROOM_ID_LENGTH, Meeting, MeetingError, RoomOptions, UpstreamFailure,
    is_plain_id,
};
use crate::domain::moderation::{ModeratedRoom, SessionError};
use crate::domain::token::Claims;
use crate::domain::unix_now;
use crate::domain::webhooks::WebhookPublicKey;

pub(crate) const DEFAULT_VIDEOSDK_API_ENDPOINT: &str = "https://api.videosdk.live";
/// Each call to VideoSDK ends within this, well inside the function's 10 s timeout.
pub const VIDEOSDK_REQUEST_TIMEOUT: Duration = Duration::from_secs(4);
const VIDEOSDK_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a connection to VideoSDK may sit idle in the pool before it is closed rather than
/// reused: under the 60 s idle timeout of AWS's load balancers (and most servers' keep-alive),
/// so that a warm function does not send a request on a connection the far end is closing.
const VIDEOSDK_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(50);
/// Lifetime of the token this service mints for its own calls to VideoSDK.
pub(crate) const VIDEOSDK_CALL_TOKEN_TTL_SECONDS: u64 = 60;
/// `Retry-After` when VideoSDK rate-limits us without saying for how long.
const DEFAULT_RETRY_AFTER_SECONDS: u64 = 1;
/// Where VideoSDK serves the public key of its webhook signatures, as `{"publicKey": "<PEM>"}`.
pub(crate) const WEBHOOK_PUBLIC_KEY_PATH: &str = "/v2/public/rsa-public-key";

/// VideoSDK's rooms API. The HTTP client (connection pool, TLS with `crate::tls`'s roots) is
/// built once; each call gets a VideoSDK client around it holding a fresh short-lived token
/// minted with the current key, so a rotated secret takes effect at once and callers' tokens
/// never reach VideoSDK.
#[derive(Debug)]
pub(crate) struct VideoSdkRooms {
    http: reqwest::Client,
    endpoint: String,
    /// The task of [`VideoSdkRooms::start_warm_up`], once started.
    warm_up: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl VideoSdkRooms {
    pub(crate) fn new(endpoint: &str) -> Result<Self, String> {
        let http = https_client(|builder| {
            builder
                .connect_timeout(VIDEOSDK_CONNECT_TIMEOUT)
                .pool_idle_timeout(VIDEOSDK_POOL_IDLE_TIMEOUT)
        })?;
        Ok(Self {
            http,
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            warm_up: Mutex::new(None),
        })
    }

    /// Opens a connection to VideoSDK (TCP and TLS) and leaves it in the client's pool, so that
    /// the first call a request makes after a cold start need not pay for it: a `HEAD` of the
    /// API's root, with no token, whose answer (whatever it is) is ignored.
    ///
    /// In a task of its own, which nothing waits for: the cold start goes on without it, and a
    /// call never waits for it either. hyper's pool gives a call the first of two: a connection
    /// that comes back idle (the warm-up's, once its `HEAD` is answered) or one it opens itself,
    /// raced; so the first answer comes no later than without the warm-up, whichever of the
    /// secret and VideoSDK is the faster to reach. A connection enters the pool only once its
    /// exchange is complete, so a warm-up that Lambda freezes halfway (the process is frozen
    /// between invocations, say after a first request that called no one) leaves nothing a call
    /// could pick up half-done: on thaw it ends, by its answer or its timeout, and a failure
    /// costs nothing but a log line.
    pub(crate) fn start_warm_up(&self) {
        let http = self.http.clone();
        let endpoint = self.endpoint.clone();
        let task = tokio::spawn(async move {
            let started = std::time::Instant::now();
            let outcome = http
                .head(&endpoint)
                .timeout(VIDEOSDK_CONNECT_TIMEOUT)
                .send()
                .await;
            let elapsed_ms = started.elapsed().as_millis() as u64;
            match outcome {
                Ok(response) => tracing::debug!(
                    status = response.status().as_u16(),
                    elapsed_ms,
                    "connection to VideoSDK opened"
                ),
                Err(error) => tracing::warn!(
                    error = %error,
                    elapsed_ms,
                    "could not open a connection to VideoSDK ahead of the first call"
                ),
            }
        });
        *self.warm_up.lock().unwrap_or_else(PoisonError::into_inner) = Some(task);
    }

    /// Tests only: whether the warm-up started and has not ended.
    #[cfg(any(test, feature = "test-support"))]
    pub(crate) fn warm_up_pending(&self) -> bool {
        let task = self.warm_up.lock().unwrap_or_else(PoisonError::into_inner);
        task.as_ref().is_some_and(|task| !task.is_finished())
    }

    /// Tests only: waits for the warm-up to end, if it started.
    #[cfg(any(test, feature = "test-support"))]
    pub(crate) async fn warm_up_ended(&self) {
        let task = self
            .warm_up
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }

    fn client(&self, keys: &Keyring) -> Result<videosdk::Client, UpstreamFailure> {
        let token = call_token(keys)?;
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
                UpstreamFailure::ClientUnavailable
            })
    }

    pub(crate) async fn create(
        &self,
        keys: &Keyring,
        options: RoomOptions,
    ) -> Result<Meeting, MeetingError> {
        let params = RoomCreateParams {
            custom_room_id: options.custom_room_id,
            auto_close_config: options.auto_close.map(|config| AutoCloseConfigInput {
                after_inactive_seconds: config.after_seconds,
                kind: config.kind.map(|kind| match kind {
                    AutoCloseKind::SessionEnds => AutoCloseType::SESSION_ENDS,
                    AutoCloseKind::SessionEndAndDeactivate => {
                        AutoCloseType::SESSION_END_AND_DEACTIVATE
                    }
                }),
            }),
            webhook: options.webhook.map(|webhook| RoomWebhookInput {
                url: webhook.url,
                events: webhook.events,
            }),
            geo_fence: options.geo_fence.map(Region::from),
            allowed_participant_ids: options.allowed_participant_ids,
            // Read and checked as the create-room page documents them; the crate passes each
            // composition on as JSON. Serializing these plain structs cannot fail.
            auto_start_config: options.auto_start.map(|config| AutoStartConfig {
                recording: config
                    .recording
                    .and_then(|recording| serde_json::to_value(recording).ok()),
                hls: config.hls.and_then(|hls| serde_json::to_value(hls).ok()),
                composite: None,
            }),
            multi_composition: options.multi_composition.map(|multi| MultiComposition {
                recording: multi.recording,
                hls: multi.hls,
                rtmp: multi.rtmp,
            }),
        };
        let room = self
            .client(keys)?
            .rooms()
            .create(params)
            .await
            .map_err(|error| upstream_failure(Call::Create, &error))?;
        if !is_plain_id(&room.room_id, MAX_ROOM_ID_LENGTH) {
            tracing::error!("VideoSDK answered a room without a usable roomId");
            return Err(UpstreamFailure::InvalidResponse.into());
        }
        let custom_room_id = room
            .custom_room_id
            .filter(|id| is_plain_id(id, MAX_ROOM_ID_LENGTH));
        Ok(Meeting {
            meeting_id: room.room_id,
            custom_room_id,
            disabled: room.disabled,
        })
    }

    /// The room id VideoSDK resolved `id` to (a custom id resolves to its room id), unless the
    /// room is disabled.
    pub(crate) async fn validate(&self, keys: &Keyring, id: &str) -> Result<String, MeetingError> {
        let validation = self
            .client(keys)?
            .rooms()
            .validate(id)
            .await
            .map_err(|error| upstream_failure(Call::Validate, &error))?;
        if !validation.valid {
            return Err(MeetingError::NotFound);
        }
        // Checked, not passed through.
        if !is_plain_id(&validation.room_id, MAX_ROOM_ID_LENGTH) {
            return Err(UpstreamFailure::InvalidResponse.into());
        }
        if validation.room.is_some_and(|room| room.disabled) {
            return Err(MeetingError::Disabled(validation.room_id));
        }
        Ok(validation.room_id)
    }
}

impl VideoSdkRooms {
    /// The room `id` names (a room id or a custom id), with both its ids.
    pub(crate) async fn resolve(
        &self,
        keys: &Keyring,
        id: &str,
    ) -> Result<ModeratedRoom, MeetingError> {
        let validation = self
            .client(keys)?
            .rooms()
            .validate(id)
            .await
            .map_err(|error| upstream_failure(Call::Validate, &error))?;
        if !validation.valid || !is_plain_id(&validation.room_id, MAX_ROOM_ID_LENGTH) {
            return Err(MeetingError::NotFound);
        }
        let custom_room_id = validation
            .room
            .and_then(|room| room.custom_room_id)
            .filter(|custom| is_plain_id(custom, MAX_ROOM_ID_LENGTH));
        Ok(ModeratedRoom {
            room_id: validation.room_id,
            custom_room_id,
        })
    }

    /// `POST /v2/sessions/participants/remove` `{participantId, roomId}`.
    pub(crate) async fn remove_participant(
        &self,
        keys: &Keyring,
        room_id: &str,
        participant_id: &str,
    ) -> Result<(), SessionError> {
        self.client(keys)?
            .sessions()
            .remove_participant(SessionRemoveParticipantParams {
                participant_id: participant_id.to_owned(),
                room_id: Some(room_id.to_owned()),
                session_id: None,
            })
            .await
            .map(drop)
            .map_err(|error| session_failure("remove a participant", &error))
    }

    /// `POST /v2/sessions/end` `{roomId}`: the room's live session, everyone in it dropped.
    pub(crate) async fn end_session(
        &self,
        keys: &Keyring,
        room_id: &str,
    ) -> Result<(), SessionError> {
        self.client(keys)?
            .sessions()
            .end(SessionEndParams {
                room_id: Some(room_id.to_owned()),
                ..SessionEndParams::default()
            })
            .await
            .map(drop)
            .map_err(|error| session_failure("end a session", &error))
    }

    /// `POST /v2/rooms/deactivate` `{roomId}`: no one joins the room again.
    pub(crate) async fn deactivate(
        &self,
        keys: &Keyring,
        room_id: &str,
    ) -> Result<(), SessionError> {
        self.client(keys)?
            .rooms()
            .end(room_id)
            .await
            .map(drop)
            .map_err(|error| session_failure("deactivate a room", &error))
    }
}

/// What a failed moderation call means: the room was resolved first, so VideoSDK's 404 is a
/// session or participant that is not there now, and 400 or 402 a room it does not know.
fn session_failure(action: &'static str, error: &videosdk::Error) -> SessionError {
    match error.status() {
        Some(404) => {
            tracing::info!(action, "VideoSDK: no such session or participant now");
            SessionError::NoSession
        }
        Some(400 | 402) => {
            tracing::warn!(action, error = %error, "VideoSDK does not know the room");
            SessionError::RoomNotFound
        }
        _ => match upstream_failure(Call::Moderate(action), error) {
            MeetingError::Upstream(failure) => SessionError::Upstream(failure),
            _ => SessionError::Upstream(UpstreamFailure::Unavailable),
        },
    }
}

/// The token of one call to VideoSDK: the management role and the claims of VideoSDK's own
/// `forApi()` token, one minute, minted per call and never returned to a caller.
fn call_token(keys: &Keyring) -> Result<String, UpstreamFailure> {
    let claims = Claims::for_api(keys.api_key(), unix_now(), VIDEOSDK_CALL_TOKEN_TTL_SECONDS);
    keys.sign(&claims).map_err(|error| {
        tracing::error!(error = %error, "cannot sign the VideoSDK call token");
        UpstreamFailure::ClientUnavailable
    })
}

/// VideoSDK's webhook public key at `{VIDEOSDK_API_ENDPOINT}/v2/public/rsa-public-key`, asked
/// for as VideoSDK's Node SDK asks for it (`webhooks.getPublicKey()`: a GET with the account's
/// management token in `Authorization`).
#[derive(Debug)]
pub(crate) struct VideoSdkWebhookKey {
    http: reqwest::Client,
    url: String,
}

impl VideoSdkWebhookKey {
    pub(crate) fn new(endpoint: &str) -> Result<Self, String> {
        // The TLS of every call out: a reqwest client built without it trusts no root, and
        // the cold start of the default deployment (key fetched from VideoSDK) would fail.
        let http = https_client(|builder| {
            builder
                .connect_timeout(VIDEOSDK_CONNECT_TIMEOUT)
                .timeout(VIDEOSDK_REQUEST_TIMEOUT)
        })?;
        Ok(Self {
            http,
            url: format!(
                "{}{WEBHOOK_PUBLIC_KEY_PATH}",
                endpoint.trim_end_matches('/')
            ),
        })
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// The key VideoSDK serves now. The error says what went wrong, for the log; it never
    /// holds VideoSDK's answer.
    pub(crate) async fn fetch(&self, keys: &Keyring) -> Result<WebhookPublicKey, KeyFetchError> {
        #[derive(serde::Deserialize)]
        struct Answer {
            #[serde(rename = "publicKey")]
            public_key: String,
        }
        let token =
            call_token(keys).map_err(|failure| KeyFetchError::Token(failure.to_string()))?;
        let response = self
            .http
            .get(&self.url)
            .header(reqwest::header::AUTHORIZATION, token)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|error| {
                if error.is_timeout() {
                    KeyFetchError::TimedOut
                } else {
                    // With its causes: a refused certificate says so only in a source.
                    KeyFetchError::Unreachable(crate::error_chain::error_chain(&error))
                }
            })?;
        let status = response.status();
        if !status.is_success() {
            return Err(KeyFetchError::Status(status.as_u16()));
        }
        let answer: Answer = response.json().await.map_err(|_| KeyFetchError::NotAKey)?;
        WebhookPublicKey::from_pem(&answer.public_key)
            .map_err(|error| KeyFetchError::Unusable(error.to_string()))
    }
}

/// Why VideoSDK's webhook public key could not be fetched; the text never holds its answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFetchError {
    #[error("no management token could be signed for the call: {0}")]
    Token(String),
    #[error("VideoSDK did not answer within {VIDEOSDK_REQUEST_TIMEOUT:?}")]
    TimedOut,
    #[error("VideoSDK could not be reached: {0}")]
    Unreachable(String),
    #[error("VideoSDK answered {0}")]
    Status(u16),
    #[error("VideoSDK's answer is not JSON with a publicKey string")]
    NotAKey,
    #[error("VideoSDK's publicKey cannot be used: {0}")]
    Unusable(String),
}

impl KeyFetchError {
    /// How the fetch failed, as the `Failure` of the `UpstreamFailures` metric.
    pub(crate) fn label(&self) -> &'static str {
        match self {
            Self::Token(_) => "token_unsigned",
            Self::TimedOut => "timed_out",
            Self::Unreachable(_) => "unavailable",
            Self::Status(401 | 403) => "auth_refused",
            Self::Status(429) => "rate_limited",
            Self::Status(_) => "unavailable",
            Self::NotAKey | Self::Unusable(_) => "invalid_response",
        }
    }
}

/// The one way this crate builds a reqwest client: `configure`d (timeouts and the like), with the
/// TLS of every call out (`crate::tls`). reqwest has no roots of its own in this build, so a
/// client built otherwise would trust none.
fn https_client(
    configure: impl FnOnce(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
) -> Result<reqwest::Client, String> {
    configure(reqwest::Client::builder())
        .use_preconfigured_tls(crate::tls::client_config())
        .build()
        .map_err(|error| format!("cannot build the HTTP client: {error}"))
}

/// Which rooms call failed: VideoSDK's statuses mean different things to each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    Create,
    Validate,
    Moderate(&'static str),
}

/// What a failed VideoSDK call means for the caller; the details go to the log.
fn upstream_failure(call: Call, error: &videosdk::Error) -> MeetingError {
    let status = error.status();
    let action = match call {
        Call::Create => "create a room",
        Call::Validate => "validate a room",
        Call::Moderate(action) => action,
    };
    tracing::error!(action, status = ?status, error = %error, "VideoSDK call failed");
    let failure = match (status, error) {
        // VideoSDK overloads 402 as "not found" where an id is looked up (the crate's
        // `rooms().validate` already reads it so); a creation looks nothing up, so there it is
        // Payment Required: the account, not the caller.
        (Some(402), _) if call == Call::Create => {
            tracing::error!(
                "VideoSDK answered 402 Payment Required to a room creation: the VideoSDK \
                 account's plan or billing needs the operator's attention"
            );
            UpstreamFailure::PaymentRequired
        }
        (Some(401 | 403), _) => {
            tracing::error!(
                "VideoSDK refused this service's credentials: check VIDEOSDK_API_KEY and \
                 VIDEOSDK_SECRET_KEY in the secret"
            );
            UpstreamFailure::AuthRefused
        }
        (Some(429), _) => UpstreamFailure::RateLimited {
            retry_after_seconds: error
                .retry_after()
                .map(|after| after.as_secs().max(1))
                .unwrap_or(DEFAULT_RETRY_AFTER_SECONDS),
        },
        (Some(400 | 409 | 422), _) => UpstreamFailure::Rejected,
        (Some(402 | 404), _) => return MeetingError::NotFound,
        (_, videosdk::Error::Timeout { .. }) => UpstreamFailure::TimedOut,
        (_, videosdk::Error::Decode { .. }) => UpstreamFailure::InvalidResponse,
        _ => UpstreamFailure::Unavailable,
    };
    failure.into()
}
