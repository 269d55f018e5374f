//! Arbitrary bytes as an API Gateway HTTP API event through the four handlers of
//! `shared::routes::API`, in every deployment, the way each function binary runs them
//! (`shared::aws::lambda::run`): serde_json, `shared::aws::lambda::into_request`, the handler,
//! `shared::aws::lambda::into_response`.
//! Seeded with the events in `events/`.
//!
//! The same invariants as the `*_request` targets; an event `into_request` refuses must be
//! refused with a 400 `invalid_request` (see `api_gateway_event_parse`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use videosdk_api_fuzz::deployments::Deployment;
use videosdk_api_fuzz::events::{api_gateway_event, event_into_request};
use videosdk_api_fuzz::invariants::assert_response_invariants;
use videosdk_api_fuzz::routes::Route;

fuzz_target!(|data: &[u8]| {
    let Some(event) = api_gateway_event(data) else {
        return;
    };
    for deployment in Deployment::ALL {
        for route in Route::ALL {
            // A Request is not Clone: convert the event once per handler.
            let Some(request) = event_into_request(event.clone()) else {
                return;
            };
            let response = route.call(deployment, request);
            assert_response_invariants(&response);
            route.assert_success_invariants(&response);
            let _ = shared::aws::lambda::into_response(response);
        }
    }
});
