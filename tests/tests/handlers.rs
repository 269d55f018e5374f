//! The three handlers called directly, as the Lambda runtime calls them: the contract of each
//! route, the common conventions (CORS, methods, sizes) and the full token -> meeting flow.

use api_tests::ApiState as State;
use api_tests::error_code_of as error_code;
use api_tests::{claims_of, dev_credentials, dev_state, invoke, json};
use lambda_http::http::header::{
    ACCESS_CONTROL_ALLOW_ORIGIN, ALLOW, AUTHORIZATION, CONTENT_TYPE, ORIGIN, VARY,
};
use lambda_http::http::{Request as HttpRequest, StatusCode};
use lambda_http::{Body, Request, RequestExt};
use serde_json::{Value, json};
use shared::domain::unix_now;

/// A request as lambda_http builds it from an event: the query string arrives already decoded,
/// as API Gateway's parameters, so values need not be valid in a URI.
fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Request {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let mut builder = HttpRequest::builder().method(method).uri(format!(
        "https://abc.execute-api.us-east-1.amazonaws.com{path}"
    ));
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder.body(Body::from(body)).expect("request builds");
    request.with_query_string_parameters(api_tests::query_parameters(query))
}

async fn get_token(state: &State, query: &str) -> (StatusCode, Value) {
    let response = invoke(
        "get-token",
        state,
        request("GET", &format!("/get-token{query}"), &[], ""),
    )
    .await;
    (response.status(), json(&response))
}

async fn token(state: &State) -> String {
    let (status, body) = get_token(state, "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().expect("a token").to_owned()
}

#[tokio::test]
async fn get_token_signs_the_default_policy() {
    let state = dev_state(&[]).await;
    let before = unix_now();
    let (status, body) = get_token(&state, "").await;
    assert_eq!(status, StatusCode::OK);
    let claims = claims_of(body["token"].as_str().unwrap());
    assert_eq!(claims["apikey"], dev_credentials().api_key());
    assert_eq!(claims["permissions"], json!(["allow_join"]));
    assert_eq!(claims["version"], 2);
    assert_eq!(claims["roles"], json!(["rtc"]), "a participant token");
    let iat = claims["iat"].as_u64().unwrap();
    assert!(iat >= before && iat <= unix_now());
    assert_eq!(claims["exp"].as_u64().unwrap(), iat + 600);
    assert_eq!(body["expiresAt"], claims["exp"]);
    assert!(claims.get("roomId").is_none() && claims.get("participantId").is_none());
}

#[tokio::test]
async fn token_roles_are_the_operators_as_written() {
    for (roles, expected) in [
        ("CRAWLER", json!(["CRAWLER"])),
        ("rtc,crawler", json!(["rtc", "crawler"])),
    ] {
        let state = dev_state(&[("TOKEN_ROLES", roles)]).await;
        let (status, body) = get_token(&state, "?roomId=abcd-efgh-ijkl").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            claims_of(body["token"].as_str().unwrap())["roles"],
            expected
        );
    }
}

#[tokio::test]
async fn get_token_scopes_to_room_and_participant_under_both_names() {
    let state = dev_state(&[("TOKEN_TTL_SECONDS", "60")]).await;
    for query in [
        "?roomId=abcd-efgh-ijkl&participantId=alice",
        "?meetingId=abcd-efgh-ijkl&peerId=alice",
    ] {
        let (status, body) = get_token(&state, query).await;
        assert_eq!(status, StatusCode::OK, "{query}: {body}");
        let claims = claims_of(body["token"].as_str().unwrap());
        assert_eq!(claims["roomId"], "abcd-efgh-ijkl");
        assert_eq!(claims["participantId"], "alice");
        assert_eq!(claims["roles"], json!(["rtc"]));
        assert_eq!(
            claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
            60
        );
    }
}

#[tokio::test]
async fn get_token_refuses_what_the_policy_forbids() {
    let state = dev_state(&[]).await;
    for (query, status, code) in [
        (
            "?permissions=allow_join,allow_mod",
            403,
            "permission_not_allowed",
        ),
        ("?permissions=allow_mod", 400, "invalid_permissions"),
        ("?permissions=root", 400, "unknown_permission"),
        (
            "?permissions=ask_join,allow_join",
            400,
            "conflicting_permissions",
        ),
        ("?permissions=", 400, "invalid_permissions"),
        ("?roomId=", 400, "invalid_room_id"),
        ("?roomId=a.b", 400, "invalid_room_id"),
        ("?participantId=a b", 400, "invalid_participant_id"),
        ("?participantId=tab\there", 400, "invalid_participant_id"),
        ("?roomId=a&meetingId=b", 400, "duplicate_parameter"),
    ] {
        let (actual, body) = get_token(&state, query).await;
        assert_eq!(
            (actual.as_u16(), error_code(&body)),
            (status, code),
            "{query}"
        );
    }
    let long = format!("?peerId={}", "p".repeat(129));
    assert_eq!(get_token(&state, &long).await.0, StatusCode::BAD_REQUEST);
    let longest = format!("?peerId={}", "p".repeat(128));
    assert_eq!(get_token(&state, &longest).await.0, StatusCode::OK);

    let moderators = dev_state(&[("ALLOWED_PERMISSIONS", "allow_join,allow_mod")]).await;
    let (status, body) = get_token(&moderators, "?permissions=allow_join,allow_mod").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        claims_of(body["token"].as_str().unwrap())["permissions"],
        json!(["allow_join", "allow_mod"])
    );
}

