//! The `videosdk-webhook` Lambda function: its state built once per cold start (its EventBridge
//! bus and VideoSDK's webhook public key), then every event answered with
//! `shared::routes::videosdk_webhook::handler`.

use lambda_http::Error;
use shared::backends::webhooks::WebhookBackend;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::function::serve::<WebhookBackend, _>(shared::routes::videosdk_webhook::handler).await
}
