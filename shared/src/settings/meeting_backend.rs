//! Which room service the meeting functions use (`MEETING_BACKEND`), VideoSDK's endpoint
//! (`VIDEOSDK_API_ENDPOINT`), the paid options callers may send (`ALLOWED_ROOM_OPTIONS`,
//! `ALLOW_CLIENT_WEBHOOKS`) and the webhook every room gets (`WEBHOOK_EVENTS`, `WEBHOOK_URL`).

use super::SettingsError;
use super::variables::Variables;
use crate::domain::auto_start::GatedOption;
use crate::domain::meetings::{is_webhook_url, webhook_events};
use crate::videosdk::DEFAULT_VIDEOSDK_API_ENDPOINT;

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

/// `ALLOWED_ROOM_OPTIONS`: a comma list of the create-meeting options, by their body names, that
/// start paid work and that callers may send (none by default).
pub(super) fn allowed_room_options(
    vars: &Variables<impl Fn(&str) -> Option<String>>,
) -> Result<Vec<GatedOption>, SettingsError> {
    let mut options = Vec::new();
    for name in vars
        .get("ALLOWED_ROOM_OPTIONS")
        .iter()
        .flat_map(|list| list.split(','))
        .map(str::trim)
        .filter(|name| !name.is_empty())
    {
        let option = GatedOption::parse(name).ok_or_else(|| {
            use strum::IntoEnumIterator;
            let known: Vec<&str> = GatedOption::iter().map(GatedOption::name).collect();
            SettingsError::new(
                "ALLOWED_ROOM_OPTIONS",
                format!(
                    "{:?} is not an option it governs ({})",
                    name.chars().take(70).collect::<String>(),
                    known.join(", ")
                ),
            )
        })?;
        if !options.contains(&option) {
            options.push(option);
        }
    }
    Ok(options)
}

/// `VIDEOSDK_API_ENDPOINT`: an http(s) URL; VideoSDK's own by default.
pub(super) fn videosdk_endpoint(
    vars: &Variables<impl Fn(&str) -> Option<String>>,
) -> Result<String, SettingsError> {
    let endpoint = vars.get_or("VIDEOSDK_API_ENDPOINT", DEFAULT_VIDEOSDK_API_ENDPOINT);
    let valid = (endpoint.starts_with("https://") || endpoint.starts_with("http://"))
        && url::Url::parse(&endpoint).is_ok();
    if !valid {
        return Err(SettingsError::new(
            "VIDEOSDK_API_ENDPOINT",
            format!("{endpoint:?} is not an http(s) URL"),
        ));
    }
    Ok(endpoint)
}

/// `MEETING_BACKEND` with what the VideoSDK one is given: its endpoint, the options read
/// before, and the operator's webhook (which the local one cannot carry).
pub(super) fn meeting_backend(
    vars: &Variables<impl Fn(&str) -> Option<String>>,
    endpoint: &str,
    allow_client_webhooks: bool,
    allowed_room_options: Vec<GatedOption>,
) -> Result<MeetingBackendKind, SettingsError> {
    let room_webhook = operator_webhook(vars.get("WEBHOOK_EVENTS"), vars.get("WEBHOOK_URL"))?;
    match vars.get("MEETING_BACKEND").as_deref() {
        Some("local") => {
            if room_webhook.is_some() {
                return Err(SettingsError::new(
                    "WEBHOOK_EVENTS",
                    "set, but MEETING_BACKEND is local, which creates no VideoSDK room to \
                     carry a webhook; use MEETING_BACKEND=videosdk or clear WEBHOOK_EVENTS",
                ));
            }
            Ok(MeetingBackendKind::Local)
        }
        None | Some("videosdk") => Ok(MeetingBackendKind::VideoSdk {
            endpoint: endpoint.to_owned(),
            allow_client_webhooks,
            allowed_room_options,
            room_webhook,
        }),
        Some(other) => Err(SettingsError::new(
            "MEETING_BACKEND",
            format!("{other:?} is neither local nor videosdk"),
        )),
    }
}