#[tokio::test]
async fn created_meetings_validate_and_others_do_not() {
    let state = dev_state(&[]).await;
    let token = token(&state).await;
    let bearer = format!("Bearer {token}");
    let response = invoke(
        "create-meeting",
        &state,
        request("POST", "/create-meeting", &[("authorization", &bearer)], ""),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json(&response);
    let id = body["meetingId"].as_str().unwrap().to_owned();
    assert_eq!(body["roomId"], id.as_str());

    let validate = |path: String, headers: Vec<(&'static str, String)>, body: String| {
        let state = &state;
        async move {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            invoke(
                "validate-meeting",
                state,
                request("POST", &path, &headers, &body),
            )
            .await
        }
    };
    let response = validate(
        format!("/validate-meeting/{id}"),
        vec![("authorization", bearer.clone())],
        String::new(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        json(&response),
        json!({"meetingId": id, "roomId": id, "valid": true})
    );

    // The token in the body, as VideoSDK's example servers send it.
    let body = json!({"token": token}).to_string();
    let response = validate(format!("/validate-meeting/{id}"), vec![], body).await;
    assert_eq!(response.status(), StatusCode::OK);

    let mut forged = id.clone().into_bytes();
    forged[0] = if forged[0] == b'a' { b'b' } else { b'a' };
    let forged = String::from_utf8(forged).unwrap();
    let response = validate(
        format!("/validate-meeting/{forged}"),
        vec![("authorization", bearer.clone())],
        String::new(),
    )
    .await;
    assert_eq!(
        (
            response.status().as_u16(),
            error_code(&json(&response)).to_owned()
        ),
        (404, "meeting_not_found".into())
    );

    for malformed in ["ABCD-EFGH-IJKL", "abcd", "abcd-efgh-ijkl-mnop"] {
        let response = validate(
            format!("/validate-meeting/{malformed}"),
            vec![("authorization", bearer.clone())],
            String::new(),
        )
        .await;
        assert_eq!(
            error_code(&json(&response)),
            "malformed_meeting_id",
            "{malformed}"
        );
    }
    let response = validate(
        "/validate-meeting".into(),
        vec![("authorization", bearer.clone())],
        String::new(),
    )
    .await;
    assert_eq!(error_code(&json(&response)), "missing_meeting_id");

    // A deployment with another secret did not issue this id.
    let other = api_tests::state(&[
        ("VIDEOSDK_API_KEY", dev_credentials().api_key()),
        ("VIDEOSDK_SECRET_KEY", "other"),
        ("MEETING_BACKEND", "local"),
    ])
    .await;
    let response = invoke(
        "validate-meeting",
        &other,
        request("POST", &format!("/validate-meeting/{id}"), &[], ""),
    )
    .await;
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "our token is not theirs either"
    );
}

#[tokio::test]
async fn token_refusals_are_401_with_their_code() {
    let state = dev_state(&[]).await;
    let valid = token(&state).await;
    let expired = {
        let mut claims = shared::domain::token::Claims::new(
            dev_credentials().api_key(),
            &shared::domain::permissions::PermissionSet::parse_list("allow_join").unwrap(),
            &shared::domain::permissions::TokenRoles::participant(),
            shared::domain::token::TokenScope::default(),
            unix_now() - 700,
            600,
        );
        claims.exp = unix_now() - 100;
        state.keys().await.sign(&claims).unwrap()
    };
    // Change the signature's first character: the last one carries padding bits, and a
    // change there can make the base64 non-canonical, which is a malformed token instead.
    let signature_start = valid.rfind('.').unwrap() + 1;
    let mut tampered = valid.clone();
    let replacement = if valid[signature_start..].starts_with('A') {
        "B"
    } else {
        "A"
    };
    tampered.replace_range(signature_start..=signature_start, replacement);
    for function in ["create-meeting", "validate-meeting"] {
        let path = if function == "create-meeting" {
            "/create-meeting".to_owned()
        } else {
            "/validate-meeting/abcd-efgh-ijkl".to_owned()
        };
        for (authorization, code) in [
            (None, "missing_token"),
            (Some("Bearer".to_owned()), "missing_token"),
            (Some(format!("Bearer {expired}")), "expired_token"),
            (Some(format!("Bearer {tampered}")), "invalid_signature"),
            (Some("Bearer not-a-jwt".to_owned()), "invalid_token"),
            (Some("Basic dXNlcjpwYXNz".to_owned()), "invalid_token"),
        ] {
            let headers: Vec<(&str, &str)> = authorization
                .iter()
                .map(|value| ("authorization", value.as_str()))
                .collect();
            let response = invoke(function, &state, request("POST", &path, &headers, "")).await;
            assert_eq!(
                response.status(),
                StatusCode::UNAUTHORIZED,
                "{function} {authorization:?}"
            );
            assert_eq!(
                error_code(&json(&response)),
                code,
                "{function} {authorization:?}"
            );
        }
    }
}

#[tokio::test]
async fn wrong_methods_oversized_and_bad_bodies_are_4xx() {
    let state = dev_state(&[]).await;
    let response = invoke(
        "get-token",
        &state,
        request("DELETE", "/get-token", &[], ""),
    )
    .await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()[ALLOW], "GET, OPTIONS");
    assert_eq!(error_code(&json(&response)), "method_not_allowed");
    let response = invoke(
        "create-meeting",
        &state,
        request("PUT", "/create-meeting", &[], ""),
    )
    .await;
    assert_eq!(response.headers()[ALLOW], "POST, OPTIONS");

    let big = format!("{{\"token\":\"{}\"}}", "x".repeat(16 * 1024));
    let response = invoke(
        "create-meeting",
        &state,
        request("POST", "/create-meeting", &[], &big),
    )
    .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    for (body, code) in [
        ("{", "invalid_json"),
        ("\"token\"", "invalid_body"),
        ("{\"token\":[1]}", "invalid_body"),
    ] {
        let response = invoke(
            "validate-meeting",
            &state,
            request("POST", "/validate-meeting/abcd-efgh-ijkl", &[], body),
        )
        .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error_code(&json(&response)), code, "{body}");
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
    }
}

