//! Meetings as the API speaks of them: their ids, the options a new VideoSDK room may be created
//! with (checked before anything is sent anywhere), and why a meeting call fails.

use serde_json::{Map, Value};

use crate::domain::auto_start::{AutoStartConfig, GatedOption, MultiComposition};
use crate::domain::identity::{MAX_PARTICIPANT_ID_LENGTH, is_participant_id};

/// The longest room id or custom room id accepted from VideoSDK or a caller.
pub(crate) const MAX_ROOM_ID_LENGTH: usize = 128;
/// The longest room id a token may be scoped to (`roomId`), also for `customRoomId`.
pub const MAX_SCOPE_ID_LENGTH: usize = 64;
const MAX_ALLOWED_PARTICIPANT_IDS: usize = 100;
const MAX_WEBHOOK_URL_LENGTH: usize = 512;
/// Where VideoSDK lists the events a room's `webhook.events` may name, and the patterns.
pub(crate) const WEBHOOK_EVENTS_PAGE: &str =
    "https://docs.videosdk.live/api-reference/realtime-communication/create-room";
/// The webhook events VideoSDK documents for a room, the one list this API checks
/// `webhook.events` and `WEBHOOK_EVENTS` against: the "Available Webhook Events" of VideoSDK's
/// create-room page ([`WEBHOOK_EVENTS_PAGE`]: session, participant, recording, transcription,
/// livestream and HLS events), with the transcription events as its webhooks list
/// (`.../realtime-communication/user-webhooks`) names them. Besides these names, an entry may
/// be a pattern, as that page documents: `*` (every event), or a prefix and `*`
/// (`recording-*`), which must match one of these. VideoSDK documents no limit on how many.
pub(crate) const VIDEOSDK_WEBHOOK_EVENTS: [&str; 36] = [
    "session-started",
    "session-ended",
    "participant-joined",
    "participant-left",
    "recording-starting",
    "recording-started",
    "recording-stopping",
    "recording-stopped",
    "recording-failed",
    "participant-recording-starting",
    "participant-recording-started",
    "participant-recording-stopping",
    "participant-recording-stopped",
    "participant-recording-failed",
    "participant-track-recording-starting",
    "participant-track-recording-started",
    "participant-track-recording-stopping",
    "participant-track-recording-stopped",
    "participant-track-recording-failed",
    "merge-recording-completed",
    "merge-recording-failed",
    "transcription-started",
    "transcription-stopped",
    "transcription-failed",
    "transcription-completed",
    "livestream-starting",
    "livestream-started",
    "livestream-stopping",
    "livestream-stopped",
    "livestream-failed",
    "hls-starting",
    "hls-started",
    "hls-playable",
    "hls-stopping",
    "hls-stopped",
    "hls-failed",
];
const MAX_AUTO_CLOSE_SECONDS: u64 = 7 * 86_400;
/// VideoSDK's region codes a room can be geo-fenced to (`region` is discontinued).
pub(crate) const GEO_FENCE_REGIONS: [&str; 11] = [
    "us001", "us002", "eu001", "in001", "in002", "in003", "sg001", "sg002", "uk001", "uae001",
    "aus001",
];

