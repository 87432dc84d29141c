//! [`Budgets`] in memory.

use super::*;
use crate::domain::lock::Budgets;

impl Budgets for InMemoryLocks {
    async fn reserve_attempt(
        &self,
        _: &str,
        user: &UserId,
        budget: Budget,
        policy: &LockoutPolicy,
        now: SystemTime,
    ) -> Result<Reservation, StoreError> {
        self.with(user, |a| {
            match &a.lock {
                Some(l) if l.holds_at(now) => return Reservation::Locked(l.clone()),
                Some(_) => {
                    a.lock = None;
                    a.attempts = 0;
                    a.otp_attempts = 0;
                }
                None => {}
            }
            let secs = epoch_seconds(now);
            let (spent, reserved_at) = a.budget(budget);
            if *spent >= budget.limit(policy) {
                if *reserved_at + STALE_RESERVATION.as_secs() > secs {
                    return Reservation::Exhausted;
                }
                // checks that died in flight hold the budget: count them as failures
                let lock = Lock::lockout(budget, policy, now);
                a.lock = Some(lock.clone());
                return Reservation::Locked(lock);
            }
            *spent += 1;
            *reserved_at = secs;
            Reservation::Granted { attempt: *spent }
        })
    }

    async fn record_failure(
        &self,
        _: &str,
        user: &UserId,
        budget: Budget,
        attempt: u32,
        policy: &LockoutPolicy,
        now: SystemTime,
    ) -> Result<Option<Lock>, StoreError> {
        self.with(user, |a| {
            if attempt < budget.limit(policy) || a.lock.as_ref().is_some_and(|l| l.holds_at(now)) {
                return None;
            }
            let lock = Lock::lockout(budget, policy, now);
            a.lock = Some(lock.clone());
            Some(lock)
        })
    }

    async fn record_success(
        &self,
        _: &str,
        user: &UserId,
        budget: Budget,
    ) -> Result<(), StoreError> {
        self.with(user, |a| *a.budget(budget).0 = 0)
    }

    async fn release_attempt(
        &self,
        _: &str,
        user: &UserId,
        budget: Budget,
    ) -> Result<(), StoreError> {
        self.with(user, |a| {
            let spent = a.budget(budget).0;
            *spent = spent.saturating_sub(1);
        })
    }

    async fn spend_send(
        &self,
        scope: &SendScope,
        limit: u32,
        window: std::time::Duration,
        now: SystemTime,
    ) -> Result<Option<std::time::Duration>, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(StoreError::unavailable("the in-memory store is down"));
        }
        let (number, left) = SendScope::window_of(now, window);
        let mut sends = self
            .sends
            .lock()
            .map_err(|_| StoreError::internal("poisoned"))?;
        let spent = sends.entry(scope.key(number)).or_default();
        if *spent >= limit {
            return Ok(Some(left));
        }
        *spent += 1;
        Ok(None)
    }
}
