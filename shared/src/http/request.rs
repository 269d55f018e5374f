//! Reading a client's input: the JSON body, the token, query and path parameters. Every refusal
//! is a 4xx [`ApiError`] that says what to fix.

use lambda_http::http::header::AUTHORIZATION;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt};
use serde_json::{Map, Value};

use crate::domain::identity::CallerClaims;
use crate::domain::meetings::{MAX_SCOPE_ID_LENGTH, is_plain_id};
use crate::domain::token::TokenError;
use crate::http::error::{ApiError, ErrorCode, excerpt};
use crate::http::route::Route;

/// The largest body the routes browsers call accept; every legitimate body there is a few
/// hundred bytes. (VideoSDK's webhooks have their own limit,
/// `crate::domain::webhooks::MAX_WEBHOOK_BODY_BYTES`.)
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// The request body as a JSON object; no body is an empty object.
pub(crate) fn json_body(request: &Request) -> Result<Map<String, Value>, ApiError> {
    let bytes: &[u8] = match request.body() {
        Body::Empty => return Ok(Map::new()),
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => return Ok(Map::new()),
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::new(
            ErrorCode::InvalidBody,
            "The body must be a JSON object, such as {\"token\": \"...\"}.",
        )),
        Err(error) => Err(ApiError::new(
            ErrorCode::InvalidJson,
            format!(
                "The body is not valid JSON (line {}, column {}).",
                error.line(),
                error.column()
            ),
        )),
    }
}

/// The body's bytes exactly as received: API Gateway's text, or the bytes of a body it sent in
/// base64 (`isBase64Encoded`), which lambda_http has decoded.
pub(crate) fn raw_body(request: &Request) -> &[u8] {
    match request.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    }
}

/// The one value of header `name`: `Ok(None)` when it is absent, `Err(())` when it was sent
/// more than once (API Gateway joins repeated headers with commas, so in Lambda that shows as
/// one value holding a comma; a `Request` built otherwise may carry two).
pub(crate) fn single_header<'a>(request: &'a Request, name: &str) -> Result<Option<&'a [u8]>, ()> {
    let mut values = request.headers().get_all(name).iter();
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        (Some(value), None) => Ok(Some(value.as_bytes())),
        (Some(_), Some(_)) => Err(()),
    }
}

/// `https://<domain>[/<stage>]`, where API Gateway received this request: its
/// `requestContext.domainName` (the API's own domain, or a custom domain), and its stage unless
/// that is `$default` (which has no path). `None` when the event names no domain, or names one
/// nothing outside this machine can reach (`localhost`, as `cargo lambda watch` does, or a
/// loopback address), as in events not from API Gateway.
pub(crate) fn api_base_url(request: &Request) -> Option<String> {
    let Some(RequestContext::ApiGatewayV2(context)) = request.request_context_ref() else {
        return None;
    };
    let domain = context.domain_name.as_deref()?.trim();
    let reachable = match url::Url::parse(&format!("https://{domain}")).ok()?.host()? {
        url::Host::Domain(name) => name != "localhost" && !name.ends_with(".localhost"),
        url::Host::Ipv4(address) => !address.is_loopback(),
        url::Host::Ipv6(address) => !address.is_loopback(),
    };
    if !reachable {
        return None;
    }
    Some(match context.stage.as_deref() {
        None | Some("" | "$default") => format!("https://{domain}"),
        Some(stage) => format!("https://{domain}/{stage}"),
    })
}

/// The caller as API Gateway's JWT authorizer verified them (HTTP API, payload 2.0:
/// `requestContext.authorizer.jwt`), with the token it verified when the request carries it, or
/// `None` when no JWT authorizer ran: an open route, a function URL, `cargo lambda watch`.
pub(crate) fn caller_claims(request: &Request) -> Option<CallerClaims> {
    let Some(RequestContext::ApiGatewayV2(context)) = request.request_context_ref() else {
        return None;
    };
    let jwt = context.authorizer.as_ref()?.jwt.as_ref()?;
    let caller = CallerClaims::new(
        jwt.claims.clone(),
        jwt.scopes.clone(),
        authorizer_token_payload(request),
    );
    if !caller.has_verified_token() {
        tracing::warn!(
            "the authorizer's claims came without the token they were read from (Authorization): \
             a list claim such as the groups is trusted only where it holds one value"
        );
    }
    Some(caller)
}

