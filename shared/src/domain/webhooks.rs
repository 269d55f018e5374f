//! VideoSDK's webhooks: the RSA public key they are signed with, the check of the
//! `videosdk-signature` over the exact body bytes, and what a verified body must hold to become
//! one event. No HTTP and no AWS: the route reads the header and the body, the AWS layer
//! publishes the event.
//!
//! VideoSDK signs the raw body with RSA-SHA256 (PKCS#1 v1.5) and sends the signature in base64.
//! What is accepted is what VideoSDK's own verifier accepts (its Node server SDK 0.1.1,
//! `webhooks.verifySync`, which `tests/tests/webhook_interop.rs` runs on the same cases): the
//! signature text read as Node's `Buffer.from(text, "base64")` reads it, RSA-SHA256 with
//! PKCS#1 v1.5 padding over the bytes as received (no trimming, no re-encoding), and the event
//! type taken from `webhookType`, else `type`. The one check is ring's, the crypto library every
//! function already links.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use serde_json::Value;
use spki::der::Decode as _;

/// The `source` of every event this API puts on EventBridge.
pub(crate) const WEBHOOK_EVENT_SOURCE: &str = "videosdk";
/// The largest webhook body taken: what one EventBridge event can carry as its detail. An event
/// is at most 256 KiB (its source, detail-type and detail together); 1 KiB of that is left for
/// the source and the type. VideoSDK's webhooks are a few hundred bytes; a larger body could
/// never be published, so it is refused at once (413) rather than after its signature check.
pub const MAX_WEBHOOK_BODY_BYTES: usize = 255 * 1024;
/// The longest event type taken (it becomes the EventBridge detail-type).
pub const MAX_WEBHOOK_TYPE_LENGTH: usize = 128;
/// ring's bounds for RSA PKCS#1 verification (`RSA_PKCS1_2048_8192_SHA256`).
const MIN_KEY_BITS: usize = 2048;
const MAX_KEY_BITS: usize = 8192;

/// VideoSDK's webhook signing key: an RSA public key of 2048 to 8192 bits, kept as the PKCS#1
/// `RSAPublicKey` DER ring verifies with.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookPublicKey {
    pkcs1_der: Vec<u8>,
    bits: usize,
}

impl std::fmt::Debug for WebhookPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookPublicKey")
            .field("bits", &self.bits)
            .finish_non_exhaustive()
    }
}

/// Why a text is not a usable webhook public key. Never quotes the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublicKeyError {
    #[error(
        "it is not a PEM block (\"-----BEGIN PUBLIC KEY-----\" ... \"-----END PUBLIC KEY-----\")"
    )]
    NotPem,
    #[error("its PEM block is a {0:?}, not a \"PUBLIC KEY\" or \"RSA PUBLIC KEY\"")]
    WrongLabel(String),
    #[error("its PEM block does not hold a valid {0}")]
    Malformed(&'static str),
    #[error("it is not an RSA key")]
    NotRsa,
    #[error("it is an RSA key of {0} bits; VideoSDK's webhooks need 2048 to 8192")]
    WrongSize(usize),
}

/// Why a webhook's signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the videosdk-signature header is missing or empty")]
    Missing,
    #[error("the videosdk-signature header was sent more than once")]
    Repeated,
    #[error("the videosdk-signature is not VideoSDK's signature of this body")]
    Invalid,
}

impl WebhookPublicKey {
    /// Reads a PEM public key as VideoSDK serves it (`-----BEGIN PUBLIC KEY-----`, an X.509
    /// SubjectPublicKeyInfo) or as PKCS#1 (`-----BEGIN RSA PUBLIC KEY-----`). Line breaks may
    /// also be written as the two characters `\n`, as in an environment variable or a JSON
    /// value that was escaped twice.
    pub fn from_pem(text: &str) -> Result<Self, PublicKeyError> {
        let unescaped;
        let text = if text.contains("\\n") {
            unescaped = text.replace("\\r", "").replace("\\n", "\n");
            unescaped.as_str()
        } else {
            text
        };
        let block = pem::parse(text.trim()).map_err(|_| PublicKeyError::NotPem)?;
        match block.tag() {
            "PUBLIC KEY" => Self::from_spki_der(block.contents()),
            "RSA PUBLIC KEY" => Self::from_pkcs1_der(block.contents()),
            other => Err(PublicKeyError::WrongLabel(other.chars().take(40).collect())),
        }
    }

