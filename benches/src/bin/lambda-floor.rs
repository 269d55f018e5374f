//! The floor of `scripts/bench-coldstart`: a Lambda function that does nothing, on the same
//! runtime as the three functions (lambda_http on tokio, the same log subscriber) and built with
//! the same profile, but with no settings, no secret and no keys. Its start and its size are
//! what any function of this kind costs; the functions are measured against it.

use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::logging::init();
    tracing::info!(init_ms = 0.0, "initialised");
    lambda_http::run(service_fn(|_: Request| async {
        Ok::<_, Error>(Response::new(Body::Empty))
    }))
    .await
}
