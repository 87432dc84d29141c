//! The lock store in memory, under one mutex.

use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::SystemTime,
};

use crate::{
    domain::directory::Contact,
    domain::lock::{
        AccountState, Budget, CodePurpose, FlowKind, FlowRecord, Lock, LockSource, LockStore,
        Locked, OneTimeCode, Reservation, STALE_RESERVATION, SendScope,
    },
    domain::store::StoreError,
    domain::tenant::LockoutPolicy,
    domain::user_id::UserId,
    time::epoch_seconds,
};

/// One account's state in memory: the same rules as the DynamoDB store, under one mutex.
#[derive(Debug, Clone, Default)]
struct MemAccount {
    lock: Option<Lock>,
    attempts: u32,
    otp_attempts: u32,
    /// Epoch seconds of each budget's last reservation.
    reserved_at: u64,
    otp_reserved_at: u64,
    pending_email: Option<String>,
    pending_phone: Option<String>,
    sessions_ended_at: Option<u64>,
    codes: HashMap<CodePurpose, OneTimeCode>,
}

impl MemAccount {
    /// A budget's units spent and the time of its last reservation.
    fn budget(&mut self, budget: Budget) -> (&mut u32, &mut u64) {
        match budget {
            Budget::Password => (&mut self.attempts, &mut self.reserved_at),
            Budget::Otp => (&mut self.otp_attempts, &mut self.otp_reserved_at),
        }
    }
}

#[derive(Default)]
pub struct InMemoryLocks {
    accounts: Mutex<HashMap<String, MemAccount>>,
    /// Verification-code sends by `SendScope::key`.
    sends: Mutex<HashMap<String, u32>>,
    flows: Mutex<HashMap<(FlowKind, String), FlowRecord>>,
    pub calls: AtomicUsize,
    pub unavailable: std::sync::atomic::AtomicBool,
}

impl InMemoryLocks {
    /// Puts a lock in place directly, as a test fixture.
    pub fn lock_now(&self, user: &str, lock: Lock) {
        if let Ok(mut a) = self.accounts.lock() {
            a.entry(user.to_ascii_lowercase()).or_default().lock = Some(lock);
        }
    }

    pub fn attempts(&self, user: &str) -> u32 {
        self.accounts
            .lock()
            .ok()
            .and_then(|a| a.get(&user.to_ascii_lowercase()).map(|m| m.attempts))
            .unwrap_or(0)
    }

    pub fn otp_attempts(&self, user: &str) -> u32 {
        self.accounts
            .lock()
            .ok()
            .and_then(|a| a.get(&user.to_ascii_lowercase()).map(|m| m.otp_attempts))
            .unwrap_or(0)
    }

    fn flows<T>(
        &self,
        f: impl FnOnce(&mut HashMap<(FlowKind, String), FlowRecord>) -> T,
    ) -> Result<T, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(StoreError::unavailable("in-memory lock store is down"));
        }
        let mut flows = self
            .flows
            .lock()
            .map_err(|_| StoreError::internal("poisoned"))?;
        Ok(f(&mut flows))
    }

    fn with<T>(
        &self,
        user: &UserId,
        f: impl FnOnce(&mut MemAccount) -> T,
    ) -> Result<T, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(StoreError::unavailable("in-memory lock store is down"));
        }
        let mut accounts = self
            .accounts
            .lock()
            .map_err(|_| StoreError::internal("poisoned"))?;
        Ok(f(accounts.entry(user.as_str().to_string()).or_default()))
    }
}

impl LockStore for InMemoryLocks {
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

    async fn lock(
        &self,
        _: &str,
        user: &UserId,
        lock: Lock,
        now: SystemTime,
    ) -> Result<Locked, StoreError> {
        self.with(user, |a| match &a.lock {
            Some(held) if held.holds_at(now) && held.same_terms(&lock) => Locked {
                lock: held.clone(),
                created: false,
                failed_attempts: a.attempts,
                failed_otp_attempts: a.otp_attempts,
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
                }
            }
        })
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

    async fn forget(&self, _: &str, user: &UserId) -> Result<(), StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut a) = self.accounts.lock() {
            a.remove(user.as_str());
        }
        Ok(())
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

    async fn unlock(&self, _: &str, user: &UserId) -> Result<(), StoreError> {
        self.with(user, |a| {
            a.lock = None;
            a.attempts = 0;
            a.otp_attempts = 0;
        })
    }

    async fn put_code(
        &self,
        purpose: CodePurpose,
        _: &str,
        user: &UserId,
        link: &OneTimeCode,
        replace: bool,
    ) -> Result<(), StoreError> {
        self.with(user, |a| {
            if replace || !a.codes.contains_key(&purpose) {
                a.codes.insert(purpose, link.clone());
            }
        })
    }

    async fn one_time_code(
        &self,
        purpose: CodePurpose,
        _: &str,
        user: &UserId,
    ) -> Result<Option<OneTimeCode>, StoreError> {
        self.with(user, |a| a.codes.get(&purpose).cloned())
    }

    async fn take_code(
        &self,
        purpose: CodePurpose,
        _: &str,
        user: &UserId,
        code_hash: &str,
        now: SystemTime,
    ) -> Result<Option<OneTimeCode>, StoreError> {
        self.with(user, |a| {
            let live = a
                .codes
                .get(&purpose)
                .is_some_and(|l| l.code_hash == code_hash && l.expires_at > epoch_seconds(now));
            if live { a.codes.remove(&purpose) } else { None }
        })
    }

    async fn put_flow(
        &self,
        kind: FlowKind,
        id: &str,
        record: &FlowRecord,
    ) -> Result<(), StoreError> {
        self.flows(|f| match f.entry((kind, id.to_string())) {
            std::collections::hash_map::Entry::Occupied(_) => Err(StoreError::internal(
                "a flow step is kept under this id already",
            )),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(record.clone());
                Ok(())
            }
        })?
    }

    async fn flow(&self, kind: FlowKind, id: &str) -> Result<Option<FlowRecord>, StoreError> {
        self.flows(|f| f.get(&(kind, id.to_string())).cloned())
    }

    async fn take_flow(
        &self,
        kind: FlowKind,
        id: &str,
        secret_hash: &str,
        now: SystemTime,
    ) -> Result<Option<FlowRecord>, StoreError> {
        self.flows(|f| {
            let key = (kind, id.to_string());
            let live = f
                .get(&key)
                .is_some_and(|r| r.secret_hash == secret_hash && !r.expired_at(now));
            if live { f.remove(&key) } else { None }
        })
    }
}
