//! The `moderation` Lambda function: its state built once per cold start (VideoSDK, the bans
//! table, the audit bus), then every event of the moderation routes answered with
//! `shared::routes::moderation::handler`.

use lambda_http::Error;
use shared::backends::moderation::ModerationBackend;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::function::serve::<ModerationBackend, _>(shared::routes::moderation::handler).await
}