/// `WEBHOOK_EVENTS` (a comma list of VideoSDK event names; empty: no webhook) and `WEBHOOK_URL`
/// (an https URL; empty: the API's own domain, request by request).
fn operator_webhook(
    events: Option<String>,
    url: Option<String>,
) -> Result<Option<OperatorWebhook>, SettingsError> {
    let events: Vec<String> = events
        .iter()
        .flat_map(|list| list.split(','))
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect();
    webhook_events(&events).map_err(|why| SettingsError::new("WEBHOOK_EVENTS", why))?;
    if let Some(url) = &url
        && !is_webhook_url(url)
    {
        return Err(SettingsError::new(
            "WEBHOOK_URL",
            "not an https:// URL of at most 512 characters",
        ));
    }
    match (events.is_empty(), url) {
        (true, None) => Ok(None),
        (true, Some(_)) => Err(SettingsError::new(
            "WEBHOOK_URL",
            "set, but WEBHOOK_EVENTS is empty, so no room would carry a webhook; set \
             WEBHOOK_EVENTS too, or clear WEBHOOK_URL",
        )),
        (false, url) => Ok(Some(OperatorWebhook { events, url })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Settings;
    use crate::settings::tests::{DEV, dev_and};
    use crate::test_support::settings_from_pairs as settings;

    #[test]
    fn allowed_room_options_are_none_by_default_and_named_as_in_the_body() {
        let consent = |pairs: &[(&'static str, &'static str)]| match dev_and(pairs)
            .unwrap()
            .meeting_backend
        {
            MeetingBackendKind::VideoSdk {
                allowed_room_options,
                ..
            } => allowed_room_options,
            other => panic!("{other:?}"),
        };
        assert_eq!(consent(&[]), []);
        assert_eq!(
            consent(&[(
                "ALLOWED_ROOM_OPTIONS",
                " multiComposition , autoStartConfig,multiComposition"
            )]),
            [GatedOption::MultiComposition, GatedOption::AutoStartConfig]
        );
    }

    #[test]
    fn the_videosdk_backend_takes_an_endpoint_and_the_webhook_switch() {
        let mut pairs = DEV.to_vec();
        pairs.push(("MEETING_BACKEND", "local"));
        assert_eq!(
            settings(&pairs).unwrap().meeting_backend,
            MeetingBackendKind::Local
        );
        let mut pairs = DEV.to_vec();
        pairs.extend([
            ("MEETING_BACKEND", "videosdk"),
            ("ALLOW_CLIENT_WEBHOOKS", "TRUE"),
            ("VIDEOSDK_API_ENDPOINT", "http://127.0.0.1:9"),
        ]);
        assert_eq!(
            settings(&pairs).unwrap().meeting_backend,
            MeetingBackendKind::VideoSdk {
                endpoint: "http://127.0.0.1:9".into(),
                allow_client_webhooks: true,
                allowed_room_options: Vec::new(),
                room_webhook: None,
            }
        );
        let mut pairs = DEV.to_vec();
        pairs.push(("ALLOW_CLIENT_WEBHOOKS", "yes"));
        assert_eq!(
            settings(&pairs).unwrap_err().variable,
            "ALLOW_CLIENT_WEBHOOKS"
        );
        let mut pairs = DEV.to_vec();
        pairs.push(("VIDEOSDK_API_ENDPOINT", "ftp://example.com"));
        assert_eq!(
            settings(&pairs).unwrap_err().variable,
            "VIDEOSDK_API_ENDPOINT"
        );
    }

    #[test]
    fn operator_webhooks_take_valid_events_and_an_https_url() {
        let room_webhook = |settings: Settings| match settings.meeting_backend {
            MeetingBackendKind::VideoSdk { room_webhook, .. } => room_webhook,
            MeetingBackendKind::Local => panic!("the videosdk backend"),
        };
        assert_eq!(
            room_webhook(dev_and(&[("WEBHOOK_EVENTS", " ")]).unwrap()),
            None
        );
        assert_eq!(
            room_webhook(
                dev_and(&[(
                    "WEBHOOK_EVENTS",
                    "session-started, session-ended,,recording-*"
                )])
                .unwrap()
            ),
            Some(OperatorWebhook {
                events: vec![
                    "session-started".into(),
                    "session-ended".into(),
                    "recording-*".into()
                ],
                url: None
            })
        );
        assert_eq!(
            room_webhook(
                dev_and(&[
                    ("WEBHOOK_EVENTS", "session-ended"),
                    ("WEBHOOK_URL", "https://hooks.example.com/videosdk-webhook")
                ])
                .unwrap()
            )
            .and_then(|webhook| webhook.url)
            .as_deref(),
            Some("https://hooks.example.com/videosdk-webhook")
        );
        for (pairs, variable) in [
            (
                &[("WEBHOOK_EVENTS", "session started")][..],
                "WEBHOOK_EVENTS",
            ),
            (&[("WEBHOOK_EVENTS", "a,b/c")], "WEBHOOK_EVENTS"),
            (&[("WEBHOOK_EVENTS", "session-begun")], "WEBHOOK_EVENTS"),
            (
                &[("WEBHOOK_EVENTS", "session-ended,session-ended")],
                "WEBHOOK_EVENTS",
            ),
            (
                &[
                    ("WEBHOOK_EVENTS", "session-ended"),
                    ("WEBHOOK_URL", "http://x.example"),
                ],
                "WEBHOOK_URL",
            ),
            (&[("WEBHOOK_URL", "https://x.example")], "WEBHOOK_URL"),
            (
                &[
                    ("WEBHOOK_EVENTS", "session-ended"),
                    ("MEETING_BACKEND", "local"),
                ],
                "WEBHOOK_EVENTS",
            ),
        ] {
            assert_eq!(dev_and(pairs).unwrap_err().variable, variable, "{pairs:?}");
        }
        // Every event VideoSDK documents, more than the 32 once taken as its limit, and patterns.
        let every = crate::domain::meetings::VIDEOSDK_WEBHOOK_EVENTS.join(",") + ",*,hls-*";
        let mut pairs = DEV.to_vec();
        pairs.push(("WEBHOOK_EVENTS", &every));
        let webhook = room_webhook(settings(&pairs).unwrap()).unwrap();
        assert_eq!(webhook.events.len(), 38);
        let error = dev_and(&[("WEBHOOK_EVENTS", "session-begun")]).unwrap_err();
        assert!(
            error.reason.contains("session-begun") && error.reason.contains("create-room"),
            "names the entry and the page: {error}"
        );
    }
}
