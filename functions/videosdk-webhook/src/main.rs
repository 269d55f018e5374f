//! The `videosdk-webhook` Lambda function: its state built once per cold start (its EventBridge
//! bus and VideoSDK's webhook public key), then every event answered with
//! `shared::routes::videosdk_webhook::handler`; or, as `videosdk-webhook redrive`, the fallback
//! queue put back on the bus.

use lambda_http::Error;
use shared::backends::webhooks::WebhookBackend;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // `videosdk-webhook redrive` (scripts/redrive-webhooks): the fallback queue back onto the
    // bus, once, then exit; the same binary, so the same event format.
    if std::env::args().nth(1).as_deref() == Some("redrive") {
        shared::aws::logging::init();
        return match shared::backends::webhooks::redrive(|name| std::env::var(name).ok()).await {
            Ok(report) => {
                println!(
                    "redrive: {} published, {} unreadable left in the queue",
                    report.published, report.unreadable
                );
                if report.unreadable > 0 {
                    std::process::exit(2);
                }
                Ok(())
            }
            Err(error) => {
                eprintln!("redrive stopped: {error}");
                std::process::exit(1);
            }
        };
    }
    shared::function::serve::<WebhookBackend, _>(shared::routes::videosdk_webhook::handler).await
}
