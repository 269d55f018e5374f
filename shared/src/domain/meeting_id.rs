//! Meeting ids such as `k3f9-0qaz-7mbx`: issued and checked without a database.
//!
//! An id packs 62 bits into 12 base-36 characters (36^12 > 2^62): 40 random bits from the OS
//! CSPRNG and a 22-bit tag, the first bits of an HMAC-SHA256 of the random part under a key
//! derived from the account's secret. Only a holder of the secret can make an id that checks, and
//! a random well-formed id passes with probability 2^-22 (about 1 in 4 million).

use std::fmt;
use std::str::FromStr;

use ring::{hkdf, hmac};
use subtle::ConstantTimeEq;

use crate::domain::credentials::ApiCredentials;

const RANDOM_BITS: u32 = 40;
const TAG_BITS: u32 = 22;
const TAG_MASK: u64 = (1 << TAG_BITS) - 1;
const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
const DIGITS: usize = 12;
/// `abcd-efgh-ijkl`: three groups of four.
pub(crate) const MEETING_ID_LENGTH: usize = 14;
/// Separates this key from any other use of the secret, and lets a later format change keys.
const KEY_SALT: &[u8] = b"videosdk-meeting-api/meeting-id/v1";

/// A syntactically valid meeting id (it may or may not have been issued by this deployment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MeetingId {
    value: u64,
}

/// Why an id was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MeetingIdError {
    #[error(
        "a meeting id is 12 lowercase letters and digits in three groups of four, like abcd-efgh-ijkl"
    )]
    Malformed,
    #[error("no meeting with this id was issued by this service")]
    NotIssued,
    #[error("the operating system's random number generator failed")]
    RandomnessUnavailable,
}

impl FromStr for MeetingId {
    type Err = MeetingIdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bytes = text.as_bytes();
        if bytes.len() != MEETING_ID_LENGTH {
            return Err(MeetingIdError::Malformed);
        }
        let mut value: u64 = 0;
        for (index, &byte) in bytes.iter().enumerate() {
            if index == 4 || index == 9 {
                if byte != b'-' {
                    return Err(MeetingIdError::Malformed);
                }
                continue;
            }
            let digit = match byte {
                b'0'..=b'9' => byte - b'0',
                b'a'..=b'z' => byte - b'a' + 10,
                _ => return Err(MeetingIdError::Malformed),
            };
            // 36^12 - 1 < 2^63, so twelve digits never overflow.
            value = value * 36 + u64::from(digit);
        }
        Ok(Self { value })
    }
}

impl fmt::Display for MeetingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Fixed-width base 36 in dashed groups: small enough that a crate would add more than it saves.
        let mut digits = [b'0'; DIGITS];
        let mut rest = self.value;
        for slot in digits.iter_mut().rev() {
            *slot = ALPHABET[(rest % 36) as usize];
            rest /= 36;
        }
        let text = |range: std::ops::Range<usize>| {
            std::str::from_utf8(&digits[range]).map_err(|_| fmt::Error)
        };
        write!(f, "{}-{}-{}", text(0..4)?, text(4..8)?, text(8..12)?)
    }
}

/// Issues and checks meeting ids with a key derived from the account's secret.
pub struct MeetingIdCodec {
    key: hmac::Key,
}

impl fmt::Debug for MeetingIdCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MeetingIdCodec { .. }")
    }
}

impl MeetingIdCodec {
    /// Derives the tag key with HKDF-SHA256 from the secret key, bound to the API key.
    pub fn new(credentials: &ApiCredentials) -> Self {
        let info = [credentials.api_key().as_bytes()];
        let key = hkdf::Salt::new(hkdf::HKDF_SHA256, KEY_SALT)
            .extract(credentials.secret_key())
            .expand(&info, hmac::HMAC_SHA256)
            .map(hmac::Key::from)
            // expand only fails for outputs longer than 255 hash lengths; ours is one.
            .unwrap_or_else(|_| hmac::Key::new(hmac::HMAC_SHA256, credentials.secret_key()));
        Self { key }
    }

    /// A fresh id with 40 bits from the OS CSPRNG.
    pub fn issue(&self) -> Result<MeetingId, MeetingIdError> {
        let mut random = [0u8; 8];
        getrandom::fill(&mut random[3..]).map_err(|_| MeetingIdError::RandomnessUnavailable)?;
        Ok(self.with_random(u64::from_be_bytes(random)))
    }

    /// The id for a given 40-bit random part.
    fn with_random(&self, random: u64) -> MeetingId {
        MeetingId {
            value: (random << TAG_BITS) | u64::from(self.tag(random)),
        }
    }

    /// Parses `text` and checks its tag in constant time.
    pub fn check(&self, text: &str) -> Result<MeetingId, MeetingIdError> {
        let id: MeetingId = text.parse()?;
        let random = id.value >> TAG_BITS;
        if random >> RANDOM_BITS != 0 {
            // Above 2^62: well-formed, but no id we issue is this large.
            return Err(MeetingIdError::NotIssued);
        }
        let expected = self.tag(random).to_be_bytes();
        let actual = ((id.value & TAG_MASK) as u32).to_be_bytes();
        if bool::from(expected.ct_eq(&actual)) {
            Ok(id)
        } else {
            Err(MeetingIdError::NotIssued)
        }
    }

