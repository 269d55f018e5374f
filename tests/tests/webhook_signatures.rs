//! VideoSDK's webhook signatures as `shared::domain::webhooks` checks them: a known answer (a key,
//! body and signature made once with OpenSSL, `tests/data/webhook-kat/`), RSA-2048 keys made
//! here, and every way a signature can be wrong: another key, a tampered body, a truncated or
//! non-base64 signature, none at all. A property ties it together: a signature verifies exactly
//! when it reads (as VideoSDK's Node SDK reads base64) as the one PKCS#1 v1.5 signature of those
//! body bytes under that key.

use std::sync::OnceLock;

use api_tests::webhooks::{TestKey, WebhookSigner, generate_key};
use api_tests::workspace_root;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use proptest::prelude::*;
use shared::domain::webhooks::{
    PublicKeyError, SignatureError, WebhookPublicKey, decode_signature,
};

fn kat(file: &str) -> String {
    let path = workspace_root().join("tests/data/webhook-kat").join(file);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// Two keys made here, the same in every run.
fn keys() -> &'static [TestKey; 2] {
    static KEYS: OnceLock<[TestKey; 2]> = OnceLock::new();
    KEYS.get_or_init(|| {
        [
            generate_key("webhook-signatures-a", 2048),
            generate_key("webhook-signatures-b", 2048),
        ]
    })
}

fn public(key: &TestKey) -> WebhookPublicKey {
    WebhookPublicKey::from_pem(&key.spki_pem).expect("a generated key loads")
}

const BODY: &[u8] = br#"{"webhookType":"participant-joined","data":{"meetingId":"abcd-efgh-ijkl","participantId":"alice"}}"#;

#[test]
fn the_known_answer_verifies_and_ring_signs_the_same_bytes() {
    let key = WebhookPublicKey::from_pem(&kat("public-key.pem")).expect("the KAT key loads");
    assert_eq!(key.bits(), 2048);
    let body = kat("body.json");
    let signature = kat("signature.txt").trim_end().to_owned();
    assert_eq!(key.verify(body.as_bytes(), signature.as_bytes()), Ok(()));

    // PKCS#1 v1.5 is deterministic: the fixtures' signer (ring) gives OpenSSL's bytes.
    let signer = WebhookSigner::from_pkcs8_pem(&kat("private-key.pem"));
    assert_eq!(signer.sign(body.as_bytes()), signature);

    // Not one other body: every bit of every byte flipped, a byte more, a byte less.
    let bytes = body.as_bytes();
    for index in 0..bytes.len() {
        for bit in 0..8 {
            let mut tampered = bytes.to_vec();
            tampered[index] ^= 1 << bit;
            assert_eq!(
                key.verify(&tampered, signature.as_bytes()),
                Err(SignatureError::Invalid),
                "byte {index} bit {bit}"
            );
        }
    }
    assert_eq!(
        key.verify(format!("{body}\n").as_bytes(), signature.as_bytes()),
        Err(SignatureError::Invalid)
    );
    assert_eq!(
        key.verify(&bytes[..bytes.len() - 1], signature.as_bytes()),
        Err(SignatureError::Invalid)
    );

    // The same key written as PKCS#1 (`RSA PUBLIC KEY`) verifies the same.
    let spki = pem::parse(kat("public-key.pem")).expect("PEM");
    let pkcs1 = {
        use rsa::pkcs1::EncodeRsaPublicKey as _;
        use rsa::pkcs8::DecodePublicKey as _;
        rsa::PublicKey::from_public_key_der(spki.contents())
            .expect("the KAT key")
            .to_pkcs1_der()
            .expect("PKCS#1")
    };
    let pkcs1_pem = pem::encode(&pem::Pem::new("RSA PUBLIC KEY", pkcs1.as_bytes().to_vec()));
    let same = WebhookPublicKey::from_pem(&pkcs1_pem).expect("the PKCS#1 form loads");
    assert_eq!(same, key, "one key, whichever PEM form");
    assert_eq!(same.verify(body.as_bytes(), signature.as_bytes()), Ok(()));
}

#[test]
fn generated_keys_verify_their_own_signatures_only() {
    let [a, b] = keys();
    let (key_a, key_b) = (public(a), public(b));
    assert_eq!(
        WebhookPublicKey::from_pem(&a.pkcs1_pem).expect("PKCS#1"),
        key_a
    );
    let signature = a.signer().sign(BODY);
    assert_eq!(key_a.verify(BODY, signature.as_bytes()), Ok(()));
    assert_eq!(
        key_b.verify(BODY, signature.as_bytes()),
        Err(SignatureError::Invalid),
        "another key"
    );
    assert_eq!(key_b.verify(BODY, b.signer().sign(BODY).as_bytes()), Ok(()));
}

