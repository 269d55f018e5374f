//! The moderation function's backend: VideoSDK's rooms and sessions (through the meeting
//! backend), and the bus its audit trail goes on (`EVENT_BUS_NAME`, when set). Every action is
//! also one log line, with ids and outcomes and never a token.

use crate::aws::budget::Budget;
use crate::aws::eventbridge::EventBus;
use crate::backends::meetings::MeetingBackend;
use crate::domain::moderation::AuditRecord;
use crate::settings::Settings;
use crate::state::{Backend, InitError};

#[derive(Debug)]
pub struct ModerationBackend {
    pub(crate) rooms: MeetingBackend,
    audit_bus: Option<EventBus>,
}

impl Backend for ModerationBackend {
    fn from_settings(settings: &Settings) -> Result<Self, InitError> {
        Ok(Self {
            rooms: MeetingBackend::from_settings(settings)?,
            audit_bus: settings
                .event_bus
                .as_ref()
                .map(|bus| EventBus::new(&bus.aws, bus.name.clone())),
        })
    }

    fn start_warm_up(&self) {
        Backend::start_warm_up(&self.rooms)
    }
}

impl ModerationBackend {
    /// Writes `record` to the log, then puts it on the bus. A bus that refuses it is logged as
    /// an error (the action is done at VideoSDK and cannot be undone; the log line holds it).
    pub(crate) async fn audit(&self, record: &AuditRecord, budget: &Budget) {
        tracing::info!(
            action = record.action.as_str(),
            moderator = %record.moderator,
            room_id = %record.room_id,
            participant_id = record.participant_id.as_deref().unwrap_or("-"),
            at = record.at,
            videosdk = ?record.videosdk,
            ban_ends_at = record.ban_ends_at,
            succeeded = record.succeeded,
            "moderation"
        );
        if let Some(bus) = &self.audit_bus
            && let Err(error) = bus.publish_audit(record, budget).await
        {
            tracing::error!(error = %error, action = record.action.as_str(), "the moderation audit event is not on the bus");
        }
    }
}
