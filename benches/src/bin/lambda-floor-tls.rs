//! The TLS floor of `scripts/bench-coldstart`: `lambda-floor` (the same runtime, doing nothing)
//! plus what every function here does before it is ready and none can do without, one HTTPS
//! call: the test CA loaded as the functions load it, the HTTPS client of their AWS calls
//! (hyper and rustls on ring with the compiled-in roots, `shared/src/tls.rs`) built, and one
//! GET of `FLOOR_HTTPS_URL` (the bench's TLS front of moto_server, where the functions read
//! their secret) answered, a handshake included. Built with the same profile.

use std::convert::Infallible;
use std::time::Instant;

use lambda_http::{Body, Error, Request, Response};

/// Where the one HTTPS request goes; the bench sets it.
const URL_VARIABLE: &str = "FLOOR_HTTPS_URL";

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::aws::logging::init();
    let started = Instant::now();
    let url = std::env::var(URL_VARIABLE).map_err(|_| format!("{URL_VARIABLE} is not set"))?;
    let status = shared::test_support::one_https_request(&url).await?;
    tracing::info!(
        init_ms = started.elapsed().as_secs_f64() * 1000.0,
        status,
        "initialised"
    );
    shared::aws::lambda::run(|_: Request| async { Ok::<_, Infallible>(Response::new(Body::Empty)) })
        .await
}
