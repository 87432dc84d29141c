//! [`SecurityKeys`] in memory.

use super::*;
use crate::domain::{lock::SecurityKeys, lock::account_key, u2f::KeyRing};

impl InMemoryLocks {
    fn rings<T>(
        &self,
        f: impl FnOnce(&mut HashMap<String, (KeyRing, u64)>) -> T,
    ) -> Result<T, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(StoreError::unavailable("in-memory lock store is down"));
        }
        let mut rings = self
            .key_rings
            .lock()
            .map_err(|_| StoreError::internal("poisoned"))?;
        Ok(f(&mut rings))
    }

    /// Forgets the user's ring (their account was deleted).
    pub(super) fn forget_ring(&self, pool_id: &str, user: &UserId) -> Result<(), StoreError> {
        self.rings(|r| {
            r.remove(&account_key(pool_id, user));
        })
    }
}

impl SecurityKeys for InMemoryLocks {
    async fn key_ring(&self, pool_id: &str, user: &UserId) -> Result<(KeyRing, u64), StoreError> {
        self.rings(|r| {
            r.get(&account_key(pool_id, user))
                .cloned()
                .unwrap_or_default()
        })
    }

    async fn put_key_ring(
        &self,
        pool_id: &str,
        user: &UserId,
        ring: &KeyRing,
        version: u64,
    ) -> Result<bool, StoreError> {
        self.rings(|r| {
            let key = account_key(pool_id, user);
            let kept = r.get(&key).map_or(0, |(_, v)| *v);
            if kept != version {
                return false;
            }
            r.insert(key, (ring.clone(), version + 1));
            true
        })
    }
}
