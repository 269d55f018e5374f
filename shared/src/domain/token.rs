//! VideoSDK access tokens: HS256 JWTs signed with the account's secret key. This module signs
//! them and refuses everything else: other algorithms, other keys, missing or past `exp`, other
//! accounts' API keys.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::domain::credentials::ApiCredentials;
use crate::domain::permissions::{Permission, PermissionSet, ROLE_MANAGEMENT, TokenRoles};

/// The token format version VideoSDK's v2 APIs expect.
pub(crate) const TOKEN_VERSION: u32 = 2;
/// Longer tokens are refused before any parsing; ours are a few hundred bytes.
pub const MAX_TOKEN_LENGTH: usize = 4096;
/// The one algorithm tokens are signed and accepted with.
const ALGORITHM: Algorithm = Algorithm::HS256;
/// An HMAC-SHA256 signature (32 bytes) in unpadded base64url.
const SIGNATURE_PART_LENGTH: usize = 43;

/// The claims of a VideoSDK token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub apikey: String,
    #[serde(default)]
    pub permissions: Vec<Permission>,
    #[serde(default)]
    pub version: u32,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub iat: u64,
    pub exp: u64,
    #[serde(rename = "roomId", default, skip_serializing_if = "Option::is_none")]
    pub room_id: Option<String>,
    #[serde(
        rename = "participantId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub participant_id: Option<String>,
    /// Not before. Tokens issued here never carry it; one that does is refused until then, as
    /// RFC 7519 says.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present_number"
    )]
    pub nbf: Option<u64>,
}

/// An optional numeric claim that, when present, must be a number: `null` is as malformed as
/// a string (jsonwebtoken's claim rules say so; `Option`'s own deserializer would take it as
/// absent).
fn present_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    u64::deserialize(deserializer).map(Some)
}

/// What a participant token is limited to: one room, one participant id, both, or neither.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenScope {
    pub room_id: Option<String>,
    pub participant_id: Option<String>,
}

impl Claims {
    /// The claims of a token issued at `now` for `ttl_seconds`, with the roles the operator
    /// configured (`rtc` unless TOKEN_ROLES says otherwise) and the scope asked for.
    pub fn new(
        api_key: &str,
        permissions: &PermissionSet,
        roles: &TokenRoles,
        scope: TokenScope,
        now: u64,
        ttl_seconds: u64,
    ) -> Self {
        Self {
            apikey: api_key.to_owned(),
            permissions: permissions.to_vec(),
            version: TOKEN_VERSION,
            roles: roles.to_vec(),
            iat: now,
            exp: now.saturating_add(ttl_seconds),
            room_id: scope.room_id,
            participant_id: scope.participant_id,
            nbf: None,
        }
    }

    /// The claims of this service's own token for VideoSDK's REST API: the management role
    /// and the permissions VideoSDK's server SDK gives such a token (its `forApi()` builder).
    pub(crate) fn for_api(api_key: &str, now: u64, ttl_seconds: u64) -> Self {
        Self {
            apikey: api_key.to_owned(),
            permissions: vec![Permission::AllowJoin, Permission::AllowMod],
            version: TOKEN_VERSION,
            roles: vec![ROLE_MANAGEMENT.to_owned()],
            iat: now,
            exp: now.saturating_add(ttl_seconds),
            room_id: None,
            participant_id: None,
            nbf: None,
        }
    }
}

/// Why a token was refused. Each maps to a 401 with its own code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error(
        "no token was sent; send it as `Authorization: Bearer <token>` or in the JSON body as \"token\""
    )]
    Missing,
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token is not signed with HS256, the only algorithm accepted")]
    UnsupportedAlgorithm,
    #[error("the token's signature does not match this account's secret key")]
    BadSignature,
    #[error("the token has expired; get a new one from /get-token")]
    Expired,
    #[error(
        "the token's claims are missing or malformed (it needs a string apikey and a numeric exp)"
    )]
    InvalidClaims,
    #[error("the token was issued for another API key")]
    ApiKeyMismatch,
    #[error("the token could not be signed")]
    SigningFailed,
}

