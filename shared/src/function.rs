//! A Lambda function's whole `main`: logging, its state built once per cold start, then every
//! event answered by its handler (each function's `main.rs` is one call of [`serve`], or of
//! [`serve_webhook_drain`] for the fallback queue's consumer).

use std::convert::Infallible;

use lambda_http::{Body, Error, Request, Response};

use crate::state::{Backend, State};

/// Builds the state with backend `B` from the environment and answers every event with
/// `handler`. A cold start that fails exits with status 1, after the one log line that says
/// why; Lambda reports that as an init error.
pub async fn serve<B, H>(handler: H) -> Result<(), Error>
where
    B: Backend,
    H: AsyncFn(&State<B>, Request) -> Result<Response<Body>, Infallible>,
{
    crate::aws::logging::init();
    let Ok(state) = State::<B>::from_env().await else {
        std::process::exit(1);
    };
    let (state, handler) = (&state, &handler);
    crate::aws::lambda::run(move |request| handler(state, request)).await
}

/// The binary of the fallback queue's consumer: a function with no HTTP route, which Lambda
/// invokes with the queue's messages (template.yaml's event source mapping).
pub const WEBHOOK_DRAIN: &str = "videosdk-webhook-drain";

/// The fallback queue's consumer ([`WEBHOOK_DRAIN`]): every SQS batch Lambda delivers
/// drained onto the bus within the invocation's deadline, the messages to deliver again named
/// in the answer. A cold start that fails exits with status 1 after the line that says why.
pub async fn serve_webhook_drain() -> Result<(), Error> {
    use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
    use lambda_http::lambda_runtime::{self, LambdaEvent};

    use crate::aws::budget::Budget;
    use crate::backends::webhooks::WebhookDrain;

    crate::aws::logging::init();
    let drain = match WebhookDrain::from_lookup(|name| std::env::var(name).ok()) {
        Ok(drain) => drain,
        Err(error) => {
            tracing::error!(error = %error, "init failed");
            std::process::exit(1);
        }
    };
    let drain = &drain;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: LambdaEvent<SqsEvent>| async move {
            let budget = Budget::from_context(Some(&event.context));
            Ok::<SqsBatchResponse, Infallible>(drain.drain(&event.payload.records, &budget).await)
        },
    ))
    .await
}
