//! The `AuditLog` port: one append-only entry for every state-changing call and every sign-in
//! outcome, read back newest first. Never a password, token, session or code: an entry holds
//! only who, what, when, which request and how it ended.

use std::{future::Future, time::SystemTime};

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