    fn tag(&self, random: u64) -> u32 {
        let mac = hmac::sign(&self.key, &random.to_be_bytes()[3..]);
        let first = mac.as_ref();
        let word = u32::from_be_bytes([first[0], first[1], first[2], first[3]]);
        word >> (32 - TAG_BITS)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn codec(secret: &str) -> MeetingIdCodec {
        MeetingIdCodec::new(&ApiCredentials::new("api-key", secret))
    }

    fn is_well_formed(text: &str) -> bool {
        let groups: Vec<&str> = text.split('-').collect();
        groups.len() == 3
            && groups.iter().all(|group| {
                group.len() == 4
                    && group
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
            })
    }

    #[test]
    fn issued_ids_are_well_formed_unique_and_check() {
        let codec = codec("secret");
        let mut seen = HashSet::new();
        let mut duplicates = 0;
        for _ in 0..100_000 {
            let id = codec.issue().unwrap();
            let text = id.to_string();
            assert!(is_well_formed(&text), "{text}");
            assert_eq!(codec.check(&text), Ok(id));
            duplicates += usize::from(!seen.insert(text));
        }
        // 40 random bits: among 100,000 ids a repeat is expected 0.0045 times (the birthday
        // bound); three would mean the random part is not random.
        assert!(duplicates < 3, "{duplicates} duplicate ids");
    }

    #[test]
    fn another_secret_does_not_accept_our_ids() {
        let ours = codec("secret");
        let theirs = codec("other-secret");
        let refused = (0..1_000)
            .map(|_| ours.issue().unwrap().to_string())
            .filter(|id| theirs.check(id) == Err(MeetingIdError::NotIssued))
            .count();
        // Each foreign id passes with probability 2^-22; 1,000 of them all but never do.
        assert!(refused >= 999, "{refused}");
    }

    #[test]
    fn every_single_character_change_is_refused() {
        // Fixed ids, so the test is deterministic: a change that happened to hit the 2^-22 tag
        // would fail on every run, not once in a while.
        let codec = codec("secret");
        for random in [0, 1, 0x00_ff00_ff00, 0xde_adbe_efca, (1 << RANDOM_BITS) - 1] {
            assert_single_changes_refused(&codec, &codec.with_random(random).to_string());
        }
    }

    fn assert_single_changes_refused(codec: &MeetingIdCodec, id: &str) {
        assert!(codec.check(id).is_ok());
        for position in (0..MEETING_ID_LENGTH).filter(|p| *p != 4 && *p != 9) {
            for &replacement in ALPHABET.iter() {
                let mut changed = id.as_bytes().to_vec();
                if changed[position] == replacement {
                    continue;
                }
                changed[position] = replacement;
                let changed = String::from_utf8(changed).unwrap();
                assert_eq!(
                    codec.check(&changed),
                    Err(MeetingIdError::NotIssued),
                    "{changed}"
                );
            }
        }
    }

    #[test]
    fn a_million_random_well_formed_ids_are_almost_all_refused() {
        // Deterministic "random" ids (SHA-256 of a counter, reduced to 12 base-36 digits), so a
        // run is repeatable. Each passes with probability 2^-22: about 0.24 expected in 10^6.
        let codec = codec("secret");
        let space = 36u64.pow(12);
        let accepted = (0u64..1_000_000)
            .filter(|counter| {
                let digest = ring::digest::digest(&ring::digest::SHA256, &counter.to_be_bytes());
                let mut first = [0u8; 8];
                first.copy_from_slice(&digest.as_ref()[..8]);
                let id = MeetingId {
                    value: u64::from_be_bytes(first) % space,
                };
                codec.check(&id.to_string()).is_ok()
            })
            .count();
        println!("false accepts among 1,000,000 random well-formed ids: {accepted}");
        assert!(accepted < 5, "{accepted} false accepts");
    }

    #[test]
    fn malformed_ids_are_told_apart_from_unknown_ones() {
        let codec = codec("secret");
        for text in [
            "",
            "abcd-efgh-ijk",
            "abcd-efgh-ijklm",
            "abcdefghijklmn",
            "abcd_efgh_ijkl",
            "ABCD-EFGH-IJKL",
            "abcd-efgh-ijk!",
            "abcd-efgh-ijké",
            "abc-defgh-ijkl",
        ] {
            assert_eq!(
                codec.check(text),
                Err(MeetingIdError::Malformed),
                "{text:?}"
            );
        }
        // The largest well-formed id is above 2^62: well-formed, never issued.
        assert_eq!(
            codec.check("zzzz-zzzz-zzzz"),
            Err(MeetingIdError::NotIssued)
        );
    }

    #[test]
    fn display_and_parse_round_trip_at_the_edges() {
        for value in [0, 1, 35, 36, (1u64 << 62) - 1] {
            let id = MeetingId { value };
            assert_eq!(id.to_string().parse::<MeetingId>(), Ok(id));
        }
        assert_eq!(MeetingId { value: 0 }.to_string(), "0000-0000-0000");
    }
}
