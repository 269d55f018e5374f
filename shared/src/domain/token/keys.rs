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
mod tests;
