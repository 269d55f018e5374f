//! What TokenKeys signs and what it refuses (`two_paths`: the short path against jsonwebtoken).

use super::*;
use crate::domain::permissions::{Permission, PermissionSet, TokenRoles};
use crate::domain::token::{MAX_TOKEN_LIFETIME_SECONDS, TokenScope};
use crate::domain::unix_now;
use jsonwebtoken::EncodingKey;

fn keys() -> TokenKeys {
    TokenKeys::new(&ApiCredentials::new("api-key-1", "secret-key-1")).unwrap()
}

/// A participant token's claims for `api-key-1` with `permissions`, issued `now` for 600 s.
fn participant_claims(permissions: &str, now: u64) -> Claims {
    Claims::new(
        "api-key-1",
        &PermissionSet::parse_list(permissions).unwrap(),
        &TokenRoles::participant(),
        TokenScope::default(),
        now,
        600,
    )
}

fn claims(exp: u64) -> Claims {
    Claims {
        exp,
        ..participant_claims("allow_join", unix_now())
    }
}

#[test]
fn signs_exactly_what_jsonwebtoken_encode_makes() {
    let keys = keys();
    let claims = claims(unix_now() + 600);
    let expected = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(b"secret-key-1").unwrap(),
    )
    .unwrap();
    assert_eq!(keys.sign(&claims).unwrap(), expected);
}

fn encode_raw(header: &str, payload: &str, signature: &str) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload),
        signature
    )
}

#[test]
fn signs_hs256_with_the_videosdk_claims() {
    let keys = keys();
    let now = unix_now();
    let token = keys
        .sign(&participant_claims("allow_join,allow_mod", now))
        .unwrap();
    let header: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header, serde_json::json!({"alg": "HS256", "typ": "JWT"}));
    let payload: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        payload,
        serde_json::json!({
            "apikey": "api-key-1",
            "permissions": ["allow_join", "allow_mod"],
            "version": 2,
            "roles": ["rtc"],
            "iat": now,
            "exp": now + 600,
        })
    );
    let verified = keys.verify_at(&token, unix_now()).unwrap();
    assert_eq!(
        verified.permissions,
        [Permission::AllowJoin, Permission::AllowMod]
    );
}

#[test]
fn tokens_carry_the_configured_roles_and_their_scope() {
    let permissions = PermissionSet::parse_list("allow_join").unwrap();
    let scope = TokenScope {
        room_id: Some("abcd-efgh-ijkl".into()),
        participant_id: Some("alice".into()),
    };
    let claims = Claims::new(
        "k",
        &permissions,
        &TokenRoles::participant(),
        scope,
        100,
        60,
    );
    assert_eq!(claims.roles, ["rtc"]);
    let json = serde_json::to_value(&claims).unwrap();
    assert_eq!(json["roomId"], "abcd-efgh-ijkl");
    assert_eq!(json["participantId"], "alice");
    assert_eq!(json["exp"], 160);

    let roles = TokenRoles::parse_list("CRAWLER").unwrap();
    let claims = Claims::new("k", &permissions, &roles, TokenScope::default(), 100, 60);
    assert_eq!(claims.roles, ["CRAWLER"]);
    let json = serde_json::to_value(&claims).unwrap();
    assert!(json.get("roomId").is_none() && json.get("participantId").is_none());
}

#[test]
fn the_api_token_is_a_management_token() {
    let claims = Claims::for_api("k", 100, 60);
    assert_eq!(
        serde_json::to_value(&claims).unwrap(),
        serde_json::json!({
            "apikey": "k",
            "permissions": ["allow_join", "allow_mod"],
            "version": 2,
            "roles": ["crawler"],
            "iat": 100,
            "exp": 160,
        })
    );
}

#[test]
fn refuses_expired_and_missing_exp() {
    let keys = keys();
    let expired = keys.sign(&claims(unix_now() - 1)).unwrap();
    assert_eq!(
        keys.verify_at(&expired, unix_now()),
        Err(TokenError::Expired)
    );
    let far_past = keys.sign(&claims(1)).unwrap();
    assert_eq!(
        keys.verify_at(&far_past, unix_now()),
        Err(TokenError::Expired)
    );

    let no_exp = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &serde_json::json!({"apikey": "api-key-1", "permissions": ["allow_join"]}),
        &EncodingKey::from_secret(b"secret-key-1").unwrap(),
    )
    .unwrap();
    assert_eq!(
        keys.verify_at(&no_exp, unix_now()),
        Err(TokenError::InvalidClaims)
    );
}

#[test]
fn refuses_other_keys_accounts_and_algorithms() {
    let keys = keys();
    let other_secret = TokenKeys::new(&ApiCredentials::new("api-key-1", "another-secret"))
        .unwrap()
        .sign(&claims(unix_now() + 60))
        .unwrap();
    assert_eq!(
        keys.verify_at(&other_secret, unix_now()),
        Err(TokenError::BadSignature)
    );

    let other_account = TokenKeys::new(&ApiCredentials::new("api-key-2", "secret-key-1")).unwrap();
    let mut foreign = claims(unix_now() + 60);
    foreign.apikey = "api-key-2".into();
    let foreign = other_account.sign(&foreign).unwrap();
    assert_eq!(
        keys.verify_at(&foreign, unix_now()),
        Err(TokenError::ApiKeyMismatch)
    );

    let payload = serde_json::to_string(&claims(unix_now() + 60)).unwrap();
    let none = encode_raw(r#"{"alg":"none","typ":"JWT"}"#, &payload, "");
    assert_eq!(
        keys.verify_at(&none, unix_now()),
        Err(TokenError::UnsupportedAlgorithm)
    );
    for alg in ["HS512", "RS256", "ES256"] {
        let token = encode_raw(
            &format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#),
            &payload,
            "c2ln",
        );
        assert_eq!(
            keys.verify_at(&token, unix_now()),
            Err(TokenError::UnsupportedAlgorithm),
            "{alg}"
        );
    }
}

#[test]
fn refuses_tampered_and_malformed_tokens() {
    let keys = keys();
    let token = keys.sign(&claims(unix_now() + 60)).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let mut tampered_claims = claims(unix_now() + 60);
    tampered_claims.permissions.push(Permission::AllowMod);
    let tampered_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&tampered_claims).unwrap());
    let tampered = format!("{}.{}.{}", parts[0], tampered_payload, parts[2]);
    assert_eq!(
        keys.verify_at(&tampered, unix_now()),
        Err(TokenError::BadSignature)
    );

    let truncated = &token[..token.len() - 3];
    assert_eq!(
        keys.verify_at(truncated, unix_now()),
        Err(TokenError::BadSignature)
    );

    for junk in [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "...",
        &"x".repeat(MAX_TOKEN_LENGTH + 1),
    ] {
        assert_eq!(
            keys.verify_at(junk, unix_now()),
            Err(TokenError::Malformed),
            "{junk:.20}"
        );
    }
}

/// A token with our header and `payload` as its claims JSON, signed with `keys()`'s secret.
mod two_paths;

#[test]
fn debug_never_prints_the_keys() {
    let printed = format!("{:?}", keys());
    assert!(
        printed.contains("api-key-1") && !printed.contains("secret-key-1"),
        "{printed}"
    );
}
