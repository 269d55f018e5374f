//! The meeting functions' backend: where meetings live. `videosdk` (the default): rooms in
//! VideoSDK's cloud, created and validated through its v2 REST API, the only rooms its client
//! SDKs can join. `local`: stateless ids this service makes and checks itself (no database, no
//! network), for offline development.

use serde_json::{Map, Value};

use crate::aws::metrics;
use crate::domain::keyring::Keyring;
use crate::domain::meeting_id::MeetingIdError;
use crate::domain::meetings::{
    MAX_ROOM_ID_LENGTH, Meeting, MeetingError, OptionConsent, OptionError, RoomOptions,
    RoomWebhook, UpstreamFailure, is_plain_id, is_webhook_url,
};
use crate::domain::moderation::{ModeratedRoom, SessionError};
use crate::settings::{MeetingBackendKind, OperatorWebhook, Settings};
use crate::state::{Backend, InitError};
use crate::videosdk::VideoSdkRooms;

/// The meeting backend of a running function, built once at cold start.
#[derive(Debug)]
pub struct MeetingBackend(Service);

/// Which service holds the rooms, with what it needs to reach it.
#[derive(Debug)]
enum Service {
    Local,
    VideoSdk {
        rooms: VideoSdkRooms,
        consent: OptionConsent,
        room_webhook: Option<OperatorWebhook>,
    },
}

/// Bench only: `true` stops the `videosdk` backend from opening its connection to VideoSDK
/// ahead of the first call ([`MeetingBackend::start_warm_up`]), so that `scripts/bench-coldstart`
/// can time a first answer without it. Read from the process environment, like
/// `TEST_ONLY_EXTRA_CA_FILE`; never set in a deployment (the template does not).
pub(crate) const SKIP_WARM_UP_VARIABLE: &str = "TEST_ONLY_SKIP_VIDEOSDK_WARM_UP";

impl Backend for MeetingBackend {
    fn from_settings(settings: &Settings) -> Result<Self, InitError> {
        MeetingBackend::new(&settings.meeting_backend).map_err(InitError::MeetingBackend)
    }

    fn start_warm_up(&self) {
        let skip = std::env::var(SKIP_WARM_UP_VARIABLE)
            .is_ok_and(|value| value.trim().eq_ignore_ascii_case("true"));
        if skip {
            tracing::warn!(
                variable = SKIP_WARM_UP_VARIABLE,
                "no connection to VideoSDK opened ahead of the first call: benchmarks only"
            );
        } else {
            MeetingBackend::start_warm_up(self);
        }
    }
}

impl MeetingBackend {
    fn new(kind: &MeetingBackendKind) -> Result<Self, String> {
        Ok(Self(match kind {
            MeetingBackendKind::Local => Service::Local,
            MeetingBackendKind::VideoSdk {
                endpoint,
                allow_client_webhooks,
                allowed_room_options,
                room_webhook,
            } => Service::VideoSdk {
                rooms: VideoSdkRooms::new(endpoint)?,
                consent: OptionConsent {
                    webhook: *allow_client_webhooks,
                    gated: allowed_room_options.clone(),
                },
                room_webhook: room_webhook.clone(),
            },
        }))
    }

    /// Starts opening the connection to VideoSDK ahead of the first call (the `videosdk`
    /// backend), in a task of its own (`VideoSdkRooms::start_warm_up`).
    fn start_warm_up(&self) {
        if let Service::VideoSdk { rooms, .. } = &self.0 {
            rooms.start_warm_up();
        }
    }

    /// Tests only: whether the warm-up started and has not ended.
    #[cfg(any(test, feature = "test-support"))]
    pub(crate) fn warm_up_pending(&self) -> bool {
        matches!(&self.0, Service::VideoSdk { rooms, .. } if rooms.warm_up_pending())
    }

    /// Tests only: waits for the warm-up to end, if it started.
    #[cfg(any(test, feature = "test-support"))]
    pub(crate) async fn warm_up_ended(&self) {
        if let Service::VideoSdk { rooms, .. } = &self.0 {
            rooms.warm_up_ended().await;
        }
    }

    /// The options of a create-meeting body, checked for this backend: the local one takes
    /// none, VideoSDK's takes a caller's webhook, `autoStartConfig` and `multiComposition` only
    /// where the operator allows them.
    pub(crate) fn room_options(
        &self,
        body: &Map<String, Value>,
    ) -> Result<RoomOptions, OptionError> {
        match &self.0 {
            Service::Local => {
                if RoomOptions::from_body(body, &OptionConsent::all())?.is_empty() {
                    Ok(RoomOptions::default())
                } else {
                    Err(OptionError::Unsupported)
                }
            }
            Service::VideoSdk { consent, .. } => RoomOptions::from_body(body, consent),
        }
    }

