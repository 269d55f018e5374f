//! The `get-token` handler on requests built from fuzzed method, path, query, headers, body and
//! JWT authorizer claims (tokens signed with the right key, another key, or built from fuzzed
//! parts): never a panic, never a 5xx, JSON errors with a code and a message, every 200 worth
//! what it says, and a token for a signed-in caller is theirs (their `sub`, `allow_mod` only
//! for a moderator); behind the authorizer, no token without claims.
#![no_main]

use libfuzzer_sys::fuzz_target;
use videosdk_api_fuzz::deployments::Deployment;
use videosdk_api_fuzz::invariants::assert_response_invariants;
use videosdk_api_fuzz::requests::HttpInput;
use videosdk_api_fuzz::routes::Route;

fuzz_target!(|input: HttpInput| {
    if let Some(request) = input.request(Route::GetToken) {
        let response = Route::GetToken.call(input.deployment, request);
        assert_response_invariants(&response);
        Route::GetToken.assert_success_invariants(&response);
        match &input.authorizer {
            Some(authorizer) => authorizer.assert_token_is_the_callers(input.deployment, &response),
            None if input.deployment == Deployment::SignedIn => assert_ne!(
                response.status(),
                lambda_http::http::StatusCode::OK,
                "a token without an identity behind the authorizer"
            ),
            None => {}
        }
    }
});
