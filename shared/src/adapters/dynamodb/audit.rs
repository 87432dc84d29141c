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
    place: AuditTable,
}

impl DynamoAudit {
    pub fn new(client: Client, table: impl Into<String>, retention: Duration) -> Self {
        Self {
            client,
            place: AuditTable {
                table: table.into(),
                retention,
            },
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

/// Where audit entries go: the table and how long an entry is kept. The account-state store
/// holds one too, to write an admin lock's or unlock's entry in the same transaction as the
/// change.
#[derive(Clone, Debug)]
pub struct AuditTable {
    pub table: String,
    pub retention: Duration,
}

impl AuditTable {
    /// The stage's audit table, as configured.
    pub fn of(config: &crate::config::Config) -> Self {
        Self {
            table: config.audit_table.clone(),
            retention: config.audit_retention,
        }
    }

    /// The item of entry `e` of the pool `pool_id`, expiring after the retention.
    pub(super) fn item(&self, pool_id: &str, e: &Event) -> Result<Item, StoreError> {
        let user = UserId::parse(&e.user_id)
            .map_err(|_| StoreError::internal("an audit entry without a valid userID"))?;
        let expires = epoch_seconds(SystemTime::now() + self.retention);
        let s = |v: &str| AttributeValue::S(v.to_string());
        Ok(Item::from([
            ("pk".to_string(), s(&account_key(pool_id, &user))),
            ("sk".to_string(), s(&event_sort_key(e))),
            ("userID".to_string(), s(&e.user_id)),
            ("at".to_string(), s(&e.at)),
            ("activityID".to_string(), s(&e.activity_id)),
            ("actor".to_string(), s(&e.actor)),
            ("action".to_string(), s(&e.action)),
            ("outcome".to_string(), s(&e.outcome)),
            ("expiresAt".to_string(), n(expires)),
        ]))
    }
}

impl AuditLog for DynamoAudit {
    async fn append(&self, pool_id: &str, e: &Event) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.place.table)
            .set_item(Some(self.place.item(pool_id, e)?))
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
            .table_name(&self.place.table)
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
