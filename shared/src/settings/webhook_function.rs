//! What the webhook function needs: the key VideoSDK's webhooks are verified with when pinned
//! (`VIDEOSDK_WEBHOOK_PUBLIC_KEY`), how often a failed signature may fetch VideoSDK's key again
//! (`WEBHOOK_KEY_REFETCH_SECONDS`), and the bus and fallback queue the webhooks go on
//! (`EVENT_BUS_NAME`, `WEBHOOK_FALLBACK_QUEUE_URL`).

use super::SettingsError;
use super::variables::{Seconds, Variables};
use crate::aws::environment::AwsEnvironment;
use crate::domain::webhooks::WebhookPublicKey;

/// At most one fetch of VideoSDK's key per this many seconds after a failed signature
/// (`WEBHOOK_KEY_REFETCH_SECONDS`): a forgery costs VideoSDK one GET per interval, and a genuine
/// webhook signed with a key rotated within the interval is told to come back after it (429).
pub(crate) const DEFAULT_KEY_REFETCH_SECONDS: u64 = 30;
pub(super) const KEY_REFETCH_SECONDS: Seconds = Seconds {
    name: "WEBHOOK_KEY_REFETCH_SECONDS",
    default: DEFAULT_KEY_REFETCH_SECONDS,
    range: 0..=3600,
};

/// The EventBridge bus (name or ARN), the fallback queue (`WEBHOOK_FALLBACK_QUEUE_URL`, SQS)
/// and the AWS environment that reaches them.
#[derive(Debug, Clone)]
pub(crate) struct EventBusSettings {
    pub(crate) name: String,
    pub(crate) fallback_queue: Option<String>,
    pub(crate) aws: AwsEnvironment,
}

/// `VIDEOSDK_WEBHOOK_PUBLIC_KEY`, when set: an RSA public key in PEM.
pub(super) fn webhook_public_key(
    vars: &Variables<impl Fn(&str) -> Option<String>>,
) -> Result<Option<WebhookPublicKey>, SettingsError> {
    vars.get("VIDEOSDK_WEBHOOK_PUBLIC_KEY")
        .map(|pem| WebhookPublicKey::from_pem(&pem))
        .transpose()
        .map_err(|error| SettingsError::new("VIDEOSDK_WEBHOOK_PUBLIC_KEY", format!("{error}")))
}

/// `EVENT_BUS_NAME`, when set, with the fallback queue and the AWS environment.
pub(super) fn event_bus(
    vars: &Variables<impl Fn(&str) -> Option<String>>,
) -> Result<Option<EventBusSettings>, SettingsError> {
    let Some(name) = vars.get("EVENT_BUS_NAME") else {
        return Ok(None);
    };
    let valid = (1..=1600).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._/:-".contains(&b));
    if !valid {
        return Err(SettingsError::new(
            "EVENT_BUS_NAME",
            "not an EventBridge bus name or ARN (letters, digits, '.', '_', '/', ':' and '-')",
        ));
    }
    let aws = vars.aws(&format!("reach EventBridge bus {name:?}"))?;
    let fallback_queue = vars.get("WEBHOOK_FALLBACK_QUEUE_URL");
    if let Some(url) = &fallback_queue
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        return Err(SettingsError::new(
            "WEBHOOK_FALLBACK_QUEUE_URL",
            "not an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)",
        ));
    }
    Ok(Some(EventBusSettings {
        name,
        fallback_queue,
        aws,
    }))
}

#[cfg(test)]
mod tests {
    use crate::settings::tests::DEV;
    use crate::test_support::settings_from_pairs as settings;

    #[test]
    fn the_event_bus_needs_a_valid_name_and_the_aws_environment() {
        let mut pairs = DEV.to_vec();
        pairs.push(("EVENT_BUS_NAME", "videosdk-events"));
        assert_eq!(settings(&pairs).unwrap_err().variable, "AWS_ACCESS_KEY_ID");
        pairs.extend([
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_REGION", "eu-west-1"),
        ]);
        let bus = settings(&pairs).unwrap().event_bus.expect("a bus");
        assert_eq!(bus.name, "videosdk-events");
        let arn = "arn:aws:events:eu-west-1:123456789012:event-bus/videosdk-events";
        pairs[2] = ("EVENT_BUS_NAME", arn);
        assert_eq!(settings(&pairs).unwrap().event_bus.unwrap().name, arn);
        pairs[2] = ("EVENT_BUS_NAME", "no spaces please");
        assert_eq!(settings(&pairs).unwrap_err().variable, "EVENT_BUS_NAME");
        pairs[2] = ("EVENT_BUS_NAME", "videosdk-events");
        assert_eq!(
            settings(&pairs).unwrap().event_bus.unwrap().fallback_queue,
            None
        );
        let url = "https://sqs.eu-west-1.amazonaws.com/123456789012/fallback";
        pairs.push(("WEBHOOK_FALLBACK_QUEUE_URL", url));
        assert_eq!(
            settings(&pairs)
                .unwrap()
                .event_bus
                .unwrap()
                .fallback_queue
                .as_deref(),
            Some(url)
        );
        let last = pairs.len() - 1;
        pairs[last] = ("WEBHOOK_FALLBACK_QUEUE_URL", "fallback");
        assert_eq!(
            settings(&pairs).unwrap_err().variable,
            "WEBHOOK_FALLBACK_QUEUE_URL"
        );
    }

    #[test]
    fn a_pinned_webhook_key_must_be_an_rsa_public_key() {
        let mut pairs = DEV.to_vec();
        pairs.push(("VIDEOSDK_WEBHOOK_PUBLIC_KEY", "not a key"));
        let error = settings(&pairs).unwrap_err();
        assert_eq!(error.variable, "VIDEOSDK_WEBHOOK_PUBLIC_KEY");
        assert!(error.reason.contains("PEM"), "{error}");
    }
}
