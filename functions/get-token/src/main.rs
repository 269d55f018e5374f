use lambda_http::Error;
use shared::State;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::logging::init();
    let Ok(state) = State::from_env_for_tokens().await else {
        // from_env_for_tokens logged the one line that says why; Lambda reports the exit as an init error.
        std::process::exit(1);
    };
    let state = &state;
    shared::api_gateway::run(move |request| get_token::handler(state, request)).await
}
