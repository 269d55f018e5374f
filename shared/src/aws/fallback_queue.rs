//! The webhook function's fallback: an SQS queue (`WEBHOOK_FALLBACK_QUEUE_URL`) that takes a
//! verified webhook when EventBridge refused it or could not be reached (after the SDK's own
//! retries), so that the webhook is kept for 14 days instead of lost, and VideoSDK, which
//! documents no retry policy, gets a 2xx. `scripts/redrive-webhooks` puts the queued events on
//! the bus later, each with its delivery id and the time it was first received.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_sqs::Client;

use crate::aws::environment::AwsEnvironment;
use crate::domain::webhooks::WebhookEvent;
use crate::error_chain::error_chain;

/// The endpoint variable of this service (besides `AWS_ENDPOINT_URL`).
const ENDPOINT_VARIABLE: &str = "AWS_ENDPOINT_URL_SQS";
/// How long a message taken by a redrive stays hidden from another reader.
const REDRIVE_VISIBILITY_SECONDS: i32 = 60;

/// An SQS client, configured as every AWS client here is (see [`crate::aws::environment`]).
pub fn client(environment: &AwsEnvironment) -> Client {
    Client::new(&environment.sdk_config(ENDPOINT_VARIABLE))
}

/// One queued webhook, as the message body holds it: what the event on the bus needs.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Queued {
    delivery_id: String,
    /// Milliseconds since the Unix epoch.
    received_at: u64,
    detail_type: String,
    /// The body exactly as VideoSDK sent it.
    detail: String,
}

#[derive(Debug, Clone)]
pub(crate) struct FallbackQueue {
    client: Client,
    url: String,
}

/// A message taken off the queue: its event, and the handle that deletes it.
#[derive(Debug)]
pub(crate) struct Taken {
    pub(crate) event: Result<WebhookEvent, String>,
    pub(crate) receipt_handle: String,
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
        let body = serde_json::to_string(&Queued {
            delivery_id: event.delivery_id().to_owned(),
            received_at: u64::try_from(received_at.as_millis()).unwrap_or(u64::MAX),
            detail_type: event.kind().to_owned(),
            detail: event.detail().to_owned(),
        })
        .map_err(|error| format!("cannot encode the message: {error}"))?;
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

    /// Up to 10 messages, each hidden from other readers for a minute; none when the queue is
    /// empty.
    pub(crate) async fn take(&self) -> Result<Vec<Taken>, String> {
        let output = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(10)
            .visibility_timeout(REDRIVE_VISIBILITY_SECONDS)
            .wait_time_seconds(0)
            .send()
            .await
            .map_err(|error| format!("cannot read {}: {}", self.url, error_chain(&error)))?;
        Ok(output
            .messages()
            .iter()
            .map(|message| Taken {
                event: decode(message.body().unwrap_or_default()),
                receipt_handle: message.receipt_handle().unwrap_or_default().to_owned(),
            })
            .collect())
    }

    pub(crate) async fn delete(&self, receipt_handle: &str) -> Result<(), String> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .map(|_| ())
            .map_err(|error| format!("cannot delete from {}: {}", self.url, error_chain(&error)))
    }
}

/// The event of a queued message, checked: its detail must still be a webhook body whose
/// delivery id is the one queued with it.
pub(crate) fn decode(body: &str) -> Result<WebhookEvent, String> {
    let queued: Queued =
        serde_json::from_str(body).map_err(|_| "not a queued webhook message".to_owned())?;
    let event = WebhookEvent::from_verified_body(queued.detail.as_bytes())
        .map_err(|error| format!("its detail is no webhook: {error}"))?
        .received_at_time(SystemTime::UNIX_EPOCH + Duration::from_millis(queued.received_at));
    if event.delivery_id() != queued.delivery_id || event.kind() != queued.detail_type {
        return Err("its detail does not match its delivery id and type".to_owned());
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
                               "detailType": "session-ended", "detail": detail})
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
        // Of the same type, so that only the delivery id tells them apart.
        let other = r#"{"webhookType":"session-ended","data":{"sessionId":"s2"}}"#;
        assert_eq!(
            decode(&message(other, event.delivery_id())).unwrap_err(),
            "its detail does not match its delivery id and type"
        );
        let other_id = WebhookEvent::from_verified_body(other.as_bytes()).unwrap();
        assert!(decode(&message(body, other_id.delivery_id())).is_err());
        assert!(decode("{}").is_err());
    }
}
