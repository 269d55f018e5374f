//! The `videosdk-webhook-drain` Lambda function: the webhook fallback queue's consumer (an SQS
//! event source mapping), which puts each queued webhook on the EventBridge bus once EventBridge
//! takes it again (`shared::backends::webhooks::serve_drain`).

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::backends::webhooks::serve_drain().await
}
