//! The floor of `scripts/bench-coldstart`: a Lambda function that does nothing, on the same
//! runtime as the three functions (`shared::aws::lambda::run` on tokio, the same log subscriber)
//! and built with the same profile, but with no settings, no secret and no keys. Its start and
//! its size are what any function of this kind costs; the functions are measured against it.

use std::convert::Infallible;

use lambda_http::{Body, Error, Request, Response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::aws::logging::init();
    tracing::info!(init_ms = 0.0, "initialised");
    shared::aws::lambda::run(|_: Request| async { Ok::<_, Infallible>(Response::new(Body::Empty)) })
        .await
}
