//! Where meetings live. `videosdk` (the default): rooms in VideoSDK's cloud, created and
//! validated through its v2 REST API, the only rooms its client SDKs can join. `local`: stateless
//! ids this service makes and checks itself (no database, no network), for offline development.

use serde_json::{Map, Value};

use crate::aws::metrics;
use crate::domain::auto_start::GatedOption;
use crate::domain::keyring::Keyring;
use crate::domain::meeting_id::MeetingIdError;
use crate::domain::meetings::{
    MAX_ROOM_ID_LENGTH, Meeting, MeetingError, OptionConsent, OptionError, RoomOptions,
    RoomWebhook, UpstreamFailure, is_plain_id, is_webhook_url,
};
use crate::videosdk::VideoSdkRooms;

/// Which backend `MEETING_BACKEND` selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MeetingBackendKind {
    Local,
    VideoSdk {
        endpoint: String,
        /// `ALLOW_CLIENT_WEBHOOKS`: whether a caller may name a webhook URL for its room.
        allow_client_webhooks: bool,
        /// `ALLOWED_ROOM_OPTIONS`: the options that start paid work a caller may send.
        allowed_room_options: Vec<GatedOption>,
        /// `WEBHOOK_EVENTS` and `WEBHOOK_URL`: the webhook every room gets (unless its caller
        /// names one, where `ALLOW_CLIENT_WEBHOOKS` lets it).
        room_webhook: Option<OperatorWebhook>,
    },
}

/// The webhook the operator gives every new room: these events, sent to `url`, or, without one,
/// to this API's own webhook route on the domain the create request came in on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OperatorWebhook {
    pub(crate) events: Vec<String>,
    pub(crate) url: Option<String>,
}

/// The meeting backend of a running function, built once at cold start.
#[derive(Debug)]
pub struct MeetingBackend(Backend);

#[derive(Debug)]
enum Backend {
    Local,
    VideoSdk {
        rooms: VideoSdkRooms,
        consent: OptionConsent,
        room_webhook: Option<OperatorWebhook>,
    },
}

impl MeetingBackend {
    pub(crate) fn new(kind: &MeetingBackendKind) -> Result<Self, String> {
        Ok(Self(match kind {
            MeetingBackendKind::Local => Backend::Local,
            MeetingBackendKind::VideoSdk {
                endpoint,
                allow_client_webhooks,
                allowed_room_options,
                room_webhook,
            } => Backend::VideoSdk {
                rooms: VideoSdkRooms::new(endpoint)?,
                consent: OptionConsent {
                    webhook: *allow_client_webhooks,
                    gated: allowed_room_options.clone(),
                },
                room_webhook: room_webhook.clone(),
            },
        }))
    }

    /// Opens the connection to VideoSDK ahead of the first call (the `videosdk` backend).
    pub(crate) async fn warm_up(&self) {
        if let Backend::VideoSdk { rooms, .. } = &self.0 {
            rooms.warm_up().await;
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
            Backend::Local => {
                if RoomOptions::from_body(body, &OptionConsent::all())?.is_empty() {
                    Ok(RoomOptions::default())
                } else {
                    Err(OptionError::Unsupported)
                }
            }
            Backend::VideoSdk { consent, .. } => RoomOptions::from_body(body, consent),
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
        let Backend::VideoSdk {
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
            Backend::Local => {
                let id = keys
                    .issue_meeting_id()
                    .map_err(|_| MeetingError::RandomnessUnavailable)?;
                Ok(Meeting {
                    meeting_id: id.to_string(),
                    custom_room_id: None,
                    disabled: false,
                })
            }
            Backend::VideoSdk { rooms, .. } => rooms
                .create(keys, options)
                .await
                .inspect_err(metrics::meeting_failed),
        }
    }

    /// Whether `error` may be the doing of keys out of date: an id made under a key not held yet
    /// (local), or VideoSDK refusing a token signed with a key it no longer takes (videosdk).
    pub(crate) fn may_be_stale_keys(&self, error: &MeetingError) -> bool {
        match &self.0 {
            Backend::Local => *error == MeetingError::NotFound,
            Backend::VideoSdk { .. } => {
                *error == MeetingError::Upstream(UpstreamFailure::AuthRefused)
            }
        }
    }

    /// The meeting's id when it exists; `MalformedId` for an id that cannot be one, `NotFound`
    /// for one that does not exist.
    pub(crate) async fn validate(&self, keys: &Keyring, id: &str) -> Result<String, MeetingError> {
        match &self.0 {
            Backend::Local => keys
                .check_meeting_id(id)
                .map(|id| id.to_string())
                .map_err(|error| match error {
                    MeetingIdError::NotIssued => MeetingError::NotFound,
                    _ => MeetingError::MalformedId(
                        "A meeting id is 12 lowercase letters and digits in three groups of \
                         four, like abcd-efgh-ijkl.",
                    ),
                }),
            Backend::VideoSdk { rooms, .. } => {
                // A room id or a custom room id: never sent on unless it is plain text.
                if !is_plain_id(id, MAX_ROOM_ID_LENGTH) {
                    return Err(MeetingError::MalformedId(
                        "A meeting id is 1 to 128 letters, digits, '_' or '-'.",
                    ));
                }
                rooms
                    .validate(keys, id)
                    .await
                    .inspect_err(metrics::meeting_failed)
            }
        }
    }
}
