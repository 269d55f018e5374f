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
}
