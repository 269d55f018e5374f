//! The AWS side: the Lambda loop, the function's AWS environment and clients (Secrets Manager,
//! EventBridge), and log output as Lambda's logging controls ask for it.

pub mod environment;
pub mod eventbridge;
pub mod lambda;
pub mod logging;
pub mod secrets_manager;
