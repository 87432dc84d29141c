//! [`Passkeys`] on Cognito.

use super::*;
use crate::domain::directory::Passkeys;

impl Passkeys for CognitoDirectory {
    async fn passkey_relying_party(
        &self,
        tenant: &Tenant,
    ) -> Result<Option<RelyingParty>, DirectoryError> {
        if let Some(known) = self.relying_parties.get(tenant.user_pool_id.as_str()) {
            return Ok(known);
        }
        let out = self
            .client_for(tenant)
            .get_user_pool_mfa_config()
            .user_pool_id(&tenant.user_pool_id)
            .send()
            .await
            .map_err(classify)?;
        let found = out.web_authn_configuration().and_then(|w| {
            Some(RelyingParty {
                id: w.relying_party_id()?.to_string(),
                user_verification: w
                    .user_verification()
                    .map_or("preferred", |v| v.as_str())
                    .to_string(),
            })
        });
        self.relying_parties
            .insert(tenant.user_pool_id.clone(), found.clone());
        Ok(found)
    }

    async fn offers_passkeys(&self, tenant: &Tenant) -> Result<bool, DirectoryError> {
        Ok(self.pool_facts(tenant).await?.passkeys)
    }

    async fn start_passkey(
        &self,
        tenant: &Tenant,
        access_token: &str,
    ) -> Result<serde_json::Value, DirectoryError> {
        let out = self
            .client_for(tenant)
            .start_web_authn_registration()
            .access_token(access_token)
            .send()
            .await
            .map_err(classify)?;
        Ok(from_document(out.credential_creation_options()))
    }

    async fn complete_passkey(
        &self,
        tenant: &Tenant,
        access_token: &str,
        credential: &serde_json::Value,
    ) -> Result<(), DirectoryError> {
        self.client_for(tenant)
            .complete_web_authn_registration()
            .access_token(access_token)
            .credential(to_document(credential))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn list_passkeys(
        &self,
        tenant: &Tenant,
        access_token: &str,
    ) -> Result<Vec<Passkey>, DirectoryError> {
        let mut found = vec![];
        let mut next: Option<String> = None;
        // pages of 20; a user holds a handful, the bound only stops a runaway
        for _ in 0..10 {
            let out = self
                .client_for(tenant)
                .list_web_authn_credentials()
                .access_token(access_token)
                .set_next_token(next.take())
                .max_results(20)
                .send()
                .await
                .map_err(classify)?;
            found.extend(out.credentials().iter().map(|c| Passkey {
                credential_id: c.credential_id().to_string(),
                name: Some(c.friendly_credential_name().to_string()).filter(|n| !n.is_empty()),
                relying_party_id: Some(c.relying_party_id().to_string()),
                authenticator_attachment: c.authenticator_attachment().map(str::to_string),
                transports: c.authenticator_transports().to_vec(),
                created_at: rfc3339(Some(c.created_at())),
            }));
            match out.next_token() {
                Some(token) => next = Some(token.to_string()),
                None => break,
            }
        }
        Ok(found)
    }

    async fn delete_passkey(
        &self,
        tenant: &Tenant,
        access_token: &str,
        credential_id: &str,
    ) -> Result<(), DirectoryError> {
        self.client_for(tenant)
            .delete_web_authn_credential()
            .access_token(access_token)
            .credential_id(credential_id)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}
