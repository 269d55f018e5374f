//! A token-forgery battery through the real handlers: every forged, confused, malformed or
//! oversized token is refused with 401 and the code that says why.

use api_tests::ApiState as State;
use api_tests::{dev_credentials, dev_state, invoke, status_and_code};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lambda_http::Body;
use lambda_http::http::Request;
use ring::hmac;
use serde_json::json;
use shared::domain::unix_now;

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A JWT with this exact header and payload text, HMAC-signed with `key` by `algorithm`.
fn hmac_signed(algorithm: hmac::Algorithm, header: &str, payload: &str, key: &[u8]) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let tag = hmac::sign(&hmac::Key::new(algorithm, key), input.as_bytes());
    format!("{input}.{}", b64(tag.as_ref()))
}

fn hs256(header: &str, payload: &str, key: &[u8]) -> String {
    hmac_signed(hmac::HMAC_SHA256, header, payload, key)
}

const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

fn payload(apikey: &str, exp: serde_json::Value) -> String {
    json!({"apikey": apikey, "permissions": ["allow_join"], "version": 2,
        "roles": ["rtc"], "iat": unix_now(), "exp": exp})
    .to_string()
}

/// Sends `token` to create-meeting in the JSON body, or in the Authorization header when it is
/// too large for the body limit, and returns the status and error code.
async fn answer(state: &State, token: &str) -> (u16, String) {
    let builder = Request::builder()
        .method("POST")
        .uri("https://api.example/create-meeting");
    let request = if token.len() > 16 * 1024 {
        builder
            .header("authorization", format!("Bearer {token}"))
            .body(Body::Empty)
    } else {
        builder.body(Body::from(json!({ "token": token }).to_string()))
    };
    let response = invoke("create-meeting", state, request.unwrap()).await;
    status_and_code(&response)
}

