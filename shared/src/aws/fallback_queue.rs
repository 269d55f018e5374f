//! The webhook function's fallback: an SQS queue (`WEBHOOK_FALLBACK_QUEUE_URL`) that takes a
//! verified webhook when EventBridge refused it or could not be reached (after the SDK's own
//! retries), so that the webhook is kept instead of lost, and VideoSDK, which documents no retry
//! policy, gets a 2xx. The queue's consumer (`videosdk-webhook-drain`) puts each queued event on
//! the bus once EventBridge takes it again, with its delivery id and the time it was first
//! received.
//!
//! A message holds the body as base64, not as JSON text: base64 keeps the exact bytes, is ASCII
//! (SQS refuses U+FFFE, U+FFFF and other characters JSON may carry unescaped), and grows a body
//! by a third at most, where JSON escaping doubles a body of quotes and backslashes: every body
//! the route accepts fits [`MAX_MESSAGE_BYTES`]. Messages of the older form (the body as JSON
//! text in `detail`) are still read.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_sqs::Client;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::aws::environment::AwsEnvironment;
use crate::domain::webhooks::{DELIVERY_ID_PREFIX, MAX_WEBHOOK_BODY_BYTES, WebhookEvent};
use crate::error_chain::error_chain;

/// The endpoint variable of this service (besides `AWS_ENDPOINT_URL`).
const ENDPOINT_VARIABLE: &str = "AWS_ENDPOINT_URL_SQS";
/// The fallback queue's `MaximumMessageSize` (template.yaml), SQS's largest: 1 MiB.
pub const MAX_MESSAGE_BYTES: usize = 1_048_576;
/// The message's JSON around the base64 body: its field names and punctuation, the delivery
/// id, and the time (at most 20 digits).
const ENVELOPE_BYTES: usize =
    r#"{"deliveryId":"","receivedAt":,"bodyBase64":""}"#.len() + DELIVERY_ID_PREFIX.len() + 64 + 20;
// The largest body the route takes fits one message.
const _: () = assert!(ENVELOPE_BYTES + MAX_WEBHOOK_BODY_BYTES.div_ceil(3) * 4 <= MAX_MESSAGE_BYTES);

/// An SQS client, configured as every AWS client here is (see [`crate::aws::environment`]).
pub fn client(environment: &AwsEnvironment) -> Client {
    Client::new(&environment.sdk_config(ENDPOINT_VARIABLE))
}

/// One queued webhook, as the message body holds it.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Queued<'a> {
    delivery_id: &'a str,
    /// Milliseconds since the Unix epoch.
    received_at: u64,
    /// The body exactly as VideoSDK sent it, in base64 (standard, padded).
    body_base64: String,
}

