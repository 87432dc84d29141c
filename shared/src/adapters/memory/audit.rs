//! The audit log in memory.

use std::sync::Mutex;

use crate::{
    domain::audit::{AuditLog, Event, EventPage},
    domain::store::StoreError,
    domain::user_id::UserId,
};

/// Audit entries in memory, in the order they were appended.
#[derive(Default)]
pub struct InMemoryAudit {
    pub events: Mutex<Vec<Event>>,
    /// How many of the next appends fail as unavailable (a fault a test sets).
    pub failing: std::sync::atomic::AtomicUsize,
}

impl InMemoryAudit {
    /// `(action, outcome)` of every entry, oldest first.
    pub fn actions(&self) -> Vec<(String, String)> {
        self.events
            .lock()
            .map(|e| {
                e.iter()
                    .map(|e| (e.action.clone(), e.outcome.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl AuditLog for InMemoryAudit {
    async fn append(&self, _: &str, event: &Event) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering;
        let failing = self
            .failing
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if failing.is_ok() {
            return Err(StoreError::unavailable("the audit table is unavailable"));
        }
        if let Ok(mut e) = self.events.lock() {
            e.push(event.clone());
        }
        Ok(())
    }

    async fn list(
        &self,
        _: &str,
        user: &UserId,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<EventPage, StoreError> {
        let events = self
            .events
            .lock()
            .map_err(|_| StoreError::internal("poisoned"))?;
        let skip: usize = match cursor {
            None => 0,
            Some(c) => c.parse().map_err(|_| StoreError::InvalidCursor)?,
        };
        let mine: Vec<Event> = events
            .iter()
            .rev()
            .filter(|e| e.user_id == user.as_str())
            .cloned()
            .collect();
        let page: Vec<Event> = mine
            .iter()
            .skip(skip)
            .take(limit as usize)
            .cloned()
            .collect();
        let next = skip + page.len();
        Ok(EventPage {
            cursor: (next < mine.len()).then(|| next.to_string()),
            events: page,
        })
    }
}