/// 1 to `max` ASCII letters, digits, '_' or '-': what room and participant ids may hold here.
pub(crate) fn is_plain_id(text: &str, max: usize) -> bool {
    (1..=max).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A meeting that exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Meeting {
    pub(crate) meeting_id: String,
    pub(crate) custom_room_id: Option<String>,
    /// A deactivated room, as VideoSDK answers a creation whose `customRoomId` names one.
    pub(crate) disabled: bool,
}

/// Why a meeting could not be created or found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum MeetingError {
    #[error("no meeting with this id exists for this account")]
    NotFound,
    /// The room exists (this is its room id) but was deactivated: ended through VideoSDK's
    /// `POST /v2/rooms/deactivate`, or by an `autoCloseConfig` of type
    /// `session-end-and-deactivate`. VideoSDK refuses every join to it (4052
    /// `MEETING_ID_DISABLED`), so it is not a meeting anyone can use.
    #[error("the meeting's room was deactivated and can no longer be joined")]
    Disabled(String),
    #[error("{0}")]
    MalformedId(&'static str),
    #[error("the operating system's random number generator failed")]
    RandomnessUnavailable,
    #[error("VideoSDK: {0}")]
    Upstream(#[from] UpstreamFailure),
    /// `WEBHOOK_EVENTS` asks for a webhook on every room, and neither `WEBHOOK_URL` nor the
    /// request (API Gateway's domain) says where this API is.
    #[error(
        "WEBHOOK_EVENTS gives every room this API's webhook, but its URL is unknown: WEBHOOK_URL \
         is not set and the request names no API Gateway domain; no room was created"
    )]
    WebhookUrlUnknown,
}

/// How a call to VideoSDK failed, as far as a caller needs to know; the details are logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum UpstreamFailure {
    #[error("VideoSDK refused this service's credentials")]
    AuthRefused,
    /// 402 to a room creation: VideoSDK will not create rooms for this account (its plan or
    /// billing). On a validation VideoSDK's 402 means an unknown id; not here, where nothing
    /// was looked up.
    #[error("VideoSDK refused to create rooms for this account (402 Payment Required)")]
    PaymentRequired,
    #[error("VideoSDK is rate-limiting this service")]
    RateLimited { retry_after_seconds: u64 },
    #[error("VideoSDK could not be reached or failed")]
    Unavailable,
    #[error("VideoSDK did not answer in time")]
    TimedOut,
    #[error("VideoSDK answered with something that is not a room")]
    InvalidResponse,
    #[error("VideoSDK refused to create the meeting with these options")]
    Rejected,
    #[error("the VideoSDK client could not be built")]
    ClientUnavailable,
}

/// How a room closes by itself (`autoCloseConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AutoCloseKind {
    SessionEnds,
    SessionEndAndDeactivate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AutoClose {
    pub(crate) kind: Option<AutoCloseKind>,
    pub(crate) after_seconds: Option<u32>,
}

/// Where VideoSDK posts a room's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RoomWebhook {
    pub(crate) url: String,
    pub(crate) events: Vec<String>,
}

/// What a create-meeting request may ask of a new room.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RoomOptions {
    pub(crate) custom_room_id: Option<String>,
    pub(crate) auto_close: Option<AutoClose>,
    pub(crate) webhook: Option<RoomWebhook>,
    pub(crate) geo_fence: Option<&'static str>,
    pub(crate) allowed_participant_ids: Option<Vec<String>>,
    pub(crate) auto_start: Option<AutoStartConfig>,
    pub(crate) multi_composition: Option<MultiComposition>,
}

/// Which options that touch more than the room itself a caller may send: a `webhook`
/// (`ALLOW_CLIENT_WEBHOOKS`), and the [`GatedOption`]s `ALLOWED_ROOM_OPTIONS` lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OptionConsent {
    pub(crate) webhook: bool,
    pub(crate) gated: Vec<GatedOption>,
}

impl OptionConsent {
    /// Every option: to tell whether a body names any (the local backend refuses them all).
    pub(crate) fn all() -> Self {
        use strum::IntoEnumIterator;
        Self {
            webhook: true,
            gated: GatedOption::iter().collect(),
        }
    }
}

/// Why the options of a create-meeting body were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum OptionError {
    #[error("{field}: {why}")]
    Invalid { field: &'static str, why: String },
    #[error(
        "webhook: this API does not let callers choose where VideoSDK sends a room's events \
         (ALLOW_CLIENT_WEBHOOKS is off)"
    )]
    WebhookNotAllowed,
    #[error(
        "{}: this API does not let callers start this (ALLOWED_ROOM_OPTIONS does not list it)",
        .0.name()
    )]
    NotAllowed(GatedOption),
    #[error(
        "customRoomId, autoCloseConfig, geoFence, allowedParticipantIds, autoStartConfig, \
         multiComposition and webhook need MEETING_BACKEND=videosdk"
    )]
    Unsupported,
}

