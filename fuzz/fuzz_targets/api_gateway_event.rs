//! Arbitrary bytes as an API Gateway HTTP API event through the four handlers of
//! `shared::routes::API` and the moderation function's handler, in every deployment, the way
//! each function binary runs them (`shared::aws::lambda::run`): serde_json,
//! `shared::aws::lambda::into_request`, the handler, `shared::aws::lambda::into_response`.
//! Seeded with the events in `events/`.
//!
//! The same invariants as the `*_request` targets; an event `into_request` refuses must be
//! refused with a 400 `invalid_request` (see `api_gateway_event_parse`). The moderation function
//! gets the event as it came when its path names one of the moderation routes, else once with
//! the path of each: only a caller who could be a moderator gets past authorization
//! (`videosdk_api_fuzz::moderation`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use videosdk_api_fuzz::deployments::Deployment;
use videosdk_api_fuzz::events::{api_gateway_event, event_into_request};
use videosdk_api_fuzz::invariants::assert_response_invariants;
use videosdk_api_fuzz::moderation::{
    ModerationRoute, assert_moderation_invariants, could_moderate,
};
use videosdk_api_fuzz::routes::Route;

fuzz_target!(|data: &[u8]| {
    let Some(event) = api_gateway_event(data) else {
        return;
    };
    let moderation_paths: Vec<Option<&str>> =
        match ModerationRoute::of_path(event.raw_path.as_deref().unwrap_or_default()) {
            Some(_) => vec![None],
            None => ModerationRoute::ALL
                .map(|route| Some(route.path()))
                .to_vec(),
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
        for path in &moderation_paths {
            let mut event = event.clone();
            if let Some(path) = path {
                event.raw_path = Some((*path).to_owned());
            }
            let Some(request) = event_into_request(event) else {
                return;
            };
            let path = request.uri().path().to_owned();
            let may_moderate = could_moderate(deployment, &request);
            let (response, logs) = ModerationRoute::call(deployment, request);
            assert_moderation_invariants(&path, may_moderate, &response, &logs);
            let _ = shared::aws::lambda::into_response(response);
        }
    }
});