#[test]
fn tampered_bodies_are_refused() {
    let key = public(&keys()[0]);
    let signature = keys()[0].signer().sign(BODY);
    let text = std::str::from_utf8(BODY).unwrap();
    let reserialized =
        serde_json::to_string(&serde_json::from_slice::<serde_json::Value>(BODY).unwrap()).unwrap();
    assert_ne!(reserialized.as_bytes(), BODY, "serde_json sorts the keys");
    for tampered in [
        format!("{text} "),
        format!(" {text}"),
        text.replace("alice", "mallory"),
        text.replace("participant-joined", "participant-left"),
        text.replace(':', ": "),
        reserialized,
        String::new(),
    ] {
        assert_eq!(
            key.verify(tampered.as_bytes(), signature.as_bytes()),
            Err(SignatureError::Invalid),
            "{tampered}"
        );
    }
}

#[test]
fn truncated_malformed_and_missing_signatures_are_refused() {
    let key = public(&keys()[0]);
    let bytes = keys()[0].signer().sign_bytes(BODY);
    let text = STANDARD.encode(&bytes);
    assert_eq!(key.verify(BODY, b""), Err(SignatureError::Missing));
    for length in 1..text.len() {
        let truncated = &text[..length];
        // Only its padding may go: "...=" and "..." read the same.
        let expected = if text[length..].chars().all(|c| c == '=') {
            Ok(())
        } else {
            Err(SignatureError::Invalid)
        };
        assert_eq!(
            key.verify(BODY, truncated.as_bytes()),
            expected,
            "{length} characters"
        );
    }
    for cut in 1..bytes.len() {
        let shorter = STANDARD.encode(&bytes[..bytes.len() - cut]);
        assert_eq!(
            key.verify(BODY, shorter.as_bytes()),
            Err(SignatureError::Invalid),
            "{cut} bytes fewer"
        );
    }
    let longer = STANDARD.encode([bytes.as_slice(), &[0]].concat());
    assert_eq!(
        key.verify(BODY, longer.as_bytes()),
        Err(SignatureError::Invalid)
    );
    for index in [0, 1, 100, 254, 255] {
        let mut flipped = bytes.clone();
        flipped[index] ^= 0x01;
        assert_eq!(
            key.verify(BODY, STANDARD.encode(&flipped).as_bytes()),
            Err(SignatureError::Invalid),
            "byte {index}"
        );
    }
    for junk in [
        "%%%%",
        "not a signature",
        "====",
        "🙂🙂🙂",
        "\u{0}\u{1}",
        &"A".repeat(344),
        &"/".repeat(10_000),
    ] {
        assert_eq!(
            key.verify(BODY, junk.as_bytes()),
            Err(SignatureError::Invalid),
            "{junk:?}"
        );
    }
}

#[test]
fn other_spellings_of_a_genuine_signature_verify_as_in_videosdks_sdk() {
    // Node's Buffer.from(text, "base64") reads all of these as the same bytes; so do we. They
    // are spellings of the one signature, never another signature.
    let key = public(&keys()[0]);
    let bytes = keys()[0].signer().sign_bytes(BODY);
    let padded = STANDARD.encode(&bytes);
    let wrapped: String = padded
        .as_bytes()
        .chunks(64)
        .map(|line| std::str::from_utf8(line).unwrap())
        .collect::<Vec<_>>()
        .join("\r\n");
    for spelling in [
        padded.clone(),
        STANDARD_NO_PAD.encode(&bytes),
        URL_SAFE_NO_PAD.encode(&bytes),
        format!("  {padded}\t"),
        wrapped,
        format!("{padded}garbage after the padding"),
    ] {
        assert_eq!(decode_signature(spelling.as_bytes()), bytes, "{spelling}");
        assert_eq!(key.verify(BODY, spelling.as_bytes()), Ok(()), "{spelling}");
    }
}

#[test]
fn keys_the_functions_cannot_use_are_refused_when_loaded() {
    let small = generate_key("webhook-signatures-1024", 1024);
    assert_eq!(
        WebhookPublicKey::from_pem(&small.spki_pem),
        Err(PublicKeyError::WrongSize(1024))
    );
    assert_eq!(
        WebhookPublicKey::from_pem(&small.pkcs1_pem),
        Err(PublicKeyError::WrongSize(1024))
    );
    let key = &keys()[0];
    assert!(matches!(
        WebhookPublicKey::from_pem(&key.pkcs8_pem),
        Err(PublicKeyError::WrongLabel(label)) if label == "PRIVATE KEY"
    ));
    // A PKCS#1 body under the SPKI label, and the reverse.
    let swapped = key.pkcs1_pem.replace("RSA PUBLIC KEY", "PUBLIC KEY");
    assert_eq!(
        WebhookPublicKey::from_pem(&swapped),
        Err(PublicKeyError::Malformed("SubjectPublicKeyInfo"))
    );
    let swapped = key.spki_pem.replace("PUBLIC KEY", "RSA PUBLIC KEY");
    assert_eq!(
        WebhookPublicKey::from_pem(&swapped),
        Err(PublicKeyError::Malformed("RSA public key"))
    );
}