impl RoomOptions {
    pub(crate) fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Reads the optional `customRoomId`, `autoCloseConfig`, `geoFence`, `allowedParticipantIds`,
    /// `autoStartConfig`, `multiComposition` and `webhook` of a create-meeting body. Other
    /// fields, such as the token or the `region` VideoSDK's example clients still send, are not
    /// ours and are ignored. A `webhook` makes VideoSDK call a URL of the caller's choosing, and
    /// `autoStartConfig` and `multiComposition` start paid recordings and streams, so each is
    /// refused, whatever its shape, unless `consent` allows it.
    pub(crate) fn from_body(
        body: &Map<String, Value>,
        consent: &OptionConsent,
    ) -> Result<Self, OptionError> {
        let field = |name: &str| body.get(name).filter(|value| !value.is_null());
        let webhook = match field("webhook") {
            None => None,
            Some(_) if !consent.webhook => return Err(OptionError::WebhookNotAllowed),
            Some(value) => Some(webhook(value)?),
        };
        let gated = |option: GatedOption| match field(option.name()) {
            Some(_) if !consent.gated.contains(&option) => Err(OptionError::NotAllowed(option)),
            value => Ok(value),
        };
        let auto_start = gated(GatedOption::AutoStartConfig)?;
        let multi_composition = gated(GatedOption::MultiComposition)?;
        Ok(Self {
            auto_start: auto_start
                .map(|value| {
                    AutoStartConfig::from_value(value)
                        .map_err(|why| invalid("autoStartConfig", why))
                })
                .transpose()?,
            multi_composition: multi_composition
                .map(|value| {
                    MultiComposition::from_value(value)
                        .map_err(|why| invalid("multiComposition", why))
                })
                .transpose()?,
            custom_room_id: field("customRoomId").map(custom_room_id).transpose()?,
            auto_close: field("autoCloseConfig").map(auto_close).transpose()?,
            webhook,
            geo_fence: field("geoFence").map(geo_fence).transpose()?,
            allowed_participant_ids: field("allowedParticipantIds")
                .map(allowed_participant_ids)
                .transpose()?,
        })
    }
}

fn invalid(field: &'static str, why: impl Into<String>) -> OptionError {
    OptionError::Invalid {
        field,
        why: why.into(),
    }
}

/// Client text echoed in a message, shortened on a char boundary.
fn excerpt(value: &Value) -> String {
    const MAX: usize = 40;
    let text = value.to_string();
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

fn custom_room_id(value: &Value) -> Result<String, OptionError> {
    match value {
        Value::String(id) if is_plain_id(id, MAX_SCOPE_ID_LENGTH) => Ok(id.clone()),
        other => Err(invalid(
            "customRoomId",
            format!(
                "{} is not 1 to {MAX_SCOPE_ID_LENGTH} letters, digits, '_' or '-'",
                excerpt(other)
            ),
        )),
    }
}

fn auto_close(value: &Value) -> Result<AutoClose, OptionError> {
    let Value::Object(config) = value else {
        return Err(invalid("autoCloseConfig", "must be an object"));
    };
    let kind = match config.get("type") {
        None | Some(Value::Null) => None,
        Some(Value::String(kind)) if kind == "session-ends" => Some(AutoCloseKind::SessionEnds),
        Some(Value::String(kind)) if kind == "session-end-and-deactivate" => {
            Some(AutoCloseKind::SessionEndAndDeactivate)
        }
        Some(_) => {
            return Err(invalid(
                "autoCloseConfig.type",
                "use \"session-ends\" or \"session-end-and-deactivate\"",
            ));
        }
    };
    let after_seconds = match config.get("duration") {
        None | Some(Value::Null) => None,
        Some(value) => match whole_number(value) {
            Some(seconds) if (1..=MAX_AUTO_CLOSE_SECONDS).contains(&seconds) => {
                u32::try_from(seconds).ok()
            }
            _ => {
                return Err(invalid(
                    "autoCloseConfig.duration",
                    format!("a whole number of seconds from 1 to {MAX_AUTO_CLOSE_SECONDS}"),
                ));
            }
        },
    };
    Ok(AutoClose {
        kind,
        after_seconds,
    })
}

/// A non-negative whole number, also when written with a fraction of zero (`600.0` is the same
/// JSON Schema integer as `600`).
pub(crate) fn whole_number(value: &Value) -> Option<u64> {
    value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|number| number.fract() == 0.0 && (0.0..=u32::MAX.into()).contains(number))
            .map(|number| number as u64)
    })
}

