//! The `AuditLog` port: one append-only entry for every state-changing call and every sign-in
//! outcome, read back newest first. Never a password, token, session or code: an entry holds
//! only who, what, when, which request and how it ended.

use std::{
    future::Future,
    time::{Duration, SystemTime},
};

use serde::Serialize;

use crate::{domain::store::StoreError, domain::user_id::UserId};

/// One audit entry, as the contract's `Event`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    #[serde(rename = "userID")]
    pub user_id: String,
    /// RFC 3339 UTC with milliseconds.
    pub at: String,
    #[serde(rename = "activityID")]
    pub activity_id: String,
    /// The admin's `sub`, `self`, or `system`.
    pub actor: String,
    /// The route's name, or `auto-lock`.
    pub action: String,
    /// `success` or the problem slug the caller received.
    pub outcome: String,
    /// When it happened, in nanoseconds since the epoch: the order of entries.
    #[serde(skip)]
    pub at_nanos: u128,
}

impl Event {
    pub fn new(user: &UserId, activity_id: &str, actor: &str, action: &str, outcome: &str) -> Self {
        let now = SystemTime::now();
        let at_nanos = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let at = crate::time::rfc3339_millis(now);
        Self {
            user_id: user.as_str().to_string(),
            at,
            activity_id: activity_id.to_string(),
            actor: actor.to_string(),
            action: action.to_string(),
            outcome: outcome.to_string(),
            at_nanos,
        }
    }

    /// A later entry of the same call (user, activity, actor and action), made now: how the
    /// call ended after the change this entry recorded.
    pub fn then(&self, outcome: &str) -> Self {
        let now = SystemTime::now();
        Self {
            at: crate::time::rfc3339_millis(now),
            at_nanos: now
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
                // after the first, whatever the clock did
                .max(self.at_nanos + 1),
            outcome: outcome.to_string(),
            ..self.clone()
        }
    }
}

/// The pauses before an audit entry that could not be written is tried again, within the
/// request (whose own deadline, `crate::deadline`, bounds it too).
pub const RETRY_AFTER: [Duration; 2] = [Duration::from_millis(50), Duration::from_millis(200)];

/// An audit entry that could not be written, read back from the error log line the function
/// wrote instead (`App::record`): the pool and the whole entry, to be written later by the
/// operator's `tenants replay-audit`. Writing it again is harmless: an entry's key is its user,
/// time and activity, so a second write is the same item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fallback {
    pub pool_id: String,
    pub event: Event,
}

impl Fallback {
    /// The message of the log line that holds an unwritten entry.
    pub const MESSAGE: &'static str = "audit entry not written";

    /// The entries held by `text`: the functions' log lines (JSON, one per line, as Lambda
    /// writes them), or CloudWatch Logs' own records of them (a JSON object per line with the
    /// line in `message`, or `aws logs filter-log-events --output json`, whose `events` are
    /// those records). Lines of anything else are skipped; a line that claims to hold an
    /// entry but lacks one of its fields is an error naming the line.
    pub fn read_all(text: &str) -> Result<Vec<Fallback>, String> {
        let mut found = Vec::new();
        let whole = serde_json::from_str::<serde_json::Value>(text.trim()).ok();
        if let Some(events) = whole.as_ref().and_then(|v| v["events"].as_array()) {
            for (i, e) in events.iter().enumerate() {
                Self::read_value(e, &mut found).map_err(|why| format!("event {i}: {why}"))?;
            }
            return Ok(found);
        }
        for (i, line) in text.lines().enumerate() {
            let Ok(value) = serde_json::from_str::<serde_json::Value>(line.trim()) else {
                continue;
            };
            Self::read_value(&value, &mut found).map_err(|why| format!("line {}: {why}", i + 1))?;
        }
        Ok(found)
    }

    fn read_value(value: &serde_json::Value, found: &mut Vec<Fallback>) -> Result<(), String> {
        // a CloudWatch record: the function's line, as text, in `message`
        if let Some(inner) = value["message"]
            .as_str()
            .and_then(|m| serde_json::from_str::<serde_json::Value>(m).ok())
        {
            return Self::read_value(&inner, found);
        }
        if value["message"].as_str() != Some(Self::MESSAGE) {
            return Ok(());
        }
        let field = |name: &str| {
            value[name]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("the entry has no `{name}`"))
        };
        let at_nanos = field("audit.at_nanos")?
            .parse()
            .map_err(|_| "`audit.at_nanos` is not a number".to_string())?;
        found.push(Fallback {
            pool_id: field("audit.pool")?,
            event: Event {
                user_id: field("audit.user")?,
                at: field("audit.at")?,
                activity_id: field("audit.activity")?,
                actor: field("audit.actor")?,
                action: field("audit.action")?,
                outcome: field("audit.outcome")?,
                at_nanos,
            },
        });
        Ok(())
    }
}

/// A page of entries, newest first; `cursor` is `None` on the last page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventPage {
    pub events: Vec<Event>,
    pub cursor: Option<String>,
}

pub trait AuditLog: Send + Sync {
    fn append(
        &self,
        pool_id: &str,
        event: &Event,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Up to `limit` entries of `user`, newest first, after `cursor` (from a previous page).
    fn list(
        &self,
        pool_id: &str,
        user: &UserId,
        limit: u32,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<EventPage, StoreError>> + Send;
}
