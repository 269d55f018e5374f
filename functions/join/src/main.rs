//! The `join` Lambda function: its state built once per cold start, then every event answered
//! with `shared::routes::join::handler`.

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::function::serve(shared::routes::join::handler).await
}
