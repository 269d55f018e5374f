//! The EventBridge bus VideoSDK's webhooks go on: one `PutEvents` entry per webhook, source
//! `videosdk`, detail-type the webhook's type, detail its body, resources its delivery id, time
//! when it was received. A refusal of any kind (the call
//! failed, or EventBridge answered it with a failed entry) is an error, so that the route
//! answers 503 and VideoSDK delivers the webhook again.

use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use crate::aws::environment::AwsEnvironment;
use crate::domain::moderation::{AuditRecord, MODERATION_EVENT_SOURCE};
use crate::domain::webhooks::{
    MAX_WEBHOOK_BODY_BYTES, MAX_WEBHOOK_TYPE_LENGTH, WEBHOOK_EVENT_SOURCE, WebhookEvent,
};
use crate::error_chain::error_chain;

/// The endpoint variable of this service (besides `AWS_ENDPOINT_URL`).
const ENDPOINT_VARIABLE: &str = "AWS_ENDPOINT_URL_EVENTBRIDGE";
/// The most an entry of `PutEvents` may hold: its source, detail-type and detail, in bytes.
const MAX_ENTRY_BYTES: usize = 256 * 1024;
// Every webhook body the route takes fits in one entry.
const _: () = assert!(
    MAX_WEBHOOK_BODY_BYTES + WEBHOOK_EVENT_SOURCE.len() + 4 * MAX_WEBHOOK_TYPE_LENGTH
        <= MAX_ENTRY_BYTES
);

/// An EventBridge client, configured as every AWS client here is (see [`crate::aws::environment`]).
pub fn client(environment: &AwsEnvironment) -> Client {
    Client::new(&environment.sdk_config(ENDPOINT_VARIABLE))
}

/// The bus (its name or ARN, `EVENT_BUS_NAME`) and the client that reaches it, built once per
/// cold start.
#[derive(Debug, Clone)]
pub(crate) struct EventBus {
    client: Client,
    name: String,
}

/// Why an event is not on the bus. Every variant names the bus, never the event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PublishError {
    #[error("EventBridge refused the event for bus {bus:?}: {code}: {message}")]
    Refused {
        bus: String,
        code: String,
        message: String,
    },
    #[error("EventBridge could not be reached for bus {bus:?}: {detail}")]
    Unreachable { bus: String, detail: String },
    #[error("EventBridge failed PutEvents on bus {bus:?}: {detail}")]
    Service { bus: String, detail: String },
}

impl EventBus {
    pub(crate) fn new(environment: &AwsEnvironment, name: impl Into<String>) -> Self {
        Self {
            client: client(environment),
            name: name.into(),
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Puts `event` on the bus; returns the id EventBridge gave it.
    pub(crate) async fn publish(&self, event: &WebhookEvent) -> Result<String, PublishError> {
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(&self.name)
            .source(WEBHOOK_EVENT_SOURCE)
            .detail_type(event.kind())
            .detail(event.detail())
            // EventBridge's own top-level fields, so that `detail` stays VideoSDK's body as sent:
            // `resources` holds the delivery id, `time` when the function received the webhook.
            .resources(event.delivery_id())
            .time(aws_sdk_eventbridge::primitives::DateTime::from(
                event.received_at(),
            ))
            .build();
        self.put(entry).await
    }

    /// Puts a moderation action's record on the bus, source [`MODERATION_EVENT_SOURCE`] and
    /// detail type the action's; returns the id EventBridge gave it.
    pub(crate) async fn publish_audit(&self, record: &AuditRecord) -> Result<String, PublishError> {
        let detail = serde_json::to_string(record)
            .map_err(|error| self.refused("Unserializable", &error.to_string()))?;
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(&self.name)
            .source(MODERATION_EVENT_SOURCE)
            .detail_type(record.action.detail_type())
            .detail(detail)
            .build();
        self.put(entry).await
    }

    /// One `PutEvents` of one entry; the id EventBridge gave it.
    async fn put(&self, entry: PutEventsRequestEntry) -> Result<String, PublishError> {
        let output = self
            .client
            .put_events()
            .entries(entry)
            .send()
            .await
            .map_err(|error| self.classify(error))?;
        // One entry sent: it is either the one result, with an id, or a failure.
        match output.entries() {
            [result] if output.failed_entry_count() == 0 && result.error_code().is_none() => result
                .event_id()
                .map(str::to_owned)
                .ok_or_else(|| self.refused("NoEventId", "no event id in the answer")),
            [result] => Err(self.refused(
                result.error_code().unwrap_or("Unknown"),
                result.error_message().unwrap_or("no message"),
            )),
            results => Err(self.refused(
                "UnexpectedAnswer",
                &format!(
                    "{} results and {} failed for one entry",
                    results.len(),
                    output.failed_entry_count()
                ),
            )),
        }
    }

    fn refused(&self, code: &str, message: &str) -> PublishError {
        PublishError::Refused {
            bus: self.name.clone(),
            code: code.to_owned(),
            message: message.to_owned(),
        }
    }

    fn classify<E>(&self, error: SdkError<E>) -> PublishError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let bus = self.name.clone();
        match &error {
            SdkError::ServiceError(context) => {
                let service_error = context.err();
                PublishError::Service {
                    bus,
                    detail: format!(
                        "{}: {}",
                        service_error.code().unwrap_or("Unknown"),
                        service_error.message().unwrap_or("no message")
                    ),
                }
            }
            SdkError::DispatchFailure(_)
            | SdkError::TimeoutError(_)
            | SdkError::ResponseError(_) => PublishError::Unreachable {
                bus,
                detail: error_chain(&error),
            },
            _ => PublishError::Service {
                bus,
                detail: error_chain(&error),
            },
        }
    }
}
