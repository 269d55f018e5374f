//! API Gateway HTTP API events, read and converted as the functions' loop
//! (`shared::aws::lambda::run`) reads and converts them.

use lambda_http::Request;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_http::http::StatusCode;
use shared::aws::lambda::into_request;
use shared::http::error::ErrorCode;

use crate::invariants::assert_response_invariants;

/// An API Gateway HTTP API (payload 2.0) event as the Lambda runtime reads it from the invocation
/// body (serde_json), or `None` for bytes that are not one (the runtime reports those as a failed
/// invocation before the functions' code runs; API Gateway never sends them).
pub fn api_gateway_event(data: &[u8]) -> Option<ApiGatewayV2httpRequest> {
    serde_json::from_slice(data).ok()
}

/// The event as the functions' loop (`shared::aws::lambda::run`) turns it into a request:
/// `shared::aws::lambda::into_request`, which must never panic. `None` when it refuses the event,
/// which it may only do with a 400 `invalid_request` in the error shape of every other answer
/// (that response is what API Gateway then returns).
pub fn event_into_request(event: ApiGatewayV2httpRequest) -> Option<Request> {
    match into_request(event) {
        Ok(request) => Some(request),
        Err(error) => {
            assert_eq!(
                (error.status, error.code),
                (StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest),
                "into_request refused an event with something else than 400 invalid_request: {error:?}"
            );
            let response = error.into_response();
            assert_response_invariants(&response);
            let _ = shared::aws::lambda::into_response(response);
            None
        }
    }
}
