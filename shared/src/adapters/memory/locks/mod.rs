//! The lock store in memory, under one mutex.

mod budgets;
mod codes;
mod flows;
mod idempotency;
mod security_keys;
mod state;

use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::SystemTime,
};

use crate::{
    domain::audit::Event,
    domain::directory::Contact,
    domain::lock::{
        AccountState, Audited, Budget, CodePurpose, FlowKind, FlowRecord, Lock, LockSource, Locked,
        OneTimeCode, Reservation, STALE_RESERVATION, SendScope,
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
    /// Security key rings by account key, with their versions.
    key_rings: Mutex<HashMap<String, (crate::domain::u2f::KeyRing, u64)>>,
    /// Idempotency keys by store key.
    idempotency: Mutex<HashMap<String, idempotency::Held>>,
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
