//! `TokenKeys::verify` on arbitrary bytes taken as a string: never a panic, and nothing that is
//! not a genuine, unexpired HS256 token of this account is ever accepted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::domain::credentials::ApiCredentials;
use shared::domain::token::TokenKeys;
use std::sync::OnceLock;
use videosdk_api_fuzz::deployments::{API_KEY, SECRET, now};
use videosdk_api_fuzz::tokens::assert_accepted_token_is_genuine;

fn keys() -> &'static TokenKeys {
    static KEYS: OnceLock<TokenKeys> = OnceLock::new();
    KEYS.get_or_init(|| TokenKeys::new(&ApiCredentials::new(API_KEY, SECRET)).expect("keys"))
}

fuzz_target!(|data: &[u8]| {
    let token = String::from_utf8_lossy(data);
    let verified_after = now();
    if let Ok(claims) = keys().verify_at(&token, now()) {
        assert_accepted_token_is_genuine(&token, &claims, API_KEY, &[SECRET], verified_after);
    }
});
