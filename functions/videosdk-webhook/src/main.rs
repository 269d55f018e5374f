//! The `videosdk-webhook` Lambda function: builds its state once per cold start (its EventBridge
//! bus and VideoSDK's webhook public key), then answers every event with
//! `shared::routes::videosdk_webhook::handler`.

use lambda_http::Error;
use shared::state::State;
use shared::webhooks::WebhookBackend;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::aws::logging::init();
    let Ok(state) = State::<WebhookBackend>::from_env().await else {
        // from_env logged the one line that says why; Lambda reports the exit as an init error.
        std::process::exit(1);
    };
    let state = &state;
    shared::aws::lambda::run(move |request| {
        shared::routes::videosdk_webhook::handler(state, request)
    })
    .await
}