fn geo_fence(value: &Value) -> Result<&'static str, OptionError> {
    value
        .as_str()
        .and_then(|code| GEO_FENCE_REGIONS.iter().find(|region| **region == code))
        .copied()
        .ok_or_else(|| {
            invalid(
                "geoFence",
                format!(
                    "{} is not one of VideoSDK's regions ({})",
                    excerpt(value),
                    GEO_FENCE_REGIONS.join(", ")
                ),
            )
        })
}

fn allowed_participant_ids(value: &Value) -> Result<Vec<String>, OptionError> {
    let ids = match value {
        Value::Array(ids) if (1..=MAX_ALLOWED_PARTICIPANT_IDS).contains(&ids.len()) => ids,
        _ => {
            return Err(invalid(
                "allowedParticipantIds",
                format!("a list of 1 to {MAX_ALLOWED_PARTICIPANT_IDS} participant ids"),
            ));
        }
    };
    let mut checked: Vec<String> = Vec::with_capacity(ids.len());
    for id in ids {
        match id.as_str() {
            Some(text) if is_participant_id(text) && !checked.iter().any(|seen| seen == text) => {
                checked.push(text.to_owned());
            }
            _ => {
                return Err(invalid(
                    "allowedParticipantIds",
                    format!(
                        "{} is not a participant id (1 to {MAX_PARTICIPANT_ID_LENGTH} \
                         characters, no whitespace) or is listed twice",
                        excerpt(id)
                    ),
                ));
            }
        }
    }
    Ok(checked)
}

fn webhook(value: &Value) -> Result<RoomWebhook, OptionError> {
    let Value::Object(webhook) = value else {
        return Err(invalid("webhook", "must be an object"));
    };
    let url = match webhook.get("endPoint") {
        Some(Value::String(url)) if is_webhook_url(url) => url.clone(),
        _ => {
            return Err(invalid(
                "webhook.endPoint",
                format!("an https:// URL of at most {MAX_WEBHOOK_URL_LENGTH} characters"),
            ));
        }
    };
    let events = match webhook.get("events") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(events)) => {
            let names: Option<Vec<String>> = events
                .iter()
                .map(|event| event.as_str().map(str::to_owned))
                .collect();
            let names = names.ok_or_else(|| {
                invalid(
                    "webhook.events",
                    "a list of event names, such as \"session-started\"",
                )
            })?;
            webhook_events(&names).map_err(|why| invalid("webhook.events", why))?;
            names
        }
        Some(_) => {
            return Err(invalid(
                "webhook.events",
                "a list of event names, such as \"session-started\"",
            ));
        }
    };
    Ok(RoomWebhook { url, events })
}

