//! Round trip: any claims we sign verify to the same claims, unless expired or for another API
//! key, which are refused with exactly that reason (or the token is over the 4 KiB limit, which
//! verification refuses before anything else).
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::domain::credentials::ApiCredentials;
use shared::domain::token::{MAX_TOKEN_LENGTH, TokenError, TokenKeys};
use std::sync::OnceLock;
use videosdk_api_fuzz::deployments::{API_KEY, SECRET, now};
use videosdk_api_fuzz::tokens::TokenClaims;

fn keys() -> &'static TokenKeys {
    static KEYS: OnceLock<TokenKeys> = OnceLock::new();
    KEYS.get_or_init(|| TokenKeys::new(&ApiCredentials::new(API_KEY, SECRET)).expect("keys"))
}

fuzz_target!(|input: TokenClaims| {
    let claims = input.claims(API_KEY, now());
    let token = keys().sign(&claims).expect("signing never fails");
    let verified = keys().verify_at(&token, now());
    if token.len() > MAX_TOKEN_LENGTH {
        assert_eq!(
            verified,
            Err(TokenError::Malformed),
            "a {}-byte token",
            token.len()
        );
        return;
    }
    match input.expected(API_KEY) {
        Ok(()) => assert_eq!(
            verified,
            Ok(claims),
            "a token we signed did not verify as signed"
        ),
        Err(expected) => assert_eq!(verified, Err(expected), "token: {token}"),
    }
});
