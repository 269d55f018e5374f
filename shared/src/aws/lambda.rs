//! API Gateway HTTP API (payload 2.0) events in, responses out, and the Lambda loop that joins
//! them to a handler.
//!
//! `lambda_http::run` would do this, but lambda_http 1.3.2 turns an event into a request with
//! `unwrap`/`expect` on the URI it builds from the event's `Host`, `X-Forwarded-Proto`, path and
//! raw query: an event whose URI does not parse (an empty or malformed `Host`, a scheme such as
//! `1`, a `"` in the query) panics before any handler runs, and the caller sees a 502 from API
//! Gateway; so does one whose body is marked base64 (`isBase64Encoded`) but is not. Here the same
//! URI and body are checked first with the same parsers, and such an event gets a 400
//! `invalid_request`; every other event goes through lambda_http's own conversion, so the
//! handlers see exactly the request they would have seen. `fuzz/fuzz_targets/api_gateway_event_parse.rs`
//! keeps the check and lambda_http's conversion in step.

use std::convert::Infallible;
use std::future::Future;

use lambda_http::aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use lambda_http::http::header::{HOST, SET_COOKIE};
use lambda_http::http::{HeaderMap, Uri};
use lambda_http::lambda_runtime::{self, LambdaEvent};
use lambda_http::request::LambdaRequest;
use lambda_http::{Body, Error, Request, RequestExt, Response, service_fn};

use crate::aws::metrics;
use crate::http::error::{ApiError, ErrorCode};
use crate::http::response::no_store;

/// Runs the Lambda loop: every API Gateway event becomes a request for `handler` (or a 400 when
/// it cannot be one), and every response goes back to API Gateway.
pub async fn run<F, Fut>(handler: F) -> Result<(), Error>
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>, Infallible>>,
{
    let handler = &handler;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayV2httpRequest>| async move {
            Ok::<_, Infallible>(answer(handler, event).await)
        },
    ))
    .await
}

/// What [`run`] answers to one event, counting the answers with an error code
/// (`aws::metrics`).
pub async fn answer<F, Fut>(
    handler: &F,
    event: LambdaEvent<ApiGatewayV2httpRequest>,
) -> ApiGatewayV2httpResponse
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>, Infallible>>,
{
    let LambdaEvent { payload, context } = event;
    let response = match into_request(payload) {
        Ok(request) => {
            let Ok(response) = handler(request.with_lambda_context(context)).await;
            response
        }
        Err(error) => {
            tracing::warn!(code = error.code.as_str(), message = %error.message, "event refused");
            error.into_response()
        }
    };
    metrics::answered(&response);
    into_response(response)
}

/// The request a handler sees for `event`, or a 400 when the event's host, scheme, path and
/// query do not form a valid URI, or its body is marked base64 (`isBase64Encoded`) but is not
/// (lambda_http would panic on either).
pub fn into_request(event: ApiGatewayV2httpRequest) -> Result<Request, ApiError> {
    check_uri(&event)?;
    check_body(&event)?;
    Ok(LambdaRequest::ApiGatewayV2(event).into())
}

/// lambda_http 1.3.2 (aws_lambda_events' `Body::from_maybe_encoded`) decodes a body marked
/// base64 with `expect`, with base64's standard engine: the same decoding, its failure returned.
fn check_body(event: &ApiGatewayV2httpRequest) -> Result<(), ApiError> {
    use base64::Engine as _;
    match event.body.as_deref() {
        Some(body)
            if event.is_base64_encoded
                && base64::engine::general_purpose::STANDARD
                    .decode(body)
                    .is_err() =>
        {
            Err(invalid(
                "its body is marked base64-encoded but is not base64",
            ))
        }
        _ => Ok(()),
    }
}

