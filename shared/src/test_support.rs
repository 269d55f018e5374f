//! Hooks for the workspace's tests, fuzz targets and benchmarks, behind the feature
//! `test-support`: the functions' build has none of them.

use crate::backends::meetings::MeetingBackend;
use crate::domain::token::{Claims, TokenError, TokenKeys};
use crate::settings::{Settings, SettingsError};
use crate::state::State;

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

/// What the TLS floor of `scripts/bench-coldstart` (`benches/src/bin/lambda-floor-tls.rs`)
/// does at init besides the runtime: the test CA of `TEST_ONLY_EXTRA_CA_FILE` loaded as a
/// function loads it, then one GET of `url` with the HTTPS client of every AWS call (hyper,
/// `crate::tls`'s configuration), its answer read to the end. Returns the answer's status.
pub async fn one_https_request(url: &str) -> Result<u16, String> {
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::byte_stream::ByteStream;

    crate::tls::load_test_ca()?;
    let request = lambda_http::http::Request::get(url)
        .body(SdkBody::empty())
        .map_err(|error| format!("{url}: {error}"))?;
    let response = crate::aws::environment::hyper_client()
        .request(request)
        .await
        .map_err(|error| format!("GET {url}: {}", crate::error_chain::error_chain(&error)))?;
    let status = response.status().as_u16();
    ByteStream::new(SdkBody::from_body_1_x(response.into_body()))
        .collect()
        .await
        .map_err(|error| format!("GET {url}: reading the answer: {error}"))?;
    Ok(status)
}

/// Whether the meeting backend's warm-up (its connection to VideoSDK opened ahead of the first
/// call) started and has not ended.
pub fn warm_up_pending(state: &State<MeetingBackend>) -> bool {
    state.backend.warm_up_pending()
}

/// Waits for the meeting backend's warm-up to end, if it started.
pub async fn warm_up_ended(state: &State<MeetingBackend>) {
    state.backend.warm_up_ended().await;
}

/// A message of the fallback queue read as the queue's consumer reads it: the webhook's type
/// and its body, byte for byte; or why it is no queued webhook.
pub fn read_queued_webhook(message_body: &str) -> Result<(String, Vec<u8>), String> {
    crate::aws::fallback_queue::decode(message_body)
        .map(|event| (event.kind().to_owned(), event.detail().as_bytes().to_vec()))
}
