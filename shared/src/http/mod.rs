//! The HTTP side of every route: reading requests, CORS, methods and sizes, and the answers,
//! errors included, that domain errors map to. It knows the domain, not AWS.

pub mod cors;
pub mod endpoint;
pub mod error;
pub mod request;
pub mod response;
pub mod route;
