use lambda_http::{Error, service_fn};
use shared::State;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let state = State::from_env().await?;
    let state = &state;
    lambda_http::run(service_fn(move |request| {
        create_meeting::handler(state, request)
    }))
    .await
}
