//! VideoSDK's webhook check (`shared::domain::webhooks`) on fuzzed input: never a panic, and a
//! signature is accepted exactly when it reads (as VideoSDK's Node SDK reads base64) as the
//! genuine RSA-SHA256 PKCS#1 v1.5 signature of exactly that body under that key. The first byte
//! picks what the rest is:
//!
//! - `0` (mod 3): a key, as PEM text and as DER: loading it never panics, and a key that loads
//!   is RSA of 2048 to 8192 bits;
//! - `1`: `<signature>\n<body>`, checked with the development webhook key
//!   (`dev/webhook-signing-key.pem`, which signs the seeds);
//! - `2`: the same, with another key (the known-answer key of `tests/data/webhook-kat/`).
//!
//! A body whose signature is accepted is then read as an event: never a panic, and an event's
//! type is 1 to 128 printable characters.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use shared::domain::webhooks::{
    MAX_WEBHOOK_TYPE_LENGTH, WebhookEvent, WebhookPublicKey, decode_signature,
};

struct Key {
    public: WebhookPublicKey,
    private: RsaKeyPair,
}

impl Key {
    fn load(private_pem: &str, public_pem: &str) -> Self {
        let block = pem::parse(private_pem).expect("a PEM private key");
        Self {
            public: WebhookPublicKey::from_pem(public_pem).expect("the public key loads"),
            private: RsaKeyPair::from_pkcs8(block.contents()).expect("ring takes the key"),
        }
    }

    fn sign(&self, body: &[u8]) -> Vec<u8> {
        let mut signature = vec![0; self.private.public().modulus_len()];
        self.private
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                body,
                &mut signature,
            )
            .expect("ring signs");
        signature
    }
}

fn keys() -> &'static [Key; 2] {
    static KEYS: OnceLock<[Key; 2]> = OnceLock::new();
    KEYS.get_or_init(|| {
        [
            Key::load(
                include_str!("../../dev/webhook-signing-key.pem"),
                include_str!("../../dev/webhook-public-key.pem"),
            ),
            Key::load(
                include_str!("../../tests/data/webhook-kat/private-key.pem"),
                include_str!("../../tests/data/webhook-kat/public-key.pem"),
            ),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 3 == 0 {
        let loaded = [
            WebhookPublicKey::from_pem(&String::from_utf8_lossy(rest)),
            WebhookPublicKey::from_spki_der(rest),
            WebhookPublicKey::from_pkcs1_der(rest),
        ];
        for key in loaded.into_iter().flatten() {
            assert!((2048..=8192).contains(&key.bits()), "{key:?}");
        }
        return;
    }
    let key = &keys()[usize::from(mode % 3 == 2)];
    let (signature, body) = match rest.iter().position(|byte| *byte == b'\n') {
        Some(newline) => (&rest[..newline], &rest[newline + 1..]),
        None => (rest, &[][..]),
    };
    let accepted = key.public.verify(body, signature).is_ok();
    let read = decode_signature(signature);
    // Only a signature of the modulus' length can be genuine: sign only then.
    let genuine = read.len() == key.private.public().modulus_len() && read == key.sign(body);
    assert_eq!(
        accepted,
        genuine,
        "accepted {accepted}, but the signature is {}the genuine one",
        if genuine { "" } else { "not " }
    );
    if accepted && let Ok(event) = WebhookEvent::from_verified_body(body) {
        let length = event.kind().chars().count();
        assert!((1..=MAX_WEBHOOK_TYPE_LENGTH).contains(&length));
        assert!(!event.kind().chars().any(char::is_control));
        assert_eq!(event.detail().as_bytes(), body);
    }
});
