//! Hooks for the workspace's tests, fuzz targets and benchmarks, behind the feature
//! `test-support`: the functions' build has none of them.

use crate::domain::token::{Claims, TokenError, TokenKeys};
use crate::settings::{Settings, SettingsError};

pub use crate::aws::metrics::Capture;
pub use crate::routes::answer;

/// Verifies `token` with jsonwebtoken's own `decode` only, never the short path: the oracle the
/// fuzz target `token_verify_jwt` holds `TokenKeys::verify_at` to.
pub fn verify_by_jsonwebtoken(
    keys: &TokenKeys,
    token: &str,
    now: u64,
) -> Result<Claims, TokenError> {
    keys.verify_by_jsonwebtoken(token, now)
}

/// Settings as the functions read them, from name/value pairs instead of the environment: a
/// name absent from `pairs` is unset.
pub fn settings_from_pairs(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
    Settings::from_lookup(|name| {
        pairs
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned())
    })
}

/// Puts the verified webhook `body` into the fallback queue at `queue_url`, as the webhook
/// function does when the bus refuses it, as received at `received_at`: what the consumer finds
/// after an outage that began then. Returns SQS's message id.
pub async fn queue_webhook(
    environment: &crate::aws::environment::AwsEnvironment,
    queue_url: &str,
    body: &[u8],
    received_at: std::time::SystemTime,
) -> Result<String, String> {
    let event = crate::domain::webhooks::WebhookEvent::from_verified_body(body)
        .map_err(|error| error.to_string())?
        .received_at_time(received_at);
    crate::aws::fallback_queue::FallbackQueue::new(environment, queue_url)
        .send(&event)
        .await
}

/// A message of the fallback queue read as the queue's consumer reads it: the webhook's type
/// and its body, byte for byte; or why it is no queued webhook.
pub fn read_queued_webhook(message_body: &str) -> Result<(String, Vec<u8>), String> {
    crate::aws::fallback_queue::decode(message_body)
        .map(|event| (event.kind().to_owned(), event.detail().as_bytes().to_vec()))
}
