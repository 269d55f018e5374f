//! What the fuzz targets share, one concern a module: the deployments they run against
//! (state and runtime built once, as a warm Lambda has them), JSON of any shape, JWTs built from
//! parts, requests (join's and the moderation routes' with the rules their answers must follow)
//! and API Gateway events that get past base64, JSON and signatures, the routes and how a target
//! calls them, the error codes openapi.yaml documents, the log lines a call writes, and the
//! invariants every answer must keep.

// The input enums are built once per run by `arbitrary`, never stored in bulk: their size does
// not matter, and boxing their variants would only make the generators harder to read.
#![allow(clippy::large_enum_variant)]

pub mod deployments;
pub mod events;
pub mod invariants;
pub mod join;
pub mod json;
pub mod logs;
pub mod moderation;
pub mod moderation_request;
pub mod openapi;
pub mod requests;
pub mod routes;
pub mod tokens;
