//! The tenant registry in memory.

use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use crate::{
    domain::store::StoreError,
    domain::tenant::TenantKey,
    domain::tenant::{Tenant, TenantRegistry},
};

#[derive(Default)]
pub struct InMemoryTenants {
    pub tenants: Mutex<HashMap<TenantKey, Tenant>>,
    pub calls: AtomicUsize,
}

impl InMemoryTenants {
    pub fn with(tenant: Tenant) -> Self {
        let registry = Self::default();
        registry.insert("demo", "DEMO", "main", tenant);
        registry
    }

    pub fn insert(&self, client_id: &str, client_code: &str, database: &str, tenant: Tenant) {
        if let Ok(mut t) = self.tenants.lock() {
            t.insert(
                TenantKey {
                    client_id: client_id.into(),
                    client_code: client_code.into(),
                    database: database.into(),
                },
                tenant,
            );
        }
    }
}

impl TenantRegistry for InMemoryTenants {
    async fn find(&self, headers: &TenantKey) -> Result<Option<Tenant>, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(self
            .tenants
            .lock()
            .ok()
            .and_then(|t| t.get(headers).cloned()))
    }

    async fn allowed_origins(&self) -> Result<Vec<String>, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mut all: Vec<String> = self
            .tenants
            .lock()
            .map(|t| {
                t.values()
                    .flat_map(|t| t.allowed_origins.iter().cloned())
                    .collect()
            })
            .unwrap_or_default();
        all.sort();
        all.dedup();
        Ok(all)
    }
}