/// The payload 2.0 response API Gateway expects, as lambda_http builds it (`Set-Cookie` headers
/// go to `cookies`, binary bodies are base64-encoded), marked `Cache-Control: no-store`: this is
/// where every answer of the functions passes.
pub fn into_response(mut response: Response<Body>) -> ApiGatewayV2httpResponse {
    no_store(&mut response);
    let (parts, body) = response.into_parts();
    let mut headers = parts.headers;
    let cookies = headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok().map(str::to_owned))
        .collect();
    headers.remove(SET_COOKIE);
    let (is_base64_encoded, body) = match body {
        Body::Empty => (false, None),
        text @ Body::Text(_) => (false, Some(text)),
        binary @ Body::Binary(_) => (true, Some(binary)),
        _ => (false, None),
    };
    let mut answer = ApiGatewayV2httpResponse::default();
    answer.status_code = i64::from(parts.status.as_u16());
    answer.headers = headers;
    answer.multi_value_headers = HeaderMap::new();
    answer.body = body;
    answer.is_base64_encoded = is_base64_encoded;
    answer.cookies = cookies;
    answer
}

/// Builds the URI the way lambda_http 1.3.2 does (`into_api_gateway_v2_request` and
/// `build_request_uri`), with the same parsers (`url`, then `http`), but returns the failure.
fn check_uri(event: &ApiGatewayV2httpRequest) -> Result<(), ApiError> {
    let host = event
        .headers
        .get(HOST)
        .and_then(|value| value.to_str().ok())
        .or(event.request_context.domain_name.as_deref());
    let raw_path = event.raw_path.as_deref().unwrap_or_default();
    let path = path_with_stage(event.request_context.stage.as_deref(), raw_path);
    let mut uri = match host {
        None => url::Url::parse(&format!("http://localhost{path}"))
            .map(|url| url.path().to_owned())
            .map_err(|_| invalid("its path is not a valid URL path"))?,
        Some(host) => {
            let scheme = event
                .headers
                .get("x-forwarded-proto")
                .and_then(|value| value.to_str().ok())
                .unwrap_or("https");
            url::Url::parse(&format!("{scheme}://{host}{path}"))
                .map(|url| url.to_string())
                .map_err(|_| invalid("its Host, X-Forwarded-Proto and path do not form a URL"))?
        }
    };
    if let Some(query) = event.raw_query_string.as_deref()
        && !query.is_empty()
    {
        uri.push('?');
        uri.push_str(query);
    }
    Uri::try_from(uri).map_err(|_| invalid("its URL (path and query) is not a valid URI"))?;
    Ok(())
}

/// lambda_http's `apigw_path_with_stage`: a stage other than `$default` prefixes the path, unless
/// `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` is set.
fn path_with_stage(stage: Option<&str>, path: &str) -> String {
    match stage {
        _ if std::env::var_os("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH").is_some() => path.to_owned(),
        None | Some("$default") => path.to_owned(),
        Some(stage) if path.starts_with(&format!("/{stage}/")) => path.to_owned(),
        Some(stage) => format!("/{stage}{path}"),
    }
}