    /// An X.509 SubjectPublicKeyInfo (DER) holding an RSA key.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, PublicKeyError> {
        let info = spki::SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|_| PublicKeyError::Malformed("SubjectPublicKeyInfo"))?;
        if info.algorithm.oid != pkcs1::ALGORITHM_OID {
            return Err(PublicKeyError::NotRsa);
        }
        let key = info
            .subject_public_key
            .as_bytes()
            .ok_or(PublicKeyError::Malformed("SubjectPublicKeyInfo"))?;
        Self::from_pkcs1_der(key)
    }

    /// A PKCS#1 `RSAPublicKey` (DER).
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, PublicKeyError> {
        let key = pkcs1::RsaPublicKeyRef::from_der(der)
            .map_err(|_| PublicKeyError::Malformed("RSA public key"))?;
        let modulus = key.modulus.as_bytes();
        let bits = match modulus.first() {
            Some(first) => modulus.len() * 8 - first.leading_zeros() as usize,
            None => 0,
        };
        if !(MIN_KEY_BITS..=MAX_KEY_BITS).contains(&bits) {
            return Err(PublicKeyError::WrongSize(bits));
        }
        // ring takes odd exponents from 3 to 2^33 - 1.
        let exponent = key.public_exponent.as_bytes();
        let value = (exponent.len() <= 8).then(|| {
            exponent
                .iter()
                .fold(0u64, |value, byte| value << 8 | u64::from(*byte))
        });
        if !value.is_some_and(|e| e % 2 == 1 && (3..1 << 33).contains(&e)) {
            return Err(PublicKeyError::Malformed("RSA public exponent"));
        }
        Ok(Self {
            pkcs1_der: der.to_vec(),
            bits,
        })
    }

    /// The size of the modulus.
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// Whether `signature` (the `videosdk-signature` header's bytes) is this key's RSA-SHA256
    /// PKCS#1 v1.5 signature of exactly `body`.
    pub fn verify(&self, body: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        if signature.is_empty() {
            return Err(SignatureError::Missing);
        }
        let signature = decode_signature(signature);
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &self.pkcs1_der)
            .verify(body, &signature)
            .map_err(|_| SignatureError::Invalid)
    }
}

/// The bytes of a base64 signature as VideoSDK's Node SDK reads them (Node's
/// `Buffer.from(text, "base64")`): the text ends at its first `=`; characters outside both
/// base64 alphabets (standard and URL-safe, which may be mixed) are skipped, whitespace
/// included; a last lone character is dropped, as are the unused bits of the last one. Only the
/// exact bytes of a genuine signature verify, so this leniency accepts other spellings of a
/// signature, never another signature.
pub fn decode_signature(text: &[u8]) -> Vec<u8> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireNone),
    );
    let mut symbols: Vec<u8> = text
        .iter()
        .take_while(|byte| **byte != b'=')
        .filter_map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' => Some(*byte),
            b'-' => Some(b'+'),
            b'_' => Some(b'/'),
            _ => None,
        })
        .collect();
    if symbols.len() % 4 == 1 {
        symbols.pop();
    }
    // Every symbol is in the alphabet and the length is never 1 mod 4, so this cannot fail.
    LENIENT.decode(&symbols).unwrap_or_default()
}

/// What every delivery id starts with; the rest is the SHA-256 of the body, in hex.
pub const DELIVERY_ID_PREFIX: &str = "videosdk-webhook:sha256:";

/// A verified webhook as one event: its type and its body, which is the event's detail as
/// received; its delivery id, derived from the exact body bytes, the same for every copy of
/// one body (a redelivery by VideoSDK, a message drained from the fallback queue); and when it was
/// received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    kind: String,
    detail: String,
    delivery_id: String,
    received_at: std::time::SystemTime,
}

/// The delivery id of `body`: [`DELIVERY_ID_PREFIX`] and the SHA-256 of the bytes, lowercase hex.
pub fn delivery_id(body: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, body);
    let mut id = String::with_capacity(DELIVERY_ID_PREFIX.len() + 64);
    id.push_str(DELIVERY_ID_PREFIX);
    for byte in digest.as_ref() {
        id.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        id.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
    }
    id
}

