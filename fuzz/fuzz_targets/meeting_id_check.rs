//! `MeetingIdCodec::check` on arbitrary text, and the round trip of issued ids.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::domain::credentials::ApiCredentials;
use shared::domain::meeting_id::{MeetingId, MeetingIdCodec, MeetingIdError};
use std::sync::OnceLock;
use videosdk_api_fuzz::deployments::{API_KEY, SECRET};

fn codec() -> &'static MeetingIdCodec {
    static CODEC: OnceLock<MeetingIdCodec> = OnceLock::new();
    CODEC.get_or_init(|| MeetingIdCodec::new(&ApiCredentials::new(API_KEY, SECRET)))
}

fuzz_target!(|data: &[u8]| {
    let codec = codec();
    let text = String::from_utf8_lossy(data);

    // Arbitrary text: an id is accepted only in its one canonical spelling.
    let parsed = text.parse::<MeetingId>();
    if let Ok(id) = parsed {
        assert_eq!(
            id.to_string(),
            text,
            "a meeting id parsed from a non-canonical spelling"
        );
    }
    match codec.check(&text) {
        Ok(id) => assert_eq!(parsed, Ok(id)),
        Err(MeetingIdError::Malformed) => assert!(parsed.is_err()),
        Err(MeetingIdError::NotIssued) => assert!(parsed.is_ok()),
        Err(error) => panic!("check failed with {error:?}"),
    }

    // Issued ids: well formed, and they check.
    let issued = codec.issue().expect("the OS random generator works");
    let spelled = issued.to_string();
    assert_eq!(spelled.len(), 14);
    assert_eq!(
        codec.check(&spelled),
        Ok(issued),
        "an issued id does not check: {spelled}"
    );
    assert_eq!(spelled.parse::<MeetingId>(), Ok(issued));
    if spelled.bytes().any(|b| b.is_ascii_lowercase()) {
        assert_eq!(
            codec.check(&spelled.to_ascii_uppercase()),
            Err(MeetingIdError::Malformed)
        );
    }
    // One byte of it changed by the input: never a panic, and a change that leaves the text
    // well formed (but for the 2^-22 tag collision) is a well-formed id.
    if let [index, byte, ..] = data {
        let mut bytes = spelled.into_bytes();
        let index = usize::from(*index) % bytes.len();
        bytes[index] = *byte;
        let changed = String::from_utf8_lossy(&bytes);
        if let Ok(id) = codec.check(&changed) {
            assert_eq!(id.to_string(), changed);
        }
    }
});
