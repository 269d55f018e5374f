//! Token verification on JWTs built from fuzzed parts (header and claims JSON with registered
//! claims of every JSON type, duplicated names and deep nesting, signature), so that inputs get
//! past the base64 to the algorithm, signature and claim checks. Checks `TokenKeys::verify_at`
//! and the rotation keyring (current and previous secret) against each other, and `verify_at`
//! (with its own path for our header) against jsonwebtoken's `decode`: one verdict.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::domain::credentials::{ApiCredentials, SecretVersions};
use shared::domain::keyring::Keyring;
use shared::domain::token::{TokenError, TokenKeys};
use std::sync::OnceLock;
use videosdk_api_fuzz::deployments::{API_KEY, Account, PREVIOUS_SECRET, SECRET, now};
use videosdk_api_fuzz::tokens::{
    Jwt, assert_accepted_token_is_current, assert_accepted_token_is_genuine,
};

struct Keys {
    current: TokenKeys,
    keyring: Keyring,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let current = ApiCredentials::new(API_KEY, SECRET);
        Keys {
            current: TokenKeys::new(&current).expect("keys"),
            keyring: Keyring::new(&SecretVersions {
                current,
                previous: Some(ApiCredentials::new(API_KEY, PREVIOUS_SECRET)),
            })
            .expect("keyring"),
        }
    })
}

fuzz_target!(|jwt: Jwt| {
    let keys = keys();
    let now = now();
    let token = jwt.encode(&Account::new(API_KEY, SECRET), now);

    let current = keys.current.verify_at(&token, now);
    // `verify_at` has its own path for tokens with our header; it must take jsonwebtoken's
    // decisions, at the same time.
    let by_jsonwebtoken = shared::test_support::verify_by_jsonwebtoken(&keys.current, &token, now);
    assert_eq!(
        current, by_jsonwebtoken,
        "verify_at and jsonwebtoken disagree on {token:?}"
    );
    if let Ok(claims) = &current {
        assert_accepted_token_is_genuine(&token, claims, API_KEY, &[SECRET], now);
        assert_accepted_token_is_current(claims, now);
    }
    let rotated = keys.keyring.verify_at(&token, now);
    if let Ok(claims) = &rotated {
        assert_accepted_token_is_genuine(&token, claims, API_KEY, &[SECRET, PREVIOUS_SECRET], now);
    }
    match &current {
        // What the current keys accept, the keyring accepts.
        Ok(claims) => assert_eq!(
            rotated.as_ref(),
            Ok(claims),
            "the keyring refused a token its current keys accept"
        ),
        // Refusals before the signature check do not depend on which key is tried.
        Err(error @ (TokenError::Malformed | TokenError::UnsupportedAlgorithm)) => assert_eq!(
            rotated.as_ref().err(),
            Some(error),
            "the keyring and the current keys disagree on a token's form"
        ),
        _ => {}
    }
});
