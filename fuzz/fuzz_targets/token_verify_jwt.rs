//! Token verification on JWTs built from fuzzed parts (header and claims JSON, signature), so
//! that inputs get past the base64 to the algorithm, signature and claim checks. Checks
//! `TokenKeys::verify` and the rotation keyring (current and previous secret) against each other,
//! and `verify` against jsonwebtoken's own `decode`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::domain::credentials::{ApiCredentials, SecretVersions};
use shared::domain::keyring::Keyring;
use shared::domain::token::{TokenError, TokenKeys};
use std::sync::OnceLock;
use videosdk_api_fuzz::{
    API_KEY, Account, Jwt, PREVIOUS_SECRET, SECRET, assert_accepted_token_is_genuine, now,
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
    let before = now();
    let token = jwt.encode(&Account::new(API_KEY, SECRET), before);

    let current = keys.current.verify_at(&token, videosdk_api_fuzz::now());
    // `verify` has its own path for tokens with our header; it must take jsonwebtoken's
    // decisions, unless the clock ticked past an expiry between the two calls.
    let by_jsonwebtoken = keys.current.verify_by_jsonwebtoken(&token);
    let tick = matches!(
        (&current, &by_jsonwebtoken),
        (Ok(_), Err(TokenError::Expired)) | (Err(TokenError::Expired), Ok(_))
    );
    assert!(
        current == by_jsonwebtoken || tick,
        "verify and jsonwebtoken disagree on {token:?}: {current:?} != {by_jsonwebtoken:?}"
    );
    if let Ok(claims) = &current {
        assert_accepted_token_is_genuine(&token, claims, API_KEY, &[SECRET], before);
    }
    let rotated = keys.keyring.verify_at(&token, videosdk_api_fuzz::now());
    if let Ok(claims) = &rotated {
        assert_accepted_token_is_genuine(
            &token,
            claims,
            API_KEY,
            &[SECRET, PREVIOUS_SECRET],
            before,
        );
    }
    match &current {
        // What the current keys accept, the keyring accepts (unless it expired in between).
        Ok(claims) if claims.exp > before + 1 => assert_eq!(
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
