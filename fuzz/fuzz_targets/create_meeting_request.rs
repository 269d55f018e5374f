//! The `create-meeting` handler on requests built from fuzzed method, path, query, headers and body
//! (tokens signed with the right key, another key, or built from fuzzed parts): never a panic,
//! never a 5xx, JSON errors with a code and a message, and every 200 worth what it says.
#![no_main]

use libfuzzer_sys::fuzz_target;
use videosdk_api_fuzz::requests::HttpInput;
use videosdk_api_fuzz::routes::Route;

fuzz_target!(|input: HttpInput| {
    if let Some(request) = input.request(Route::CreateMeeting) {
        Route::CreateMeeting.call_and_check(input.deployment, request);
    }
});