/// Whether `entry` of a webhook's events is one VideoSDK documents: an event of
/// [`VIDEOSDK_WEBHOOK_EVENTS`], `*`, or a prefix and `*` that matches one of them.
pub(crate) fn is_webhook_event(entry: &str) -> bool {
    match entry.strip_suffix('*') {
        Some(prefix) => {
            !prefix.contains('*')
                && VIDEOSDK_WEBHOOK_EVENTS
                    .iter()
                    .any(|event| event.starts_with(prefix))
        }
        None => VIDEOSDK_WEBHOOK_EVENTS.contains(&entry),
    }
}

/// A list of webhook events as VideoSDK documents them (see [`is_webhook_event`]), each once;
/// the reason, for a person, when it is not. The same rule for a caller's `webhook.events` and
/// for `WEBHOOK_EVENTS`.
pub(crate) fn webhook_events(entries: &[String]) -> Result<(), String> {
    for (index, entry) in entries.iter().enumerate() {
        if !is_webhook_event(entry) {
            let shown: String = entry.chars().take(70).collect();
            return Err(format!(
                "{shown:?} is neither an event VideoSDK documents (such as session-started or \
                 recording-stopped) nor a pattern that matches one (* or a prefix and *, such as \
                 recording-*); see {WEBHOOK_EVENTS_PAGE}"
            ));
        }
        if entries[..index].contains(entry) {
            return Err(format!("{entry:?} is listed twice"));
        }
    }
    Ok(())
}