/// The payload of the JWT in `Authorization`, the JWT authorizer's identity source (with or
/// without `Bearer`, as the authorizer takes it). Not verified here: API Gateway verified it,
/// and `CallerClaims::new` keeps it only when its claims are the ones the authorizer delivered.
fn authorizer_token_payload(request: &Request) -> Option<Map<String, Value>> {
    use base64::Engine as _;
    let header = request.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let payload = without_bearer(header.trim()).split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(claims) => Some(claims),
        _ => None,
    }
}

/// An `Authorization` value without its `Bearer ` scheme, if it has one.
fn without_bearer(text: &str) -> &str {
    match text.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => text,
    }
}

/// The caller's token: `Authorization: Bearer <jwt>`, a bare `Authorization: <jwt>` (as
/// VideoSDK's API takes it), or `{"token": "<jwt>"}` in the body (as VideoSDK's examples send it).
/// A body `token` that is not a string (or `null`) is refused even when the header carries the
/// token: the spec types it as a string, and a request means one thing whichever is read.
pub(crate) fn token<'a>(
    request: &'a Request,
    body: &'a Map<String, Value>,
) -> Result<&'a str, ApiError> {
    let body_token = match body.get("token") {
        None | Some(Value::Null) => None,
        Some(Value::String(token)) => Some(token.trim()),
        Some(_) => {
            return Err(ApiError::new(
                ErrorCode::InvalidBody,
                "The body's \"token\" must be a string.",
            ));
        }
    };
    if let Some(value) = request.headers().get(AUTHORIZATION) {
        let text = value
            .to_str()
            .map_err(|_| ApiError::from(TokenError::Malformed))?
            .trim();
        let token = without_bearer(text);
        if !token.is_empty() && !token.eq_ignore_ascii_case("bearer") {
            return Ok(token);
        }
    }
    body_token
        .filter(|token| !token.is_empty())
        .ok_or_else(|| TokenError::Missing.into())
}

/// The single value of a query parameter that may go by several names (`roomId` or
/// `meetingId`). Sending it twice, or under two names, is refused rather than guessed at.
pub(crate) fn query_parameter<'a>(
    request: &'a Request,
    names: &[&str],
) -> Result<Option<&'a str>, ApiError> {
    let Some(query) = request.query_string_parameters_ref() else {
        return Ok(None);
    };
    let mut values = names.iter().filter_map(|name| query.all(name)).flatten();
    let first = values.next();
    if values.next().is_some() {
        return Err(ApiError::new(
            ErrorCode::DuplicateParameter,
            format!("Send {} once.", names.join(" or ")),
        ));
    }
    Ok(first)
}

/// The room a token is scoped to: 1 to 64 characters of `[A-Za-z0-9_-]`, as room ids are.
pub(crate) fn room_scope(value: &str) -> Result<String, ApiError> {
    if is_plain_id(value, MAX_SCOPE_ID_LENGTH) {
        Ok(value.to_owned())
    } else {
        Err(ApiError::new(
            ErrorCode::InvalidRoomId,
            format!(
                "roomId {:?} must be 1 to {MAX_SCOPE_ID_LENGTH} letters, digits, '_' or '-'.",
                excerpt(value)
            ),
        ))
    }
}

