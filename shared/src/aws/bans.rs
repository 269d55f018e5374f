//! The bans table (DynamoDB, `BANS_TABLE_NAME`): one item per banned participant and room id,
//! keyed `roomId` (partition) and `participantId` (sort), with `endsAt` (Unix seconds) as the
//! table's TTL attribute. TTL deletes ended items lazily, so [`BanTable::active_ban`] compares
//! `endsAt` with the time itself. A token route reads it with one consistent `GetItem`, and only
//! when the request names a room; the moderation function writes, deletes and queries it.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use crate::aws::budget::Budget;
use crate::aws::environment::AwsEnvironment;
use crate::domain::moderation::Ban;
use crate::error_chain::error_chain;

/// The endpoint variable of this service (besides `AWS_ENDPOINT_URL`).
const ENDPOINT_VARIABLE: &str = "AWS_ENDPOINT_URL_DYNAMODB";

/// The attribute names, written once: the template's table and the tests use the same.
pub const ROOM_ID: &str = "roomId";
pub const PARTICIPANT_ID: &str = "participantId";
pub const ENDS_AT: &str = "endsAt";
const BANNED_AT: &str = "bannedAt";
const BANNED_BY: &str = "bannedBy";
const REASON: &str = "reason";

/// A DynamoDB client, configured as every AWS client here is (see [`crate::aws::environment`]).
pub fn client(environment: &AwsEnvironment) -> Client {
    Client::new(&environment.sdk_config(ENDPOINT_VARIABLE))
}

/// The table and the client that reaches it, built once per cold start.
#[derive(Debug, Clone)]
pub struct BanTable {
    client: Client,
    name: String,
}

/// Why the bans could not be read or written. It names the table, never a participant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the bans table {table:?} could not be {action}: {detail}")]
pub struct BanStoreError {
    table: String,
    action: &'static str,
    detail: String,
}

impl BanTable {
    pub fn new(environment: &AwsEnvironment, name: impl Into<String>) -> Self {
        Self {
            client: client(environment),
            name: name.into(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The ban of `participant_id` from `room_id` that holds at `now`, if any: one strongly
    /// consistent `GetItem` (a ban written a moment ago is seen), its end checked here.
    pub async fn active_ban(
        &self,
        room_id: &str,
        participant_id: &str,
        now: u64,
    ) -> Result<Option<Ban>, BanStoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.name)
            .key(ROOM_ID, AttributeValue::S(room_id.to_owned()))
            .key(PARTICIPANT_ID, AttributeValue::S(participant_id.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| self.failed("read", error))?;
        Ok(output
            .item()
            .and_then(ban_from_item)
            .filter(|ban| ban.holds_at(now)))
    }

    /// Writes `ban` (replacing any earlier ban of the same participant from the same room id).
    pub async fn put(&self, ban: &Ban) -> Result<(), BanStoreError> {
        let mut item = HashMap::from([
            (ROOM_ID.to_owned(), AttributeValue::S(ban.room_id.clone())),
            (
                PARTICIPANT_ID.to_owned(),
                AttributeValue::S(ban.participant_id.clone()),
            ),
            (
                ENDS_AT.to_owned(),
                AttributeValue::N(ban.ends_at.to_string()),
            ),
            (
                BANNED_AT.to_owned(),
                AttributeValue::N(ban.banned_at.to_string()),
            ),
            (
                BANNED_BY.to_owned(),
                AttributeValue::S(ban.banned_by.clone()),
            ),
        ]);
        if let Some(reason) = &ban.reason {
            item.insert(REASON.to_owned(), AttributeValue::S(reason.clone()));
        }
        self.client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|error| self.failed("written", error))?;
        Ok(())
    }

    /// Deletes the ban of `participant_id` from `room_id`; whether there was one that still held
    /// at `now`.
    pub async fn lift(
        &self,
        room_id: &str,
        participant_id: &str,
        now: u64,
    ) -> Result<bool, BanStoreError> {
        let output = self
            .client
            .delete_item()
            .table_name(&self.name)
            .key(ROOM_ID, AttributeValue::S(room_id.to_owned()))
            .key(PARTICIPANT_ID, AttributeValue::S(participant_id.to_owned()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(|error| self.failed("written", error))?;
        Ok(output
            .attributes()
            .and_then(ban_from_item)
            .is_some_and(|ban| ban.holds_at(now)))
    }

    /// The bans of `room_id` that hold at `now`, by participant id (one consistent `Query`,
    /// every page).
    pub async fn bans_of_room(&self, room_id: &str, now: u64) -> Result<Vec<Ban>, BanStoreError> {
        let mut bans = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.name)
                .key_condition_expression("#room = :room")
                .expression_attribute_names("#room", ROOM_ID)
                .expression_attribute_values(":room", AttributeValue::S(room_id.to_owned()))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|error| self.failed("read", error))?;
            bans.extend(
                output
                    .items()
                    .iter()
                    .filter_map(ban_from_item)
                    .filter(|ban| ban.holds_at(now)),
            );
            match output.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return Ok(bans),
            }
        }
    }

    /// `call` (one of this table's) within `budget`, keeping `keep` for what comes after it: a
    /// call with no time left, or that runs out of it, fails as the table's.
    pub async fn within<T>(
        &self,
        budget: &Budget,
        keep: Duration,
        call: impl Future<Output = Result<T, BanStoreError>>,
    ) -> Result<T, BanStoreError> {
        budget
            .run_aws(keep, call)
            .await
            .unwrap_or_else(|out_of_time| {
                Err(BanStoreError {
                    table: self.name.clone(),
                    action: "reached in time",
                    detail: out_of_time.to_string(),
                })
            })
    }

    fn failed<E>(&self, action: &'static str, error: SdkError<E>) -> BanStoreError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let detail = match &error {
            SdkError::ServiceError(context) => format!(
                "{}: {}",
                context.err().code().unwrap_or("Unknown"),
                context.err().message().unwrap_or("no message")
            ),
            _ => error_chain(&error),
        };
        BanStoreError {
            table: self.name.clone(),
            action,
            detail,
        }
    }
}

/// A ban from a stored item; `None` for an item that is not one (written by hand, say): it
/// bans no one.
fn ban_from_item(item: &HashMap<String, AttributeValue>) -> Option<Ban> {
    let text = |name: &str| item.get(name)?.as_s().ok().cloned();
    let number = |name: &str| item.get(name)?.as_n().ok()?.parse::<u64>().ok();
    Some(Ban {
        room_id: text(ROOM_ID)?,
        participant_id: text(PARTICIPANT_ID)?,
        ends_at: number(ENDS_AT)?,
        banned_at: number(BANNED_AT).unwrap_or_default(),
        banned_by: text(BANNED_BY).unwrap_or_default(),
        reason: text(REASON),
    })
}