/// The spec types the body's `token` as a string: another type is refused even when the header
/// carries a valid token (and the body's token would not be read).
#[tokio::test]
async fn a_body_token_that_is_not_a_string_is_400_with_a_header_token_too() {
    let state = dev_state(&[]).await;
    let bearer = format!("Bearer {}", token(&state).await);
    for (function, path) in [
        ("create-meeting", "/create-meeting"),
        ("validate-meeting", "/validate-meeting/abcd-efgh-ijkl"),
    ] {
        for body in [
            "{\"token\":42}",
            "{\"token\":false}",
            "{\"token\":[\"a.b.c\"]}",
            "{\"token\":{}}",
        ] {
            let response = invoke(
                function,
                &state,
                request("POST", path, &[("authorization", &bearer)], body),
            )
            .await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path} {body}");
            assert_eq!(
                error_code(&json(&response)),
                "invalid_body",
                "{path} {body}"
            );
        }
        // `null` is no token at all: the header's is read.
        let response = invoke(
            function,
            &state,
            request(
                "POST",
                path,
                &[("authorization", &bearer)],
                "{\"token\":null}",
            ),
        )
        .await;
        assert_ne!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        assert_ne!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
}

#[tokio::test]
async fn cors_headers_are_on_every_answer_for_allowed_origins_only() {
    let app = "https://app.example.com";
    let state = dev_state(&[(
        "ALLOWED_ORIGINS",
        "https://app.example.com,http://127.0.0.1:8080",
    )])
    .await;

    let response = invoke(
        "get-token",
        &state,
        request("GET", "/get-token", &[("origin", app)], ""),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], app);
    assert_eq!(response.headers()[VARY], "Origin");

    // Errors carry the headers too, so a page can read the error body.
    let response = invoke(
        "create-meeting",
        &state,
        request("POST", "/create-meeting", &[("origin", app)], ""),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], app);

    let preflight = invoke(
        "validate-meeting",
        &state,
        request(
            "OPTIONS",
            "/validate-meeting/abcd-efgh-ijkl",
            &[("origin", app), ("access-control-request-method", "POST")],
            "",
        ),
    )
    .await;
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    assert_eq!(preflight.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], app);
    assert_eq!(
        preflight.headers()["access-control-allow-methods"],
        "POST,OPTIONS"
    );
    assert_eq!(
        preflight.headers()["access-control-allow-headers"],
        "authorization,content-type"
    );

    // Another origin gets no token and no CORS header that would let it read the refusal.
    for method in ["GET", "OPTIONS"] {
        let response = invoke(
            "get-token",
            &state,
            request(
                method,
                "/get-token",
                &[("origin", "https://evil.example")],
                "",
            ),
        )
        .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{method}");
        assert!(
            response
                .headers()
                .get(ACCESS_CONTROL_ALLOW_ORIGIN)
                .is_none()
        );
        assert_eq!(error_code(&json(&response)), "origin_not_allowed");
    }

    // Without an Origin header (curl, servers) the call is not a browser's and goes through.
    let response = invoke("get-token", &state, request("GET", "/get-token", &[], "")).await;
    assert_eq!(response.status(), StatusCode::OK);

    let open = dev_state(&[]).await;
    let response = invoke(
        "create-meeting",
        &open,
        request(
            "POST",
            "/create-meeting",
            &[
                (ORIGIN.as_str(), "https://any.example"),
                (AUTHORIZATION.as_str(), "x"),
            ],
            "",
        ),
    )
    .await;
    assert_eq!(response.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
}
