//! Signing and verifying tokens with one account's key: HS256 on ring with the key prepared
//! once, jsonwebtoken's `decode` for any header but ours.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};

use super::payload::ReadClaims;
use super::{Claims, MAX_TOKEN_LENGTH, TokenError};
use crate::domain::credentials::ApiCredentials;

/// The one algorithm tokens are signed and accepted with.
const ALGORITHM: Algorithm = Algorithm::HS256;
/// An HMAC-SHA256 signature (32 bytes) in unpadded base64url.
const SIGNATURE_PART_LENGTH: usize = 43;

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
        // The time rules are the payload's (`check_times`), at the `now` the caller gives, for
        // both paths alike; jsonwebtoken would read the clock itself.
        validation.validate_exp = false;
        validation.validate_nbf = false;
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

    /// Verifies signature, algorithm, claims, times (at `now`, seconds since the epoch) and API
    /// key, and returns the claims.
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
            None => self.verify_by_jsonwebtoken(token, now),
        }
    }

    /// Hand-written because `jsonwebtoken::decode` makes a new HMAC key (two SHA-256 blocks and a
    /// `Box`) on every call, parses the header into its full JWK-capable `Header`, and the claims
    /// twice: well over the goal of 4x the cost of the HMAC alone (docs/performance.md). With the
    /// header known to be ours, what is left is the signature (ring, constant-time, with the key
    /// prepared once) and one parse of the claims as `ReadClaims`, which refuses what
    /// jsonwebtoken's two parses refuse (see `payload`). Anything unusual in the encoding (a
    /// signature that is not 43 characters of base64url, a payload that does not decode) gets
    /// jsonwebtoken's own verdict instead, so the error codes cannot drift; the tests below and
    /// the fuzz target `token_verify_jwt` hold the two paths to one verdict.
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
            _ => return self.verify_by_jsonwebtoken(token, now),
        };
        ring::hmac::verify(&self.hmac, message.as_bytes(), &tag)
            .map_err(|_| TokenError::BadSignature)?;
        ReadClaims::parse(&payload)?.accept(now, &self.api_key)
    }

    /// jsonwebtoken's `decode` with HS256 alone, then the times at `now` and the API key: the
    /// path for any token whose header is not the one this API writes. Public so that the fuzz
    /// targets can hold `verify_at` to it.
    #[doc(hidden)]
    pub(crate) fn verify_by_jsonwebtoken(
        &self,
        token: &str,
        now: u64,
    ) -> Result<Claims, TokenError> {
        if token.is_empty() || token.len() > MAX_TOKEN_LENGTH {
            return Err(TokenError::Malformed);
        }
        // The header is looked at on its own only to say why a token was refused (a header
        // naming another algorithm, including `none`, which jsonwebtoken cannot even parse, is
        // reported as such).
        let data = jsonwebtoken::decode::<ReadClaims>(token, &self.decoding, &self.validation)
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
                    ErrorKind::InvalidAlgorithm | ErrorKind::UnsupportedAlgorithm => {
                        TokenError::UnsupportedAlgorithm
                    }
                    ErrorKind::MissingRequiredClaim(_)
                    | ErrorKind::InvalidClaimFormat(_)
                    // The header parses, so a JSON error is in the (signed) claims.
                    | ErrorKind::Json(_) => TokenError::InvalidClaims,
                    _ => TokenError::Malformed,
                }
            })?;
        data.claims.accept(now, &self.api_key)
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
    use crate::domain::permissions::{Permission, PermissionSet, TokenRoles};
    use crate::domain::token::{MAX_TOKEN_LIFETIME_SECONDS, TokenScope};
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

    #[test]
    fn debug_never_prints_the_keys() {
        let printed = format!("{:?}", keys());
        assert!(
            printed.contains("api-key-1") && !printed.contains("secret-key-1"),
            "{printed}"
        );
    }
}
