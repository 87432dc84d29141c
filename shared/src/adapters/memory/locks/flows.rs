//! [`Flows`] in memory.

use super::*;
use crate::domain::lock::Flows;

impl Flows for InMemoryLocks {
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
