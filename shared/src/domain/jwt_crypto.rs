//! jsonwebtoken's cryptography for the one algorithm this API signs and accepts, HS256, on ring.
//!
//! jsonwebtoken's own providers (aws-lc, or RustCrypto) put every JWT algorithm into the binary:
//! RSA, ECDSA and EdDSA with their key parsers (docs/performance.md has the size), that no path here can reach, since
//! every token is checked against `Validation` with HS256 alone before a verifier is made. This
//! provider offers HMAC-SHA256 only, with ring, the crypto library the binaries already link.
//! jsonwebtoken uses it for every token whose header is not the one this API writes
//! (`TokenKeys::verify_by_jsonwebtoken`); tokens with our header are signed and verified with a
//! ring key prepared once (`shared/src/domain/token/keys.rs` says why).

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use ring::hmac;
use signature::{Signer, Verifier};

static HS256_ON_RING: CryptoProvider = CryptoProvider {
    signer_factory,
    verifier_factory,
    // JWKs are never used here; jsonwebtoken's placeholder refuses them.
    key_utils: KeyUtils::new_unimplemented(),
};

/// Makes HS256-on-ring jsonwebtoken's provider for the process. Every call after the first
/// finds it installed already.
pub(crate) fn install() {
    let _ = HS256_ON_RING.install_default();
}

struct HmacSha256(hmac::Key);

fn hmac_key(algorithm: &Algorithm, secret: &[u8]) -> Result<HmacSha256> {
    if *algorithm != Algorithm::HS256 {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    Ok(HmacSha256(hmac::Key::new(hmac::HMAC_SHA256, secret)))
}

fn signer_factory(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    Ok(Box::new(hmac_key(algorithm, key.as_bytes())?))
}

fn verifier_factory(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    Ok(Box::new(hmac_key(algorithm, key.try_get_as_bytes()?)?))
}

impl Signer<Vec<u8>> for HmacSha256 {
    fn try_sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
        Ok(hmac::sign(&self.0, message).as_ref().to_vec())
    }
}

impl JwtSigner for HmacSha256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl Verifier<Vec<u8>> for HmacSha256 {
    /// Constant-time comparison of the tag (ring's `hmac::verify`).
    fn verify(
        &self,
        message: &[u8],
        signature: &Vec<u8>,
    ) -> std::result::Result<(), signature::Error> {
        hmac::verify(&self.0, message, signature).map_err(|_| signature::Error::new())
    }
}

impl JwtVerifier for HmacSha256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_hs256_as_rfc_4231_says_and_refuses_other_algorithms() {
        // RFC 4231, test case 2.
        let key = EncodingKey::from_secret(b"Jefe").unwrap();
        let signer = signer_factory(&Algorithm::HS256, &key).unwrap();
        let tag = signer.try_sign(b"what do ya want for nothing?").unwrap();
        assert_eq!(
            tag.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let verifier = verifier_factory(
            &Algorithm::HS256,
            &DecodingKey::from_secret(b"Jefe").unwrap(),
        )
        .unwrap();
        assert!(
            verifier
                .verify(b"what do ya want for nothing?", &tag)
                .is_ok()
        );
        assert!(
            verifier
                .verify(b"what do ya want for nothing!", &tag)
                .is_err()
        );
        for other in [
            Algorithm::HS384,
            Algorithm::HS512,
            Algorithm::RS256,
            Algorithm::ES256,
        ] {
            assert!(signer_factory(&other, &key).is_err(), "{other:?}");
        }
    }
}
