//! What a token's claims must be for it to be accepted, one verdict for both verification paths
//! of [`super::TokenKeys`]: the claims parse as [`ReadClaims`], then [`check_times`] and the API
//! key decide.
//!
//! `jsonwebtoken::decode`, which checks every token whose header is not ours, parses the claims
//! twice: as the type it is asked for, and as its own `ClaimsForValidation` (`exp`, `nbf`, `sub`,
//! `iss`, `aud`), refusing the token when either parse fails, for instance on a `sub` that is not
//! a string, a duplicated `aud`, or an `aud` nested deeper than serde_json's recursion limit. The
//! short path parses once, so `ReadClaims` carries `sub`, `iss` and `aud` typed exactly as
//! jsonwebtoken 12 types them (`TryParse`, `OneOrMany`): whatever parses as `ReadClaims` also
//! parses as `ClaimsForValidation`, and both paths refuse the same tokens. Its `exp` and `nbf`
//! are stricter (whole numbers, where jsonwebtoken also rounds floats), which refuses in both
//! paths alike since jsonwebtoken parses `ReadClaims` too. The differential proptest in
//! `keys.rs` and the `token_verify_jwt` fuzz target hold the two paths to one verdict.

use std::collections::HashSet;

use serde::Deserialize;

use super::{Claims, MAX_TOKEN_LIFETIME_SECONDS, TokenError};
use crate::domain::permissions::Permission;

/// A token's claims as they are read.
#[derive(Debug, Deserialize)]
pub(super) struct ReadClaims {
    apikey: String,
    #[serde(default)]
    permissions: Vec<Permission>,
    #[serde(default)]
    version: u32,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    iat: u64,
    exp: u64,
    #[serde(rename = "roomId", default)]
    room_id: Option<String>,
    #[serde(rename = "participantId", default)]
    participant_id: Option<String>,
    #[serde(default, deserialize_with = "present_number")]
    nbf: Option<u64>,
    // Registered claims this API does not use, read only to refuse what jsonwebtoken refuses.
    #[allow(dead_code)]
    sub: TryParse<String>,
    #[allow(dead_code)]
    iss: TryParse<OneOrMany>,
    #[allow(dead_code)]
    aud: TryParse<OneOrMany>,
}

/// An optional numeric claim that, when present, must be a whole number: `null` is as malformed
/// as a string (jsonwebtoken's claim rules say so; `Option`'s own deserializer would take it as
/// absent).
fn present_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    u64::deserialize(deserializer).map(Some)
}

/// jsonwebtoken's `TryParse`: a value of another type is not an error of this field, but the
/// parser is left where the failed attempt stopped, so the claims as a whole may not parse.
#[derive(Debug, Default)]
enum TryParse<T> {
    Parsed(#[allow(dead_code)] T),
    FailedToParse,
    #[default]
    NotPresent,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for TryParse<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer) {
            Ok(Some(value)) => Self::Parsed(value),
            Ok(None) => Self::NotPresent,
            Err(_) => Self::FailedToParse,
        })
    }
}

/// jsonwebtoken's `Issuer` and `Audience`: one string or a set of strings.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(#[allow(dead_code)] String),
    Many(#[allow(dead_code)] HashSet<String>),
}

impl ReadClaims {
    /// The claims of a payload (decoded from base64url), or `InvalidClaims`.
    pub(super) fn parse(payload: &[u8]) -> Result<Self, TokenError> {
        serde_json::from_slice(payload).map_err(|_| TokenError::InvalidClaims)
    }

    /// The claims, when the token is valid at `now` for the account of `api_key`.
    pub(super) fn accept(self, now: u64, api_key: &str) -> Result<Claims, TokenError> {
        check_times(self.exp, self.nbf, now)?;
        if self.apikey != api_key {
            return Err(TokenError::ApiKeyMismatch);
        }
        Ok(Claims {
            apikey: self.apikey,
            permissions: self.permissions,
            version: self.version,
            roles: self.roles,
            iat: self.iat,
            exp: self.exp,
            room_id: self.room_id,
            participant_id: self.participant_id,
            nbf: self.nbf,
        })
    }
}

/// The time rules, with no leeway (Lambda's clocks are synchronised): expired once `now` has
/// reached `exp` (RFC 7519 4.1.4: "on or after", as VideoSDK's Node SDK `verifyToken` reads it;
/// jsonwebtoken, whose own check is off, would still take `exp == now`), not yet valid before
/// `nbf`; and this API's own: no `exp` more than [`MAX_TOKEN_LIFETIME_SECONDS`] ahead.
fn check_times(exp: u64, nbf: Option<u64>, now: u64) -> Result<(), TokenError> {
    if exp <= now {
        return Err(TokenError::Expired);
    }
    if nbf.is_some_and(|nbf| nbf > now) {
        return Err(TokenError::InvalidClaims);
    }
    if exp > now.saturating_add(MAX_TOKEN_LIFETIME_SECONDS) {
        return Err(TokenError::InvalidClaims);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_may_be_at_most_a_day_ahead() {
        let now = 1_000_000;
        assert_eq!(check_times(now + 1, None, now), Ok(()));
        assert_eq!(
            check_times(now, None, now),
            Err(TokenError::Expired),
            "exp == now"
        );
        assert_eq!(check_times(now - 1, None, now), Err(TokenError::Expired));
        assert_eq!(check_times(now + 86_400, None, now), Ok(()));
        assert_eq!(
            check_times(now + 86_401, None, now),
            Err(TokenError::InvalidClaims)
        );
        assert_eq!(
            check_times(u64::MAX, None, u64::MAX - 1),
            Ok(()),
            "no overflow at the end of time"
        );
        assert_eq!(
            check_times(u64::MAX, None, u64::MAX),
            Err(TokenError::Expired)
        );
        assert_eq!(
            check_times(now + 10, Some(now + 1), now),
            Err(TokenError::InvalidClaims)
        );
        assert_eq!(check_times(now + 10, Some(now), now), Ok(()));
    }

    #[test]
    fn registered_claims_of_the_wrong_shape_spoil_the_claims_as_in_jsonwebtoken() {
        let base = r#""apikey":"k","exp":10"#;
        for (extra, parses) in [
            (r#""sub":"s""#, true),
            (r#""sub":null"#, true),
            (r#""sub":1"#, true),
            (r#""sub":{"a":1}"#, false),
            (r#""sub":[1]"#, false),
            (r#""aud":["a","b","a"]"#, true),
            (r#""aud":"a","aud":"b""#, false),
            (r#""iss":"a","iss":"a""#, false),
            (r#""aud":[["a"]]"#, true),
        ] {
            let payload = format!("{{{base},{extra}}}");
            assert_eq!(
                ReadClaims::parse(payload.as_bytes()).is_ok(),
                parses,
                "{payload}"
            );
        }
        let deep = format!(r#"{{{base},"aud":{}{}}}"#, "[".repeat(200), "]".repeat(200));
        assert!(ReadClaims::parse(deep.as_bytes()).is_err());
    }
}