fn invalid(why: &str) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidRequest,
        format!("The request cannot be read: {why}."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::StatusCode;
    use serde_json::json;

    fn event(value: serde_json::Value) -> ApiGatewayV2httpRequest {
        serde_json::from_value(value).expect("a payload 2.0 event")
    }

    fn get_token(headers: serde_json::Value, query: &str) -> ApiGatewayV2httpRequest {
        event(json!({
            "version": "2.0",
            "rawPath": "/get-token",
            "rawQueryString": query,
            "headers": headers,
            "requestContext": {"http": {"method": "GET"}, "stage": "$default"}
        }))
    }

    #[test]
    fn a_normal_event_becomes_the_request_lambda_http_makes() {
        let mut request = into_request(get_token(
            json!({"host": "api.example.com"}),
            "roomId=abc&participantId=p1",
        ))
        .expect("valid");
        assert_eq!(
            request.uri().to_string(),
            "https://api.example.com/get-token?roomId=abc&participantId=p1"
        );
        let query = request.query_string_parameters();
        assert_eq!(query.first("roomId"), Some("abc"));
        request = request.with_path_parameters(std::collections::HashMap::from([(
            "meetingId".to_owned(),
            "x".to_owned(),
        )]));
        assert_eq!(request.path_parameters().first("meetingId"), Some("x"));
    }

    /// Whether lambda_http's own conversion panics on the event (it prints the panic).
    fn lambda_http_panics(event: &serde_json::Value) -> bool {
        let text = event.to_string();
        std::panic::catch_unwind(|| lambda_http::request::from_str(&text)).is_err()
    }

    #[test]
    fn events_whose_uri_lambda_http_cannot_build_are_refused_with_400() {
        let cases = [
            (json!({"host": ""}), None, ""),
            (
                json!({"host": "example.com:notaport"}),
                Some("/get-token"),
                "",
            ),
            (json!({"host": "example.com:99999"}), Some("/get-token"), ""),
            (json!({"host": "`"}), None, ""),
            (
                json!({"host": "example.com", "x-forwarded-proto": "1"}),
                Some("/get-token"),
                "",
            ),
            (json!({"host": "example.com"}), Some("/get-token"), "a=\""),
            (json!({"host": "example.com"}), Some("/get-token"), "a=<b>"),
            (json!({}), Some("/get-token"), "a b"),
        ];
        for (headers, path, query) in cases {
            let value = json!({
                "rawPath": path,
                "rawQueryString": query,
                "headers": headers,
                "requestContext": {"http": {"method": "GET"}}
            });
            assert!(lambda_http_panics(&value), "lambda_http takes {value}");
            let error = into_request(event(value.clone())).expect_err(&value.to_string());
            assert_eq!(error.status, StatusCode::BAD_REQUEST, "{value}");
            assert_eq!(error.code, ErrorCode::InvalidRequest, "{value}");
        }
    }

    #[test]
    fn a_body_marked_base64_that_is_not_is_refused_with_400() {
        let marked_base64 = |body: &str| {
            json!({
                "rawPath": "/videosdk-webhook",
                "headers": {"host": "api.example.com"},
                "requestContext": {"http": {"method": "POST"}},
                "isBase64Encoded": true,
                "body": body
            })
        };
        for body in ["%%", "eyJ", "ey:J9", "e30=\n"] {
            let value = marked_base64(body);
            assert!(lambda_http_panics(&value), "lambda_http takes {value}");
            let error = into_request(event(value.clone())).expect_err(&value.to_string());
            assert_eq!(error.code, ErrorCode::InvalidRequest, "{value}");
        }
        for body in ["", "e30="] {
            let value = marked_base64(body);
            let request = into_request(event(value)).expect("valid base64");
            assert_eq!(
                request.body().as_ref(),
                if body.is_empty() { &b""[..] } else { b"{}" }
            );
        }
    }

    #[test]
    fn the_stage_prefixes_the_path_as_lambda_http_does() {
        let request = into_request(event(json!({
            "rawPath": "/get-token",
            "headers": {"host": "api.example.com"},
            "requestContext": {"http": {"method": "GET"}, "stage": "prod"}
        })))
        .expect("valid");
        assert_eq!(request.uri().path(), "/prod/get-token");
    }

    #[test]
    fn responses_keep_status_headers_and_body_and_move_cookies() {
        let response = Response::builder()
            .status(404)
            .header("content-type", "application/json")
            .header(SET_COOKIE, "a=1")
            .body(Body::from("{\"error\":{}}"))
            .expect("response");
        let answer = into_response(response);
        assert_eq!(answer.status_code, 404);
        assert_eq!(answer.headers["content-type"], "application/json");
        assert_eq!(answer.headers["cache-control"], "no-store");
        assert!(answer.headers.get(SET_COOKIE).is_none());
        assert_eq!(answer.cookies, vec!["a=1".to_owned()]);
        assert!(!answer.is_base64_encoded);
        assert_eq!(answer.body, Some(Body::from("{\"error\":{}}")));

        let binary = into_response(Response::new(Body::from(vec![0u8, 255])));
        assert!(binary.is_base64_encoded);
        assert_eq!(into_response(Response::new(Body::Empty)).body, None);
    }
}
