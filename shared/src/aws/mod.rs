//! The AWS side: the Lambda loop and the time an invocation has left, the function's AWS environment and clients (Secrets Manager,
//! EventBridge, SQS), log output as Lambda's logging controls ask for it, and CloudWatch metrics in
//! that output.

pub mod bans;
pub mod budget;
pub mod environment;
pub mod eventbridge;
pub mod fallback_queue;
pub mod lambda;
pub mod logging;
pub mod metrics;
pub mod secrets_manager;
