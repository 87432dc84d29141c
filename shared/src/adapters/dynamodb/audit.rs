use std::{time::Duration, time::SystemTime};

use aws_sdk_dynamodb::{Client, types::AttributeValue};
use base64::Engine;

use super::{Item, classify, n, string};
use crate::{
    domain::audit::{AuditLog, Event, EventPage},
    domain::lock::account_key,
    domain::store::StoreError,
    domain::user_id::UserId,
    time::epoch_seconds,
};

/// Audit table: key `pk` = `userPoolId#userID`, sort key `sk` = `<nanoseconds, 20 digits>#activityID`,
/// so a query on `pk` backwards is newest first. `expiresAt` is the retention TTL.
pub struct DynamoAudit {
    client: Client,
    table: String,
    retention: Duration,
}

impl DynamoAudit {
    pub fn new(client: Client, table: impl Into<String>, retention: Duration) -> Self {
        Self {
            client,
            table: table.into(),
            retention,
        }
    }
}

fn event_sort_key(e: &Event) -> String {
    format!("{:020}#{}", e.at_nanos, e.activity_id)
}

/// Cursors are the last entry's sort key, base64url: opaque to callers, checked on the way in.
fn decode_cursor(cursor: &str) -> Result<String, StoreError> {
    let invalid = || StoreError::InvalidCursor;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| invalid())?;
    let sk = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (nanos, activity) = sk.split_once('#').ok_or_else(invalid)?;
    if nanos.len() != 20 || !nanos.bytes().all(|b| b.is_ascii_digit()) || activity.len() > 256 {
        return Err(invalid());
    }
    Ok(sk)
}

fn event_from_item(item: &Item) -> Option<Event> {
    let sk = string(item, "sk")?;
    Some(Event {
        user_id: string(item, "userID")?,
        at: string(item, "at")?,
        activity_id: string(item, "activityID").unwrap_or_default(),
        actor: string(item, "actor").unwrap_or_default(),
        action: string(item, "action").unwrap_or_default(),
        outcome: string(item, "outcome").unwrap_or_default(),
        at_nanos: sk.split('#').next()?.parse().ok()?,
    })
}

impl AuditLog for DynamoAudit {
    async fn append(&self, pool_id: &str, e: &Event) -> Result<(), StoreError> {
        let user = UserId::parse(&e.user_id)
            .map_err(|_| StoreError::internal("an audit entry without a valid userID"))?;
        let expires = epoch_seconds(SystemTime::now() + self.retention);
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(account_key(pool_id, &user)))
            .item("sk", AttributeValue::S(event_sort_key(e)))
            .item("userID", AttributeValue::S(e.user_id.clone()))
            .item("at", AttributeValue::S(e.at.clone()))
            .item("activityID", AttributeValue::S(e.activity_id.clone()))
            .item("actor", AttributeValue::S(e.actor.clone()))
            .item("action", AttributeValue::S(e.action.clone()))
            .item("outcome", AttributeValue::S(e.outcome.clone()))
            .item("expiresAt", n(expires))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn list(
        &self,
        pool_id: &str,
        user: &UserId,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<EventPage, StoreError> {
        let pk = account_key(pool_id, user);
        let mut req = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(pk.clone()))
            .scan_index_forward(false)
            .consistent_read(true)
            .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX));
        if let Some(cursor) = cursor {
            req = req
                .exclusive_start_key("pk", AttributeValue::S(pk))
                .exclusive_start_key("sk", AttributeValue::S(decode_cursor(cursor)?));
        }
        let out = req.send().await.map_err(classify)?;
        let mut events: Vec<Event> = out.items().iter().filter_map(event_from_item).collect();
        let more = events.len() > limit as usize;
        events.truncate(limit as usize);
        let cursor = more
            .then(|| events.last().map(event_sort_key))
            .flatten()
            .map(|sk| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sk));
        Ok(EventPage { events, cursor })
    }
}