/// Why a verified body cannot be published. Never quotes the body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookBodyError {
    #[error("the body is not JSON (line {line}, column {column})")]
    NotJson { line: usize, column: usize },
    #[error("the body is not a JSON object")]
    NotAnObject,
    #[error("the body has no webhookType (or type)")]
    NoType,
    #[error(
        "its webhookType (or type) is not a string of 1 to {MAX_WEBHOOK_TYPE_LENGTH} \
         printable characters"
    )]
    InvalidType,
}

impl WebhookEvent {
    /// The event of a body whose signature verified: a JSON object whose type is its
    /// `webhookType` or, for older events, its `type` (as VideoSDK's SDK reads it,
    /// `webhookType ?? type`: a `null` `webhookType` falls back to `type`). The type must be a
    /// string of 1 to 128 printable characters; it becomes the event's detail-type.
    pub fn from_verified_body(body: &[u8]) -> Result<Self, WebhookBodyError> {
        let value: Value =
            serde_json::from_slice(body).map_err(|error| WebhookBodyError::NotJson {
                line: error.line(),
                column: error.column(),
            })?;
        let Value::Object(fields) = value else {
            return Err(WebhookBodyError::NotAnObject);
        };
        let kind = match fields.get("webhookType").filter(|kind| !kind.is_null()) {
            Some(kind) => kind,
            None => match fields.get("type").filter(|kind| !kind.is_null()) {
                Some(kind) => kind,
                None => return Err(WebhookBodyError::NoType),
            },
        };
        let kind = match kind {
            Value::String(kind)
                if (1..=MAX_WEBHOOK_TYPE_LENGTH).contains(&kind.chars().count())
                    && !kind.chars().any(char::is_control)
                    && !kind.trim().is_empty() =>
            {
                kind.clone()
            }
            _ => return Err(WebhookBodyError::InvalidType),
        };
        // It parsed as JSON, so it is UTF-8.
        let detail = String::from_utf8(body.to_vec())
            .map_err(|_| WebhookBodyError::NotJson { line: 1, column: 1 })?;
        Ok(Self {
            kind,
            delivery_id: delivery_id(detail.as_bytes()),
            detail,
            received_at: std::time::SystemTime::now(),
        })
    }

    /// The same event, received at `at` (the route reads the clock when the request arrives).
    pub fn received_at_time(mut self, at: std::time::SystemTime) -> Self {
        self.received_at = at;
        self
    }

    /// `webhookType` (or `type`): `session-started`, `participant-joined`, ...
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The body exactly as VideoSDK sent it.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// [`delivery_id`] of the body.
    pub fn delivery_id(&self) -> &str {
        &self.delivery_id
    }

