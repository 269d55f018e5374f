//! Everything the Lambda functions have in common, in layers that only look inward:
//!
//! - [`domain`]: tokens, permissions and roles, meeting ids and room options, keys, VideoSDK's
//!   webhook signatures; no HTTP, no AWS.
//! - [`http`]: reading requests, CORS, methods and sizes, the error type and its codes, which
//!   domain errors map to.
//! - [`aws`] and `videosdk`: the outside world: Secrets Manager, EventBridge, the Lambda loop and
//!   logging; VideoSDK's rooms API and its webhook public key.
//! - `tls`: the TLS configuration of every call out (compiled-in roots), which the AWS and
//!   VideoSDK clients share.
//! - [`settings`], [`state`]: configuration, and what a cold start builds and every request
//!   reads.
//! - [`backends`]: the part of the state that differs between functions: which room service
//!   (local or VideoSDK); the webhook function's key and EventBridge bus. Their models are in
//!   [`domain`] under the same names.
//! - [`routes`]: the route registry and the handlers; each function's `main` runs one.

#![warn(unreachable_pub)]

pub mod aws;
pub mod backends;
pub mod domain;
mod error_chain;
pub mod function;
pub mod http;
pub mod routes;
pub mod settings;
pub mod state;
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;
mod tls;
mod videosdk;
/// How long one call to VideoSDK may take; the tests hold a slow VideoSDK's 504 to it.
pub use videosdk::{KeyFetchError, VIDEOSDK_REQUEST_TIMEOUT};
