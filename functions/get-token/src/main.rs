//! The `get-token` Lambda function: its state built once per cold start, then every event
//! answered with `shared::routes::get_token::handler`.

use lambda_http::Error;
use shared::backends::NoMeetingBackend;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::function::serve(shared::routes::get_token::handler::<NoMeetingBackend>).await
}
