//! The short path (our own header) and jsonwebtoken's `decode` give every token one verdict.

use super::*;

fn signed_with_our_header(payload: &str) -> String {
    let keys = keys();
    let message = format!(
        "{}.{}",
        keys.encoded_header,
        URL_SAFE_NO_PAD.encode(payload)
    );
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"secret-key-1");
    let tag = URL_SAFE_NO_PAD.encode(ring::hmac::sign(&key, message.as_bytes()));
    format!("{message}.{tag}")
}

fn assert_paths_agree(keys: &TokenKeys, token: &str) -> Result<Claims, TokenError> {
    let now = unix_now();
    let fast = keys.verify_at(token, now);
    assert_eq!(
        fast,
        keys.verify_by_jsonwebtoken(token, now),
        "the two paths disagree on {token:?}"
    );
    fast
}

#[test]
fn own_header_path_agrees_with_jsonwebtoken() {
    let keys = keys();
    let later = unix_now() + 600;
    let earlier = unix_now() - 600;
    let signed = [
        (format!(r#"{{"apikey":"api-key-1","exp":{later}}}"#), Ok(())),
        (
            format!(r#"{{"apikey":"api-key-1","exp":{later},"nbf":{earlier}}}"#),
            Ok(()),
        ),
        (
            format!(r#"{{"apikey":"api-key-1","exp":{later},"aud":7,"iss":[],"extra":{{"x":1}}}}"#),
            Ok(()),
        ),
        (
            format!(r#"{{"apikey":"api-key-1","exp":{earlier}}}"#),
            Err(TokenError::Expired),
        ),
        (
            format!(r#"{{"apikey":"api-key-1","exp":{later},"nbf":{later}}}"#),
            Err(TokenError::InvalidClaims),
        ),
        (
            format!(r#"{{"apikey":"api-key-1","exp":{later},"nbf":"soon"}}"#),
            Err(TokenError::InvalidClaims),
        ),
        (
            format!(r#"{{"apikey":"api-key-1","exp":"{later}"}}"#),
            Err(TokenError::InvalidClaims),
        ),
        (
            format!(r#"{{"apikey":"api-key-1","exp":{later}.5}}"#),
            Err(TokenError::InvalidClaims),
        ),
        (
            r#"{"apikey":"api-key-1","exp":-1}"#.to_owned(),
            Err(TokenError::InvalidClaims),
        ),
        (
            r#"{"apikey":"api-key-1"}"#.to_owned(),
            Err(TokenError::InvalidClaims),
        ),
        (
            format!(r#"{{"exp":{later}}}"#),
            Err(TokenError::InvalidClaims),
        ),
        (
            format!(r#"{{"apikey":"other","apikey":"api-key-1","exp":{later}}}"#),
            Err(TokenError::InvalidClaims),
        ),
        (
            format!(r#"{{"apikey":"api-key-2","exp":{later}}}"#),
            Err(TokenError::ApiKeyMismatch),
        ),
        (
            format!(r#"{{"apikey":"api-key-1","exp":{later}}} trailing"#),
            Err(TokenError::InvalidClaims),
        ),
        (
            format!(r#"[{{"apikey":"api-key-1","exp":{later}}}]"#),
            Err(TokenError::InvalidClaims),
        ),
        (String::new(), Err(TokenError::InvalidClaims)),
    ];
    for (payload, expected) in signed {
        let token = signed_with_our_header(&payload);
        assert_eq!(
            assert_paths_agree(&keys, &token).map(|_| ()),
            expected,
            "{payload}"
        );
    }

    let good = signed_with_our_header(&format!(r#"{{"apikey":"api-key-1","exp":{later}}}"#));
    let (message, signature) = good.rsplit_once('.').unwrap();
    let (header, payload) = message.split_once('.').unwrap();
    let mut last_changed = signature.to_owned();
    let last = last_changed.pop().unwrap();
    // 'B' after a character that carries two zero padding bits: not canonical base64url.
    last_changed.push(if last == 'A' { 'B' } else { 'A' });
    for (token, expected) in [
        (format!("{message}.{signature}A"), TokenError::BadSignature),
        // 41 characters: a length no base64 can have (42 would decode whenever the last
        // character kept happens to end in four zero bits, one time in 16).
        (
            format!("{message}.{}", &signature[..41]),
            TokenError::Malformed,
        ),
        (
            format!("{message}.{}", &signature[..40]),
            TokenError::BadSignature,
        ),
        (format!("{message}."), TokenError::BadSignature),
        (format!("{message}.{signature}="), TokenError::Malformed),
        (
            format!("{message}.{last_changed}"),
            if last == 'A' {
                TokenError::Malformed
            } else {
                TokenError::BadSignature
            },
        ),
        (
            format!("{message}.{}", "*".repeat(43)),
            TokenError::Malformed,
        ),
        (
            format!("{header}.{payload}=.{signature}"),
            TokenError::BadSignature,
        ),
        (
            format!("{header}.{payload}.{payload}.{signature}"),
            TokenError::Malformed,
        ),
        (format!("{header}..{signature}"), TokenError::BadSignature),
        (format!("{header}.{signature}"), TokenError::Malformed),
    ] {
        assert_eq!(assert_paths_agree(&keys, &token), Err(expected), "{token}");
    }
}

/// The time the differential tests verify at.
const NOW: u64 = 1_800_000_000;

/// RFC 7519: a token is expired from the second its `exp` names, on both paths (our header's
/// and jsonwebtoken's, which `header_variant` forces with a header written otherwise).
#[test]
fn exp_equal_to_now_is_expired_on_both_paths() {
    let keys = keys();
    let other_header = |payload: &str| {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#);
        let message = format!("{header}.{}", URL_SAFE_NO_PAD.encode(payload));
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"secret-key-1");
        let tag = URL_SAFE_NO_PAD.encode(ring::hmac::sign(&key, message.as_bytes()));
        format!("{message}.{tag}")
    };
    for (exp, expected) in [
        (NOW - 1, Err(TokenError::Expired)),
        (NOW, Err(TokenError::Expired)),
        (NOW + 1, Ok(NOW + 1)),
    ] {
        let payload = format!(r#"{{"apikey":"api-key-1","exp":{exp}}}"#);
        for token in [signed_with_our_header(&payload), other_header(&payload)] {
            assert_eq!(
                keys.verify_at(&token, NOW).map(|claims| claims.exp),
                expected,
                "exp {exp} at {NOW}: {token}"
            );
            assert_eq!(
                keys.verify_by_jsonwebtoken(&token, NOW)
                    .map(|claims| claims.exp),
                expected
            );
        }
    }
}

/// JSON text of every type: null, booleans, numbers (negative, fractional, huge), strings,
/// arrays and objects, nested up to `depth` deep, and a few values around [`NOW`].
fn json_value(depth: u32) -> proptest::strategy::BoxedStrategy<String> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just("null".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        (NOW - 1_000..NOW + 2 * MAX_TOKEN_LIFETIME_SECONDS).prop_map(|n| n.to_string()),
        (NOW - 1_000..NOW + 1_000).prop_map(|n| format!("{n}.0")),
        any::<f64>().prop_map(|n| serde_json::json!(n).to_string()),
        "\\PC{0,6}".prop_map(|text| serde_json::json!(text).to_string()),
        Just(r#""api-key-1""#.to_owned()),
    ];
    leaf.prop_recursive(depth, 64, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4)
                .prop_map(|items| format!("[{}]", items.join(","))),
            proptest::collection::vec(("[a-z]{1,3}", inner), 0..4).prop_map(|entries| {
                let members: Vec<String> = entries
                    .iter()
                    .map(|(key, value)| format!("{}:{value}", serde_json::json!(key)))
                    .collect();
                format!("{{{}}}", members.join(","))
            }),
        ]
    })
    .boxed()
}

/// A claim: a registered or VideoSDK claim name (or another), with any value; arrays nested
/// 150 to 250 deep now and then, around serde_json's recursion limit of 128.
fn claim() -> impl proptest::strategy::Strategy<Value = (String, String)> {
    use proptest::prelude::*;
    let name = prop_oneof![
        Just("apikey"),
        Just("exp"),
        Just("nbf"),
        Just("iat"),
        Just("sub"),
        Just("iss"),
        Just("aud"),
        Just("jti"),
        Just("permissions"),
        Just("roles"),
        Just("version"),
        Just("roomId"),
        Just("participantId"),
        Just("other"),
    ];
    let value = prop_oneof![
        8 => json_value(3),
        1 => (150usize..250).prop_map(|depth| format!("{}\"a\"{}", "[".repeat(depth), "]".repeat(depth))),
    ];
    (name, value).prop_map(|(name, value)| (name.to_owned(), value))
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(2_000))]

    /// Claim sets with registered claims of every JSON type, duplicated claims and deep
    /// nesting, signed with our header and key: both paths give the same verdict.
    #[test]
    fn both_paths_agree_on_any_signed_claims(
        valid_start in proptest::bool::ANY,
        exp in NOW - 10..NOW + 2 * MAX_TOKEN_LIFETIME_SECONDS,
        claims in proptest::collection::vec(claim(), 0..6),
        junk in "[ \\PC]{0,8}",
    ) {
        let mut members: Vec<String> = Vec::new();
        if valid_start {
            members.push(r#""apikey":"api-key-1""#.to_owned());
            members.push(format!(r#""exp":{exp}"#));
        }
        members.extend(claims.iter().map(|(name, value)| format!("{}:{value}", serde_json::json!(name))));
        let payload = format!("{{{}}}", members.join(","));
        let keys = keys();
        for candidate in [payload.clone(), format!("{payload}{junk}")] {
            let token = signed_with_our_header(&candidate);
            let fast = keys.verify_at(&token, NOW);
            let slow = keys.verify_by_jsonwebtoken(&token, NOW);
            proptest::prop_assert_eq!(fast, slow, "{:?}", candidate);
        }
    }
}
