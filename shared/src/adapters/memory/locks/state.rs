//! [`Locks`] in memory.

use super::*;
use crate::domain::lock::Locks;

impl Locks for InMemoryLocks {
    async fn state(&self, _: &str, user: &UserId) -> Result<AccountState, StoreError> {
        let now = SystemTime::now();
        self.with(user, |a| {
            let lock = a.lock.clone().filter(|l| l.holds_at(now));
            let expired_lockout = a
                .lock
                .as_ref()
                .is_some_and(|l| l.source == LockSource::LockoutPolicy)
                && lock.is_none();
            let count = |n| if expired_lockout { 0 } else { n };
            AccountState {
                lock,
                failed_attempts: count(a.attempts),
                failed_otp_attempts: count(a.otp_attempts),
                pending_email: a.pending_email.clone(),
                pending_phone: a.pending_phone.clone(),
                sessions_ended_at: a.sessions_ended_at,
            }
        })
    }

    async fn states(
        &self,
        pool: &str,
        users: &[UserId],
    ) -> Result<HashMap<String, AccountState>, StoreError> {
        let mut out = HashMap::new();
        for u in users {
            out.insert(u.as_str().to_string(), self.state(pool, u).await?);
        }
        Ok(out)
    }

    async fn lock(
        &self,
        _: &str,
        user: &UserId,
        lock: Lock,
        now: SystemTime,
        _: &Event,
    ) -> Result<Locked, StoreError> {
        self.with(user, |a| match &a.lock {
            Some(held) if held.holds_at(now) && held.same_terms(&lock) => Locked {
                lock: held.clone(),
                created: false,
                failed_attempts: a.attempts,
                failed_otp_attempts: a.otp_attempts,
                audited: Audited::NotYet,
            },
            held => {
                let created = held.as_ref().is_none_or(|h| !h.holds_at(now));
                if lock.refuses_sessions() {
                    a.sessions_ended_at = Some(epoch_seconds(now));
                }
                a.lock = Some(lock.clone());
                Locked {
                    lock,
                    created,
                    failed_attempts: a.attempts,
                    failed_otp_attempts: a.otp_attempts,
                    // no transaction in memory: the caller records the entry
                    audited: Audited::NotYet,
                }
            }
        })
    }

    async fn unlock(&self, _: &str, user: &UserId, _: &Event) -> Result<Audited, StoreError> {
        self.with(user, |a| {
            a.lock = None;
            a.attempts = 0;
            a.otp_attempts = 0;
        })?;
        Ok(Audited::NotYet)
    }

    async fn clear_lockout(&self, _: &str, user: &UserId) -> Result<(), StoreError> {
        self.with(user, |a| {
            a.attempts = 0;
            let password_lockout =
                |l: &Lock| l.source == LockSource::LockoutPolicy && l.budget != Some(Budget::Otp);
            if a.lock.as_ref().is_some_and(password_lockout) {
                a.lock = None;
            }
        })
    }

    async fn forget(&self, pool_id: &str, user: &UserId) -> Result<(), StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut a) = self.accounts.lock() {
            a.remove(user.as_str());
        }
        self.forget_ring(pool_id, user)
    }

    async fn set_pending(
        &self,
        _: &str,
        user: &UserId,
        contact: Contact,
        value: Option<&str>,
    ) -> Result<(), StoreError> {
        self.with(user, |a| {
            let pending = match contact {
                Contact::Email => &mut a.pending_email,
                Contact::Phone => &mut a.pending_phone,
            };
            *pending = value.map(str::to_string);
        })
    }

    async fn end_sessions(&self, _: &str, user: &UserId, at: SystemTime) -> Result<(), StoreError> {
        let at = epoch_seconds(at);
        self.with(user, |a| {
            a.sessions_ended_at = Some(a.sessions_ended_at.map_or(at, |t| t.max(at)));
        })
    }
}