    /// When the function received it.
    pub fn received_at(&self) -> std::time::SystemTime {
        self.received_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_read_as_nodes_buffer_from_base64_reads_them() {
        // Each case and its bytes as Node 20 decodes them (checked by hand with node -e).
        for (text, bytes) in [
            ("QUJD", &b"ABC"[..]),
            ("QUJDRA==", b"ABCD"),
            ("QUJDRA", b"ABCD"),
            ("QQ", b"A"),
            ("QR==", b"A"),
            ("QUI", b"AB"),
            ("QUJ", b"AB"),
            ("QUJDR", b"ABC"),
            ("Q", b""),
            ("QUJDR=A", b"ABC"),
            ("=QUJD", b""),
            ("QU JD", b"ABC"),
            ("QU\nJ\tD", b"ABC"),
            ("QU\u{e9}JD", b"ABC"),
            ("QUJD====QUJD", b"ABC"),
            ("%%", b""),
            ("_-8", &[0xff, 0xef]),
            ("/+8", &[0xff, 0xef]),
        ] {
            assert_eq!(decode_signature(text.as_bytes()), bytes, "{text:?}");
        }
    }

    #[test]
    fn the_delivery_id_is_the_sha256_of_the_exact_bytes() {
        // `printf '%s' '{"webhookType":"a"}' | sha256sum`
        let event = WebhookEvent::from_verified_body(br#"{"webhookType":"a"}"#).unwrap();
        assert_eq!(
            event.delivery_id(),
            "videosdk-webhook:sha256:\
             e3f49eff74b4edd1000a64ebc5a1ba47a201b2908bf4f201f05228e19fbc444c"
        );
        let spaced = WebhookEvent::from_verified_body(br#"{"webhookType": "a"}"#).unwrap();
        assert_ne!(spaced.delivery_id(), event.delivery_id());
    }

    #[test]
    fn the_type_is_webhook_type_else_type() {
        let kind = |body: &str| WebhookEvent::from_verified_body(body.as_bytes()).map(|e| e.kind);
        assert_eq!(
            kind(r#"{"webhookType":"session-started","data":{}}"#).as_deref(),
            Ok("session-started")
        );
        assert_eq!(
            kind(r#"{"type":"recording-stopped"}"#).as_deref(),
            Ok("recording-stopped")
        );
        assert_eq!(
            kind(r#"{"webhookType":"a","type":"b"}"#).as_deref(),
            Ok("a")
        );
        assert_eq!(
            kind(r#"{"webhookType":null,"type":"b"}"#).as_deref(),
            Ok("b")
        );
        assert_eq!(kind(r#"{"data":{}}"#), Err(WebhookBodyError::NoType));
        assert_eq!(
            kind(r#"{"webhookType":null,"type":null}"#),
            Err(WebhookBodyError::NoType)
        );
        for bad in [
            r#"{"webhookType":5,"type":"b"}"#,
            r#"{"webhookType":""}"#,
            r#"{"type":"  "}"#,
            r#"{"type":"a\nb"}"#,
            r#"{"type":["a"]}"#,
        ] {
            assert_eq!(kind(bad), Err(WebhookBodyError::InvalidType), "{bad}");
        }
        let longest = format!(r#"{{"type":"{}"}}"#, "é".repeat(MAX_WEBHOOK_TYPE_LENGTH));
        assert!(kind(&longest).is_ok());
        let too_long = format!(
            r#"{{"type":"{}"}}"#,
            "a".repeat(MAX_WEBHOOK_TYPE_LENGTH + 1)
        );
        assert_eq!(kind(&too_long), Err(WebhookBodyError::InvalidType));
    }

    #[test]
    fn bodies_that_are_not_objects_are_refused_and_the_detail_is_the_body() {
        for (body, error) in [
            ("[1]", WebhookBodyError::NotAnObject),
            ("\"session-started\"", WebhookBodyError::NotAnObject),
            ("null", WebhookBodyError::NotAnObject),
        ] {
            assert_eq!(
                WebhookEvent::from_verified_body(body.as_bytes()),
                Err(error),
                "{body}"
            );
        }
        assert!(matches!(
            WebhookEvent::from_verified_body(b"{\"type\":"),
            Err(WebhookBodyError::NotJson { .. })
        ));
        assert!(matches!(
            WebhookEvent::from_verified_body(b""),
            Err(WebhookBodyError::NotJson { .. })
        ));
        let body = " {\"type\" : \"x\",\n \"data\":{\"a\":1.50}} ";
        let event = WebhookEvent::from_verified_body(body.as_bytes()).unwrap();
        assert_eq!(
            event.detail(),
            body,
            "published as received, not re-encoded"
        );
    }

    #[test]
    fn keys_that_are_not_rsa_public_keys_name_why() {
        assert_eq!(
            WebhookPublicKey::from_pem("not a key"),
            Err(PublicKeyError::NotPem)
        );
        let certificate = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            WebhookPublicKey::from_pem(certificate),
            Err(PublicKeyError::WrongLabel(label)) if label == "CERTIFICATE"
        ));
        let empty = "-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n";
        assert_eq!(
            WebhookPublicKey::from_pem(empty),
            Err(PublicKeyError::Malformed("SubjectPublicKeyInfo"))
        );
        // An Ed25519 key (RFC 8410's example).
        let ed25519 = "-----BEGIN PUBLIC KEY-----\n\
                       MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n\
                       -----END PUBLIC KEY-----";
        assert_eq!(
            WebhookPublicKey::from_pem(ed25519),
            Err(PublicKeyError::NotRsa)
        );
    }

    #[test]
    fn the_debug_print_is_the_size_only() {
        let key = WebhookPublicKey {
            pkcs1_der: vec![1, 2, 3],
            bits: 2048,
        };
        assert_eq!(format!("{key:?}"), "WebhookPublicKey { bits: 2048, .. }");
    }
}
