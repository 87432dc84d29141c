//! [`Idempotency`] in memory.

use super::*;
use crate::domain::{
    idempotency::{Claim, IN_FLIGHT_FOR, KEPT_FOR},
    lock::Idempotency,
};

/// A held key: its request's fingerprint, the kept answer (`None` while in flight), and when
/// it frees itself (epoch seconds).
pub(super) type Held = (String, Option<String>, u64);

impl InMemoryLocks {
    fn keys<T>(&self, f: impl FnOnce(&mut HashMap<String, Held>) -> T) -> Result<T, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(StoreError::unavailable("in-memory lock store is down"));
        }
        let mut keys = self
            .idempotency
            .lock()
            .map_err(|_| StoreError::internal("poisoned"))?;
        Ok(f(&mut keys))
    }
}

impl Idempotency for InMemoryLocks {
    async fn claim(
        &self,
        key: &str,
        fingerprint: &str,
        now: SystemTime,
    ) -> Result<Claim, StoreError> {
        let now = epoch_seconds(now);
        self.keys(|keys| match keys.get(key) {
            Some((held, answer, expires)) if *expires > now => {
                Claim::of_held(held, answer.clone(), fingerprint)
            }
            _ => {
                let until = now + IN_FLIGHT_FOR.as_secs();
                keys.insert(key.to_string(), (fingerprint.to_string(), None, until));
                Claim::Claimed
            }
        })
    }

    async fn keep_answer(
        &self,
        key: &str,
        fingerprint: &str,
        answer: &str,
        now: SystemTime,
    ) -> Result<(), StoreError> {
        let until = epoch_seconds(now) + KEPT_FOR.as_secs();
        self.keys(|keys| match keys.get_mut(key) {
            Some(held) if held.0 == fingerprint => {
                *held = (fingerprint.to_string(), Some(answer.to_string()), until);
                Ok(())
            }
            _ => Err(StoreError::internal(
                "the idempotency key is not this request's",
            )),
        })?
    }

    async fn release(&self, key: &str, fingerprint: &str) -> Result<(), StoreError> {
        self.keys(|keys| {
            if keys
                .get(key)
                .is_some_and(|(held, answer, _)| held == fingerprint && answer.is_none())
            {
                keys.remove(key);
            }
        })
    }
}
