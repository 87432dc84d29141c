//! [`IdentityLinks`] in memory: links kept in the user's `identities` attribute, as Cognito
//! shows them (a JSON array of `{providerName, userId, …}`).

use super::*;
use crate::domain::directory::IdentityLinks;

/// The identities in a user's `identities` attribute.
fn identities_of(user: &MemUser) -> Vec<serde_json::Value> {
    user.attributes
        .get("identities")
        .and_then(|i| serde_json::from_str::<Vec<serde_json::Value>>(i).ok())
        .unwrap_or_default()
}

fn is(identity: &serde_json::Value, idp_name: &str, idp_user_id: &str) -> bool {
    identity["providerName"] == idp_name && identity["userId"] == idp_user_id
}

fn keep(user: &mut MemUser, identities: &[serde_json::Value]) {
    if identities.is_empty() {
        user.attributes.remove("identities");
    } else {
        user.attributes.insert(
            "identities".into(),
            serde_json::Value::from(identities.to_vec()).to_string(),
        );
    }
}

/// As Cognito: a provider the pool does not have is `InvalidParameter`.
fn provider(tenant: &Tenant, idp_name: &str) -> Result<(), DirectoryError> {
    let known = tenant
        .federation
        .as_ref()
        .is_some_and(|f| f.providers.iter().any(|p| p == idp_name));
    if known {
        Ok(())
    } else {
        Err(DirectoryError::InvalidParameter)
    }
}

impl IdentityLinks for InMemoryDirectory {
    async fn exchange_code(
        &self,
        _: &Tenant,
        _: &crate::domain::tenant::Federation,
        _: &str,
        _: &str,
    ) -> Result<Tokens, DirectoryError> {
        self.enter().await?;
        // no pool domain here issues codes: the intents are tested on the emulator
        // (tests/tests/idp.rs), and every code is one the pool never issued
        Err(DirectoryError::NotAuthorized)
    }

    async fn link_identity(
        &self,
        tenant: &Tenant,
        user: &UserId,
        idp_name: &str,
        idp_user_id: &str,
    ) -> Result<(), DirectoryError> {
        self.enter().await?;
        self.user(user)?;
        provider(tenant, idp_name)?;
        let mut users = self
            .users
            .lock()
            .map_err(|_| DirectoryError::Internal("poisoned".into()))?;
        let elsewhere = users.iter().any(|(name, u)| {
            name != user.as_str()
                && identities_of(u)
                    .iter()
                    .any(|i| is(i, idp_name, idp_user_id))
        });
        if elsewhere {
            return Err(DirectoryError::Conflict(
                "the identity is linked to another user",
            ));
        }
        let u = users
            .get_mut(user.as_str())
            .ok_or(DirectoryError::UserNotFound)?;
        let mut held = identities_of(u);
        if !held.iter().any(|i| is(i, idp_name, idp_user_id)) {
            held.push(serde_json::json!({
                "userId": idp_user_id,
                "providerName": idp_name,
                "providerType": "OIDC",
                "primary": false,
                "dateCreated": crate::time::epoch_seconds(std::time::SystemTime::now()) * 1000,
            }));
            keep(u, &held);
        }
        Ok(())
    }

    async fn unlink_identity(
        &self,
        tenant: &Tenant,
        idp_name: &str,
        idp_user_id: &str,
    ) -> Result<(), DirectoryError> {
        self.enter().await?;
        provider(tenant, idp_name)?;
        let mut users = self
            .users
            .lock()
            .map_err(|_| DirectoryError::Internal("poisoned".into()))?;
        for u in users.values_mut() {
            let held = identities_of(u);
            let kept: Vec<_> = held
                .iter()
                .filter(|i| !is(i, idp_name, idp_user_id))
                .cloned()
                .collect();
            if kept.len() != held.len() {
                keep(u, &kept);
            }
        }
        Ok(())
    }
}