#[tokio::test]
async fn every_forgery_is_refused_with_its_code() {
    let state = dev_state(&[]).await;
    let credentials = dev_credentials();
    let secret = credentials.secret_key();
    let ours = credentials.api_key();
    let later = json!(unix_now() + 600);
    let valid = payload(ours, later.clone());
    let good = hs256(HEADER, &valid, secret);
    assert_eq!(
        answer(&state, &good).await,
        (200, String::new()),
        "the battery's baseline"
    );

    let (head, rest) = good.split_once('.').unwrap();
    let (body, signature) = rest.split_once('.').unwrap();
    let signature_bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let mut flipped = signature_bytes.clone();
    flipped[0] ^= 1;

    let cases: Vec<(&str, String, &str)> = vec![
        (
            "alg none, no signature",
            format!("{}.{body}.", b64(r#"{"alg":"none","typ":"JWT"}"#)),
            "unsupported_algorithm",
        ),
        (
            "alg None",
            format!("{}.{body}.", b64(r#"{"alg":"None"}"#)),
            "unsupported_algorithm",
        ),
        (
            "alg HS512 with our key",
            hmac_signed(
                hmac::HMAC_SHA512,
                r#"{"alg":"HS512","typ":"JWT"}"#,
                &valid,
                secret,
            ),
            "unsupported_algorithm",
        ),
        // Key confusion: RS256 claimed, "verified" with the HMAC secret as if it were a public key.
        (
            "RS256 signed with HMAC",
            hs256(r#"{"alg":"RS256","typ":"JWT"}"#, &valid, secret),
            "unsupported_algorithm",
        ),
        (
            "ES256",
            format!(
                "{}.{body}.{signature}",
                b64(r#"{"alg":"ES256","typ":"JWT"}"#)
            ),
            "unsupported_algorithm",
        ),
        (
            "re-signed with another key",
            hs256(HEADER, &valid, b"not-our-secret"),
            "invalid_signature",
        ),
        (
            "payload swapped under our signature",
            format!(
                "{head}.{}.{signature}",
                b64(payload(ours, json!(unix_now() + 86_400 * 365)))
            ),
            "invalid_signature",
        ),
        (
            "signature truncated by one byte",
            format!("{head}.{body}.{}", b64(&signature_bytes[..31])),
            "invalid_signature",
        ),
        (
            "signature padded by one byte",
            format!(
                "{head}.{body}.{}",
                b64([&signature_bytes[..], &[0]].concat())
            ),
            "invalid_signature",
        ),
        (
            "signature bit flipped",
            format!("{head}.{body}.{}", b64(&flipped)),
            "invalid_signature",
        ),
        (
            "signature empty",
            format!("{head}.{body}."),
            "invalid_signature",
        ),
        (
            "duplicate apikey keys",
            hs256(
                HEADER,
                &format!(r#"{{"apikey":"other","apikey":"{ours}","exp":{later}}}"#),
                secret,
            ),
            "invalid_claims",
        ),
        (
            "exp as a string",
            hs256(HEADER, &payload(ours, json!(later.to_string())), secret),
            "invalid_claims",
        ),
        (
            "exp as a float",
            hs256(
                HEADER,
                &payload(ours, json!(unix_now() as f64 + 600.5)),
                secret,
            ),
            "invalid_claims",
        ),
        (
            "exp years ahead, signed with our key",
            hs256(
                HEADER,
                &payload(ours, json!(unix_now() + 86_400 * 365 * 10)),
                secret,
            ),
            "invalid_claims",
        ),
        (
            "exp a day and a second ahead, with another header",
            hs256(
                r#"{"typ":"JWT","alg":"HS256"}"#,
                &payload(ours, json!(unix_now() + 86_401)),
                secret,
            ),
            "invalid_claims",
        ),
        (
            "sub an object (refused by jsonwebtoken's claim rules)",
            hs256(
                HEADER,
                &format!(r#"{{"apikey":"{ours}","exp":{later},"sub":{{"a":1}}}}"#),
                secret,
            ),
            "invalid_claims",
        ),
        (
            "aud nested 200 deep",
            hs256(
                HEADER,
                &format!(
                    r#"{{"apikey":"{ours}","exp":{later},"aud":{}1{}}}"#,
                    "[".repeat(200),
                    "]".repeat(200)
                ),
                secret,
            ),
            "invalid_claims",
        ),
        (
            "exp far in the past",
            hs256(HEADER, &payload(ours, json!(1)), secret),
            "expired_token",
        ),
        (
            "exp missing",
            hs256(
                HEADER,
                &json!({"apikey": ours, "permissions": ["allow_join"]}).to_string(),
                secret,
            ),
            "invalid_claims",
        ),
        (
            "apikey missing",
            hs256(
                HEADER,
                &json!({"permissions": ["allow_join"], "exp": later}).to_string(),
                secret,
            ),
            "invalid_claims",
        ),
        (
            "apikey of another account",
            hs256(HEADER, &payload("another-account", later.clone()), secret),
            "api_key_mismatch",
        ),
        (
            "claims not an object",
            hs256(HEADER, "[1,2,3]", secret),
            "invalid_claims",
        ),
        (
            "huge header",
            hs256(
                &format!(
                    r#"{{"alg":"HS256","typ":"JWT","x":"{}"}}"#,
                    "a".repeat(5_000)
                ),
                &valid,
                secret,
            ),
            "invalid_token",
        ),
        (
            "100 KB token",
            format!("{head}.{}.{signature}", "A".repeat(100 * 1024)),
            "invalid_token",
        ),
        ("two parts", format!("{head}.{body}"), "invalid_token"),
        ("four parts", format!("{good}.{signature}"), "invalid_token"),
        ("not base64", "!!!.???.***".to_owned(), "invalid_token"),
        (
            "header not JSON",
            format!("{}.{body}.{signature}", b64("not json")),
            "invalid_token",
        ),
    ];
    let mut wrong = Vec::new();
    for (name, token, code) in &cases {
        let (status, actual) = answer(&state, token).await;
        if (status, actual.as_str()) != (401, *code) {
            wrong.push(format!(
                "{name}: expected 401 {code}, got {status} {actual}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    println!("{} forgeries refused with the expected code", cases.len());
}
