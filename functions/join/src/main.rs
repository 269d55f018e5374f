//! The `join` Lambda function: builds its state once per cold start, then answers every event
//! with `shared::routes::join::handler`.

use lambda_http::Error;
use shared::meetings::MeetingBackend;
use shared::state::State;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::aws::logging::init();
    let Ok(state) = State::<MeetingBackend>::from_env().await else {
        // from_env logged the one line that says why; Lambda reports the exit as an init error.
        std::process::exit(1);
    };
    let state = &state;
    shared::aws::lambda::run(move |request| shared::routes::join::handler(state, request)).await
}