/// An https URL VideoSDK can post to: short, parseable, no whitespace.
pub(crate) fn is_webhook_url(url: &str) -> bool {
    url.starts_with("https://")
        && url.len() <= MAX_WEBHOOK_URL_LENGTH
        && !url.chars().any(char::is_whitespace)
        && url::Url::parse(url).is_ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(body: Value, allow_client_webhooks: bool) -> Result<RoomOptions, OptionError> {
        let consent = OptionConsent {
            webhook: allow_client_webhooks,
            ..OptionConsent::default()
        };
        RoomOptions::from_body(body.as_object().unwrap(), &consent)
    }

    #[test]
    fn reads_every_option_and_ignores_the_rest() {
        let options = parse(
            json!({
                "customRoomId": "standup",
                "autoCloseConfig": {"type": "session-ends", "duration": 600},
                "geoFence": "eu001",
                "allowedParticipantIds": ["alice", "bob-2"],
                "webhook": {"endPoint": "https://hooks.example.com/v", "events": ["session-started"]},
                "region": "sg001",
                "token": "x.y.z"
            }),
            true,
        )
        .unwrap();
        assert_eq!(
            options,
            RoomOptions {
                custom_room_id: Some("standup".into()),
                auto_close: Some(AutoClose {
                    kind: Some(AutoCloseKind::SessionEnds),
                    after_seconds: Some(600)
                }),
                webhook: Some(RoomWebhook {
                    url: "https://hooks.example.com/v".into(),
                    events: vec!["session-started".into()]
                }),
                geo_fence: Some("eu001"),
                allowed_participant_ids: Some(vec!["alice".into(), "bob-2".into()]),
                auto_start: None,
                multi_composition: None,
            }
        );
        assert!(
            parse(json!({"region": "sg001", "customRoomId": null}), false)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn auto_start_and_multi_composition_need_the_operators_consent_whatever_their_shape() {
        let auto_start = json!({"recording": {"config": {"quality": "high"}}});
        for (field, value, option) in [
            (
                "autoStartConfig",
                auto_start.clone(),
                GatedOption::AutoStartConfig,
            ),
            (
                "autoStartConfig",
                json!("yes"),
                GatedOption::AutoStartConfig,
            ),
            (
                "multiComposition",
                json!({"hls": true}),
                GatedOption::MultiComposition,
            ),
        ] {
            let mut body = Map::new();
            body.insert(field.to_owned(), value);
            // Allowed, it is read (into an option, or refused for its shape), not refused.
            let allowed = RoomOptions::from_body(&body, &OptionConsent::all());
            assert!(
                matches!(&allowed, Ok(options) if !options.is_empty())
                    || matches!(&allowed, Err(OptionError::Invalid { field: named, .. }) if *named == field),
                "{field}: {allowed:?}"
            );
            assert_eq!(
                RoomOptions::from_body(&body, &OptionConsent::default()),
                Err(OptionError::NotAllowed(option))
            );
        }
        let only_auto_start = OptionConsent {
            webhook: false,
            gated: vec![GatedOption::AutoStartConfig],
        };
        let body = json!({"autoStartConfig": auto_start, "multiComposition": {"hls": true}});
        assert_eq!(
            RoomOptions::from_body(body.as_object().unwrap(), &only_auto_start),
            Err(OptionError::NotAllowed(GatedOption::MultiComposition))
        );
        let body = json!({"autoStartConfig": {"recording": {"templateUrl": "https://x.example"}}});
        assert!(matches!(
            RoomOptions::from_body(body.as_object().unwrap(), &only_auto_start),
            Err(OptionError::Invalid {
                field: "autoStartConfig",
                ..
            })
        ));
    }

    #[test]
    fn a_webhook_needs_the_operators_consent_whatever_its_shape() {
        for webhook in [json!({"endPoint": "https://x.example"}), json!(1)] {
            assert_eq!(
                parse(json!({ "webhook": webhook }), false),
                Err(OptionError::WebhookNotAllowed)
            );
        }
    }

    #[test]
    fn webhook_events_are_those_videosdk_documents_and_its_patterns() {
        for entry in [
            "session-started",
            "participant-track-recording-failed",
            "transcription-completed",
            "hls-playable",
            "*",
            "recording-*",
            "hls-*",
            "session*",
            "participant-track-*",
        ] {
            assert!(is_webhook_event(entry), "{entry}");
        }
        for entry in [
            "",
            "session-begun",
            "Session-Started",
            "session-started ",
            "**",
            "*-failed",
            "rec*ording-*",
            "webinar-*",
            "recording-stopped*x",
        ] {
            assert!(!is_webhook_event(entry), "{entry:?}");
        }
        let every: Vec<String> = VIDEOSDK_WEBHOOK_EVENTS
            .iter()
            .map(|event| (*event).to_owned())
            .collect();
        assert_eq!(webhook_events(&every), Ok(()), "no limit of 32");
        let twice = vec!["hls-*".to_owned(), "hls-*".to_owned()];
        assert!(webhook_events(&twice).unwrap_err().contains("twice"));
        let unknown = webhook_events(&["session-begun".to_owned()]).unwrap_err();
        assert!(unknown.contains(WEBHOOK_EVENTS_PAGE), "{unknown}");
        let mut distinct = every.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(
            distinct.len(),
            VIDEOSDK_WEBHOOK_EVENTS.len(),
            "each event once"
        );
    }

    #[test]
    fn malformed_options_name_their_field() {
        for (body, field) in [
            (json!({"customRoomId": "has space"}), "customRoomId"),
            (
                json!({"autoCloseConfig": {"duration": 0}}),
                "autoCloseConfig.duration",
            ),
            (json!({"geoFence": "EU001"}), "geoFence"),
            (
                json!({"allowedParticipantIds": []}),
                "allowedParticipantIds",
            ),
            (
                json!({"allowedParticipantIds": ["a", "a"]}),
                "allowedParticipantIds",
            ),
            (
                json!({"webhook": {"endPoint": "http://x"}}),
                "webhook.endPoint",
            ),
            (
                json!({"webhook": {"endPoint": "https://x.example", "events": ["session-begun"]}}),
                "webhook.events",
            ),
            (
                json!({"webhook": {"endPoint": "https://x.example", "events": [7]}}),
                "webhook.events",
            ),
        ] {
            match parse(body.clone(), true) {
                Err(OptionError::Invalid { field: named, .. }) => assert_eq!(named, field),
                other => panic!("{body}: {other:?}"),
            }
        }
    }
}
