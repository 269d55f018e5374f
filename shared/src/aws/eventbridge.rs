//! The EventBridge bus VideoSDK's webhooks go on: one `PutEvents` entry per webhook, source
//! `videosdk`, detail-type the webhook's type, detail its body, resources its delivery id, time
//! when it was received. An entry that EventBridge failed inside a 200 with a code AWS advises
//! retrying (`ThrottlingException`, `InternalFailure`) is sent again with backoff, within the
//! invocation's budget; a refusal of any other kind, or one that outlasts the retries, is an
//! error, and the caller queues the webhook or answers 503.

use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use std::time::Duration;

use crate::aws::budget::Budget;
use crate::aws::environment::AwsEnvironment;
use crate::domain::moderation::{AuditRecord, MODERATION_EVENT_SOURCE};
use crate::domain::webhooks::{
    MAX_WEBHOOK_BODY_BYTES, MAX_WEBHOOK_TYPE_LENGTH, WEBHOOK_EVENT_SOURCE, WebhookEvent,
};
use crate::error_chain::error_chain;

/// The endpoint variable of this service (besides `AWS_ENDPOINT_URL`).
const ENDPOINT_VARIABLE: &str = "AWS_ENDPOINT_URL_EVENTBRIDGE";
/// The codes of a failed entry that AWS's PutEvents documentation advises retrying.
const RETRIED_ENTRY_CODES: [&str; 2] = ["ThrottlingException", "InternalFailure"];
/// Sends of one entry at most, and the wait before the second (doubled before each next one).
pub const MAX_ENTRY_SENDS: usize = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
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

    /// Puts `event` on the bus within `budget`, keeping `keep` for what the caller does after;
    /// returns the id EventBridge gave it. A failed entry with a retried code is sent again
    /// (at most [`MAX_ENTRY_SENDS`] sends) while the budget has time for the wait and the send.
    pub(crate) async fn publish(
        &self,
        event: &WebhookEvent,
        budget: &Budget,
        keep: Duration,
    ) -> Result<String, PublishError> {
        let mut backoff = FIRST_BACKOFF;
        let mut sends = 1;
        loop {
            // Boxed: the SDK's future is a deep type, past the compiler's layout limit in the
            // binaries that nest it in their Lambda loop.
            let error = match Box::pin(self.send_once(event, budget, keep)).await {
                Ok(event_id) => return Ok(event_id),
                Err(error) => error,
            };
            let retried = matches!(&error, PublishError::Refused { code, .. }
                if RETRIED_ENTRY_CODES.contains(&code.as_str()));
            // The wait, and then at least as long again for the send, must fit.
            if !retried
                || sends >= MAX_ENTRY_SENDS
                || budget.timeout(keep + backoff * 2, backoff).is_none()
            {
                return Err(error);
            }
            tracing::warn!(error = %error, sends, "EventBridge failed the entry; sending it again");
            tokio::time::sleep(backoff).await;
            backoff *= 2;
            sends += 1;
        }
    }

    async fn send_once(
        &self,
        event: &WebhookEvent,
        budget: &Budget,
        keep: Duration,
    ) -> Result<String, PublishError> {
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
        self.put(entry, budget, keep).await
    }

    /// Puts a moderation action's record on the bus, source [`MODERATION_EVENT_SOURCE`] and
    /// detail type the action's, within what `budget` has left (the action's last call); returns
    /// the id EventBridge gave it.
    pub(crate) async fn publish_audit(
        &self,
        record: &AuditRecord,
        budget: &Budget,
    ) -> Result<String, PublishError> {
        let detail = serde_json::to_string(record)
            .map_err(|error| self.refused("Unserializable", &error.to_string()))?;
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(&self.name)
            .source(MODERATION_EVENT_SOURCE)
            .detail_type(record.action.detail_type())
            .detail(detail)
            .build();
        self.put(entry, budget, Duration::ZERO).await
    }

    /// One `PutEvents` of one entry within `budget`, keeping `keep`; the id EventBridge gave it.
    async fn put(
        &self,
        entry: PutEventsRequestEntry,
        budget: &Budget,
        keep: Duration,
    ) -> Result<String, PublishError> {
        let output = budget
            .run_aws(keep, self.client.put_events().entries(entry).send())
            .await
            .map_err(|out_of_time| PublishError::Unreachable {
                bus: self.name.clone(),
                detail: out_of_time.to_string(),
            })?
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
