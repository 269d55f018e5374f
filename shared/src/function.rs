//! A Lambda function's whole `main`: logging, its state built once per cold start, then every
//! event answered by its handler (each function's `main.rs` is one call of [`serve`], or, for
//! the fallback queue's consumer, of `backends::webhooks::serve_drain`).

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
