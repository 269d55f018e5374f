//! Moderation: bans of a participant from a room, how long they last, and the record of every
//! moderation action (who did what, to which room and participant, when, and what VideoSDK
//! answered). No HTTP, no AWS: the ban store is `crate::aws::bans`, the routes
//! `crate::routes::moderation`.

use serde::Serialize;

/// A ban lasts this long when the moderator names no duration.
pub const DEFAULT_BAN_SECONDS: u64 = 24 * 60 * 60;
/// The longest ban: a moderator who wants longer bans again, or the operator removes the
/// participant from the identity provider.
pub const MAX_BAN_SECONDS: u64 = 30 * 24 * 60 * 60;
/// The longest reason kept with a ban.
pub(crate) const MAX_REASON_CHARS: usize = 256;

/// A participant kept out of a room until `ends_at` (Unix seconds). `room_id` is the id the ban
/// is stored under: the room's VideoSDK id, and its custom id when it has one, each with its
/// own copy, so that a token asked for by either id meets the ban.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ban {
    pub room_id: String,
    pub participant_id: String,
    pub banned_at: u64,
    pub ends_at: u64,
    /// Who banned: the moderator's participant id.
    pub banned_by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Ban {
    /// Whether the ban still holds at `now`. The store's TTL deletes ended bans only lazily
    /// (within days), so every read asks this rather than trusting the item's presence.
    pub fn holds_at(&self, now: u64) -> bool {
        now < self.ends_at
    }
}

/// Why a ban's duration cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("banSeconds must be a whole number of seconds from 1 to {MAX_BAN_SECONDS}")]
pub(crate) struct BanDurationError;

/// A ban's duration in seconds: [`DEFAULT_BAN_SECONDS`] when none is named, else 1 to
/// [`MAX_BAN_SECONDS`].
pub(crate) fn ban_seconds(requested: Option<u64>) -> Result<u64, BanDurationError> {
    match requested {
        None => Ok(DEFAULT_BAN_SECONDS),
        Some(seconds) if (1..=MAX_BAN_SECONDS).contains(&seconds) => Ok(seconds),
        Some(_) => Err(BanDurationError),
    }
}

/// The moderation actions, as their names appear in the audit trail (the EventBridge detail
/// type is `Moderation <Action>`, see [`ModerationAction::detail_type`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum ModerationAction {
    RemoveParticipant,
    LiftBan,
    ListBans,
    EndSession,
    DeactivateRoom,
}

/// The source of the audit trail's events on the bus, beside VideoSDK's webhooks (`videosdk`).
pub const MODERATION_EVENT_SOURCE: &str = "videosdk-token-api.moderation";

impl ModerationAction {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The EventBridge detail type of this action's audit event.
    pub fn detail_type(self) -> &'static str {
        match self {
            Self::RemoveParticipant => "Moderation RemoveParticipant",
            Self::LiftBan => "Moderation LiftBan",
            Self::ListBans => "Moderation ListBans",
            Self::EndSession => "Moderation EndSession",
            Self::DeactivateRoom => "Moderation DeactivateRoom",
        }
    }
}

/// What VideoSDK answered to the action's call, in the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VideoSdkOutcome {
    /// The action makes no call to VideoSDK (lift a ban, list bans).
    NotCalled,
    Done,
    /// The participant was not in the room's session, or the room had no session.
    NoSession,
    /// The room is unknown to VideoSDK.
    UnknownRoom,
    Failed,
}

/// One moderation action, as the audit trail records it. It holds ids and outcomes, never a
/// token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    pub action: ModerationAction,
    /// The moderator: their participant id (the identity claim, or their token's).
    pub moderator: String,
    pub room_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant_id: Option<String>,
    /// Unix seconds.
    pub at: u64,
    pub videosdk: VideoSdkOutcome,
    /// The ban written (remove with a ban), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ban_ends_at: Option<u64>,
    /// Whether the action did what it was asked (its answer was a success).
    pub succeeded: bool,
}

/// A room as the moderation routes act on it: its VideoSDK id (which sessions, removals and
/// deactivation take) and its custom id, if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ModeratedRoom {
    pub(crate) room_id: String,
    pub(crate) custom_room_id: Option<String>,
}

impl ModeratedRoom {
    /// Every id a token may name this room by: its bans are stored under each.
    pub(crate) fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.room_id.as_str()).chain(
            self.custom_room_id
                .as_deref()
                .filter(|custom| *custom != self.room_id),
        )
    }
}

/// Why a moderation call to VideoSDK (remove, end, deactivate) did not do it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SessionError {
    /// The room has no session now, or the participant is not in it.
    #[error("no such session or participant in the room now")]
    NoSession,
    #[error("VideoSDK does not know this room")]
    RoomNotFound,
    /// The local meeting backend has no sessions to act on.
    #[error("the local meeting backend has no VideoSDK sessions")]
    Unsupported,
    #[error("VideoSDK: {0}")]
    Upstream(#[from] crate::domain::meetings::UpstreamFailure),
}

impl SessionError {
    /// How the audit trail records it.
    pub(crate) fn outcome(&self) -> VideoSdkOutcome {
        match self {
            Self::NoSession => VideoSdkOutcome::NoSession,
            Self::RoomNotFound => VideoSdkOutcome::UnknownRoom,
            Self::Unsupported => VideoSdkOutcome::NotCalled,
            Self::Upstream(_) => VideoSdkOutcome::Failed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ban_holds_until_its_end_and_not_at_it() {
        let ban = Ban {
            room_id: "abcd-efgh-ijkl".into(),
            participant_id: "member".into(),
            banned_at: 1_000,
            ends_at: 1_060,
            banned_by: "moderator".into(),
            reason: None,
        };
        assert!(ban.holds_at(1_000));
        assert!(ban.holds_at(1_059));
        assert!(!ban.holds_at(1_060));
        assert!(!ban.holds_at(5_000));
    }

    #[test]
    fn ban_durations_default_and_are_bounded() {
        assert_eq!(ban_seconds(None), Ok(DEFAULT_BAN_SECONDS));
        assert_eq!(ban_seconds(Some(1)), Ok(1));
        assert_eq!(ban_seconds(Some(MAX_BAN_SECONDS)), Ok(MAX_BAN_SECONDS));
        assert_eq!(ban_seconds(Some(0)), Err(BanDurationError));
        assert_eq!(
            ban_seconds(Some(MAX_BAN_SECONDS + 1)),
            Err(BanDurationError)
        );
    }

    #[test]
    fn the_audit_record_names_the_action_and_holds_no_token() {
        let record = AuditRecord {
            action: ModerationAction::RemoveParticipant,
            moderator: "mod-1".into(),
            room_id: "abcd-efgh-ijkl".into(),
            participant_id: Some("member".into()),
            at: 1_000,
            videosdk: VideoSdkOutcome::Done,
            ban_ends_at: Some(2_000),
            succeeded: true,
        };
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(json["action"], "remove-participant");
        assert_eq!(json["videosdk"], "done");
        assert_eq!(json["banEndsAt"], 2_000);
    }
}
