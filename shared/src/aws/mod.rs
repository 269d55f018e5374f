//! The AWS side: the Lambda loop, the function's AWS environment and clients, and log output as
//! Lambda's logging controls ask for it.

pub mod environment;
pub mod lambda;
pub mod logging;
pub mod secrets_manager;
