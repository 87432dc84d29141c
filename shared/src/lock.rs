//! The `LockStore` port: the account state this API keeps beside Cognito (admin locks and
//! lockout-policy locks). The DynamoDB adapter lives in `adapters::dynamodb`.

use std::{future::Future, time::SystemTime};

use crate::{problem::ApiError, request::UserId, tenant::Tenant};

/// Who put a lock in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockSource {
    Admin,
    LockoutPolicy,
}

impl LockSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::LockoutPolicy => "lockout-policy",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Self::Admin),
            "lockout-policy" => Some(Self::LockoutPolicy),
            _ => None,
        }
    }
}

/// A lock as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    pub source: LockSource,
    pub reason: Option<String>,
    /// RFC 3339 UTC.
    pub locked_at: String,
    /// The admin's `sub`, or `system`.
    pub locked_by: String,
    /// Seconds since the epoch; `None` holds until an admin unlocks.
    pub locked_until: Option<u64>,
}

impl Lock {
    /// An expired lock is no lock, whether or not TTL housekeeping has deleted it yet.
    pub fn holds_at(&self, now: SystemTime) -> bool {
        let now = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.locked_until.is_none_or(|until| until > now)
    }
}

/// Where locks are kept.
pub trait LockStore: Send + Sync {
    /// The lock in force on `user` now, if any. An error here must fail the request closed.
    fn active_lock(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> impl Future<Output = Result<Option<Lock>, ApiError>> + Send;
}

/// The key of a user's account-state item: the pool id and the username, which is what the
/// Pre Authentication trigger receives too.
pub fn account_key(user_pool_id: &str, user: &UserId) -> String {
    format!("{user_pool_id}#{}", user.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn lock(until: Option<u64>) -> Lock {
        Lock {
            source: LockSource::LockoutPolicy,
            reason: None,
            locked_at: "2026-01-01T00:00:00Z".into(),
            locked_by: "system".into(),
            locked_until: until,
        }
    }

    #[test]
    fn an_expired_lock_does_not_hold() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        assert!(!lock(Some(1000)).holds_at(now));
        assert!(lock(Some(1001)).holds_at(now));
        assert!(lock(None).holds_at(now));
    }
}
