//! The moderation function's handler on requests built from parts (each of the five routes,
//! room ids issued here, elsewhere or altered, `participantId`, `ban`, `banSeconds` and `reason`
//! of every JSON type, tokens of this API with or without `allow_mod` scoped to the room named,
//! another or none, authorizer claims of moderators and members) in every deployment: never a
//! panic, never a 5xx, only documented error codes; only a moderator gets past authorization
//! and only for one does the backend act (its audit line); a well-formed request gets exactly
//! the answer the rules give; no token reaches a log line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use videosdk_api_fuzz::moderation_request::ModerationInput;

fuzz_target!(|input: ModerationInput| {
    if let Some(request) = input.request() {
        input.call_and_check(request);
    }
});