/// A message of either form: `bodyBase64`, or the older `detailType` and `detail` (the body as
/// JSON text).
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Read {
    delivery_id: String,
    received_at: u64,
    body_base64: Option<String>,
    detail_type: Option<String>,
    detail: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct FallbackQueue {
    client: Client,
    url: String,
}

impl FallbackQueue {
    pub(crate) fn new(environment: &AwsEnvironment, url: impl Into<String>) -> Self {
        Self {
            client: client(environment),
            url: url.into(),
        }
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Queues `event`; returns SQS's message id. The error names the queue, never the event.
    pub(crate) async fn send(&self, event: &WebhookEvent) -> Result<String, String> {
        let received_at = event
            .received_at()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let body = encode(event, received_at)?;
        let output = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map_err(|error| {
                format!(
                    "SQS did not take it into {}: {}",
                    self.url,
                    error_chain(&error)
                )
            })?;
        Ok(output.message_id().unwrap_or_default().to_owned())
    }
}

/// The message body of `event`, received `received_at` after the epoch.
fn encode(event: &WebhookEvent, received_at: Duration) -> Result<String, String> {
    serde_json::to_string(&Queued {
        delivery_id: event.delivery_id(),
        received_at: u64::try_from(received_at.as_millis()).unwrap_or(u64::MAX),
        body_base64: STANDARD.encode(event.detail()),
    })
    .map_err(|error| format!("cannot encode the message: {error}"))
}

/// The event of a queued message, checked: its body must still be a webhook body whose
/// delivery id (and, in the older form, type) is the one queued with it.
pub(crate) fn decode(body: &str) -> Result<WebhookEvent, String> {
    let queued: Read =
        serde_json::from_str(body).map_err(|_| "not a queued webhook message".to_owned())?;
    let (bytes, kind) = match (queued.body_base64, queued.detail) {
        (Some(encoded), None) => (
            STANDARD
                .decode(encoded)
                .map_err(|_| "its bodyBase64 is not base64".to_owned())?,
            None,
        ),
        (None, Some(detail)) => (detail.into_bytes(), queued.detail_type),
        _ => return Err("not a queued webhook message".to_owned()),
    };
    let event = WebhookEvent::from_verified_body(&bytes)
        .map_err(|error| format!("its body is no webhook: {error}"))?
        .received_at_time(SystemTime::UNIX_EPOCH + Duration::from_millis(queued.received_at));
    if event.delivery_id() != queued.delivery_id || kind.is_some_and(|kind| kind != event.kind()) {
        return Err("its body does not match its delivery id and type".to_owned());
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queued_message_must_match_its_delivery_id() {
        let body = r#"{"webhookType":"session-ended","data":{}}"#;
        let event = WebhookEvent::from_verified_body(body.as_bytes()).unwrap();
        let message = |detail: &str, id: &str| {
            serde_json::json!({"deliveryId": id, "receivedAt": 1_700_000_000_123_u64,
                               "bodyBase64": STANDARD.encode(detail)})
            .to_string()
        };
        let decoded = decode(&message(body, event.delivery_id())).unwrap();
        assert_eq!(decoded.detail(), body);
        assert_eq!(
            decoded.received_at(),
            UNIX_EPOCH + Duration::from_millis(1_700_000_000_123)
        );
        let altered = body.replace("ended", "started");
        assert!(decode(&message(&altered, event.delivery_id())).is_err());
        let other = r#"{"webhookType":"session-ended","data":{"sessionId":"s2"}}"#;
        assert_eq!(
            decode(&message(other, event.delivery_id())).unwrap_err(),
            "its body does not match its delivery id and type"
        );
        assert!(decode("{}").is_err());
        let both = serde_json::json!({"deliveryId": event.delivery_id(), "receivedAt": 1,
                                      "bodyBase64": STANDARD.encode(body), "detail": body});
        assert!(decode(&both.to_string()).is_err(), "one form or the other");
    }

    /// What the function queued before the body went into base64: still read, and checked.
    #[test]
    fn messages_of_the_older_form_are_read() {
        let body = r#"{"webhookType":"session-ended","data":{}}"#;
        let event = WebhookEvent::from_verified_body(body.as_bytes()).unwrap();
        let older = |kind: &str| {
            serde_json::json!({"deliveryId": event.delivery_id(), "receivedAt": 1_700_000_000_123_u64,
                               "detailType": kind, "detail": body})
            .to_string()
        };
        assert_eq!(decode(&older("session-ended")).unwrap().detail(), body);
        assert!(decode(&older("session-started")).is_err());
    }

    #[test]
    fn a_message_is_ascii_and_keeps_the_exact_bytes() {
        let body = "{\"webhookType\":\"x\",\"data\":\"\u{ffff}\u{fffe} \\\"\\\\ Zoë\"}";
        let event = WebhookEvent::from_verified_body(body.as_bytes()).unwrap();
        let message = encode(&event, Duration::from_millis(5)).unwrap();
        assert!(message.is_ascii(), "{message}");
        assert_eq!(decode(&message).unwrap().detail(), body);
    }
}
