//! A route of the API: the function that answers it, its path and its one method. The routes
//! themselves are listed once, in `crate::routes`.

use lambda_http::http::Method;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The function's crate and binary name, and the folder of its events in `events/`.
    pub name: &'static str,
    /// The path as API Gateway routes it, with `{parameters}`.
    pub path: &'static str,
    pub method: Method,
    /// Whether browsers call it: then it checks their `Origin`, answers CORS preflights and
    /// puts CORS headers on every answer. A route only servers call (VideoSDK's webhooks) does
    /// none of that: an `OPTIONS` is a method it does not take.
    pub cors: bool,
    /// The largest body it takes; a larger one is 413 `payload_too_large`.
    pub max_body_bytes: usize,
}