/// The signing and verification keys of one account, built once at start.
pub struct TokenKeys {
    api_key: String,
    decoding: DecodingKey,
    /// The HMAC key schedule, prepared once: it signs every token and verifies those with our
    /// header.
    hmac: ring::hmac::Key,
    /// `base64url({"typ":"JWT","alg":"HS256"})`, the first part of every token signed here.
    encoded_header: String,
    validation: Validation,
}

impl std::fmt::Debug for TokenKeys {
    // The keys hold the secret: print only which account they belong to.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("api_key", &self.api_key)
            .finish_non_exhaustive()
    }
}

impl TokenKeys {
    pub fn new(credentials: &ApiCredentials) -> Result<Self, TokenError> {
        crate::domain::jwt_crypto::install();
        let secret = credentials.secret_key();
        let decoding = DecodingKey::from_secret(secret).map_err(|_| TokenError::SigningFailed)?;
        let header =
            serde_json::to_vec(&Header::new(ALGORITHM)).map_err(|_| TokenError::SigningFailed)?;
        let encoded_header = URL_SAFE_NO_PAD.encode(header);
        let mut validation = Validation::new(ALGORITHM);
        validation.set_required_spec_claims(&["exp"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        // Lambda's clocks are synchronised; "exp in the future" means exactly that.
        validation.leeway = 0;
        // VideoSDK tokens carry no audience; one that does is still ours if the key matches.
        validation.validate_aud = false;
        Ok(Self {
            api_key: credentials.api_key().to_owned(),
            decoding,
            hmac: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret),
            encoded_header,
            validation,
        })
    }

    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// `header.claims.signature`, byte for byte what `jsonwebtoken::encode` makes (a test holds
    /// it to that), but with the header part encoded once at start (it never changes) and the
    /// HMAC key prepared once: `jsonwebtoken::crypto::sign` builds a new key on every call, which
    /// cost a third of the signing time (`scripts/bench`).
    pub fn sign(&self, claims: &Claims) -> Result<String, TokenError> {
        let claims = serde_json::to_vec(claims).map_err(|_| TokenError::SigningFailed)?;
        let mut token = String::with_capacity(
            self.encoded_header.len() + claims.len() * 4 / 3 + SIGNATURE_PART_LENGTH + 4,
        );
        token.push_str(&self.encoded_header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(claims, &mut token);
        let tag = ring::hmac::sign(&self.hmac, token.as_bytes());
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(tag, &mut token);
        Ok(token)
    }

    /// Verifies signature, algorithm, expiry and API key, and returns the claims.
    ///
    /// Every token this API issues starts with the same header, `encoded_header`; for those,
    /// `verify_own_header` takes the same decisions as jsonwebtoken's `decode` (which
    /// `verify_by_jsonwebtoken` runs for any other header) at well under half its cost.
    pub fn verify_at(&self, token: &str, now: u64) -> Result<Claims, TokenError> {
        if token.is_empty() || token.len() > MAX_TOKEN_LENGTH {
            return Err(TokenError::Malformed);
        }
        let rest = token
            .strip_prefix(self.encoded_header.as_str())
            .and_then(|rest| rest.strip_prefix('.'));
        match rest.and_then(|rest| rest.rsplit_once('.')) {
            Some((payload, signature)) => {
                let message = &token[..token.len() - signature.len() - 1];
                self.verify_own_header(token, message, payload, signature, now)
            }
            None => self.verify_by_jsonwebtoken(token),
        }
    }

    /// Hand-written because `jsonwebtoken::decode` makes a new HMAC key (two SHA-256 blocks and a
    /// `Box`) on every call, parses the header into its full JWK-capable `Header`, and the claims
    /// twice: well over the goal of 4x the cost of the HMAC alone (docs/performance.md). With the
    /// header known to be ours, what is left is the signature (ring, constant-time, with the key
    /// prepared once), one claims parse, and jsonwebtoken's claim rules with our `Validation`:
    /// `exp` required and numeric, expired when before now, `nbf` honoured, no leeway, no `aud`.
    /// Anything unusual in the encoding (a signature that is not 43 characters of base64url, a
    /// payload that does not decode) gets jsonwebtoken's own verdict instead, so the error codes
    /// cannot drift; `tests::own_header_path_agrees_with_jsonwebtoken` and the fuzz target
    /// `token_verify_jwt` compare the two paths.
    fn verify_own_header(
        &self,
        token: &str,
        message: &str,
        payload: &str,
        signature: &str,
        now: u64,
    ) -> Result<Claims, TokenError> {
        let mut tag = [0u8; 32];
        let tag_decoded = signature.len() == SIGNATURE_PART_LENGTH
            && URL_SAFE_NO_PAD.decode_slice(signature, &mut tag) == Ok(tag.len());
        let payload = match URL_SAFE_NO_PAD.decode(payload) {
            Ok(payload) if tag_decoded => payload,
            _ => return self.verify_by_jsonwebtoken(token),
        };
        ring::hmac::verify(&self.hmac, message.as_bytes(), &tag)
            .map_err(|_| TokenError::BadSignature)?;
        let claims: Claims =
            serde_json::from_slice(&payload).map_err(|_| TokenError::InvalidClaims)?;
        if claims.exp < now {
            return Err(TokenError::Expired);
        }
        if claims.nbf.is_some_and(|nbf| nbf > now) {
            return Err(TokenError::InvalidClaims);
        }
        if claims.apikey != self.api_key {
            return Err(TokenError::ApiKeyMismatch);
        }
        Ok(claims)
    }

    /// jsonwebtoken's `decode` with HS256 alone, then the API key: the path for any token whose
    /// header is not the one this API writes. Public so that the fuzz targets can hold `verify`
    /// to it.
    #[doc(hidden)]
    pub fn verify_by_jsonwebtoken(&self, token: &str) -> Result<Claims, TokenError> {
        if token.is_empty() || token.len() > MAX_TOKEN_LENGTH {
            return Err(TokenError::Malformed);
        }
        // The header is looked at on its own only to say why a token was refused (a header
        // naming another algorithm, including `none`, which jsonwebtoken cannot even parse, is
        // reported as such).
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|error| {
                match jsonwebtoken::decode_header(token) {
                    Err(_) => return header_refusal(token),
                    Ok(header) if header.alg != ALGORITHM => {
                        return TokenError::UnsupportedAlgorithm;
                    }
                    Ok(_) => {}
                }
                match error.kind() {
                    ErrorKind::InvalidSignature => TokenError::BadSignature,
                    ErrorKind::ExpiredSignature => TokenError::Expired,
                    ErrorKind::InvalidAlgorithm | ErrorKind::UnsupportedAlgorithm => {
                        TokenError::UnsupportedAlgorithm
                    }
                    ErrorKind::MissingRequiredClaim(_)
                    | ErrorKind::InvalidClaimFormat(_)
                    | ErrorKind::ImmatureSignature
                    // The header parses, so a JSON error is in the (signed) claims.
                    | ErrorKind::Json(_) => TokenError::InvalidClaims,
                    _ => TokenError::Malformed,
                }
            })?;
        if data.claims.apikey != self.api_key {
            return Err(TokenError::ApiKeyMismatch);
        }
        Ok(data.claims)
    }
}

/// A header jsonwebtoken could not parse: an algorithm it does not know (such as `none`) is an
/// unsupported algorithm; anything else is a malformed token.
fn header_refusal(token: &str) -> TokenError {
    let three_parts = token.split('.').count() == 3;
    let names_other_algorithm = three_parts
        && token
            .split('.')
            .next()
            .and_then(|segment| URL_SAFE_NO_PAD.decode(segment).ok())
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .is_some_and(|header| {
                header
                    .get("alg")
                    .and_then(|alg| alg.as_str())
                    .is_some_and(|alg| alg != "HS256")
            });
    if names_other_algorithm {
        TokenError::UnsupportedAlgorithm
    } else {
        TokenError::Malformed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::unix_now;
    use jsonwebtoken::EncodingKey;

    fn keys() -> TokenKeys {
        TokenKeys::new(&ApiCredentials::new("api-key-1", "secret-key-1")).unwrap()
    }

    fn claims(exp: u64) -> Claims {
        let permissions = PermissionSet::parse_list("allow_join").unwrap();
        let now = unix_now();
        Claims {
            exp,
            ..Claims::new(
                "api-key-1",
                &permissions,
                &TokenRoles::participant(),
                TokenScope::default(),
                now,
                600,
            )
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
        let permissions = PermissionSet::parse_list("allow_join,allow_mod").unwrap();
        let now = unix_now();
        let token = keys
            .sign(&Claims::new(
                "api-key-1",
                &permissions,
                &TokenRoles::participant(),
                TokenScope::default(),
                now,
                600,
            ))
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

        let other_account =
            TokenKeys::new(&ApiCredentials::new("api-key-2", "secret-key-1")).unwrap();
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
        let tampered_payload =
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&tampered_claims).unwrap());
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
        let fast = keys.verify_at(token, unix_now());
        assert_eq!(
            fast,
            keys.verify_by_jsonwebtoken(token),
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
                format!(
                    r#"{{"apikey":"api-key-1","exp":{later},"aud":7,"iss":[],"extra":{{"x":1}}}}"#
                ),
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
            (
                format!("{message}.{}", &signature[..42]),
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

    fn json_number_or_not() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof![
            Just("null".to_owned()),
            any::<u64>().prop_map(|n| n.to_string()),
            (unix_now() + 100..unix_now() + 10_000).prop_map(|n| n.to_string()),
            (unix_now() - 10_000..unix_now() - 100).prop_map(|n| n.to_string()),
            "[0-9\\-.eE\"]{1,12}",
        ]
    }

    proptest::proptest! {
        /// Claims JSON of every shape, signed with our header and key: both paths give the same
        /// verdict.
        #[test]
        fn both_paths_agree_on_any_signed_payload(
            apikey in proptest::prop_oneof![
                proptest::strategy::Just("api-key-1".to_owned()),
                "\\PC{0,3}",
            ],
            exp in json_number_or_not(),
            nbf in proptest::option::of(json_number_or_not()),
            junk in "[ \\PC]{0,24}",
        ) {
            let mut payload = format!(r#"{{"apikey":{},"exp":{exp}"#, serde_json::json!(apikey));
            if let Some(nbf) = nbf {
                payload.push_str(&format!(r#","nbf":{nbf}"#));
            }
            payload.push('}');
            let keys = keys();
            for candidate in [payload.clone(), format!("{payload}{junk}"), junk.clone()] {
                let token = signed_with_our_header(&candidate);
                let fast = keys.verify_at(&token, unix_now());
                let slow = keys.verify_by_jsonwebtoken(&token);
                // The clock may tick between the two calls; only an expiry may differ then.
                let tick = matches!(
                    (&fast, &slow),
                    (Ok(_), Err(TokenError::Expired)) | (Err(TokenError::Expired), Ok(_))
                );
                proptest::prop_assert!(fast == slow || tick, "{candidate:?}: {fast:?} != {slow:?}");
            }
        }
    }

    #[test]
    fn debug_never_prints_the_keys() {
        let printed = format!("{:?}", keys());
        assert!(
            printed.contains("api-key-1") && !printed.contains("secret-key-1"),
            "{printed}"
        );
    }
}
