use lambda_http::Error;
use shared::State;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let Ok(state) = State::from_env().await else {
        // from_env logged the one line that says why; Lambda reports the exit as an init error.
        std::process::exit(1);
    };
    let state = &state;
    shared::api_gateway::run(move |request| validate_meeting::handler(state, request)).await
}