/// The parameter that ends `route`'s path (`/validate-meeting/{meetingId}`), from API Gateway's
/// route or, where there is no route (a function URL), the last segment of the path, unless that
/// is the route's own fixed part.
pub(crate) fn path_parameter(request: &Request, route: &Route) -> Option<String> {
    let (fixed, parameter) = route.path.rsplit_once('/')?;
    let name = parameter.strip_prefix('{')?.strip_suffix('}')?;
    let fixed_name = fixed.rsplit('/').next().unwrap_or_default();
    if let Some(value) = request
        .path_parameters_ref()
        .and_then(|parameters| parameters.first(name))
    {
        return Some(value.to_owned());
    }
    request
        .uri()
        .path()
        .rsplit('/')
        .find(|segment| !segment.is_empty())
        .filter(|segment| *segment != fixed_name)
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use lambda_http::http::Request as HttpRequest;

    use super::*;

    fn request(authorization: Option<&str>, body: &str) -> Request {
        let mut builder = HttpRequest::builder().uri("https://api.example/create-meeting");
        if let Some(value) = authorization {
            builder = builder.header(AUTHORIZATION, value);
        }
        builder.body(Body::from(body)).unwrap()
    }

    fn token_of(authorization: Option<&str>, body: &str) -> Result<String, ApiError> {
        let request = request(authorization, body);
        let body = json_body(&request)?;
        token(&request, &body).map(str::to_owned)
    }

    #[test]
    fn finds_the_token_in_all_three_places() {
        assert_eq!(token_of(Some("Bearer a.b.c"), "").unwrap(), "a.b.c");
        assert_eq!(token_of(Some("bearer   a.b.c "), "").unwrap(), "a.b.c");
        assert_eq!(token_of(Some("a.b.c"), "").unwrap(), "a.b.c");
        assert_eq!(
            token_of(None, r#"{"token":"a.b.c","region":"sg001"}"#).unwrap(),
            "a.b.c"
        );
        // The header wins over the body.
        assert_eq!(
            token_of(Some("Bearer h.h.h"), r#"{"token":"b.b.b"}"#).unwrap(),
            "h.h.h"
        );
    }

    #[test]
    fn no_token_is_missing_token() {
        for (authorization, body) in [
            (None, ""),
            (None, "  "),
            (None, "{}"),
            (Some("Bearer "), ""),
            (Some(""), r#"{"token":""}"#),
            (None, r#"{"token":null}"#),
        ] {
            let error = token_of(authorization, body).unwrap_err();
            assert_eq!(
                error.code,
                ErrorCode::MissingToken,
                "{authorization:?} {body:?}"
            );
        }
    }

    #[test]
    fn bad_bodies_are_400() {
        assert_eq!(
            token_of(None, "{\"token\":").unwrap_err().code,
            ErrorCode::InvalidJson
        );
        assert_eq!(
            token_of(None, "[1,2]").unwrap_err().code,
            ErrorCode::InvalidBody
        );
        // Whether or not the header carries the token.
        for authorization in [None, Some("Bearer a.b.c"), Some("a.b.c")] {
            for body in [
                r#"{"token":42}"#,
                r#"{"token":true}"#,
                r#"{"token":["a.b.c"]}"#,
                r#"{"token":{"t":"a.b.c"}}"#,
            ] {
                assert_eq!(
                    token_of(authorization, body).unwrap_err().code,
                    ErrorCode::InvalidBody,
                    "{authorization:?} {body}"
                );
            }
        }
        assert_eq!(
            token_of(Some("Bearer a.b.c"), r#"{"token":null}"#).unwrap(),
            "a.b.c"
        );
    }

    #[test]
    fn query_parameters_accept_aliases_but_not_duplicates() {
        let with_query = |pairs: &[(&str, &str)]| {
            let mut map: HashMap<String, Vec<String>> = HashMap::new();
            for (name, value) in pairs {
                map.entry(name.to_string())
                    .or_default()
                    .push(value.to_string());
            }
            request(None, "").with_query_string_parameters(map)
        };
        let request = with_query(&[("peerId", "alice")]);
        assert_eq!(
            query_parameter(&request, &["participantId", "peerId"]).unwrap(),
            Some("alice")
        );
        let request = with_query(&[("roomId", "a"), ("meetingId", "b")]);
        assert_eq!(
            query_parameter(&request, &["roomId", "meetingId"])
                .unwrap_err()
                .code,
            ErrorCode::DuplicateParameter
        );
        let request = with_query(&[("roomId", "a"), ("roomId", "a")]);
        assert!(query_parameter(&request, &["roomId"]).is_err());
        assert_eq!(
            query_parameter(&with_query(&[]), &["roomId"]).unwrap(),
            None
        );
    }

    #[test]
    fn room_scopes_are_short_and_plain() {
        assert_eq!(room_scope("abcd-efgh_IJ9").unwrap(), "abcd-efgh_IJ9");
        let longest = "a".repeat(MAX_SCOPE_ID_LENGTH);
        assert!(room_scope(&longest).is_ok());
        for bad in [
            "",
            " ",
            "a b",
            "a/b",
            "é",
            "<script>",
            &"a".repeat(MAX_SCOPE_ID_LENGTH + 1),
        ] {
            let error = room_scope(bad).unwrap_err();
            assert_eq!(error.code, ErrorCode::InvalidRoomId, "{bad:?}");
        }
    }

    #[test]
    fn the_api_base_url_is_the_requests_public_domain_and_stage() {
        let base = |domain: Option<&str>, stage: Option<&str>| {
            let event = serde_json::json!({
                "rawPath": "/create-meeting",
                "headers": {"host": "api.example"},
                "requestContext": {"domainName": domain, "stage": stage, "http": {"method": "POST"}}
            });
            let request: Request = lambda_http::request::LambdaRequest::ApiGatewayV2(
                serde_json::from_value(event).unwrap(),
            )
            .into();
            api_base_url(&request)
        };
        let domain = "abc123.execute-api.eu-west-1.amazonaws.com";
        assert_eq!(
            base(Some(domain), Some("$default")).as_deref(),
            Some("https://abc123.execute-api.eu-west-1.amazonaws.com")
        );
        assert_eq!(
            base(Some(domain), Some("prod")).as_deref(),
            Some("https://abc123.execute-api.eu-west-1.amazonaws.com/prod")
        );
        assert_eq!(
            base(Some("api.example.com"), None).as_deref(),
            Some("https://api.example.com")
        );
        for nowhere in [
            None,
            Some(""),
            Some("localhost"),
            Some("LOCALHOST:9000"),
            Some("a.localhost"),
            Some("127.0.0.1:3000"),
            Some("[::1]"),
        ] {
            assert_eq!(base(nowhere, Some("$default")), None, "{nowhere:?}");
        }
        let plain = HttpRequest::builder()
            .uri("https://api.example/create-meeting")
            .body(Body::Empty)
            .unwrap();
        assert_eq!(api_base_url(&plain), None, "no API Gateway context");
    }

    #[test]
    fn path_parameter_falls_back_to_the_last_segment() {
        let request = |path: &str| {
            HttpRequest::builder()
                .uri(format!("https://x.lambda-url.on.aws{path}"))
                .body(Body::Empty)
                .unwrap()
        };
        let route = Route {
            name: "validate-meeting",
            path: "/validate-meeting/{meetingId}",
            method: lambda_http::http::Method::POST,
            cors: true,
            max_body_bytes: MAX_BODY_BYTES,
        };
        let id = |path| path_parameter(&request(path), &route);
        assert_eq!(
            id("/validate-meeting/abcd-efgh-ijkl").as_deref(),
            Some("abcd-efgh-ijkl")
        );
        assert_eq!(id("/abcd-efgh-ijkl/").as_deref(), Some("abcd-efgh-ijkl"));
        assert_eq!(id("/validate-meeting"), None);
        assert_eq!(id("/"), None);

        let mut parameters = HashMap::new();
        parameters.insert("meetingId".to_string(), "from-route".to_string());
        let routed = request("/validate-meeting/ignored").with_path_parameters(parameters);
        assert_eq!(
            path_parameter(&routed, &route).as_deref(),
            Some("from-route")
        );
    }
}