    /// The webhook of a room whose request names none: the operator's (`WEBHOOK_EVENTS`), sent
    /// to `WEBHOOK_URL` or else to `own_webhook_url()`, this API's webhook route on the domain
    /// of the request; `None` when the operator set none. A caller's own webhook, where
    /// `ALLOW_CLIENT_WEBHOOKS` lets it name one, takes the operator's place: a room has one.
    /// Without either URL the room is not created (`WebhookUrlUnknown`): a room made without
    /// its webhook would send its events nowhere, and that cannot be undone.
    pub(crate) fn operator_webhook(
        &self,
        own_webhook_url: impl FnOnce() -> Option<String>,
    ) -> Result<Option<RoomWebhook>, MeetingError> {
        let Service::VideoSdk {
            room_webhook: Some(webhook),
            ..
        } = &self.0
        else {
            return Ok(None);
        };
        let url = match &webhook.url {
            Some(url) => url.clone(),
            None => own_webhook_url()
                .filter(|url| is_webhook_url(url))
                .ok_or(MeetingError::WebhookUrlUnknown)?,
        };
        Ok(Some(RoomWebhook {
            url,
            events: webhook.events.clone(),
        }))
    }

    pub(crate) async fn create(
        &self,
        keys: &Keyring,
        options: RoomOptions,
    ) -> Result<Meeting, MeetingError> {
        match &self.0 {
            Service::Local => {
                let id = keys
                    .issue_meeting_id()
                    .map_err(|_| MeetingError::RandomnessUnavailable)?;
                Ok(Meeting {
                    meeting_id: id.to_string(),
                    custom_room_id: None,
                    disabled: false,
                })
            }
            Service::VideoSdk { rooms, .. } => rooms
                .create(keys, options)
                .await
                .inspect_err(metrics::meeting_failed),
        }
    }

    /// Whether `error` may be the doing of keys out of date: an id made under a key not held yet
    /// (local), or VideoSDK refusing a token signed with a key it no longer takes (videosdk).
    pub(crate) fn may_be_stale_keys(&self, error: &MeetingError) -> bool {
        match &self.0 {
            Service::Local => *error == MeetingError::NotFound,
            Service::VideoSdk { .. } => {
                *error == MeetingError::Upstream(UpstreamFailure::AuthRefused)
            }
        }
    }

    /// The meeting's id when it exists; `MalformedId` for an id that cannot be one, `NotFound`
    /// for one that does not exist.
    pub(crate) async fn validate(&self, keys: &Keyring, id: &str) -> Result<String, MeetingError> {
        match &self.0 {
            Service::Local => keys
                .check_meeting_id(id)
                .map(|id| id.to_string())
                .map_err(|error| match error {
                    MeetingIdError::NotIssued => MeetingError::NotFound,
                    _ => MeetingError::MalformedId(
                        "A meeting id is 12 lowercase letters and digits in three groups of \
                         four, like abcd-efgh-ijkl.",
                    ),
                }),
            Service::VideoSdk { rooms, .. } => {
                plain_room_id(id)?;
                rooms
                    .validate(keys, id)
                    .await
                    .inspect_err(metrics::meeting_failed)
            }
        }
    }

    /// The room `id` names, with both its ids (the local backend's ids have no custom id).
    pub(crate) async fn resolve(
        &self,
        keys: &Keyring,
        id: &str,
    ) -> Result<ModeratedRoom, MeetingError> {
        match &self.0 {
            Service::Local => Ok(ModeratedRoom {
                room_id: self.validate(keys, id).await?,
                custom_room_id: None,
            }),
            Service::VideoSdk { rooms, .. } => {
                plain_room_id(id)?;
                rooms
                    .resolve(keys, id)
                    .await
                    .inspect_err(metrics::meeting_failed)
            }
        }
    }

    /// Drops `participant_id` from `room_id`'s live session.
    pub(crate) async fn remove_participant(
        &self,
        keys: &Keyring,
        room_id: &str,
        participant_id: &str,
    ) -> Result<(), SessionError> {
        match &self.0 {
            Service::Local => Err(SessionError::Unsupported),
            Service::VideoSdk { rooms, .. } => {
                rooms
                    .remove_participant(keys, room_id, participant_id)
                    .await
            }
        }
    }

    /// Ends `room_id`'s live session.
    pub(crate) async fn end_session(
        &self,
        keys: &Keyring,
        room_id: &str,
    ) -> Result<(), SessionError> {
        match &self.0 {
            Service::Local => Err(SessionError::Unsupported),
            Service::VideoSdk { rooms, .. } => rooms.end_session(keys, room_id).await,
        }
    }

    /// Deactivates `room_id` for good.
    pub(crate) async fn deactivate(
        &self,
        keys: &Keyring,
        room_id: &str,
    ) -> Result<(), SessionError> {
        match &self.0 {
            Service::Local => Err(SessionError::Unsupported),
            Service::VideoSdk { rooms, .. } => rooms.deactivate(keys, room_id).await,
        }
    }
}

/// A room id or a custom room id, checked before it is sent to VideoSDK: plain text only.
fn plain_room_id(id: &str) -> Result<(), MeetingError> {
    if is_plain_id(id, MAX_ROOM_ID_LENGTH) {
        Ok(())
    } else {
        Err(MeetingError::MalformedId(
            "A meeting id is 1 to 128 letters, digits, '_' or '-'.",
        ))
    }
}
