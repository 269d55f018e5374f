//! Arbitrary bytes as an API Gateway HTTP API event, turned into a request exactly as the
//! functions' loop (`shared::aws::lambda::run`) does before any handler runs: serde_json, then
//! `shared::aws::lambda::into_request`. It must never panic (a panic there fails the invocation,
//! which API Gateway answers with a 5xx) and may refuse an event only with a 400
//! `invalid_request`.
//!
//! lambda_http 1.3.2's own conversion (`lambda_http::request::from_str`) panics when the Host,
//! X-Forwarded-Proto, path or raw query do not form a URI: the inputs that showed it are in
//! `fuzz/regressions/api_gateway_event_parse/`, replayed on every run. `into_request` checks that
//! URI first and otherwise hands the event to lambda_http's conversion, so a panic here also
//! means its check and lambda_http have drifted apart.
#![no_main]

use libfuzzer_sys::fuzz_target;
use videosdk_api_fuzz::events::{api_gateway_event, event_into_request};

fuzz_target!(|data: &[u8]| {
    if let Some(event) = api_gateway_event(data) {
        let _ = event_into_request(event);
    }
});