#[test]
fn a_key_loads_however_its_line_breaks_are_written() {
    let key = &keys()[0];
    let expected = public(key);
    let escaped = key.spki_pem.trim_end().replace('\n', "\\n");
    for text in [
        key.spki_pem.clone(),
        key.spki_pem.replace('\n', "\r\n"),
        format!("\n  {}  \n", key.spki_pem),
        escaped.clone(),
        escaped.replace("\\n", "\\r\\n"),
        format!("A note before the key.\n{}", key.spki_pem),
    ] {
        assert_eq!(
            WebhookPublicKey::from_pem(&text).as_ref(),
            Ok(&expected),
            "{text:?}"
        );
    }
}

/// A signature as it may arrive, built from the genuine one or not.
#[derive(Debug, Clone)]
enum Candidate {
    Genuine,
    UrlSafe,
    Unpadded,
    WithWhitespace(usize),
    OtherKey,
    OtherBody(Vec<u8>),
    FlipBit(usize, u8),
    Truncated(usize),
    Text(String),
}

fn candidate() -> impl Strategy<Value = Candidate> {
    prop_oneof![
        Just(Candidate::Genuine),
        Just(Candidate::UrlSafe),
        Just(Candidate::Unpadded),
        (0usize..400).prop_map(Candidate::WithWhitespace),
        Just(Candidate::OtherKey),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(Candidate::OtherBody),
        (0usize..256, 0u8..8).prop_map(|(index, bit)| Candidate::FlipBit(index, bit)),
        (0usize..344).prop_map(Candidate::Truncated),
        ".{0,400}".prop_map(Candidate::Text),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// The verdict on any body and any signature text: accepted exactly when the text reads as
    /// the genuine signature of these bytes (there is one per key and body with PKCS#1 v1.5),
    /// never a panic.
    #[test]
    fn only_the_signature_of_the_exact_body_verifies(
        body in prop::collection::vec(any::<u8>(), 0..300),
        candidate in candidate(),
    ) {
        let [a, b] = keys();
        let key = public(a);
        let genuine = a.signer().sign_bytes(&body);
        let padded = STANDARD.encode(&genuine);
        prop_assert_eq!(padded.len(), 344);
        let text = match &candidate {
            Candidate::Genuine => padded,
            Candidate::UrlSafe => URL_SAFE_NO_PAD.encode(&genuine),
            Candidate::Unpadded => STANDARD_NO_PAD.encode(&genuine),
            Candidate::WithWhitespace(at) => {
                let at = (*at).min(padded.len());
                format!("{} \n{}", &padded[..at], &padded[at..])
            }
            Candidate::OtherKey => b.signer().sign(&body),
            Candidate::OtherBody(other) => a.signer().sign(other),
            Candidate::FlipBit(index, bit) => {
                let mut flipped = genuine.clone();
                flipped[*index] ^= 1 << bit;
                STANDARD.encode(flipped)
            }
            Candidate::Truncated(length) => padded[..(*length).min(padded.len())].to_owned(),
            Candidate::Text(text) => text.clone(),
        };
        let verdict = key.verify(&body, text.as_bytes());
        // What each candidate must get, from how it was made, not from the code's own decoding:
        // the genuine signature in any spelling Node's base64 reader takes verifies; anything
        // else is other bytes, and PKCS#1 v1.5 has one signature per key and body.
        let expected = match &candidate {
            Candidate::Genuine
            | Candidate::UrlSafe
            | Candidate::Unpadded
            | Candidate::WithWhitespace(_) => true,
            Candidate::OtherKey | Candidate::FlipBit(..) => false,
            Candidate::OtherBody(other) => other == &body,
            // Only the padding may go: 256 bytes are 342 symbols and "==".
            Candidate::Truncated(length) => *length >= 342,
            // Random text is never the genuine signature (one chance in 2^2048).
            Candidate::Text(_) => false,
        };
        prop_assert_eq!(verdict.is_ok(), expected, "{:?}: {:?}", candidate, verdict);
    }
}
