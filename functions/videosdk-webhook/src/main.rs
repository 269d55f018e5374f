//! The `videosdk-webhook` Lambda function: builds its state once per cold start (its EventBridge
//! bus and VideoSDK's webhook public key), then answers every event with
//! `shared::routes::videosdk_webhook::handler`.

use lambda_http::Error;
use shared::state::State;
use shared::webhooks::WebhookBackend;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::aws::logging::init();
    // `videosdk-webhook redrive` (scripts/redrive-webhooks): the fallback queue back onto the
    // bus, once, then exit; the same binary, so the same event format.
    if std::env::args().nth(1).as_deref() == Some("redrive") {
        return match shared::webhooks::redrive(|name| std::env::var(name).ok()).await {
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
