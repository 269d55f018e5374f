//! The `join` handler on requests built from a fuzzed body (`roomId`, `customRoomId`,
//! `permissions` and `participantId` of every JSON type, issued and foreign room ids), JWT
//! authorizer claims or none, and every `ROOM_CREATORS` a deployment takes: never a panic,
//! never a 5xx, only documented error codes, and every 200 a token scoped to the room it names,
//! bound to the participant the identity rules give, with `allow_mod` only where they grant it
//! and a new room only for a caller who may create one (else 403 `room_creation_not_allowed`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use videosdk_api_fuzz::join::JoinInput;

fuzz_target!(|input: JoinInput| {
    if let Some(request) = input.request() {
        input.call_and_check(request);
    }
});
